"""Section c: do logins stall everybody else?

One probe client sends `GET /users/me` at a steady pace, one request at a time, and records each
latency: first with the server idle, then while 4 clients log in back to back with the right
password (argon2id, default parameters). Then the same 4 clients log in with no probe, to see how
much login throughput the probe cost. Python asyncio + httpx: the probe and the storm together
send about 60 requests a second, a small share of the CPU the servers need.
"""

import asyncio
import time
from dataclasses import dataclass, field

import httpx

from benchmarks.servers import PASSWORD, App
from benchmarks.stats import percentile

PROBE_RATE = 50.0  # requests per second
STORM_CLIENTS = 4
MAX_LOGINS_PER_CLIENT = 10_000  # a bound; time ends each phase long before


@dataclass
class StormRound:
    app: str
    idle_seconds: float
    storm_seconds: float
    idle: list[tuple[float, float]] = field(default_factory=list)  # (seconds since start, ms)
    storm: list[tuple[float, float]] = field(default_factory=list)
    logins_with_probe: float = 0.0  # per second
    logins_alone: float = 0.0
    failures: int = 0
    client_cpu_seconds: float = 0.0

    @property
    def idle_p99(self) -> float:
        return percentile([ms for _, ms in self.idle], 99)

    @property
    def storm_p99(self) -> float:
        return percentile([ms for _, ms in self.storm], 99)


async def probe(
    client: httpx.AsyncClient, app: App, seconds: float, t0: float, into: list[tuple[float, float]]
) -> int:
    """Paced `GET /users/me`; returns how many failed. A late answer delays the next request
    (one in flight at most) rather than bunching the missed ones up."""
    interval, failures = 1 / PROBE_RATE, 0
    end = time.perf_counter() + seconds
    next_at = time.perf_counter()
    for _ in range(int(seconds * PROBE_RATE) + 1):
        wait = next_at - time.perf_counter()
        if wait > 0:
            await asyncio.sleep(wait)
        started = time.perf_counter()
        if started >= end:
            break
        response = await client.get(f"{app.url}/users/me", headers=app.bearer)
        into.append((started - t0, (time.perf_counter() - started) * 1000))
        failures += response.status_code != 200
        next_at = max(next_at + interval, time.perf_counter())
    return failures


async def storm(client: httpx.AsyncClient, app: App, emails: list[str], seconds: float) -> tuple[float, int]:
    """`len(emails)` clients logging in back to back: (successful logins per second, failures)."""
    started = time.perf_counter()
    end = started + seconds

    async def one(email: str) -> tuple[int, int]:
        ok = failed = 0
        for _ in range(MAX_LOGINS_PER_CLIENT):
            if time.perf_counter() >= end:
                break
            response = await client.post(
                f"{app.url}/auth/jwt/login", data={"username": email, "password": PASSWORD}
            )
            if response.status_code == 200:
                ok += 1
            else:
                failed += 1
        return ok, failed

    results = await asyncio.gather(*(one(email) for email in emails))
    elapsed = time.perf_counter() - started
    return sum(ok for ok, _ in results) / elapsed, sum(failed for _, failed in results)


async def measure_round(app: App, emails: list[str], idle_seconds: float, storm_seconds: float) -> StormRound:
    result = StormRound(app.name, idle_seconds, storm_seconds)
    cpu_before = time.process_time()
    limits = httpx.Limits(max_connections=STORM_CLIENTS + 1)
    async with (
        httpx.AsyncClient(timeout=60) as probe_client,
        httpx.AsyncClient(timeout=60, limits=limits) as storm_client,
    ):
        await probe_client.get(f"{app.url}/users/me", headers=app.bearer)  # connect
        t0 = time.perf_counter()
        result.failures += await probe(probe_client, app, idle_seconds, t0, result.idle)
        storm_start = time.perf_counter()
        (rate, failed), probe_failed = await asyncio.gather(
            storm(storm_client, app, emails, storm_seconds),
            probe(probe_client, app, storm_seconds, t0, result.storm),
        )
        result.logins_with_probe, result.failures = rate, result.failures + failed + probe_failed
        # Shift the storm samples so the plot shows the storm starting right after idle.
        offset = storm_start - t0 - idle_seconds
        result.storm = [(t - offset, ms) for t, ms in result.storm]
        await asyncio.sleep(1)
        result.logins_alone, failed = await storm(storm_client, app, emails, storm_seconds)
        result.failures += failed
    result.client_cpu_seconds = time.process_time() - cpu_before
    return result


def run_round(app: App, emails: list[str], idle_seconds: float, storm_seconds: float) -> StormRound:
    return asyncio.run(measure_round(app, emails, idle_seconds, storm_seconds))
