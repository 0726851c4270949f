"""`make bench`: this app against a stock FastAPI Users app, on one embedded database.

Starts one SecantusDB (on disk, in a temporary folder, so that it can be restarted), this app
(`python -m backend.serve`, one uvicorn worker, development settings, rate limits off) and
benchmarks/stock_app.py (FastAPI Users as documented, one uvicorn worker), each in its own
database, all on 127.0.0.1. Then measures, alternating the
apps round by round (stock, ours, stock, ours, ...) so both meet the same machine:

  a. authenticated `GET /users/me` throughput (wrk, 16 connections);
  b. authenticated `GET /task/?limit=20` throughput, the user having 20 tasks;
  c. a paced probe's p99 latency, idle and while 4 clients log in, and the storm's logins/s;
  d. first-page latency of the task list at 100 / 1,000 / 10,000 tasks per user (and deep pages);
  e. this app's worker memory after 1,000 and after 100,000 mixed requests, SecantusDB being
     restarted between chunks (its writes slow down until it restarts); run before d, whose
     10,000 tasks slow SecantusDB down for every user;
  f. login and forgot-password timing for known against unknown accounts (this app);
  g. refresh rotations (this app alone: stock FastAPI Users has no refresh), 8 connections,
     each with a session of its own;
  h. logins with the right password, 4 connections (a client's share of the hashing pool);
  i. storage per active user: what two active days of 50 users leave in the database, and the
     steady state (benchmarks/storage.py; its own report, YYYY-MM-DD-storage.md).

For a, b, g and h it also reads the CPU time the app's worker and SecantusDB used over each run:
the cost per request in the form operators size by (requests per app-vCPU-second).

Prints a Markdown table and writes benchmarks/reports/YYYY-MM-DD.md with PNG plots beside it.

    .venv/bin/python -m benchmarks.bench [--quick] [--rounds 3] [--out benchmarks/reports] [--only abcdefgh]
"""

import argparse
import os
import signal
import sys
import tempfile
import time
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any, NoReturn

import httpx

from benchmarks import listing, machine, report, soak, storage, storm, timing, wrk
from benchmarks.listing import ListingFigures
from benchmarks.servers import PASSWORD, App, Servers, cpu_seconds, form_encode, worker_pid
from benchmarks.soak import SoakFigures
from benchmarks.storm import StormRound

MAIN_USER = "bench@example.com"
CORES = os.cpu_count() or 1
BUSY = 0.2  # other programs using more of the CPU than this make the figures noisy
STORM_USERS = [f"storm{i}@example.com" for i in range(storm.STORM_CLIENTS)]


@dataclass(frozen=True)
class Plan:
    rounds: int = 3
    wrk_seconds: float = 10.0
    warmup_seconds: float = 2.0
    connections: int = 16
    refresh_connections: int = 8
    login_connections: int = storm.STORM_CLIENTS
    login_seconds: float = 10.0  # logins take ~0.2 s of argon2 each: shorter runs count too few
    idle_seconds: float = 6.0
    storm_seconds: float = 8.0
    list_sizes: tuple[int, ...] = (100, 1_000, 10_000)
    list_repeats: int = 15
    link_hops: int = 25
    soak_first: int = 1_000
    soak_total: int = 100_000
    soak_budget_seconds: float = 900.0
    timing_rounds: int = 15
    storage_users: int = 50

    @classmethod
    def quick(cls, rounds: int) -> "Plan":
        return cls(
            rounds=rounds, wrk_seconds=2, warmup_seconds=1, idle_seconds=3, storm_seconds=3,
            list_repeats=3, link_hops=3, soak_total=5_000, soak_budget_seconds=60, timing_rounds=5,
            storage_users=5,
            login_seconds=5,
        )  # fmt: skip


