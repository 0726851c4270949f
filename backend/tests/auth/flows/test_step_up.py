"""Confirm it is you: changing how an account signs in needs a recent sign-in or confirmation.

A session "signed in long ago" is one whose stored `created_at` the test moves back past the
window (CONFIRMATION_WINDOW_SECONDS, 300 by default), as time passing would.
"""

from datetime import datetime, timedelta
from typing import Any

import pytest
from httpx import AsyncClient, Response

from backend.apps.auth.flows.factors import SecondFactorState
from backend.apps.auth.sessions.models import Session
from backend.apps.user.models import User
from backend.core.clock import utcnow
from backend.tests.auth.methods.sign_in_links.test_sign_in_links import mailed_link_token
from backend.tests.auth.second_steps import (
    NO_FACTOR,
    Clock,
    add_passkey,
    enrol,
    enrolled,
    passkey_answer,
    password_login,
    set_totp_clock,
    stored_state,
    ticket_for,
    user_named,
    verify,
)
from backend.tests.conftest import Server, ServerFactory
from backend.tests.helpers import PASSWORD, mailed_subjects, register, verified_sign_up

WINDOW = 300  # CONFIRMATION_WINDOW_SECONDS by default
SETUP_SECONDS = 600  # a TOTP secret set up but not confirmed is good for 10 minutes
# Every change to how the account signs in, with a body it would accept.
CHANGES: list[tuple[str, str, dict[str, Any] | None]] = [
    ("POST", "/auth/mfa/totp/setup", None),
    ("POST", "/auth/mfa/totp/confirm", {"code": "123456"}),
    ("DELETE", "/auth/mfa/totp", None),
    ("POST", "/auth/mfa/recovery-codes", None),
    ("POST", "/auth/passkeys/registration-options", None),
]


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> Clock:
    return set_totp_clock(monkeypatch)


async def age_sessions(email: str, seconds: int = WINDOW + 1) -> None:
    """Every session of `email` signed in, and was last confirmed, `seconds` ago."""
    user = await user_named(email)
    long_ago = utcnow() - timedelta(seconds=seconds)
    await Session.get_pymongo_collection().update_many(
        {"user_id": user.id}, {"$set": {"created_at": long_ago, "confirmed_at": None}}
    )


async def change_attempts(client: AsyncClient) -> list[Response]:
    return [await client.request(method, path, json=body) for method, path, body in CHANGES]


async def confirm(client: AsyncClient, **proof: Any) -> Response:
    return await client.post("/auth/confirm", json=proof)


def until(response: Response) -> datetime:
    return datetime.fromisoformat(response.json()["confirmed_until"])


def confirmation_required(response: Response) -> list[str]:
    """The methods of a 403 CONFIRMATION_REQUIRED (and fails on any other answer)."""
    assert response.status_code == 403, response.text
    detail = response.json()["detail"]
    assert detail["code"] == "CONFIRMATION_REQUIRED" and detail["reason"], detail
    return list(detail["methods"])


async def test_a_fresh_sign_in_changes_without_confirming(client: AsyncClient) -> None:
    await verified_sign_up(client, "fresh@example.com")

    status = await client.get("/auth/confirm")
    setup = await client.post("/auth/mfa/totp/setup")

    assert status.status_code == 200 and status.json()["methods"] == ["password"]
    assert utcnow() + timedelta(seconds=WINDOW - 30) < until(status) <= utcnow() + timedelta(seconds=WINDOW)
    assert setup.status_code == 200, setup.text


