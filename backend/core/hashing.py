"""Password hashing with a bounded cost: a few low-priority threads and a short queue.

Argon2id is expensive on purpose (OWASP ASVS V2.4: memory-hard storage): each hash in flight holds
`ARGON2_MEMORY_KIB` (64 MiB by default) and keeps `ARGON2_PARALLELISM` cores busy for a fifth of a
second or so. Run one thread per request, as `anyio.to_thread` would (up to 40 at once), a burst
of logins or forgot-password requests multiplies that until the worker runs out of memory. So, per
OWASP ASVS V11/V13 (resource limits per request), `HashingPool` runs at most `HASHING_CONCURRENCY`
operations at once, lets `HASHING_QUEUE` more wait their turn and refuses the rest at once with
503 and `Retry-After`: memory in use stays at most concurrency x argon2 memory, waiting costs a
few bytes, and a refused client is told when to come back instead of piling up.

A place in the pool is a `Slot`: taken when the work is admitted, given back when it ends. Work
meant to run after the answer can take its slot before answering, so such jobs are bounded by
the same queue (forgot-password did, before its links' fingerprint became an HMAC).
"""

import asyncio
import logging
import math
import os
import sys
import threading
import time
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from functools import partial
from typing import Any, TypeVar

from anyio import to_thread
from fastapi import HTTPException, status

from backend.config import Settings

logger = logging.getLogger(__name__)

T = TypeVar("T")

HASHING_NICENESS = 10
FIRST_ESTIMATE_SECONDS = 0.25  # one argon2 operation before any was timed (~0.2 s at m=64 MiB, t=3, p=4)
MAX_RETRY_AFTER_SECONDS = 60


class ServerBusy(HTTPException):
    """503: every place in the hashing pool is taken. The same answer whoever asks, for any account."""

    def __init__(self, retry_after: int) -> None:
        super().__init__(
            status.HTTP_503_SERVICE_UNAVAILABLE,
            detail={
                "code": "SERVER_BUSY",
                "reason": f"The server is busy. Try again in {retry_after} seconds.",
            },
            headers={"Retry-After": str(retry_after)},
        )


def lower_thread_priority() -> None:
    """Run the calling thread at nice 10, so that argon2 yields the CPU to the event loop.

    Under a burst of hashes the event loop thread, which answers every cheap request (sessions,
    the todo API, /health), then wins the CPU whenever both want it: hashes take a little longer,
    nothing else waits behind them.

    Linux gives each thread its own nice value (a known deviation from POSIX, see setpriority(2)
    and sched(7)), so PRIO_PROCESS with the thread's id changes this thread only. The threads
    libargon2 starts for its lanes (ARGON2_PARALLELISM of them, for each slice of each pass)
    inherit it: a new thread starts with its creator's nice value. Elsewhere PRIO_PROCESS would
    name a whole process, so the priority is left alone there. Never raises a priority: that
    needs privileges, and a process started at nice 15 stays there.
    """
    if not sys.platform.startswith("linux"):
        return
    thread_id = threading.get_native_id()
    try:
        current = os.getpriority(os.PRIO_PROCESS, thread_id)
        os.setpriority(os.PRIO_PROCESS, thread_id, max(current, HASHING_NICENESS))
    except OSError as exc:  # a sandbox may forbid it: hashing still works, at normal priority
        logger.warning("hashing threads keep their priority: %s", exc)


class Slot:
    """One place in a `HashingPool`, for one operation. Given back when that ends, or by `release`."""

    def __init__(self, pool: "HashingPool") -> None:
        self._pool = pool
        self._spent = False

    async def run(self, function: Callable[..., T], *args: Any) -> T:
        """Run `function(*args)` in the pool's threads; the place is given back when it ends."""
        if self._spent:
            raise RuntimeError("a slot runs one operation")
        self._spent = True
        return await self._pool._execute(function, args)

    def release(self) -> None:
        """Give the place back unused (the work it was kept for failed first); no-op once run."""
        if not self._spent:
            self._spent = True
            self._pool._give_back()


class HashingPool:
    """At most `concurrency` operations run at once, in low-priority threads; `queue` more may wait."""

    def __init__(self, concurrency: int, queue: int) -> None:
        self.concurrency = concurrency
        self.capacity = concurrency + queue
        self._executor = self._new_executor()
        self._lock = threading.Lock()  # slots are given back from the pool's threads
        self._admitted = 0
        self._seconds_per_operation = FIRST_ESTIMATE_SECONDS

    @classmethod
    def from_settings(cls, settings: Settings) -> "HashingPool":
        return cls(settings.hashing_concurrency, settings.hashing_queue)

    def reserve(self) -> Slot:
        """Take a place now, or raise ServerBusy (503 with Retry-After) when none is left."""
        with self._lock:
            if self._admitted >= self.capacity:
                raise ServerBusy(self._retry_after())
            self._admitted += 1
        return Slot(self)

    async def run(self, function: Callable[..., T], *args: Any) -> T:
        """Run `function(*args)` in the pool, or raise ServerBusy at once when it is full."""
        return await self.reserve().run(function, *args)

    async def close(self) -> None:
        """At shutdown: operations not started are dropped, those running finish.

        A fresh executor (it starts no thread until used) takes the old one's place, so an app
        whose lifespan runs again — tests, a server restarted in-process — keeps hashing.
        """
        stopping, self._executor = self._executor, self._new_executor()
        await to_thread.run_sync(partial(stopping.shutdown, wait=True, cancel_futures=True))

    def _new_executor(self) -> ThreadPoolExecutor:
        return ThreadPoolExecutor(
            self.concurrency, thread_name_prefix="hashing", initializer=lower_thread_priority
        )

    async def _execute(self, function: Callable[..., T], args: tuple[Any, ...]) -> T:
        try:
            future = self._executor.submit(self._timed, function, args)
        except RuntimeError:  # the pool is shut down: the app is stopping
            self._give_back()
            raise
        # Given back when the operation has ended, not when its caller stops waiting: a request
        # cancelled mid-hash must not let another hash start beside the one still running.
        future.add_done_callback(self._operation_ended)
        return await asyncio.wrap_future(future)

    def _timed(self, function: Callable[..., T], args: tuple[Any, ...]) -> T:
        started = time.monotonic()
        try:
            return function(*args)
        finally:
            elapsed = time.monotonic() - started
            with self._lock:  # a moving average: Retry-After follows what hashing costs here
                self._seconds_per_operation = 0.8 * self._seconds_per_operation + 0.2 * elapsed

    def _operation_ended(self, future: "Future[Any]") -> None:
        self._give_back()

    def _give_back(self) -> None:
        with self._lock:
            self._admitted -= 1

    def _retry_after(self) -> int:
        """Seconds until the work admitted now is likely done (called with the lock held)."""
        seconds = self._admitted * self._seconds_per_operation / self.concurrency
        return min(MAX_RETRY_AFTER_SECONDS, max(1, math.ceil(seconds)))
