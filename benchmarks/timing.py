"""What an attacker could compare: this app's answers for a known and an unknown account.

Login with a wrong password against login with an unknown email, and forgot-password for a known
against an unknown address, alternated so both meet the same load. Not a test: the tests pin the
causes (one argon2 operation either way; forgot-password's work after the answer).
"""

import statistics
import time
from collections.abc import Callable

import httpx

from benchmarks.servers import App
from benchmarks.stats import percentile

Call = Callable[[], httpx.Response]
# Forgot-password answers first and hashes after (one argon2id, ~0.2 s here): back to back, the
# hashes would fill the app's hashing queue (503 SERVER_BUSY), so requests are spaced.
FORGOT_PASSWORD_PAUSE = 0.4


MAX_RETRY_AFTER = 10  # seconds


def timed(call: Call, expect: int) -> float:
    """The answer's time in ms; a 503 (the app's hashing queue is full) is waited out and retried."""
    for _ in range(3):
        started = time.perf_counter()
        response = call()
        elapsed = (time.perf_counter() - started) * 1000
        if response.status_code == expect:
            return elapsed
        if response.status_code != 503:
            break
        time.sleep(min(MAX_RETRY_AFTER, int(response.headers.get("retry-after", "1"))))
    raise RuntimeError(f"expected {expect}, got {response.status_code}: {response.text[:200]}")


def compare(calls: dict[str, Call], rounds: int, expect: int, pause: float = 0.0) -> dict[str, list[float]]:
    """`pause` between requests lets work the app does after answering finish first."""
    time.sleep(2)  # background work of the previous section (argon2 hashes) ends first
    for call in calls.values():
        call()  # warm-up
        time.sleep(pause)
    samples: dict[str, list[float]] = {label: [] for label in calls}
    for _ in range(rounds):
        for label, call in calls.items():
            samples[label].append(timed(call, expect))
            time.sleep(pause)
    return samples


def measure(app: App, known_email: str, rounds: int) -> dict[str, dict[str, float]]:
    with httpx.Client(base_url=app.url, timeout=60) as client:
        wrong = {"username": known_email, "password": "wrong password!"}
        unknown = {"username": "nobody@example.com", "password": "wrong password!"}
        samples = compare(
            {
                "login, known email, wrong password": lambda: client.post("/auth/jwt/login", data=wrong),
                "login, unknown email": lambda: client.post("/auth/jwt/login", data=unknown),
            },
            rounds,
            400,
        )
        samples |= compare(
            {
                "forgot-password, known address": lambda: client.post(
                    "/auth/forgot-password", json={"email": known_email}
                ),
                "forgot-password, unknown address": lambda: client.post(
                    "/auth/forgot-password", json={"email": "nobody@example.com"}
                ),
            },
            rounds,
            202,
            pause=FORGOT_PASSWORD_PAUSE,
        )
    return {
        label: {"median": statistics.median(values), "p90": percentile(values, 90)}
        for label, values in samples.items()
    }
