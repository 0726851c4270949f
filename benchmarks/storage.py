"""Storage per active user: what a day of N active users leaves in the database, and what that adds
up to in the steady state (each kind of document kept as long as its TTL or retention says).

Starts SecantusDB and this app as `make bench` does (benchmarks/servers.py: `python -m
backend.serve`, development settings), but with the rate limits on (their counters are stored
too) and `TRUSTED_PROXIES=127.0.0.1`, so that each device's `X-Forwarded-For` is its own address.
Then registers N users (each with `TASKS_AT_START` tasks) and drives two identical **active user
days**, time compressed (the requests back to back). Each user has two devices, a laptop (Firefox
on Linux, at home: its own /24) and a phone (Chrome on Android, on a mobile network), and each
device, each day:

  - signs in with the password (one login),
  - refreshes `REFRESHES_PER_DEVICE` (34) times: the SPA's refresh every ~14 minutes for 8 hours,
  - the laptop: writes tasks (2 created, 1 completed, 2 deleted: the list stays the same size) and
    types one wrong password (a failed login) before its login,
  - the phone: signs out at the end of the day (the laptop stays signed in).

It snapshots every collection after registering (S0), after day 1 (S1) and after day 2 (S2) and
counts, per collection, documents and BSON bytes (the sum of `len(bson.encode(document))`: the
data, not the server's padding or compression) and an estimate of the index entries' bytes (for
each index, the BSON size of the indexed fields of each document it holds plus 12 bytes of record
id; a B-tree's pages add overhead on top). The server's own collStats (`size`,
`totalIndexSize`) after day 2 are shown beside them, per user, as a check.

The steady state per active user, from day 2 (a repeat day: the devices are known):
  - a document made on day 2 that expires (a TTL index) counts its bytes × the days it is kept
    (its TTL field + expireAfterSeconds - now): one day's worth of it is made every day;
  - a document that was there before day 2 and changed on it (the user, a sign-in summary of a
    known device, a task) counts once: it is the same document every day;
  - one there before day 2 and unchanged, with a TTL: day 1's leftover, stood for by day 2's own;
    without a TTL (a task): counts once.
  The compressed day meets day 1's summaries of windows shorter than a day again (the failed
  attempts' summary per hour, `sign_in_failed`): in real time it is a new one each day, so it
  counts as made on day 2.

    .venv/bin/python -m benchmarks.storage [--users 50] [--label after] [--out benchmarks/reports]

Writes benchmarks/reports/YYYY-MM-DD-storage.md (and .json), one section per `--label`, keeping
the other labels' sections of the same day (run it on two commits to compare them).
"""

import argparse
import contextlib
import json
import subprocess
import sys
import tempfile
import time
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import bson
import httpx
from pymongo import MongoClient

from backend.core.embedded_db import EmbeddedDatabase, find_binary
from benchmarks.servers import PASSWORD, REPO, App, start_this_app

REPORTS = Path(__file__).resolve().parent / "reports"  # as report.py (which needs matplotlib)
DATABASE = "bench_storage"
REFRESHES_PER_DEVICE = 34  # 8 hours of the SPA refreshing every ~14 minutes
TASKS_AT_START = 5
LAPTOP = "Mozilla/5.0 (X11; Linux x86_64; rv:130.0) Gecko/20100101 Firefox/130.0"
PHONE = (
    "Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/131.0 Mobile Safari/537.36"
)
# Summaries of windows shorter than a day: new every day in real time (see the docstring).
SUB_DAY_SUMMARIES = {"security_events": {"sign_in_failed"}}


def devices(user: int) -> list[tuple[str, str]]:
    """(User-Agent, address) of `user`'s laptop and phone."""
    return [(LAPTOP, f"10.{user // 250}.{user % 250}.7"), (PHONE, f"100.64.{user % 250}.{1 + user // 250}")]


def email_of(user: int) -> str:
    return f"storage-{user}@example.com"


def checked(response: httpx.Response, *expected: int) -> httpx.Response:
    if response.status_code not in expected:
        request = response.request
        raise RuntimeError(f"{request.method} {request.url.path} -> {response.status_code} {response.text}")
    return response