@dataclass
class Results:
    plan: Plan
    quick: bool
    started: datetime
    machine: dict[str, str] = field(default_factory=dict)
    seconds: float = 0.0
    throughput: dict[str, dict[str, list[float]]] = field(default_factory=dict)  # test -> app key -> req/s
    # test -> app key -> {"app": [...], "database": [...]}: CPU ms per request, per round
    cpu_per_request: dict[str, dict[str, dict[str, list[float]]]] = field(default_factory=dict)
    wrk_failures: dict[str, int] = field(default_factory=dict)  # "test app" -> failed requests
    wrk_client_cpu: list[float] = field(default_factory=list)  # share of one core wrk used, per run
    storm: dict[str, list[StormRound]] = field(default_factory=dict)
    listing: dict[str, ListingFigures] = field(default_factory=dict)
    soak: SoakFigures | None = None
    timing: dict[str, dict[str, float]] = field(default_factory=dict)
    other_load: dict[str, float] = field(default_factory=dict)  # share of all cores used by others


class Progress:
    def __init__(self) -> None:
        self.started = time.monotonic()

    def __call__(self, message: str) -> None:
        elapsed = int(time.monotonic() - self.started)
        print(f"[{elapsed // 60:02d}:{elapsed % 60:02d}] {message}", file=sys.stderr, flush=True)


def prepare(servers: Servers, progress: Progress) -> dict[str, tuple[str, str]]:
    """Users on both apps: the main one with 20 tasks, 4 for the login storm, one for the list."""
    list_users = {}
    with httpx.Client(timeout=60) as client:
        for app in servers.apps():
            _, app.token, _ = app.sign_up(client, MAIN_USER)
            for i in range(20):
                client.post(
                    f"{app.url}/task/", json={"name": f"task {i}"}, headers=app.bearer
                ).raise_for_status()
            for email in STORM_USERS:
                app.sign_up(client, email)
            user_id, token, _ = app.sign_up(client, "list@example.com")
            list_users[app.key] = (user_id, token)
    progress("users and tasks ready on both apps")
    return list_users


@dataclass(frozen=True)
class Workload:
    """One request, loaded by wrk: `path` with the main user's token, or what `script` sends."""

    letter: str
    path: str
    script: Path = wrk.REPORT_SCRIPT
    apps: tuple[str, ...] = ("stock", "ours")

    def connections(self, plan: Plan) -> int:
        return {"g": plan.refresh_connections, "h": plan.login_connections}.get(self.letter, plan.connections)

    def seconds(self, plan: Plan) -> float:
        return plan.login_seconds if self.letter == "h" else plan.wrk_seconds


WORKLOADS = {
    "users_me": Workload("a", "/users/me"),
    "task_list": Workload("b", "/task/?limit=20"),
    "refresh": Workload("g", "/auth/jwt/refresh", wrk.REFRESH_SCRIPT, apps=("ours",)),
    "login": Workload("h", "/auth/jwt/login", wrk.LOGIN_SCRIPT),
}
REFRESH_EMAIL = "refresh@example.com"


def fresh_refresh_tokens(app: App, count: int) -> str:
    """A refresh token of each of `count` new sessions, comma-separated (BENCH_REFRESH_TOKENS).
    New ones for every run: wrk stops with refreshes in flight, whose rotated tokens it never
    reads, and presenting their predecessors again would be reuse."""
    tokens = []
    with httpx.Client(timeout=60) as client:
        for _ in range(count):
            _, _, login = app.sign_up(client, REFRESH_EMAIL)
            tokens.append(login.cookies["FARM_refresh"])
    return ",".join(tokens)


def settle_logins(app: App) -> None:
    """Wait until the logins wrk left unanswered when it stopped have been hashed: they keep their
    places in this app's hashing pool (first come, first served) until then, and would count
    against the next run's CPU and its client's share of the pool. A login sent now ends after them."""
    with httpx.Client(timeout=120) as client:
        client.post(f"{app.url}/auth/jwt/login", data={"username": STORM_USERS[0], "password": PASSWORD})


def wrk_settings(app: App, workload: Workload, plan: Plan) -> dict[str, Any]:
    """wrk's headers or environment for one run of `workload` against `app`."""
    if workload.letter == "g":
        # One more than connections: wrk calls request() once before connecting, to check it.
        return {"env": {"BENCH_REFRESH_TOKENS": fresh_refresh_tokens(app, workload.connections(plan) + 1)}}
    if workload.letter == "h":
        settle_logins(app)
        bodies = [f"username={form_encode(email)}&password={form_encode(PASSWORD)}" for email in STORM_USERS]
        return {"env": {"BENCH_LOGIN_BODIES": "|".join(bodies)}}
    return {"headers": app.bearer}


