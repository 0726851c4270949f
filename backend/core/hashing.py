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

Each client gets a bounded share of those places (OWASP ASVS V13 resource limits, per client:
one client must not exhaust what everyone shares). Work asked for on behalf of a client (its
real address, `ratelimit.client_ip`, which honours `TRUSTED_PROXIES`) is admitted only while that
client holds fewer than `max(1, capacity // 4)` places; beyond that the client alone gets 503
with `Retry-After`, and other clients are still admitted. With the rate limits off (a load test)
one client sending logins as fast as it can then fills a quarter of the pool, never all of it, so
someone else's login keeps being answered. It takes four clients at their share to fill the
pool, as it took one before. The memory bound is unchanged: still at most `concurrency`
operations run at once, whoever asked. Work asked for on no client's behalf (a command, a
background job) is bounded by the whole pool only.
"""

import asyncio
import logging
import math
import os
import sys
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
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
CLIENT_SHARE_DIVISOR = 4  # one client holds at most a quarter of the pool's places (at least one)


class ServerBusy(HTTPException):
    """503: every place in the hashing pool is taken, or every place this client may take. The same
    answer either way, for any account."""

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

    def __init__(self, pool: "HashingPool", client: str | None) -> None:
        self._pool = pool
        self._client = client
        self._spent = False

    async def run(self, function: Callable[..., T], *args: Any) -> T:
        """Run `function(*args)` in the pool's threads; the place is given back when it ends."""
        if self._spent:
            raise RuntimeError("a slot runs one operation")
        self._spent = True
        return await self._pool._execute(function, args, self._client)

    def release(self) -> None:
        """Give the place back unused (the work it was kept for failed first); no-op once run."""
        if not self._spent:
            self._spent = True
            self._pool._give_back(self._client)


class HashingPool:
    """At most `concurrency` operations run at once, in low-priority threads; `queue` more may wait;
    one client holds at most `client_share` of those places."""

    def __init__(self, concurrency: int, queue: int) -> None:
        self.concurrency = concurrency
        self.capacity = concurrency + queue
        self.client_share = max(1, self.capacity // CLIENT_SHARE_DIVISOR)
        self._executor = self._new_executor()
        self._lock = threading.Lock()  # slots are given back from the pool's threads
        self._admitted = 0
        self._admitted_by_client: dict[str, int] = {}  # only clients holding a place: bounded by capacity
        self._seconds_per_operation = FIRST_ESTIMATE_SECONDS

    @property
    def admitted(self) -> int:
        """Places taken now: operations running or waiting."""
        return self._admitted

    @classmethod
    def from_settings(cls, settings: Settings) -> "HashingPool":
        return cls(settings.hashing_concurrency, settings.hashing_queue)

    def reserve(self, client: str | None = None) -> Slot:
        """Take a place now for `client` (None: on no client's behalf), or raise ServerBusy (503
        with Retry-After) when none is left, or when that client already holds its share."""
        with self._lock:
            held = self._admitted_by_client.get(client, 0) if client is not None else 0
            if self._admitted >= self.capacity or held >= self.client_share:
                raise ServerBusy(self._retry_after())
            self._admitted += 1
            if client is not None:
                self._admitted_by_client[client] = held + 1
        return Slot(self, client)

    async def run(self, function: Callable[..., T], *args: Any, client: str | None = None) -> T:
        """Run `function(*args)` in the pool, or raise ServerBusy at once when it is full (or
        `client` holds its share)."""
        return await self.reserve(client).run(function, *args)

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

    async def _execute(self, function: Callable[..., T], args: tuple[Any, ...], client: str | None) -> T:
        try:
            future = self._executor.submit(self._timed, function, args)
        except RuntimeError:  # the pool is shut down: the app is stopping
            self._give_back(client)
            raise
        # Given back when the operation has ended, not when its caller stops waiting: a request
        # cancelled mid-hash must not let another hash start beside the one still running (nor
        # its client take another place while it still holds this one).
        future.add_done_callback(lambda _: self._give_back(client))
        return await asyncio.wrap_future(future)

    def _timed(self, function: Callable[..., T], args: tuple[Any, ...]) -> T:
        started = time.monotonic()
        try:
            return function(*args)
        finally:
            elapsed = time.monotonic() - started
            with self._lock:  # a moving average: Retry-After follows what hashing costs here
                self._seconds_per_operation = 0.8 * self._seconds_per_operation + 0.2 * elapsed

    def _give_back(self, client: str | None) -> None:
        with self._lock:
            self._admitted -= 1
            if client is not None:
                held = self._admitted_by_client.pop(client) - 1
                if held:
                    self._admitted_by_client[client] = held

    def _retry_after(self) -> int:
        """Seconds until the work admitted now is likely done (called with the lock held)."""
        seconds = self._admitted * self._seconds_per_operation / self.concurrency
        return min(MAX_RETRY_AFTER_SECONDS, max(1, math.ceil(seconds)))