def register(app: App, user: int) -> None:
    agent, address = devices(user)[0]
    headers = {"User-Agent": agent, "X-Forwarded-For": address}
    with httpx.Client(base_url=app.url, headers=headers, timeout=30) as client:
        checked(client.post("/auth/register", json={"email": email_of(user), "password": PASSWORD}), 201)
        # The tasks a user has: a sign-in to make them, then its session ended.
        token = login(client, user)
        auth = {"Authorization": f"Bearer {token}"}
        for n in range(TASKS_AT_START):
            checked(client.post("/task/", json={"name": f"task {n}"}, headers=auth), 201)
        checked(client.post("/auth/jwt/logout", headers=auth), 200, 204)


def login(client: httpx.Client, user: int, password: str = PASSWORD) -> str:
    answer = client.post("/auth/jwt/login", data={"username": email_of(user), "password": password})
    return str(checked(answer, 200).json()["access_token"])


def day(app: App, user: int) -> int:
    """One active day of `user`; the number of requests it made."""
    requests = 0
    for number, (agent, address) in enumerate(devices(user)):
        laptop = number == 0
        headers = {"User-Agent": agent, "X-Forwarded-For": address}
        with httpx.Client(base_url=app.url, headers=headers, timeout=30) as client:
            if laptop:
                wrong = client.post(
                    "/auth/jwt/login", data={"username": email_of(user), "password": "not the password"}
                )
                checked(wrong, 400)
                requests += 1
            signed_in = checked(
                client.post("/auth/jwt/login", data={"username": email_of(user), "password": PASSWORD}), 200
            )
            token, refresh = signed_in.json()["access_token"], signed_in.cookies["FARM_refresh"]
            requests += 1
            for _ in range(REFRESHES_PER_DEVICE):
                # The cookie by hand: it is `Secure`, and httpx keeps those for https.
                client.cookies.clear()
                rotated = checked(
                    client.post("/auth/jwt/refresh", headers={"Cookie": f"FARM_refresh={refresh}"}), 200
                )
                token, refresh = rotated.json()["access_token"], rotated.cookies.get("FARM_refresh", refresh)
                requests += 1
            auth = {"Authorization": f"Bearer {token}"}
            if laptop:
                made = [
                    checked(client.post("/task/", json={"name": f"day task {n}"}, headers=auth), 201).json()
                    for n in range(2)
                ]
                checked(client.put(f"/task/{made[0]['_id']}", json={"completed": True}, headers=auth), 200)
                for task in made:
                    checked(client.delete(f"/task/{task['_id']}", headers=auth), 204)
                requests += 5
            else:
                checked(client.post("/auth/jwt/logout", headers=auth), 200, 204)
                requests += 1
    return requests


@dataclass
class Snapshot:
    """Every document of every collection: (BSON bytes, index bytes, retention days or None, the
    document's own bytes for telling a change) by `_id`."""

    collections: dict[str, dict[Any, tuple[int, int, float | None, bytes, str]]] = field(default_factory=dict)


def ttl_fields(indexes: dict[str, Any]) -> list[tuple[str, float]]:
    return [
        (index["key"][0][0], float(index["expireAfterSeconds"]))
        for index in indexes.values()
        if "expireAfterSeconds" in index
    ]


def index_bytes(document: dict[str, Any], indexes: dict[str, Any]) -> int:
    total = 0
    for index in indexes.values():
        names = [name for name, _ in index["key"]]
        partial = index.get("partialFilterExpression")
        if partial and not all(document.get(key) == value for key, value in partial.items()):
            continue
        if index.get("sparse") and not any(name in document for name in names):
            continue
        total += len(bson.encode({str(n): document.get(name) for n, name in enumerate(names)})) + 12
    return total


def snapshot(client: MongoClient[dict[str, Any]]) -> Snapshot:
    database = client[DATABASE]
    now = datetime.now(UTC)
    taken = Snapshot()
    for name in sorted(database.list_collection_names()):
        collection = database[name]
        indexes = collection.index_information()
        ttls = ttl_fields(indexes)
        documents: dict[Any, tuple[int, int, float | None, bytes, str]] = {}
        for document in collection.find():
            encoded = bson.encode(document)
            retention = None
            for ttl_field, seconds in ttls:
                value = document.get(ttl_field)
                if isinstance(value, datetime):
                    left = (value.astimezone(UTC) - now).total_seconds() + seconds
                    retention = max(0.0, left / 86400)
            documents[document["_id"]] = (
                len(encoded),
                index_bytes(document, indexes),
                retention,
                encoded,
                str(document.get("type", "")),
            )
        taken.collections[name] = documents
    return taken


