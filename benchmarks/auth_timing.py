"""Timing of the paths an attacker could compare, and of everyday requests.

Starts the real launcher (`python -m backend.serve`) on the embedded database in a temporary
data folder, with rate limits off (RATE_LIMIT_ENABLED=false, as documented for load tests) and
the default argon2 parameters, then prints medians and 90th percentiles:

    .venv/bin/python benchmarks/auth_timing.py [--rounds 40]

Not a test: timings depend on the machine. What the tests pin instead is the cause — one argon2
operation for a wrong password and for an unknown email; forgot-password's work after the answer.
"""

import argparse
import os
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import httpx

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))
from backend.core.embedded_db import free_port  # noqa: E402

PASSWORD = "correct horse battery staple"


def timed(call: Callable[[], httpx.Response], expect: int) -> float:
    started = time.perf_counter()
    response = call()
    elapsed = (time.perf_counter() - started) * 1000
    assert response.status_code == expect, (response.status_code, response.text)
    return elapsed


def report(label: str, samples: list[float]) -> None:
    samples = sorted(samples)
    p90 = samples[int(len(samples) * 0.9) - 1]
    print(f"{label:<48} median {statistics.median(samples):7.1f} ms   p90 {p90:7.1f} ms")


def measure(label: str, call: Callable[[], httpx.Response], rounds: int, expect: int) -> None:
    time.sleep(2)  # let background work of the previous section (argon2 hashes) finish
    call()  # warm-up
    report(label, [timed(call, expect) for _ in range(rounds)])


def compare(
    labels: tuple[str, str], calls: tuple[Callable[[], httpx.Response], ...], rounds: int, expect: int
) -> None:
    """Two requests an attacker would tell apart, alternated so both meet the same load."""
    time.sleep(2)
    samples: tuple[list[float], list[float]] = ([], [])
    for _ in range(rounds):
        for side in (0, 1):
            samples[side].append(timed(calls[side], expect))
    for side in (0, 1):
        report(labels[side], samples[side])


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--rounds", type=int, default=40)
    rounds = parser.parse_args().rounds
    port = free_port()
    with tempfile.TemporaryDirectory() as data:
        env = {
            **os.environ,
            "ENVIRONMENT": "development",
            "DATA_DIR": data,
            "PORT": str(port),
            "RATE_LIMIT_ENABLED": "false",
            "LOG_LEVEL": "warning",
        }
        server = subprocess.Popen([sys.executable, "-m", "backend.serve"], cwd=REPO, env=env)
        try:
            with httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=30) as client:
                for _ in range(600):
                    try:
                        if client.get("/health").status_code == 200:
                            break
                    except httpx.TransportError:
                        time.sleep(0.1)
                client.post("/auth/register", json={"email": "known@example.com", "password": PASSWORD})
                login = client.post(
                    "/auth/jwt/login", data={"username": "known@example.com", "password": PASSWORD}
                )
                bearer = {"Authorization": f"Bearer {login.json()['access_token']}"}
                for i in range(1000):
                    client.post("/task/", json={"name": f"task {i}"}, headers=bearer)

                wrong = {"username": "known@example.com", "password": "wrong password!"}
                unknown = {"username": "nobody@example.com", "password": "wrong password!"}
                print(f"{rounds} rounds each, default argon2id (m=64 MiB, t=3, p=4), SecantusDB on loopback")
                compare(
                    ("login, known email, wrong password", "login, unknown email"),
                    (
                        lambda: client.post("/auth/jwt/login", data=wrong),
                        lambda: client.post("/auth/jwt/login", data=unknown),
                    ),
                    rounds,
                    400,
                )
                compare(
                    ("forgot-password, known address", "forgot-password, unknown address"),
                    (
                        lambda: client.post("/auth/forgot-password", json={"email": "known@example.com"}),
                        lambda: client.post("/auth/forgot-password", json={"email": "nobody@example.com"}),
                    ),
                    rounds,
                    202,
                )
                measure(
                    "GET /users/me (token check)",
                    lambda: client.get("/users/me", headers=bearer),
                    rounds,
                    200,
                )
                measure(
                    "GET /task/ (100 of 1000 tasks)",
                    lambda: client.get("/task/", headers=bearer),
                    rounds,
                    200,
                )
                # Secure cookies are not sent over http://, so carry the refresh token by hand.
                current = {"token": login.cookies["FARM_refresh"]}

                def rotate() -> httpx.Response:
                    response = client.post(
                        "/auth/jwt/refresh", headers={"Cookie": f"FARM_refresh={current['token']}"}
                    )
                    current["token"] = response.cookies.get("FARM_refresh", current["token"])
                    return response

                measure("POST /auth/jwt/refresh (rotation)", rotate, rounds, 200)
        finally:
            server.send_signal(signal.SIGINT)
            server.wait(30)


if __name__ == "__main__":
    main()
