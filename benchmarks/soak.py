"""Section e: does this app's worker keep growing under ordinary traffic?

wrk with `wrk_mixed.lua` (users/me, task list, create, update, delete, refresh, an occasional
login) runs in chunks of a fixed number of responses; after each chunk the worker's resident
memory is read from /proc/<pid>/status. The figure is the growth from the first 1,000 requests
(imports done, caches and pools warm, one argon2 hash's memory already taken) to the last.
"""

import contextlib
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlencode

import httpx
from pymongo import MongoClient

from benchmarks import wrk
from benchmarks.servers import PASSWORD, App, rss_kib, worker_pid

CONNECTIONS = 16
CHUNKS = 9  # after the first 1,000: RSS points along the way
# The soak's occasional logins are another user's: this app keeps 50 sessions a user and ends the
# oldest beyond that, which would end the session whose token the soak presents.
LOGIN_EMAIL = "soak-logins@example.com"
FIRST_CHUNK_SECONDS = 180.0  # the first 1,000 are always served, however slow the machine


@dataclass
class SoakFigures:
    pid: int
    points: list[tuple[int, int]] = field(default_factory=list)  # (requests so far, RSS KiB)
    failed: int = 0
    failures: dict[str, int] = field(default_factory=dict)  # status -> count
    last_failure: str = ""
    rates: list[float] = field(default_factory=list)  # requests/s of each chunk
    documents: dict[str, int] = field(default_factory=dict)  # the app's collections at the end
    logins: int = 0
    refreshes: int = 0
    auth_failures: int = 0
    seconds: float = 0.0
    client_cpu_seconds: float = 0.0
    database_restarts: int = 0

    @property
    def requests(self) -> int:
        return self.points[-1][0] if self.points else 0

    def rss_after(self, requests: int) -> int:
        """RSS at the first point with at least `requests` served (the last point if none has)."""
        return next((rss for count, rss in self.points if count >= requests), self.points[-1][1])

    def growth_percent(self, first: int) -> float:
        start = self.rss_after(first)
        return (self.points[-1][1] - start) / start * 100


def prepare(app: App, email: str) -> tuple[str, str]:
    """A user of its own with 20 tasks: (access token, refresh token of a second session); and
    the user whose logins the soak mixes in."""
    with httpx.Client(timeout=60) as client:
        _, token, _ = app.sign_up(client, email)
        for i in range(20):
            client.post(
                f"{app.url}/task/",
                json={"name": f"soak seed {i}"},
                headers={"Authorization": f"Bearer {token}"},
            )
        app.sign_up(client, LOGIN_EMAIL)
        login = client.post(f"{app.url}/auth/jwt/login", data={"username": email, "password": PASSWORD})
        refresh = login.cookies.get("FARM_refresh")
        if not refresh:
            raise RuntimeError(f"{app.name}: the login set no FARM_refresh cookie; the soak needs one")
        return token, refresh


def quotas(total: int, first: int) -> list[int]:
    rest = max(0, total - first)
    size = -(-rest // CHUNKS)
    return [first] + [min(size, rest - done) for done in range(0, rest, size)] if rest else [first]


def run(
    app: App,
    email: str,
    total: int,
    first: int,
    budget_seconds: float,
    db_url: str,
    workdir: Path,
    progress: Callable[[str], None],
    between_chunks: Callable[[], None] | None = None,
) -> SoakFigures:
    token, refresh = prepare(app, email)
    figures = SoakFigures(worker_pid(app.process.pid))
    figures.points.append((0, rss_kib(figures.pid)))
    login_body = urlencode({"username": LOGIN_EMAIL, "password": PASSWORD})
    started, count = time.monotonic(), 0
    chunks = quotas(total, first)
    for index, quota in enumerate(chunks):
        left = budget_seconds - (time.monotonic() - started)
        if left <= 5 and index > 0:
            break  # out of time: report what was reached
        done_file = workdir / f"soak-{index}.done"
        with contextlib.suppress(FileNotFoundError):
            done_file.unlink()
        run = wrk.run(
            f"{app.url}/",
            seconds=max(left, FIRST_CHUNK_SECONDS) if index == 0 else left,
            connections=CONNECTIONS,
            script=wrk.MIXED_SCRIPT,
            env={
                "BENCH_TOKEN": token,
                "BENCH_REFRESH": refresh,
                "BENCH_LOGIN_BODY": login_body,
                "BENCH_OFFSET": str(count),
                "BENCH_QUOTA": str(quota),
                "BENCH_DONE_FILE": str(done_file),
            },
            quota_file=done_file,
        )
        refresh = str(run.figures.get("refresh") or refresh)
        count += run.requests
        figures.failed += run.failed
        for item in str(run.figures.get("failures") or "").split():
            status, _, n = item.partition("=")
            figures.failures[status] = figures.failures.get(status, 0) + int(n)
        figures.last_failure = str(run.figures.get("last_failure") or figures.last_failure)
        figures.rates.append(run.rate)
        figures.logins += int(run.figures.get("logins_ok", 0))
        figures.refreshes += int(run.figures.get("refreshes_ok", 0))
        figures.auth_failures += int(run.figures.get("logins_failed", 0)) + int(
            run.figures.get("refreshes_failed", 0)
        )
        figures.client_cpu_seconds += run.client_cpu_seconds
        time.sleep(0.5)  # let the last answers leave before reading memory
        app.check_alive("the memory soak")
        figures.points.append((count, rss_kib(figures.pid)))
        if between_chunks is not None and index < len(chunks) - 1:  # none after the last
            between_chunks()
            figures.database_restarts += 1
        progress(
            f"e. {count:,} mixed requests ({run.rate:.0f}/s), "
            f"worker RSS {figures.points[-1][1] / 1024:.1f} MiB"
            + (f"; failed so far: {figures.failures}" if figures.failures else "")
        )
    figures.seconds = time.monotonic() - started
    with MongoClient(db_url) as client:
        database = client[app.database]
        figures.documents = {
            name: database[name].estimated_document_count() for name in database.list_collection_names()
        }
    return figures