@dataclass
class Row:
    collection: str
    day1_documents: int = 0  # made on day 1 and still there after it (S1 - S0)
    day1_bytes: int = 0  # the collection's growth over day 1
    day2_new_documents: int = 0
    day2_new_bytes: int = 0
    day2_changed_documents: int = 0
    after_documents: int = 0  # everything there after day 2
    after_bytes: int = 0
    after_index_bytes: int = 0
    steady_bytes: float = 0.0  # the steady state, all users
    steady_index_bytes: float = 0.0
    server_bytes: int = 0  # collStats after day 2: the data's size, and the indexes'
    server_index_bytes: int = 0
    kept_days: str = ""  # how long its documents are kept


@dataclass
class Results:
    label: str
    commit: str
    users: int
    requests_per_user_day: float
    seconds: float
    rows: list[Row]

    @property
    def steady_per_user(self) -> float:
        return sum(row.steady_bytes + row.steady_index_bytes for row in self.rows) / self.users


def compare(users: int, s0: Snapshot, s1: Snapshot, s2: Snapshot) -> list[Row]:
    rows = []
    for name in sorted(set(s0.collections) | set(s1.collections) | set(s2.collections)):
        before, first, second = (s.collections.get(name, {}) for s in (s0, s1, s2))
        row = Row(name)
        row.day1_documents = len(set(first) - set(before))
        row.day1_bytes = sum(d[0] for d in first.values()) - sum(d[0] for d in before.values())
        row.after_documents = len(second)
        row.after_bytes = sum(d[0] for d in second.values())
        row.after_index_bytes = sum(d[1] for d in second.values())
        for key, (size, index, retention, encoded, kind) in second.items():
            earlier = first.get(key)
            new = earlier is None or kind in SUB_DAY_SUMMARIES.get(name, set())
            if new:
                row.day2_new_documents += earlier is None
                row.day2_new_bytes += size if earlier is None else 0
            changed = earlier is not None and earlier[3] != encoded
            row.day2_changed_documents += changed and not new
            if new and retention is not None:
                # Made every day, kept `retention` days: that many days' worth at any time.
                row.steady_bytes += size * retention
                row.steady_index_bytes += index * retention
            elif new or changed or retention is None:
                row.steady_bytes += size  # the same document every day
                row.steady_index_bytes += index
        kept = [d[2] for d in second.values() if d[2] is not None]  # days left, of everything there
        if kept:
            row.kept_days = f"{min(kept):.2f}–{max(kept):.2f}"
        elif second:
            row.kept_days = "while the account is"
        rows.append(row)
    return rows


def measure(db_url: str, workdir: Path, users: int, label: str, progress: Any = print) -> Results:
    """Run the two days against a fresh app on `db_url` (its own database)."""
    started = time.monotonic()
    with contextlib.ExitStack() as stack:
        env = {
            "RATE_LIMIT_ENABLED": "true",
            "TRUSTED_PROXIES": "127.0.0.1",
            # A day's 68 refreshes come within minutes here, not over 8 hours: still counted, not refused.
            "RATE_LIMIT_REFRESH_ACCOUNT": "100000/15minutes",
        }
        app = start_this_app(stack, workdir, db_url, DATABASE, env, name="storage")
        app.wait_ready()
        client: MongoClient[dict[str, Any]] = MongoClient(db_url, tz_aware=True)
        stack.callback(client.close)
        if client[DATABASE].users.estimated_document_count():
            raise RuntimeError(f"database {DATABASE} is not empty: measure on a fresh one")
        for user in range(users):
            register(app, user)
        s0 = snapshot(client)
        progress(f"storage: {users} users registered with {TASKS_AT_START} tasks each")
        requests = 0
        days = []
        for number in (1, 2):
            for user in range(users):
                requests += day(app, user)
            days.append(snapshot(client))
            progress(f"storage: day {number} done ({requests:,} requests so far)")
        app.check_alive("the storage measurement")
        rows = compare(users, s0, days[0], days[1])
        for row in rows:
            with contextlib.suppress(Exception):  # a server without collStats: the BSON sums only
                stats = client[DATABASE].command("collStats", row.collection)
                row.server_bytes, row.server_index_bytes = int(stats["size"]), int(stats["totalIndexSize"])
    return Results(label, commit(), users, requests / users / 2, time.monotonic() - started, rows)