def throughput(servers: Servers, plan: Plan, results: Results, progress: Progress, only: str) -> None:
    for test, workload in WORKLOADS.items():
        if workload.letter not in only:
            continue
        apps = [app for app in servers.apps() if app.key in workload.apps]
        connections = workload.connections(plan)
        for app in apps:
            wrk.run(
                app.url + workload.path,
                seconds=plan.warmup_seconds,
                connections=connections,
                script=workload.script,
                **wrk_settings(app, workload, plan),
            )
        rates: dict[str, list[float]] = {key: [] for key in workload.apps}
        cpu: dict[str, dict[str, list[float]]] = {key: {"app": [], "database": []} for key in rates}
        for round_ in range(plan.rounds):
            for app in apps:
                settings = wrk_settings(app, workload, plan)  # before the CPU is read: not measured
                # What each request costs the app's worker and the database, in CPU: on a shared
                # 2-core machine the throughput ratio is capped by the database both apps wait on.
                pids = {"app": worker_pid(app.process.pid), "database": servers.db_pid}
                before = {part: cpu_seconds(pid) for part, pid in pids.items()}
                run = wrk.run(
                    app.url + workload.path,
                    seconds=workload.seconds(plan),
                    connections=connections,
                    script=workload.script,
                    **settings,
                )
                for part, pid in pids.items():
                    cpu[app.key][part].append((cpu_seconds(pid) - before[part]) * 1000 / max(run.requests, 1))
                rates[app.key].append(run.rate)
                results.wrk_client_cpu.append(run.client_cpu_seconds / run.seconds)
                if run.failed:
                    key = f"{test} {app.key}"
                    results.wrk_failures[key] = results.wrk_failures.get(key, 0) + run.failed
            progress(
                f"{workload.letter}. {workload.path}: round {round_ + 1}/{plan.rounds}: "
                + ", ".join(
                    f"{app.name} {rates[app.key][-1]:.0f}/s, {cpu[app.key]['app'][-1]:.2f} ms app CPU"
                    for app in apps
                )
            )
        results.throughput[test] = rates
        results.cpu_per_request[test] = cpu


def login_storm(servers: Servers, plan: Plan, results: Results, progress: Progress) -> None:
    results.storm = {"stock": [], "ours": []}
    for round_ in range(plan.rounds):
        for app in servers.apps():
            figures = storm.run_round(app, STORM_USERS, plan.idle_seconds, plan.storm_seconds)
            results.storm[app.key].append(figures)
            progress(
                f"login storm round {round_ + 1}/{plan.rounds}, {app.name}: probe p99 "
                f"{figures.idle_p99:.1f} ms idle, {figures.storm_p99:.1f} ms in the storm; logins/s "
                f"{figures.logins_with_probe:.1f} with the probe, {figures.logins_alone:.1f} without"
            )


def measure_all(
    servers: Servers,
    plan: Plan,
    results: Results,
    workdir: Path,
    progress: Progress,
    only: str,
    out: Path = report.REPORTS,
) -> None:
    list_users = prepare(servers, progress)
    if "f" in only:
        results.timing = timing.measure(servers.ours, MAIN_USER, plan.timing_rounds)
        progress("f. login / forgot-password timing done")
        check_alive(servers, "f")
    if "a" in only or "b" in only:
        throughput(servers, plan, results, progress, only.replace("g", "").replace("h", ""))
        check_alive(servers, "a and b")
    if "c" in only:
        login_storm(servers, plan, results, progress)
        check_alive(servers, "the login storm")
    if "g" in only or "h" in only:  # after c: their writes slow SecantusDB down (e restarts it)
        throughput(servers, plan, results, progress, "".join(c for c in only if c in "gh"))
        check_alive(servers, "g and h")
    if "e" in only:
        results.soak = soak.run(
            servers.ours,
            "soak@example.com",
            plan.soak_total,
            plan.soak_first,
            plan.soak_budget_seconds,
            servers.db_url,
            workdir,
            progress,
            servers.restart_database,
        )
        first, last = results.soak.rss_after(plan.soak_first), results.soak.points[-1][1]
        progress(
            f"e. {results.soak.requests:,} mixed requests in {results.soak.seconds:.0f} s; "
            f"RSS {first / 1024:.1f} -> {last / 1024:.1f} MiB"
        )
    if "i" in only:  # before d: its 10,000 tasks slow SecantusDB's writes down for everyone
        figures = storage.measure(servers.db_url, workdir, plan.storage_users, "make bench", progress)
        path = storage.write(figures, out)
        progress(f"i. storage: {storage.kib(figures.steady_per_user)} per active user; {path}")
    if "d" in only:
        servers.restart_database()  # the listing starts from SecantusDB's fresh write speed
        results.listing = listing.measure(
            list(servers.apps()),
            list_users,
            servers.db_url,
            list(plan.list_sizes),
            plan.list_repeats,
            plan.link_hops,
        )
        for key, figures in results.listing.items():
            medians = ", ".join(
                f"{n:,}: {s['median']:.1f} ms" for n, s in figures.summary()["first_page"].items()
            )
            progress(f"d. first page of the task list, {key}: {medians}")


