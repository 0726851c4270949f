"""The sign-in flow: a first step of an account with a second factor starts no session, the
ticket of its second step, and the session the second step starts. The administrators' reset is
in test_factors_admin.py."""

import hashlib
from datetime import timedelta
from urllib.parse import parse_qs, urlsplit

import pytest
from httpx import AsyncClient

from backend.apps.auth.flows.factors import SecondFactorState
from backend.apps.auth.flows.sign_in import TICKET_MAX_FAILURES, MfaTicket
from backend.apps.auth.methods.passkeys.models import Passkey
from backend.apps.auth.sessions.models import Session
from backend.core.clock import utcnow
from backend.tests.auth.methods.providers.test_providers import corp, local_path, sign_in_with
from backend.tests.auth.methods.sign_in_links.test_sign_in_links import mailed_link_token
from backend.tests.auth.second_steps import (
    NO_FACTOR,
    Clock,
    add_passkey,
    enrol,
    enrolled,
    password_login,
    set_totp_clock,
    ticket_for,
    user_named,
    verify,
)
from backend.tests.conftest import Server, ServerFactory
from backend.tests.helpers import (
    login,
    register,
    superuser_client,
)
from backend.tests.oidc import OIDCProvider


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> Clock:
    return set_totp_clock(monkeypatch)


async def test_a_password_login_asks_for_the_second_factor(server: Server, clock: Clock) -> None:
    _, secret, _ = await enrolled(server, clock, "two-step@example.com")
    browser = server.client()

    first = await password_login(browser, "two-step@example.com")

    assert first.status_code == 401, first.text
    challenge = first.json()["detail"]
    assert challenge["code"] == "MFA_REQUIRED" and challenge["methods"] == ["totp", "recovery_code"]
    assert len(challenge["ticket"]) >= 43
    assert not first.headers.get_list("set-cookie")
    assert await Session.find_all().count() == 1  # the enrolling client's only

    second = await verify(browser, challenge["ticket"], code=clock.code(secret))

    assert second.status_code == 200, second.text
    assert set(second.json()) == {"access_token", "token_type"}
    assert (await browser.get("/users/me")).json()["email"] == "two-step@example.com"
    assert (await browser.post("/auth/jwt/refresh")).status_code == 200
    assert (await browser.post("/task/", json={"name": "after two steps"})).status_code == 201
    bearer = {"Authorization": f"Bearer {second.json()['access_token']}"}
    assert (await server.client().get("/users/me", headers=bearer)).status_code == 200
    # The ticket started its one session.
    clock.advance()
    used = await verify(server.client(), challenge["ticket"], code=clock.code(secret))
    assert used.status_code == 400 and used.json()["detail"]["code"] == "MFA_TICKET_INVALID"
    assert await Session.find_all().count() == 2


async def test_a_ticket_expires_and_is_stored_hashed(server: Server, clock: Clock) -> None:
    _, secret, _ = await enrolled(server, clock, "expiry@example.com")
    ticket = await ticket_for(server, "expiry@example.com")

    [stored] = await MfaTicket.get_pymongo_collection().find().to_list()
    assert stored["_id"] == hashlib.sha256(ticket.encode()).hexdigest() and ticket not in repr(stored)
    assert timedelta(minutes=4, seconds=59) < stored["expires_at"] - utcnow() <= timedelta(minutes=5)
    indexes = await MfaTicket.get_pymongo_collection().index_information()
    assert any(
        i.get("expireAfterSeconds") == 0 and list(i["key"]) == [("expires_at", 1)] for i in indexes.values()
    )
    await MfaTicket.get_pymongo_collection().update_many(
        {}, {"$set": {"expires_at": utcnow() - timedelta(seconds=1)}}
    )

    expired = await verify(server.client(), ticket, code=clock.code(secret))

    assert expired.status_code == 400 and expired.json()["detail"]["code"] == "MFA_TICKET_INVALID"
    # Refused before the code was tried: it still signs in with a live ticket.
    fresh = await verify(
        server.client(), await ticket_for(server, "expiry@example.com"), code=clock.code(secret)
    )
    assert fresh.status_code == 200, fresh.text
    for nonsense in ["", "x" * 128, ticket[:-1]]:
        assert (await verify(server.client(), nonsense, code=clock.code(secret))).status_code == 400


async def test_a_ticket_allows_a_few_wrong_codes(server: Server, clock: Clock) -> None:
    _, secret, _ = await enrolled(server, clock, "tries@example.com")
    ticket = await ticket_for(server, "tries@example.com")

    wrong = [
        await verify(server.client(), ticket, code=clock.code(secret, 5)) for _ in range(TICKET_MAX_FAILURES)
    ]
    right = await verify(server.client(), ticket, code=clock.code(secret))

    assert [w.json()["detail"]["code"] for w in wrong] == ["MFA_CODE_INVALID"] * TICKET_MAX_FAILURES
    assert right.status_code == 400 and right.json()["detail"]["code"] == "MFA_TICKET_INVALID"


