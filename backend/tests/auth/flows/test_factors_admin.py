"""Administrators and second factors: seeing a user's, and resetting them for someone who lost
every one (the authenticator app, the passkeys and the recovery codes)."""

import pytest
from bson import ObjectId

from backend.apps.auth.flows.factors import SecondFactorState
from backend.apps.auth.flows.sign_in import MfaTicket
from backend.apps.auth.methods.passkeys.models import Passkey
from backend.tests.auth.second_steps import (
    NO_FACTOR,
    Clock,
    add_passkey,
    enrolled,
    passkey_answer,
    password_login,
    set_totp_clock,
    ticket_for,
    user_named,
    verify,
)
from backend.tests.conftest import Server
from backend.tests.helpers import bearer, mailed_subjects, superuser_client, verified_sign_up

RESET_SUBJECT = "Your two-step sign-in was reset"


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> Clock:
    return set_totp_clock(monkeypatch)


async def test_a_superuser_sees_and_resets_a_users_second_factors(server: Server, clock: Clock) -> None:
    client, secret, _ = await enrolled(server, clock, "lost-phone@example.com")
    authenticator, _ = await add_passkey(client)
    laptop = server.client()
    signed_in = await verify(
        laptop, await ticket_for(server, "lost-phone@example.com"), code=clock.code(secret)
    )
    assert signed_in.status_code == 200, signed_in.text
    token = signed_in.json()["access_token"]
    pending = await ticket_for(server, "lost-phone@example.com")  # a sign-in waiting for its second step
    user = await user_named("lost-phone@example.com")
    admin = await superuser_client(server)

    seen = await admin.get(f"/users/{user.id}/second-factors")

    assert seen.status_code == 200, seen.text
    assert seen.json() == {
        **NO_FACTOR,
        "totp_enabled": True,
        "recovery_codes_left": 10,
        "passkeys": 1,
        "methods": ["totp", "passkey", "recovery_code"],
    }

    reset = await admin.delete(f"/users/{user.id}/second-factors")

    assert reset.status_code == 204, reset.text
    assert (await admin.get(f"/users/{user.id}/second-factors")).json() == NO_FACTOR
    # Every session of theirs ended: cookies, refresh tokens and bearer tokens stop working.
    for browser in (client, laptop):
        assert (await browser.get("/auth/mfa")).status_code == 401
        assert (await browser.post("/auth/jwt/refresh")).status_code == 401
    assert (await server.client().get("/auth/mfa", headers=bearer(token))).status_code == 401
    # The sign-in that was waiting cannot finish, and nothing of the old factors signs in.
    clock.advance()
    waiting = await verify(server.client(), pending, code=clock.code(secret))
    assert waiting.status_code == 400 and waiting.json()["detail"]["code"] == "MFA_TICKET_INVALID"
    anyone = server.client()
    answer = await passkey_answer(anyone, authenticator, "sign_in")
    by_passkey = await anyone.post("/auth/passkeys/sign-in", json={"credential": answer})
    assert by_passkey.status_code == 400 and by_passkey.json()["detail"]["code"] == "PASSKEY_INVALID"
    assert await SecondFactorState.get_pymongo_collection().count_documents({"_id": user.id}) == 0
    assert await Passkey.get_pymongo_collection().count_documents({"user_id": user.id}) == 0
    assert await MfaTicket.get_pymongo_collection().count_documents({"user_id": user.id}) == 0
    # The password alone signs in now, and they can set up their factors again.
    fresh = server.client()
    started = await password_login(fresh, "lost-phone@example.com")
    assert started.status_code == 200, started.text
    assert (await fresh.get("/auth/mfa")).json() == NO_FACTOR
    assert (await fresh.post("/auth/mfa/totp/setup")).status_code == 200
    await mailed_subjects(fresh, "lost-phone@example.com", RESET_SUBJECT)
    assert (await admin.get(f"/users/{user.id}/second-factors")).status_code == 200  # the admin's own session


async def test_only_superusers_may(server: Server, clock: Clock) -> None:
    target, _, _ = await enrolled(server, clock, "target@example.com")
    user = await user_named("target@example.com")
    someone = server.client()
    await verified_sign_up(someone, "someone@example.com")
    own = await user_named("someone@example.com")

    answers = [
        await someone.get(f"/users/{user.id}/second-factors"),
        await someone.delete(f"/users/{user.id}/second-factors"),
        await someone.get(f"/users/{own.id}/second-factors"),
        await someone.delete(f"/users/{own.id}/second-factors"),
    ]
    anonymous = [
        await server.client().get(f"/users/{user.id}/second-factors"),
        await server.client().delete(f"/users/{user.id}/second-factors"),
    ]

    assert [a.status_code for a in answers] == [403] * 4
    assert [a.status_code for a in anonymous] == [401] * 2
    # Nothing changed: the target still signs in in two steps and keeps its session.
    assert (await target.get("/auth/mfa")).json()["totp_enabled"] is True
    assert (await password_login(server.client(), "target@example.com")).status_code == 401
    outbox_subjects = await mailed_subjects(target, "target@example.com")
    assert RESET_SUBJECT not in outbox_subjects


async def test_an_unknown_user_is_404(server: Server) -> None:
    admin = await superuser_client(server)
    nobody = ObjectId()

    assert (await admin.get(f"/users/{nobody}/second-factors")).status_code == 404
    assert (await admin.delete(f"/users/{nobody}/second-factors")).status_code == 404
