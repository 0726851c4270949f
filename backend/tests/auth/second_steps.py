"""What the second-factor tests share: the server's TOTP clock, enrolling, passkeys, tickets.

Codes are computed from the secret with pyotp, at moments the test picks: the server reads the
time for TOTP from `Totp.clock`, which each test module's `clock` fixture sets.
"""

from typing import Any

import pyotp
import pytest
from httpx import AsyncClient, Response

from backend.apps.auth.flows.factors import SecondFactorState
from backend.apps.auth.methods.totp.service import Totp
from backend.apps.user.models import User
from backend.tests.conftest import Server
from backend.tests.helpers import (
    PASSWORD,
    verified_sign_up,
)
from backend.tests.webauthn_authenticator import SoftAuthenticator

STEP = 30
START = STEP * 60_000_000 + 5  # 5 seconds into a step, in 2027
NO_FACTOR = {
    "totp_enabled": False,
    "recovery_codes_left": 0,
    "passkeys": 0,
    "methods": [],
    "passkeys_available": True,
    "passkeys_unavailable_reason": None,
}


class Clock:
    """The server's time for TOTP."""

    def __init__(self) -> None:
        self.now = float(START)

    def advance(self, steps: int = 1) -> None:
        self.now += steps * STEP

    def code(self, secret: str, steps_from_now: int = 0) -> str:
        return str(pyotp.TOTP(secret).at(self.now + steps_from_now * STEP))


def set_totp_clock(monkeypatch: pytest.MonkeyPatch) -> Clock:
    """For the `clock` fixture of each module that needs one."""
    clock = Clock()
    monkeypatch.setattr(Totp, "clock", staticmethod(lambda: clock.now))
    return clock


async def enrol(client: AsyncClient, clock: Clock) -> tuple[str, list[str]]:
    """Set up TOTP for the signed-in (recently) `client`: the secret and the recovery codes."""
    setup = await client.post("/auth/mfa/totp/setup")
    assert setup.status_code == 200, setup.text
    secret = setup.json()["secret"]
    confirmed = await client.post("/auth/mfa/totp/confirm", json={"code": clock.code(secret)})
    assert confirmed.status_code == 200, confirmed.text
    clock.advance()  # the confirming code's step is spent
    return secret, confirmed.json()["recovery_codes"]


async def enrolled(server: Server, clock: Clock, email: str) -> tuple[AsyncClient, str, list[str]]:
    client = server.client()
    await verified_sign_up(client, email)
    secret, codes = await enrol(client, clock)
    return client, secret, codes


async def add_passkey(client: AsyncClient, name: str = "laptop") -> tuple[SoftAuthenticator, Response]:
    """Register a passkey for the signed-in `client`, as the browser does with its authenticator."""
    authenticator = SoftAuthenticator("https://farm.test")
    options = await client.post("/auth/passkeys/registration-options")
    assert options.status_code == 200, options.text
    added = await client.post(
        "/auth/passkeys", json={"name": name, "credential": authenticator.create(options.json())}
    )
    assert added.status_code == 201, added.text
    return authenticator, added


async def passkey_answer(
    client: AsyncClient, authenticator: SoftAuthenticator, purpose: str, ticket: str | None = None
) -> dict[str, Any]:
    """The authenticator's answer to fresh options for `purpose`."""
    options = await client.post("/auth/passkeys/options", json={"purpose": purpose, "ticket": ticket})
    assert options.status_code == 200, options.text
    return authenticator.get(options.json())


async def password_login(client: AsyncClient, email: str, password: str = PASSWORD) -> Response:
    return await client.post("/auth/jwt/login", data={"username": email, "password": password})


async def ticket_for(server: Server, email: str) -> str:
    response = await password_login(server.client(), email)
    assert response.status_code == 401, response.text
    return str(response.json()["detail"]["ticket"])


async def verify(client: AsyncClient, ticket: str, **proof: Any) -> Response:
    return await client.post("/auth/mfa/verify", json={"ticket": ticket, **proof})


async def user_named(email: str) -> User:
    user = await User.find_one(User.email == email)
    assert user is not None
    return user


async def stored_state(email: str) -> dict[str, Any] | None:
    user = await user_named(email)
    return await SecondFactorState.get_pymongo_collection().find_one({"_id": user.id})