def check_alive(servers: Servers, during: str) -> None:
    for app in servers.apps():
        app.check_alive(during)


def other_load_now(seconds: float = 1.0) -> float:
    """The share of all cores busy over `seconds` (nothing of the bench runs yet)."""
    busy = machine.cpu_busy_seconds()
    time.sleep(seconds)
    return min(1.0, (machine.cpu_busy_seconds() - busy) / (seconds * CORES))


def stop_on_sigterm(signum: int, frame: Any) -> NoReturn:
    raise SystemExit(128 + signum)  # unwinds through the `with` blocks: every process is stopped


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--quick", action="store_true", help="short rounds: a smoke check of the whole bench")
    parser.add_argument("--rounds", type=int, default=3, help="alternating rounds per comparison (>= 3)")
    parser.add_argument("--out", type=Path, default=report.REPORTS, help="where the report and plots go")
    parser.add_argument(
        "--only", default="abcdefghi", help="the sections to run, e.g. --only ab (default: all)"
    )
    args = parser.parse_args(argv)
    if args.rounds < 1 or set(args.only) - set("abcdefghi"):
        parser.error("--rounds must be at least 1; --only takes letters from abcdefghi")
    signal.signal(signal.SIGTERM, stop_on_sigterm)
    signal.signal(signal.SIGINT, signal.default_int_handler)  # Ctrl-C, even if started with it ignored
    wrk.require_wrk()
    plan = Plan.quick(args.rounds) if args.quick else Plan(rounds=args.rounds)
    results = Results(plan, args.quick, datetime.now().astimezone(), machine.describe())
    progress = Progress()
    results.other_load["before"] = other_load_now()
    if results.other_load["before"] > BUSY:
        progress(
            f"warning: other programs use {results.other_load['before']:.0%} of this machine's CPU: "
            "the figures will be noisy (and lower) until they finish"
        )
    progress(
        f"{'quick' if args.quick else 'full'} run, {plan.rounds} alternating rounds; starting the servers"
    )
    busy, own = machine.cpu_busy_seconds(), machine.own_cpu_seconds()
    with tempfile.TemporaryDirectory(prefix="farm-bench-") as tmp:
        workdir = Path(tmp)
        with Servers(workdir) as servers:
            progress(f"SecantusDB {servers.db_url}, this app {servers.ours.url}, stock {servers.stock.url}")
            try:
                measure_all(servers, plan, results, workdir, progress, args.only, args.out)
            except Exception:
                for app in servers.apps():
                    print(f"--- {app.name} log ---\n{app.log_tail()}", file=sys.stderr)
                raise
    results.seconds = time.monotonic() - progress.started
    others = (machine.cpu_busy_seconds() - busy) - (machine.own_cpu_seconds() - own)
    results.other_load["during"] = min(1.0, max(0.0, others / (results.seconds * CORES)))
    table, path = report.write(results, args.out)
    print(table)
    progress(f"report written to {path}")


if __name__ == "__main__":
    try:
        main()
    except KeyboardInterrupt:
        print("interrupted: the servers and wrk have been stopped", file=sys.stderr)
        sys.exit(130)
