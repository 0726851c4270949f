"""The processes a bench run starts: one SecantusDB, this app and the stock app, each on loopback.

Every process is started with a parent-death signal and stopped at exit, also on Ctrl-C, SIGTERM
and errors (`Servers` is a context manager; `bench.py` turns SIGTERM into SystemExit).
"""

import contextlib
import os
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import quote

import httpx

from backend.core.embedded_db import EmbeddedDatabase, find_binary, free_port

REPO = Path(__file__).resolve().parent.parent
HOST = "127.0.0.1"
PASSWORD = "correct horse battery staple"
READY_SECONDS = 90.0
STOP_SECONDS = 25.0


def die_with_parent() -> None:  # pragma: no cover - runs in the child between fork and exec
    with contextlib.suppress(Exception):
        import ctypes

        ctypes.CDLL("libc.so.6", use_errno=True).prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG


def spawn(args: list[str], *, env: dict[str, str], log: Path) -> subprocess.Popen[bytes]:
    with open(log, "ab") as out:
        return subprocess.Popen(
            args,
            cwd=REPO,
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            preexec_fn=die_with_parent if sys.platform == "linux" else None,
        )


def stop(process: subprocess.Popen[bytes]) -> None:
    if process.poll() is not None:
        return
    process.send_signal(signal.SIGINT)  # uvicorn's graceful stop
    try:
        process.wait(STOP_SECONDS)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


def rss_kib(pid: int) -> int:
    """Resident memory of a process, from /proc/<pid>/status (VmRSS, in KiB)."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    raise RuntimeError(f"no VmRSS for pid {pid}")


def cpu_seconds(pid: int) -> float:
    """User + system CPU a process (all its threads) has used, from /proc/<pid>/stat."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")  # utime, stime


def children(pid: int) -> list[int]:
    found = []
    for task in Path(f"/proc/{pid}/task").iterdir():
        with contextlib.suppress(OSError):
            found += [int(c) for c in (task / "children").read_text().split()]
    return found


def worker_pid(launcher: int) -> int:
    """The process serving requests: `python -m backend.serve` runs uvicorn in-process for one
    worker; with more workers (or --reload) uvicorn forks them and the launcher only supervises."""
    python_children = [
        c
        for c in children(launcher)
        if "python" in Path(f"/proc/{c}/cmdline").read_bytes().decode(errors="replace")
    ]
    return python_children[0] if len(python_children) == 1 else launcher


@dataclass
class App:
    """One app under test: its URL, its process and a signed-in user."""

    key: str  # "stock" or "ours"
    name: str
    url: str
    database: str
    process: subprocess.Popen[bytes]
    log: Path
    token: str = ""  # the main bench user's access token

    @property
    def bearer(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token}"}

    def log_tail(self, lines: int = 30) -> str:
        with contextlib.suppress(OSError):
            return "\n".join(self.log.read_text(errors="replace").splitlines()[-lines:])
        return ""

    def check_alive(self, during: str) -> None:
        code = self.process.poll()
        if code is None:
            return
        how = f"signal {signal.Signals(-code).name}" if code < 0 else f"exit code {code}"
        raise RuntimeError(
            f"{self.name} stopped during {during} ({how}); was it stopped by another program on this "
            f"machine? Its log ends with:\n{self.log_tail()}"
        )

    def wait_ready(self) -> None:
        deadline = time.monotonic() + READY_SECONDS
        with httpx.Client(base_url=self.url, timeout=5) as client:
            while time.monotonic() < deadline:
                if self.process.poll() is not None:
                    break
                with contextlib.suppress(httpx.TransportError):
                    if client.get("/health").status_code == 200:
                        return
                time.sleep(0.2)
        raise RuntimeError(f"{self.name} did not start ({self.url}); its log ends with:\n{self.log_tail()}")

    def sign_up(self, client: httpx.Client, email: str) -> tuple[str, str, httpx.Response]:
        """Register `email` (if new) and log in: (user id, access token, the login response)."""
        registered = client.post(f"{self.url}/auth/register", json={"email": email, "password": PASSWORD})
        if registered.status_code not in (201, 400):
            raise RuntimeError(f"{self.name}: register {email} -> {registered.status_code} {registered.text}")
        login = client.post(f"{self.url}/auth/jwt/login", data={"username": email, "password": PASSWORD})
        if login.status_code != 200:
            raise RuntimeError(f"{self.name}: login {email} -> {login.status_code} {login.text}")
        me = client.get(
            f"{self.url}/users/me", headers={"Authorization": f"Bearer {login.json()['access_token']}"}
        )
        me.raise_for_status()
        return me.json()["id"], login.json()["access_token"], login


