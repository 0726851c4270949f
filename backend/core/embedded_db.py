"""The embedded database: SecantusDB (a MongoDB-wire server on WiredTiger) as a child process.

SecantusDB is GPL-2.0. It is installed in its own virtualenv (`.venv-db`) and only ever
executed, never imported, so nothing of it is linked into this app. Any MongoDB
(`MONGODB_URL`: Atlas, a replica set, a local mongod) replaces it without code changes.
"""

import contextlib
import json
import logging
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

from pymongo import MongoClient
from pymongo.errors import PyMongoError

logger = logging.getLogger(__name__)

READY_TIMEOUT_SECONDS = 60.0
STOP_TIMEOUT_SECONDS = 15.0


def free_port(host: str = "127.0.0.1") -> int:
    with socket.socket() as sock:
        sock.bind((host, 0))
        return int(sock.getsockname()[1])


def answers(url: str, timeout_ms: int = 500) -> bool:
    client: MongoClient[dict[str, object]] = MongoClient(
        url, serverSelectionTimeoutMS=timeout_ms, connectTimeoutMS=timeout_ms, directConnection=True
    )
    try:
        client.admin.command("ping")
        return True
    except PyMongoError:
        return False
    finally:
        client.close()


def find_binary(configured: Path) -> str:
    if configured.exists():
        return str(configured)
    found = shutil.which("secantusd-py")
    if found is None:
        raise RuntimeError(
            f"SecantusDB is not installed ({configured} is missing): run `make install`, "
            "or set MONGODB_URL to an existing MongoDB"
        )
    return found


def _die_with_parent() -> None:  # pragma: no cover - runs in the child between fork and exec
    # Linux: if the launcher is killed outright, the database still stops.
    with contextlib.suppress(Exception):
        import ctypes

        ctypes.CDLL("libc.so.6", use_errno=True).prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG


class EmbeddedDatabase:
    """One SecantusDB server on a free loopback port; `storage` is a folder or ':memory:'."""

    def __init__(self, binary: str, storage: str, log_path: Path | None = None) -> None:
        self.binary = binary
        self.storage = storage
        self.log_path = log_path
        self.port = 0  # chosen at the first start, kept for restarts
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"mongodb://127.0.0.1:{self.port}/?directConnection=true"

    def start(self) -> str:
        self.port = self.port or free_port()
        log = open(self.log_path, "ab") if self.log_path else subprocess.DEVNULL  # noqa: SIM115
        self.process = subprocess.Popen(  # noqa: S603 - our own configured binary, no shell
            [self.binary, "--host", "127.0.0.1", "--port", str(self.port), "--storage-path", self.storage],
            stdout=log,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            preexec_fn=_die_with_parent if sys.platform == "linux" else None,
        )
        if log is not subprocess.DEVNULL:
            log.close()
        deadline = time.monotonic() + READY_TIMEOUT_SECONDS
        while not answers(self.url):
            if self.process.poll() is not None or time.monotonic() > deadline:
                self.stop()
                where = f"; see {self.log_path}" if self.log_path else ""
                raise RuntimeError(f"SecantusDB did not start{where}")
            time.sleep(0.1)
        return self.url

    def stop(self) -> None:
        if self.process is None or self.process.poll() is not None:
            return
        self.process.terminate()
        try:
            self.process.wait(STOP_TIMEOUT_SECONDS)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()

    def __enter__(self) -> "EmbeddedDatabase":
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()


@contextlib.contextmanager
def running_database(binary: Path, data_dir: Path) -> Iterator[str]:
    """The URL of the persistent embedded database, started here unless one already runs.

    A state file in the data folder lets a second command (say, creating a superuser while
    `make run` is up) share the running server instead of fighting over its storage.
    """
    state = data_dir / "embedded-db.json"
    with contextlib.suppress(OSError, ValueError, KeyError):
        url = json.loads(state.read_text())["url"]
        if answers(url):
            yield url
            return
    data_dir.mkdir(parents=True, exist_ok=True)
    database = EmbeddedDatabase(find_binary(binary), str(data_dir / "db"), data_dir / "secantusd.log")
    with database:
        state.write_text(json.dumps({"url": database.url, "pid": os.getpid()}))
        logger.info("SecantusDB is up at %s (storage %s)", database.url, data_dir / "db")
        try:
            yield database.url
        finally:
            with contextlib.suppress(OSError):
                state.unlink()