async def test_an_older_session_confirms_with_the_password(server: Server, clock: Clock) -> None:
    client = server.client()
    await verified_sign_up(client, "old@example.com")
    await age_sessions("old@example.com")

    status = await client.get("/auth/confirm")
    refused = await change_attempts(client)

    assert status.json() == {"confirmed_until": None, "methods": ["password"]}
    assert [confirmation_required(r) for r in refused] == [["password"]] * len(CHANGES)
    assert refused[0].json()["detail"]["reason"] == "Confirm it is you first."
    assert (await client.get("/auth/mfa")).json() == NO_FACTOR  # reading needs no confirmation
    assert await stored_state("old@example.com") is None  # the setup was not started

    confirmed = await confirm(client, current_password=PASSWORD)

    assert confirmed.status_code == 200, confirmed.text
    later = utcnow() + timedelta(seconds=WINDOW)
    assert later - timedelta(seconds=30) < until(confirmed) <= later
    assert abs(until(await client.get("/auth/confirm")) - until(confirmed)) < timedelta(seconds=2)
    await enrol(client, clock)  # setting up and confirming TOTP pass now
    # Once enrolled, the second factors confirm too.
    await age_sessions("old@example.com")
    assert confirmation_required(await client.post("/auth/mfa/recovery-codes")) == [
        "password",
        "totp",
        "recovery_code",
    ]
    assert (await client.get("/auth/confirm")).json()["methods"] == ["password", "totp", "recovery_code"]


async def test_confirming_with_a_code_spends_it(server: Server, clock: Clock) -> None:
    client, secret, _ = await enrolled(server, clock, "by-code@example.com")
    await age_sessions("by-code@example.com")
    code = clock.code(secret)

    confirmed = await confirm(client, code=code)

    assert confirmed.status_code == 200, confirmed.text
    assert (await client.post("/auth/mfa/recovery-codes")).status_code == 200
    # The code cannot also finish a sign-in, nor confirm again.
    signing_in = await verify(server.client(), await ticket_for(server, "by-code@example.com"), code=code)
    assert signing_in.status_code == 400 and signing_in.json()["detail"]["code"] == "MFA_CODE_INVALID"
    again = await confirm(client, code=code)
    assert again.status_code == 400 and again.json()["detail"]["code"] == "CONFIRMATION_INVALID"
    clock.advance()
    next_code = clock.code(secret)
    assert (
        await verify(server.client(), await ticket_for(server, "by-code@example.com"), code=next_code)
    ).status_code == 200


async def test_confirming_with_a_recovery_code_spends_it(server: Server, clock: Clock) -> None:
    client, _, codes = await enrolled(server, clock, "by-recovery@example.com")
    await age_sessions("by-recovery@example.com")

    confirmed = await confirm(client, recovery_code=codes[0])

    assert confirmed.status_code == 200, confirmed.text
    assert (await client.get("/auth/mfa")).json()["recovery_codes_left"] == 9
    await mailed_subjects(client, "by-recovery@example.com", "A recovery code was used")
    await age_sessions("by-recovery@example.com")
    again = await confirm(client, recovery_code=codes[0])
    assert again.status_code == 400 and again.json()["detail"]["code"] == "CONFIRMATION_INVALID"
    confirmation_required(await client.delete("/auth/mfa/totp"))  # a refused proof confirms nothing
    assert (await confirm(client, recovery_code=codes[1])).status_code == 200
    assert (await client.delete("/auth/mfa/totp")).status_code == 200


async def test_confirming_with_a_passkey(server: Server, clock: Clock) -> None:
    client, _, _ = await enrolled(server, clock, "by-passkey@example.com")
    authenticator, _ = await add_passkey(client)
    await age_sessions("by-passkey@example.com")
    assert confirmation_required(await client.post("/auth/mfa/recovery-codes")) == [
        "password",
        "totp",
        "passkey",
        "recovery_code",
    ]
    answer = await passkey_answer(client, authenticator, "confirm")

    confirmed = await confirm(client, passkey=answer)

    assert confirmed.status_code == 200, confirmed.text
    assert (await client.post("/auth/mfa/recovery-codes")).status_code == 200
    await age_sessions("by-passkey@example.com")
    replayed = await confirm(client, passkey=answer)
    assert replayed.status_code == 400 and replayed.json()["detail"]["code"] == "CONFIRMATION_INVALID"


