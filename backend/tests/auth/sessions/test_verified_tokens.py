"""Access tokens verified once are not verified again (authenticator.VerifiedTokens): a token seen
before is checked for expiry alone, its session is still read on every request, and nothing but
the exact text of a token that passed every check is ever taken from what was kept."""

import time
from types import SimpleNamespace
from typing import Any

import pytest
from httpx import AsyncClient

from backend.apps.auth.sessions import authenticator
from backend.apps.auth.sessions.authenticator import VerifiedTokens
from backend.apps.auth.tokens.realm_jwt import LEEWAY_SECONDS
from backend.tests.conftest import Server
from backend.tests.helpers import bearer, claims_of, signed_up


def count_verifications(server: Server) -> list[str]:
    """Every token the strategy verifies from now on."""
    verifier = server.app.state.modules["sessions"].authenticator.verified
    decode, seen = verifier.strategy.decode, []

    def counting(token: str) -> Any:
        seen.append(token)
        return decode(token)

    verifier.strategy = SimpleNamespace(decode=counting)
    return seen


async def test_a_token_presented_again_is_not_verified_again(server: Server, client: AsyncClient) -> None:
    token = await signed_up(client, "again@example.com")
    client.cookies.clear()
    verified = count_verifications(server)

    answers = [await client.get("/users/me", headers=bearer(token)) for _ in range(3)]

    assert [answer.status_code for answer in answers] == [200, 200, 200]
    assert verified == [token]


async def test_a_kept_token_is_refused_once_it_expires(
    server: Server, client: AsyncClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    token = await signed_up(client, "expires@example.com")
    client.cookies.clear()
    assert (await client.get("/users/me", headers=bearer(token))).status_code == 200
    expiry = claims_of(token)["exp"]

    # Within the leeway it still passes (as PyJWT's check would), past it it is refused.
    monkeypatch.setattr(authenticator, "time", SimpleNamespace(time=lambda: expiry + LEEWAY_SECONDS - 1))
    assert (await client.get("/users/me", headers=bearer(token))).status_code == 200
    monkeypatch.setattr(authenticator, "time", SimpleNamespace(time=lambda: expiry + LEEWAY_SECONDS))
    refused = await client.get("/users/me", headers=bearer(token))

    assert refused.status_code == 401
    assert refused.headers["WWW-Authenticate"] == 'Bearer error="invalid_token"'


async def test_a_kept_token_of_an_ended_session_is_refused_at_once(client: AsyncClient) -> None:
    token = await signed_up(client, "ended@example.com")
    assert (await client.get("/users/me", headers=bearer(token))).status_code == 200

    assert (await client.post("/auth/jwt/logout")).status_code == 204
    client.cookies.clear()

    assert (await client.get("/users/me", headers=bearer(token))).status_code == 401


async def test_a_token_differing_from_a_kept_one_is_verified_and_refused(
    server: Server, client: AsyncClient
) -> None:
    token = await signed_up(client, "tampered@example.com")
    client.cookies.clear()
    assert (await client.get("/users/me", headers=bearer(token))).status_code == 200
    verified = count_verifications(server)
    last = token[-1]
    tampered = token[:-1] + ("A" if last != "A" else "B")  # another signature

    assert (await client.get("/users/me", headers=bearer(tampered))).status_code == 401
    assert (await client.get("/users/me", headers=bearer(tampered))).status_code == 401
    assert verified == [tampered, tampered]  # refused tokens are never kept


def test_at_most_size_tokens_are_kept_the_oldest_dropped_first() -> None:
    now = int(time.time())
    strategy = SimpleNamespace(decode=lambda token: {"exp": now + 60, "sid": token, "sub": "x"})
    tokens = VerifiedTokens(strategy, size=3)  # type: ignore[arg-type]

    for token in ("a", "b", "c", "d"):
        assert tokens.claims(token) == {"exp": now + 60, "sid": token, "sub": "x"}

    assert list(tokens._claims) == ["b", "c", "d"]
