"""Password hashing runs in worker threads, so a slow hash never stalls other requests, with
the argon2 parameters of the settings; hashes made with other parameters are upgraded at login."""

import asyncio
import threading

import pytest
from pwdlib.hashers.bcrypt import BcryptHasher

from backend.apps.user.models import User
from backend.apps.user.passwords import get_password_helper
from backend.tests.conftest import Server, fast_password_helper
from backend.tests.helpers import PASSWORD, bearer, login, mailed_token, register, signed_up

CHEAP_ARGON2 = {"argon2_memory_kib": 8192, "argon2_time_cost": 1, "argon2_parallelism": 1}


class GatedPasswordHelper:
    """Hashes for real, but each hash or verify waits until the test opens the gate."""

    def __init__(self) -> None:
        self.inner = fast_password_helper()
        self.entered = threading.Event()
        self.gate = threading.Event()

    def _wait(self) -> None:
        self.entered.set()
        # On the event loop this would freeze every request for the whole wait.
        self.gate.wait(timeout=3)

    def hash(self, password: str) -> str:
        self._wait()
        return self.inner.hash(password)

    def verify_and_update(self, plain: str, hashed: str) -> tuple[bool, str | None]:
        self._wait()
        return self.inner.verify_and_update(plain, hashed)

    def generate(self) -> str:
        return self.inner.generate()


async def prepare(server: Server) -> dict:
    client = server.client()
    token = await signed_up(client, "hasher@example.com")
    await client.post("/auth/forgot-password", json={"email": "hasher@example.com"})
    return {"token": token, "reset": await mailed_token(client, "/reset-password", "hasher@example.com")}


FLOWS = {
    "login": lambda c, s: c.post(
        "/auth/jwt/login", data={"username": "hasher@example.com", "password": PASSWORD}
    ),
    "login of unknown email": lambda c, s: c.post(
        "/auth/jwt/login", data={"username": "nobody@example.com", "password": PASSWORD}
    ),
    "register": lambda c, s: c.post(
        "/auth/register", json={"email": "fresh@example.com", "password": PASSWORD}
    ),
    "password change": lambda c, s: c.post(
        "/users/me/password",
        json={"current_password": PASSWORD, "new_password": "another long one"},
        headers=bearer(s["token"]),
    ),
    "reset password": lambda c, s: c.post(
        "/auth/reset-password", json={"token": s["reset"], "password": "reset to this"}
    ),
}


@pytest.mark.parametrize("flow", FLOWS)
async def test_hashing_does_not_block_other_requests(server: Server, flow: str) -> None:
    state = await prepare(server)
    gated = GatedPasswordHelper()
    server.app.dependency_overrides[get_password_helper] = lambda: gated
    client = server.client()
    finished: list[str] = []

    async def slow() -> None:
        response = await FLOWS[flow](client, state)
        assert response.status_code < 500, response.text
        finished.append(flow)

    async def cheap() -> None:
        response = await client.get("/health")
        assert response.status_code == 200
        finished.append("cheap")

    slow_task = asyncio.create_task(slow())
    assert await asyncio.to_thread(gated.entered.wait, 5), "the flow never hashed"
    await asyncio.wait_for(cheap(), timeout=10)
    before_the_hash_ends = list(finished)
    gated.gate.set()
    await slow_task

    assert "cheap" in before_the_hash_ends
    assert flow not in before_the_hash_ends  # each flow waits for its own hash


async def test_register_then_login_with_default_argon2_parameters(make_server) -> None:
    async with make_server(fast_hashing=False) as server:
        client = server.client()
        await register(client, "real@example.com")
        response = await client.post(
            "/auth/jwt/login", data={"username": "real@example.com", "password": PASSWORD}
        )
        assert response.status_code == 200


async def stored_hash(email: str) -> str:
    user = await User.find_one(User.email == email)
    assert user is not None
    return user.hashed_password


async def test_argon2_parameters_come_from_the_settings(make_server) -> None:
    async with make_server(fast_hashing=False, **CHEAP_ARGON2) as server:
        await register(server.client(), "params@example.com")

        assert (await stored_hash("params@example.com")).startswith("$argon2id$v=19$m=8192,t=1,p=1$")


@pytest.mark.parametrize("old", ["argon2id, other parameters", "bcrypt"])
async def test_hashes_made_otherwise_still_verify_and_are_upgraded_at_login(make_server, old: str) -> None:
    async with make_server(fast_hashing=False, **CHEAP_ARGON2) as server:
        client = server.client()
        await register(client, "old.hash@example.com")
        legacy = BcryptHasher().hash(PASSWORD) if old == "bcrypt" else fast_password_helper().hash(PASSWORD)
        await User.find_one(User.email == "old.hash@example.com").set({User.hashed_password: legacy})

        wrong = await client.post(
            "/auth/jwt/login", data={"username": "old.hash@example.com", "password": "not the password"}
        )
        assert wrong.status_code == 400
        assert await stored_hash("old.hash@example.com") == legacy  # only the right password upgrades
        await login(client, "old.hash@example.com")
        upgraded = await stored_hash("old.hash@example.com")
        await login(client, "old.hash@example.com")

        assert upgraded.startswith("$argon2id$v=19$m=8192,t=1,p=1$")