def commit() -> str:
    with contextlib.suppress(Exception):
        found = subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"], cwd=REPO, capture_output=True, text=True
        )
        dirty = subprocess.run(
            ["git", "status", "--porcelain", "--untracked-files=no"], cwd=REPO, capture_output=True, text=True
        )
        return found.stdout.strip() + (" (with uncommitted changes)" if dirty.stdout.strip() else "")
    return "unknown"


def kib(n: float) -> str:
    return f"{n / 1024:,.1f} KiB"


def markdown(results: Results) -> str:
    n = results.users
    lines = [
        f"### {results.label}" + (f" ({results.commit})" if results.commit else ""),
        "",
        f"{n} users, two active days each ({results.requests_per_user_day:.0f} requests per user per "
        f"day), measured in {results.seconds:.0f} s. Per active user:",
        "",
        "| collection | made on day 1 (docs / bytes) | day 2: new docs / changed docs | "
        "after day 2 (docs / bytes / index bytes) | collStats after day 2 (size / indexes) | kept (days) | "
        "steady state (data + index) |",
        "|---|---|---|---|---|---|---|",
    ]
    for row in results.rows:
        if not (row.after_documents or row.day1_documents):
            continue  # nothing of it in an active day (passkeys, links, ...)
        lines.append(
            f"| {row.collection} | {row.day1_documents / n:.1f} / {row.day1_bytes / n:,.0f} B | "
            f"{row.day2_new_documents / n:.1f} / {row.day2_changed_documents / n:.1f} | "
            f"{row.after_documents / n:.1f} / {row.after_bytes / n:,.0f} B / "
            f"{row.after_index_bytes / n:,.0f} B | "
            f"{row.server_bytes / n:,.0f} B / {row.server_index_bytes / n:,.0f} B | "
            f"{row.kept_days} | {kib((row.steady_bytes + row.steady_index_bytes) / n)} |"
        )
    day1 = sum(row.day1_bytes for row in results.rows) / n
    lines += [
        "",
        f"**Steady state per active user: {kib(results.steady_per_user)}** (data and index keys); "
        f"one day from scratch leaves {kib(day1)} of data per user. For 10M active users: "
        f"{results.steady_per_user * 10_000_000 / 1024**3:,.0f} GiB.",
        "",
    ]
    return "\n".join(lines)


def write(results: Results, out: Path) -> Path:
    out.mkdir(parents=True, exist_ok=True)
    stem = out / f"{datetime.now().astimezone():%Y-%m-%d}-storage"
    saved: dict[str, Any] = {}
    with contextlib.suppress(OSError, ValueError):
        saved = json.loads(stem.with_suffix(".json").read_text())
    saved[results.label] = asdict(results) | {"steady_per_user": results.steady_per_user}
    stem.with_suffix(".json").write_text(json.dumps(saved, indent=2, default=str) + "\n")
    sections = []
    for data in saved.values():
        rows = [Row(**row) for row in data["rows"]]
        fields = {k: data[k] for k in ("label", "commit", "users", "requests_per_user_day", "seconds")}
        sections.append(markdown(Results(**fields, rows=rows)))
    doc = __doc__ or ""
    text = "# Storage per active user\n\n" + doc.split("\n\n    .venv")[0] + "\n\n" + "\n".join(sections)
    stem.with_suffix(".md").write_text(text)
    return stem.with_suffix(".md")


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--users", type=int, default=50, help="active users (default 50)")
    parser.add_argument("--label", default="this commit", help="the report section's name")
    parser.add_argument("--out", type=Path, default=REPORTS, help="where the report goes")
    args = parser.parse_args(argv)
    if args.users < 1 or args.users > 60000:
        parser.error("--users must be between 1 and 60000")
    with tempfile.TemporaryDirectory(prefix="farm-storage-") as tmp:
        workdir = Path(tmp)
        database = EmbeddedDatabase(
            find_binary(REPO / ".venv-db" / "bin" / "secantusd-py"), ":memory:", workdir / "secantusd.log"
        )
        with database:
            results = measure(database.url, workdir, args.users, args.label)
    path = write(results, args.out)
    print(markdown(results))
    print(f"report written to {path}", file=sys.stderr)


if __name__ == "__main__":
    main()