async def test_wrong_codes_count_toward_the_login_lockout(make_server: ServerFactory, clock: Clock) -> None:
    async with make_server(rate_limit_login_account="3/15minutes") as server:
        _, secret, _ = await enrolled(server, clock, "lockout@example.com")
        ticket = await ticket_for(server, "lockout@example.com")

        wrong = [await verify(server.client(), ticket, code="000000") for _ in range(3)]
        locked = await verify(server.client(), ticket, code=clock.code(secret))
        login_too = await password_login(server.client(), "lockout@example.com")

        assert [w.status_code for w in wrong] == [400, 400, 400]
        assert locked.status_code == login_too.status_code == 429
        assert "Retry-After" in locked.headers


async def test_a_sign_in_link_asks_for_the_second_factor(server: Server, clock: Clock) -> None:
    client, secret, _ = await enrolled(server, clock, "link-mfa@example.com")
    token = await mailed_link_token(client, "link-mfa@example.com")
    browser = server.client()

    opened = await browser.post("/auth/sign-in-link/consume", json={"token": token})

    assert opened.status_code == 401, opened.text
    assert opened.json()["detail"]["code"] == "MFA_REQUIRED" and not opened.headers.get_list("set-cookie")
    finished = await verify(browser, opened.json()["detail"]["ticket"], code=clock.code(secret))
    assert finished.status_code == 200 and (await browser.get("/users/me")).status_code == 200


async def test_a_provider_sign_in_asks_for_the_second_factor(
    make_server: ServerFactory, oidc_provider: OIDCProvider, clock: Clock
) -> None:
    async with make_server(**corp(oidc_provider)) as server:
        person = oidc_provider.add_account()
        first = server.client()
        await sign_in_with(first, oidc_provider, person.email, person.password)
        await first.post("/auth/jwt/refresh")  # as the app does after the redirect
        # No password to confirm with: the sign-in that just happened is the proof.
        secret, _ = await enrol(first, clock)
        browser = server.client()

        landed = await sign_in_with(browser, oidc_provider, person.email, person.password)

        page = urlsplit(local_path(landed))
        assert page.path == "/sign-in/mfa"
        query = parse_qs(page.query)
        assert query["methods"] == ["totp,recovery_code"]
        assert (await browser.post("/auth/jwt/refresh")).status_code == 401  # no session yet
        finished = await verify(browser, query["ticket"][0], code=clock.code(secret))
        assert finished.status_code == 200, finished.text
        assert (await browser.get("/users/me")).json()["email"] == person.email


async def test_deleting_a_user_deletes_its_factors(server: Server, clock: Clock) -> None:
    client, _, _ = await enrolled(server, clock, "gone@example.com")
    await add_passkey(client)
    await ticket_for(server, "gone@example.com")
    user = await user_named("gone@example.com")
    assert await Passkey.find({"user_id": user.id}).count() == 1

    admin = await superuser_client(server)
    assert (await admin.delete(f"/users/{user.id}")).status_code == 204

    assert await SecondFactorState.get_pymongo_collection().count_documents({}) == 0
    assert await MfaTicket.get_pymongo_collection().count_documents({}) == 0
    assert await Passkey.get_pymongo_collection().count_documents({}) == 0


async def test_the_schema_documents_the_second_step(server: Server) -> None:
    schema = (await server.client().get("/openapi.json")).json()
    paths = schema["paths"]

    login_401 = paths["/auth/jwt/login"]["post"]["responses"]["401"]
    assert "MFA_REQUIRED" in login_401["description"]
    assert login_401["content"]["application/json"]["schema"] == {"$ref": "#/components/schemas/MfaRequired"}
    assert "401" in paths["/auth/sign-in-link/consume"]["post"]["responses"]
    assert "429" in paths["/auth/mfa/verify"]["post"]["responses"]
    authorize = schema["components"]["securitySchemes"]["OAuth2PasswordBearer"]["description"]
    assert "MFA_REQUIRED" in authorize and "/auth/mfa/verify" in authorize


async def test_signing_in_without_a_second_factor_is_unchanged(client: AsyncClient) -> None:
    await register(client, "plain@example.com")
    await login(client, "plain@example.com")
    assert (await client.get("/auth/mfa")).json() == NO_FACTOR
    ticketless = await client.post("/auth/mfa/verify", json={"ticket": "nothing", "code": "123456"})
    assert ticketless.status_code == 400