def form_encode(value: str) -> str:
    return quote(value, safe="")


def start_this_app(
    stack: contextlib.ExitStack,
    workdir: Path,
    db_url: str,
    database: str = "bench_ours",
    env: dict[str, str] | None = None,
    name: str = "ours",
) -> App:
    """`python -m backend.serve` (one worker, development settings, rate limits off unless `env`
    says otherwise) on a free port, on `database` of `db_url`; stopped when `stack` closes."""
    port, data = free_port(HOST), Path(tempfile.mkdtemp(prefix="data-", dir=workdir))
    settings = {
        **os.environ,
        "ENVIRONMENT": "development",
        "RATE_LIMIT_ENABLED": "false",
        "DATA_DIR": str(data),
        "MONGODB_URL": db_url,
        "MONGODB_DB": database,
        "HOST": HOST,
        "PORT": str(port),
        "LOG_LEVEL": "warning",
        "JWT_LIFETIME_SECONDS": "7200",  # outlives the run: the soak's token must not expire
        **(env or {}),
    }
    log = workdir / f"{name}.log"
    process = spawn([sys.executable, "-m", "backend.serve"], env=settings, log=log)
    stack.callback(stop, process)
    return App("ours", "this app", f"http://{HOST}:{port}", database, process, log)


class Servers(contextlib.ExitStack):
    """SecantusDB plus both apps, stopped when the `with` block ends."""

    def __init__(self, workdir: Path) -> None:
        super().__init__()
        self.workdir = workdir
        self.db_url = ""
        self.db_pid = 0
        self.ours: App
        self.stock: App

    def __enter__(self) -> "Servers":
        super().__enter__()
        try:
            self._start()
        except BaseException:
            self.close()
            raise
        return self

    def _start(self) -> None:
        # On disk, so that it can be restarted (see restart_database).
        self.database = EmbeddedDatabase(
            find_binary(REPO / ".venv-db" / "bin" / "secantusd-py"),
            str(self.workdir / "secantusd-data"),
            self.workdir / "secantusd.log",
        )
        self.db_url = self.enter_context(self.database).url
        self._note_db_pid()
        self.ours = self._start_ours()
        self.stock = self._start_stock()
        for app in (self.ours, self.stock):
            app.wait_ready()

    def _note_db_pid(self) -> None:
        assert self.database.process is not None
        self.db_pid = self.database.process.pid

    def restart_database(self) -> None:
        """Stop SecantusDB and start it again on the same port and data, then wait until both
        apps reach it. SecantusDB 0.7.0b3's writes slow down with every write it has taken
        (2.5 ms each when fresh, 40 ms after some 10,000, the collection staying empty) until it
        restarts; the apps keep running and reconnect on their own."""
        self.database.stop()
        self.database.start()
        self._note_db_pid()
        deadline = time.monotonic() + READY_SECONDS
        with httpx.Client(timeout=5) as client:
            for app in self.apps():
                # An authenticated read: both apps reach the database for it.
                while client.get(f"{app.url}/users/me", headers=app.bearer).status_code != 200:
                    if time.monotonic() > deadline:
                        raise RuntimeError(f"{app.name} did not reconnect to the restarted database")
                    time.sleep(0.2)

    def _start_ours(self) -> App:
        return start_this_app(self, self.workdir, self.db_url)

    def _start_stock(self) -> App:
        port = free_port(HOST)
        env = {**os.environ, "STOCK_MONGODB_URL": self.db_url, "STOCK_MONGODB_DB": "bench_stock"}
        args = [sys.executable, "-m", "uvicorn", "benchmarks.stock_app:app", "--host", HOST]
        args += ["--port", str(port), "--workers", "1", "--log-level", "warning"]
        log = self.workdir / "stock.log"
        process = spawn(args, env=env, log=log)
        self.callback(stop, process)
        return App("stock", "stock FastAPI Users", f"http://{HOST}:{port}", "bench_stock", process, log)

    def apps(self) -> Iterator[App]:
        """Stock first, then this app: the order every alternating round uses."""
        yield self.stock
        yield self.ours
