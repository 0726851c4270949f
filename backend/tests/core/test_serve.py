"""`make run` as a user meets it: a real server process on the embedded database."""

import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from urllib.parse import urlencode

import httpx
import pytest

from backend.config import REPO_ROOT
from backend.core.embedded_db import free_port
from backend.tests.helpers import PASSWORD

STARTUP_SECONDS = 90


def server_env(data_dir: Path, port: int) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k in ("PATH", "HOME", "LANG")}
    env.update({"ENVIRONMENT": "development", "DATA_DIR": str(data_dir), "PORT": str(port)})
    return env


@contextmanager
def running_server(data_dir: Path, *args: str, env: dict[str, str] | None = None) -> Iterator[httpx.Client]:
    """The launcher as a process; after it stops, `client.server_output` holds what it printed."""
    port = free_port()
    process = subprocess.Popen(
        [sys.executable, "-m", "backend.serve", *args],
        cwd=REPO_ROOT,
        env={**server_env(data_dir, port), **(env or {})},
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    client = httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=30)
    try:
        with client:
            deadline = time.monotonic() + STARTUP_SECONDS
            while True:
                assert process.poll() is None, process.stdout.read()
                try:
                    if client.get("/health").status_code == 200:
                        break
                except httpx.TransportError:
                    pass
                assert time.monotonic() < deadline, "the server did not come up"
                time.sleep(0.2)
            client.process = process  # type: ignore[attr-defined]
            yield client
    finally:
        process.send_signal(signal.SIGINT)
        try:
            output, _ = process.communicate(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()
            pytest.fail("the server did not stop on Ctrl-C")
        client.server_output = output  # type: ignore[attr-defined]


def sign_in(client: httpx.Client, email: str) -> dict[str, str]:
    response = client.post("/auth/jwt/login", data={"username": email, "password": PASSWORD})
    assert response.status_code == 200, response.text
    return {"Authorization": f"Bearer {response.json()['access_token']}"}


def test_data_survives_a_restart_and_stays_private(tmp_path: Path) -> None:
    with running_server(tmp_path) as client:
        assert client.get("/docs").status_code == 200
        assert (
            client.post(
                "/auth/register", json={"email": "keeper@example.com", "password": PASSWORD}
            ).status_code
            == 201
        )
        assert (
            client.post(
                "/task/", json={"name": "remember me"}, headers=sign_in(client, "keeper@example.com")
            ).status_code
            == 201
        )
    assert not (tmp_path / "embedded-db.json").exists(), "the database was not stopped"

    with running_server(tmp_path) as client:
        tasks = client.get("/task/", headers=sign_in(client, "keeper@example.com")).json()
        assert [t["name"] for t in tasks] == ["remember me"]
        assert (
            client.post(
                "/auth/register", json={"email": "other@example.com", "password": PASSWORD}
            ).status_code
            == 201
        )
        assert client.get("/task/", headers=sign_in(client, "other@example.com")).json() == []


def test_workers_share_one_database_and_one_secret(tmp_path: Path) -> None:
    with running_server(tmp_path, "--workers", "2") as client:
        client.post("/auth/register", json={"email": "shared@example.com", "password": PASSWORD})
        # Many logins and reads spread over both workers: a token from one verifies on the other.
        for _ in range(10):
            with httpx.Client(base_url=client.base_url) as fresh:  # new connection, maybe another worker
                assert (
                    fresh.get("/users/me", headers=sign_in(client, "shared@example.com")).status_code == 200
                )


def test_create_superuser_command_shares_the_running_database(tmp_path: Path) -> None:
    with running_server(tmp_path) as client:
        env = {**server_env(tmp_path, 8000), "FIRST_SUPERUSER_PASSWORD": "quiet harbour lantern 7"}
        command = [sys.executable, "-m", "backend.manage", "create-superuser", "--email", "Admin@Example.com"]
        first = subprocess.run(command, cwd=REPO_ROOT, env=env, capture_output=True, text=True, timeout=120)
        second = subprocess.run(command, cwd=REPO_ROOT, env=env, capture_output=True, text=True, timeout=120)

        assert first.returncode == 0, first.stderr
        assert "created superuser" in first.stdout
        assert second.returncode == 0 and "already exists" in second.stdout
        response = client.post(
            "/auth/jwt/login", data={"username": "admin@example.com", "password": "quiet harbour lantern 7"}
        )
        me = client.get(
            "/users/me", headers={"Authorization": f"Bearer {response.json()['access_token']}"}
        ).json()
        assert me["is_superuser"] is True


def test_tokens_in_links_stay_out_of_the_access_log(tmp_path: Path) -> None:
    # Production mode on the embedded database: a browser opening a mailed link.
    production = {
        "ENVIRONMENT": "production",
        "JWT_SECRET_KEY": "serve-test-secret-0123456789-abcdefghijklmnop",
        "REALM_APP_ID": "application-0-test",
        "PUBLIC_URL": "https://farm.example.com",
    }
    secret_looking = "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJ4In0.c2lnbmF0dXJl"
    # As an operator deploys: `manage migrate` first (production start-up only checks indexes).
    migrate = subprocess.run(
        [sys.executable, "-m", "backend.manage", "migrate"],
        cwd=REPO_ROOT,
        env={**server_env(tmp_path, free_port()), **production},
        capture_output=True,
        text=True,
        timeout=STARTUP_SECONDS,
    )
    assert migrate.returncode == 0, migrate.stderr
    with running_server(tmp_path, env=production) as client:
        for path in ["/reset-password", "/verify"]:
            client.get(path, params={"token": secret_looking}, headers={"Accept": "text/html"})
        client.get("/health")
    output = client.server_output  # type: ignore[attr-defined]

    assert "GET /verify?token=[redacted]" in output
    assert "GET /reset-password?token=[redacted]" in output
    assert secret_looking not in output


def test_sigterm_lets_accepted_requests_finish_then_exits(tmp_path: Path) -> None:
    # The twelve logins come from one address: within its share (a quarter) of the pool.
    with running_server(tmp_path, env={"SHUTDOWN_GRACE_SECONDS": "30", "HASHING_QUEUE": "48"}) as client:
        email = "leaving@example.com"
        client.post("/auth/register", json={"email": email, "password": PASSWORD})
        process: subprocess.Popen[str] = client.process  # type: ignore[attr-defined]
        port = int(str(client.base_url).rsplit(":", 1)[1].rstrip("/"))
        body = urlencode({"username": email, "password": PASSWORD}).encode()
        request = (
            b"POST /auth/jwt/login HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n"
            b"Content-Type: application/x-www-form-urlencoded\r\n"
            b"Content-Length: " + str(len(body)).encode() + b"\r\n\r\n" + body
        )
        # Twelve logins sent on their own connections: each is a full-cost argon2 verify, queued
        # in the hashing pool, so most are still waiting when the signal comes.
        connections = [socket.create_connection(("127.0.0.1", port), timeout=60) for _ in range(12)]
        for connection in connections:
            connection.sendall(request)
        time.sleep(1.0)  # the server has accepted and read them all
        stopped_at = time.monotonic()
        process.send_signal(signal.SIGTERM)
        deadline = time.monotonic() + 30
        answers = [_status_of(connection, deadline) for connection in connections]

        assert answers == [200] * 12, answers  # nothing accepted was cut off
        assert process.wait(timeout=30) == 0
        assert time.monotonic() - stopped_at < 30
        with pytest.raises(httpx.TransportError):  # and nothing new is accepted
            httpx.get(f"{client.base_url}/health/live", timeout=2)
    assert not (tmp_path / "embedded-db.json").exists(), "the database was not stopped"


def _status_of(connection: socket.socket, deadline: float) -> int | str:
    connection.settimeout(max(0.1, deadline - time.monotonic()))
    with connection:
        received = b""
        try:
            while chunk := connection.recv(65536):
                received += chunk
        except OSError as exc:
            return repr(exc)
    return int(received.split(b" ", 2)[1]) if received.startswith(b"HTTP/1.1 ") else repr(received[:80])