async def test_a_passkey_only_account_confirms_with_it(server: Server) -> None:
    client = server.client()
    await verified_sign_up(client, "passkey-only@example.com")
    authenticator, added = await add_passkey(client)
    assert len(added.json()["recovery_codes"]) == 10  # the first second factor
    await age_sessions("passkey-only@example.com")

    refused = await client.post("/auth/mfa/totp/setup")

    assert confirmation_required(refused) == ["password", "passkey", "recovery_code"]
    confirmed = await confirm(client, passkey=await passkey_answer(client, authenticator, "confirm"))
    assert confirmed.status_code == 200, confirmed.text
    assert (await client.post("/auth/mfa/totp/setup")).status_code == 200


async def test_an_account_without_a_password_confirms_by_signing_in_again(server: Server) -> None:
    """As an account made through a provider is: no password, no second factor."""
    client = server.client()
    await verified_sign_up(client, "passwordless@example.com")
    await User.get_pymongo_collection().update_one(
        {"email": "passwordless@example.com"}, {"$set": {"password_set": False}}
    )
    await age_sessions("passwordless@example.com")

    status = await client.get("/auth/confirm")
    refused = await client.post("/auth/mfa/totp/setup")
    # The stored hash would still match: the account says it has no password, so none is asked.
    by_password = await confirm(client, current_password=PASSWORD)

    assert status.json() == {"confirmed_until": None, "methods": []}
    assert confirmation_required(refused) == []
    assert refused.json()["detail"]["reason"] == "Sign in again to confirm it is you."
    assert by_password.status_code == 400 and by_password.json()["detail"]["code"] == "CONFIRMATION_INVALID"
    confirmation_required(await client.post("/auth/mfa/totp/setup"))
    # A new sign-in (here a mailed link) is fresh: it may change things at once.
    token = await mailed_link_token(client, "passwordless@example.com")
    browser = server.client()
    assert (await browser.post("/auth/sign-in-link/consume", json={"token": token})).status_code == 200
    assert (await browser.post("/auth/mfa/totp/setup")).status_code == 200


async def test_a_proof_is_exactly_one_thing(client: AsyncClient) -> None:
    await verified_sign_up(client, "one-proof@example.com")

    answers = [
        await confirm(client),
        await confirm(client, current_password=PASSWORD, code="123456"),
        await confirm(client, password=PASSWORD),
    ]

    assert [a.status_code for a in answers] == [422, 422, 422]


async def test_wrong_proofs_count_toward_the_login_lockout(make_server: ServerFactory, clock: Clock) -> None:
    async with make_server(rate_limit_login_account="3/15minutes") as server:
        client, secret, _ = await enrolled(server, clock, "guessing@example.com")
        await age_sessions("guessing@example.com")

        wrong = [
            await confirm(client, current_password="not my password at all"),
            await confirm(client, code=clock.code(secret, 3)),
            await confirm(client, recovery_code="2345-6789-abcd-efgh-jkmn-pqrs"),
        ]
        locked = await confirm(client, current_password=PASSWORD)

        assert [w.status_code for w in wrong] == [400, 400, 400]
        assert {w.json()["detail"]["code"] for w in wrong} == {"CONFIRMATION_INVALID"}
        assert locked.status_code == 429 and "Retry-After" in locked.headers
        assert (await password_login(server.client(), "guessing@example.com")).status_code == 429
        confirmation_required(await client.delete("/auth/mfa/totp"))


async def test_failed_logins_lock_confirming_too(make_server: ServerFactory) -> None:
    async with make_server(rate_limit_login_account="2/15minutes") as server:
        client = server.client()
        await verified_sign_up(client, "locked@example.com")
        await age_sessions("locked@example.com")

        for _ in range(2):
            assert (await password_login(server.client(), "locked@example.com", "guess")).status_code == 400

        assert (await confirm(client, current_password=PASSWORD)).status_code == 429


async def test_confirming_moves_the_deadline_forward(server: Server) -> None:
    client = server.client()
    await verified_sign_up(client, "deadline@example.com")
    signed_in = until(await client.get("/auth/confirm"))
    await age_sessions("deadline@example.com", 200)
    aged = until(await client.get("/auth/confirm"))
    assert timedelta(seconds=190) < signed_in - aged < timedelta(seconds=210)

    confirmed = await confirm(client, current_password=PASSWORD)

    assert confirmed.status_code == 200
    assert until(confirmed) > signed_in and until(confirmed) - aged > timedelta(seconds=190)
    # The window counts from the confirmation as it did from the sign-in.
    user = await user_named("deadline@example.com")
    long_ago = utcnow() - timedelta(seconds=WINDOW + 1)
    await Session.get_pymongo_collection().update_many(
        {"user_id": user.id},
        {"$set": {"created_at": long_ago - timedelta(seconds=60), "confirmed_at": long_ago}},
    )
    assert (await client.get("/auth/confirm")).json()["confirmed_until"] is None
    confirmation_required(await client.post("/auth/mfa/totp/setup"))


async def test_an_unconfirmed_totp_setup_expires(server: Server, clock: Clock) -> None:
    client = server.client()
    await verified_sign_up(client, "slow@example.com")
    user = await user_named("slow@example.com")

    async def set_up(seconds_ago: int) -> str:
        secret = (await client.post("/auth/mfa/totp/setup")).json()["secret"]
        await SecondFactorState.get_pymongo_collection().update_one(
            {"_id": user.id}, {"$set": {"totp_setup_at": utcnow() - timedelta(seconds=seconds_ago)}}
        )
        return str(secret)

    expired = await set_up(SETUP_SECONDS + 1)
    late = await client.post("/auth/mfa/totp/confirm", json={"code": clock.code(expired)})

    assert late.status_code == 409 and late.json()["detail"]["code"] == "TOTP_SETUP_NOT_STARTED"
    assert (await client.get("/auth/mfa")).json() == NO_FACTOR
    secret = await set_up(SETUP_SECONDS - 30)
    replaced = await client.post("/auth/mfa/totp/confirm", json={"code": clock.code(expired)})
    assert replaced.status_code == 400 and replaced.json()["detail"]["code"] == "MFA_CODE_INVALID"
    in_time = await client.post("/auth/mfa/totp/confirm", json={"code": clock.code(secret)})
    assert in_time.status_code == 200, in_time.text


async def test_the_schema_documents_confirmation(server: Server) -> None:
    paths = (await server.client().get("/openapi.json")).json()["paths"]

    assert {"400", "429"} <= set(paths["/auth/confirm"]["post"]["responses"])
    for method, path, _ in CHANGES:
        forbidden = paths[path][method.lower()]["responses"]["403"]
        assert "CONFIRMATION_REQUIRED" in forbidden["description"], path
        # What adds a way in needs a verified address first (flows/verification.py): either refusal.
        adds = method == "POST" and path != "/auth/confirm"
        model = "ProvedAddressRefusal" if adds else "ConfirmationRequiredResponse"
        assert forbidden["content"]["application/json"]["schema"] == {
            "$ref": f"#/components/schemas/{model}"
        }, path


async def test_me_says_whether_the_account_has_a_password(client: AsyncClient) -> None:
    registered = await register(client, "has-password@example.com")
    assert registered["has_password"] is True
    await password_login(client, "has-password@example.com")
    assert (await client.get("/users/me")).json()["has_password"] is True

    await User.get_pymongo_collection().update_one(
        {"email": "has-password@example.com"}, {"$set": {"password_set": False}}
    )

    me = await client.get("/users/me")
    assert me.status_code == 200, me.text
    assert me.json()["has_password"] is False
