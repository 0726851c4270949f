"""Pre-account hijacking (Sudhodanan & Paverd, USENIX Security 2022), tried the way the attacker
and the owner would, over HTTP.

A squatter registers the victim's address before the victim does and binds what they can; weeks
later the owner proves the address by one of four paths: a password reset, a sign-in link, a
provider that vouches for the address, or the verification mail. Whatever the squatter bound,
they must be out afterwards. The paper's five classes, and the tests that pin each:

- classic-federated merge (CFM): `test_a_provider_that_vouches_does_not_merge_into_a_squatters_account`;
- unexpired session (US): `test_the_squatters_session_and_password_end_when_the_owner_gets_in`;
- trojan identifier (TID): `test_an_unverified_account_cannot_bind_a_way_in`,
  `test_ways_in_bound_before_this_release_are_removed` (passkey, authenticator app, provider);
- unexpired email change (UEC): `test_a_pending_change_of_address_dies_when_the_owner_gets_in`,
  `test_a_reset_link_dies_when_the_account_moves`;
- non-verifying identity provider (NV): `test_an_account_made_through_a_provider_that_does_not_vouch`.
"""

import uuid
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import pyotp
import pytest
from httpx import AsyncClient

from backend.apps.auth.methods.passkeys.models import Passkey
from backend.apps.auth.methods.providers.linked import OAuthAccount
from backend.apps.auth.sessions.models import Session
from backend.apps.user.models import User
from backend.tests.auth.methods.passkeys.test_passkeys import ORIGIN, add_passkey, options
from backend.tests.auth.methods.providers.test_providers import APP, corp, error_of, local_path, sign_in_with
from backend.tests.conftest import Server, ServerFactory
from backend.tests.helpers import (
    PASSWORD,
    bearer,
    login,
    mailed_subjects,
    mailed_token,
    outbox,
    register,
    signed_up,
    superuser_client,
    verified_sign_up,
)
from backend.tests.oidc import OIDCProvider
from backend.tests.webauthn_authenticator import SoftAuthenticator

OWNER_PASSWORD = "the owner's own passphrase 42"
PATHS = ["reset", "sign_in_link", "provider"]  # the owner's ways in by the inbox alone


@pytest.fixture
def victim() -> str:
    """The address the squatter takes: unique, as the session's provider keeps its people."""
    return f"victim-{uuid.uuid4().hex[:10]}@example.com"


@pytest.fixture
async def app(make_server: ServerFactory, oidc_provider: OIDCProvider) -> Any:
    async with make_server(**corp(oidc_provider)) as server:
        yield server


def code_of(response: Any) -> str:
    detail = response.json()["detail"]
    return str(detail["code"] if isinstance(detail, dict) else detail)


async def squat(app: Server, email: str) -> tuple[AsyncClient, str]:
    """The squatter registers `email` (not theirs) and signs in: their client, and their token."""
    squatter = app.client()
    return squatter, await signed_up(squatter, email)


async def owner_proves(app: Server, oidc: OIDCProvider, path: str, email: str) -> AsyncClient:
    """The owner of `email` gets in by its inbox alone, by `path`; their client, signed in."""
    owner = app.client()
    if path == "reset":
        assert (await owner.post("/auth/forgot-password", json={"email": email})).status_code == 202
        token = await mailed_token(owner, "/reset-password", email)
        reset = await owner.post("/auth/reset-password", json={"token": token, "password": OWNER_PASSWORD})
        assert reset.status_code == 200, reset.text
        await login(owner, email, OWNER_PASSWORD)
    elif path == "sign_in_link":
        assert (await owner.post("/auth/sign-in-link", json={"email": email})).status_code == 202
        token = await mailed_token(owner, "/sign-in/link", email)
        consumed = await owner.post("/auth/sign-in-link/consume", json={"token": token})
        assert consumed.status_code == 200, consumed.text
    else:
        person = oidc.add_account(email, email_verified=True)
        assert await sign_in_with(owner, oidc, person.email, person.password) == f"{APP}/"
    me = await owner.get("/users/me")
    assert me.status_code == 200 and me.json()["is_verified"] is True, me.text
    return owner


async def bound_on_an_earlier_release(email: str, bind: Callable[[], Awaitable[Any]]) -> Any:
    """`bind` runs while `email`'s account counts as verified, then it is unverified again and
    never proved: an account squatted on a release that let unverified accounts bind factors."""
    users = User.get_pymongo_collection()
    await users.update_one({"email": email}, {"$set": {"is_verified": True}})
    try:
        return await bind()
    finally:
        await users.update_one(
            {"email": email}, {"$set": {"is_verified": False}, "$unset": {"verified_at": ""}}
        )


async def passkey_sign_in(app: Server, authenticator: SoftAuthenticator) -> int:
    client = app.client()
    assertion = authenticator.get(await options(client, "sign_in"))
    return (await client.post("/auth/passkeys/sign-in", json={"credential": assertion})).status_code


# Rule 1: binding needs a proved address.


async def test_an_unverified_account_cannot_bind_a_way_in(app: Server, victim: str) -> None:
    squatter, _ = await squat(app, victim)
    fake_credential = {"id": "AA", "rawId": "AA", "type": "public-key", "response": {
        "clientDataJSON": "AA", "attestationObject": "AA"}}  # fmt: skip
    attempts = {
        "passkey options": squatter.post("/auth/passkeys/registration-options"),
        "passkey": squatter.post("/auth/passkeys", json={"name": "Mine", "credential": fake_credential}),
        "authenticator app": squatter.post("/auth/mfa/totp/setup"),
        "authenticator code": squatter.post("/auth/mfa/totp/confirm", json={"code": "123456"}),
        "recovery codes": squatter.post("/auth/mfa/recovery-codes"),
        "provider": squatter.post("/auth/oauth/corp/link"),
    }
    for what, attempt in attempts.items():
        response = await attempt
        assert response.status_code == 403, (what, response.text)
        detail = response.json()["detail"]
        assert detail["code"] == "VERIFICATION_REQUIRED", what
        assert victim in detail["reason"] and detail["email"] == victim
    assert await Passkey.find_all().count() == 0
    assert await OAuthAccount.find_all().count() == 0
    # The way out the reason names: a new link, mailed to the address (the owner's inbox).
    assert (await squatter.post("/auth/request-verify-token", json={"email": victim})).status_code == 202
    await mailed_token(squatter, "/verify", victim, count=2)
    # Changing the address stays open: that is how a typo is mended.
    assert (await squatter.patch("/users/me", json={"email": "typo.fixed@example.com"})).status_code == 202


async def test_a_verified_account_binds_as_before(app: Server) -> None:
    client = app.client()
    await verified_sign_up(client, "proved@example.com")
    await add_passkey(client, SoftAuthenticator(ORIGIN))
    assert (await client.post("/auth/mfa/totp/setup")).status_code == 200
    assert (await client.post("/auth/oauth/corp/link")).status_code == 200


# The scenario of the issue, and its variants: the owner proves the address by each path.


@pytest.mark.parametrize("path", PATHS)
async def test_a_squatters_passkey_does_not_sign_in_after_the_owner_proves_the_address(
    app: Server, oidc_provider: OIDCProvider, path: str, victim: str
) -> None:
    squatter, _ = await squat(app, victim)
    # Today's squatter cannot add one at all...
    assert code_of(await squatter.post("/auth/passkeys/registration-options")) == "VERIFICATION_REQUIRED"
    # ...and one added on an earlier release, while that was allowed, goes when the owner arrives.
    authenticator = SoftAuthenticator(ORIGIN)
    await bound_on_an_earlier_release(victim, lambda: add_passkey(squatter, authenticator))
    assert await passkey_sign_in(app, authenticator) == 200

    await owner_proves(app, oidc_provider, path, victim)

    assert await passkey_sign_in(app, authenticator) == 400
    assert await Passkey.find_all().count() == 0


@pytest.mark.parametrize("path", PATHS)
async def test_ways_in_bound_before_this_release_are_removed(
    app: Server, oidc_provider: OIDCProvider, path: str, victim: str
) -> None:
    squatter, _ = await squat(app, victim)
    secret: dict[str, str] = {}
    squatters_identity = oidc_provider.add_account(email_verified=True)

    async def bind() -> None:
        setup = await squatter.post("/auth/mfa/totp/setup")
        secret["totp"] = setup.json()["secret"]
        confirmed = await squatter.post(
            "/auth/mfa/totp/confirm", json={"code": pyotp.TOTP(secret["totp"]).now()}
        )
        assert confirmed.status_code == 200, confirmed.text
        linked = await squatter.post("/auth/oauth/corp/link")
        back = await oidc_provider.authorize(
            linked.json()["authorization_url"],
            email=squatters_identity.email,
            password=squatters_identity.password,
        )
        linked = (await squatter.get(local_path(back))).headers["location"]
        assert linked == f"{APP}/account/security?linked=corp"

    await bound_on_an_earlier_release(victim, bind)

    owner = await owner_proves(app, oidc_provider, path, victim)

    # The owner's own password sign-in (after a reset) asks for no code only the squatter has.
    if path == "reset":
        relogin = await app.client().post(
            "/auth/jwt/login", data={"username": victim, "password": OWNER_PASSWORD}
        )
        assert relogin.status_code == 200, relogin.text
    assert (await owner.get("/auth/mfa")).json()["methods"] == []
    # The squatter's identity no longer signs in to the owner's account.
    elsewhere = app.client()
    await sign_in_with(elsewhere, oidc_provider, squatters_identity.email, squatters_identity.password)
    me = await elsewhere.get("/users/me")
    assert me.status_code == 200 and me.json()["email"] == squatters_identity.email
    assert me.json()["id"] != (await owner.get("/users/me")).json()["id"]


@pytest.mark.parametrize("path", PATHS)
async def test_the_squatters_session_and_password_end_when_the_owner_gets_in(
    app: Server, oidc_provider: OIDCProvider, path: str, victim: str
) -> None:
    squatter, token = await squat(app, victim)
    assert (await squatter.get("/users/me", headers=bearer(token))).status_code == 200

    owner = await owner_proves(app, oidc_provider, path, victim)

    assert (await squatter.get("/users/me", headers=bearer(token))).status_code == 401
    assert (await squatter.post("/auth/jwt/refresh")).status_code == 401
    squatter_login = await app.client().post(
        "/auth/jwt/login", data={"username": victim, "password": PASSWORD}
    )
    assert squatter_login.status_code == 400
    assert (await owner.get("/users/me")).status_code == 200
    sessions = await owner.get("/auth/sessions")
    assert [s["current"] for s in sessions.json()] == [True]
    # The owner is told what went, and how to set a password where it was cleared.
    subjects = await mailed_subjects(owner, victim, "Your address is confirmed: only you can sign in now")
    assert "Your password was reset" not in subjects
    letter = next(
        m for m in await outbox(owner, victim) if m["subject"].startswith("Your address is confirmed")
    )
    assert "1 session (signed out)" in letter["text"] and "the password set before" in letter["text"]
    assert ("/forgot-password" in letter["text"]) is (path != "reset")
    activity = (await owner.get("/users/me/activity")).json()
    proved = next(e for e in activity if e["type"] == "address_verified")
    via = {"reset": "password_reset", "sign_in_link": "sign_in_link", "provider": "provider:corp"}
    assert proved["detail"]["via"] == via[path]


@pytest.mark.parametrize("path", PATHS)
async def test_a_pending_change_of_address_dies_when_the_owner_gets_in(
    app: Server, oidc_provider: OIDCProvider, path: str, victim: str
) -> None:
    squatter, _ = await squat(app, victim)
    assert (await squatter.patch("/users/me", json={"email": "squatter@example.com"})).status_code == 202
    confirm_token = await mailed_token(squatter, "/email-change/confirm", "squatter@example.com")

    owner = await owner_proves(app, oidc_provider, path, victim)

    # The squatter's link, from a browser signed in to nothing and with the old password.
    late = await app.client().post(
        "/auth/email-change/confirm", json={"token": confirm_token, "password": PASSWORD}
    )
    assert late.status_code == 400 and code_of(late) == "EMAIL_CHANGE_INVALID", late.text
    assert (await owner.get("/users/me")).json()["email"] == victim
    assert await User.find_one(User.email == "squatter@example.com") is None


async def test_a_reset_link_dies_when_the_account_moves(app: Server, victim: str) -> None:
    """The squatter confirms the change before the owner opens the reset link: the account is
    the squatter's, at the squatter's address, and the link mailed to the victim opens nothing."""
    squatter, _ = await squat(app, victim)
    owner = app.client()
    assert (await owner.post("/auth/forgot-password", json={"email": victim})).status_code == 202
    reset_token = await mailed_token(owner, "/reset-password", victim)
    assert (await squatter.patch("/users/me", json={"email": "squatter@example.com"})).status_code == 202
    confirm_token = await mailed_token(squatter, "/email-change/confirm", "squatter@example.com")
    assert (
        await squatter.post("/auth/email-change/confirm", json={"token": confirm_token})
    ).status_code == 200

    reset = await owner.post("/auth/reset-password", json={"token": reset_token, "password": OWNER_PASSWORD})
    assert reset.status_code == 400 and reset.json()["detail"] == "RESET_PASSWORD_BAD_TOKEN"
    # The victim's address is free again, for the victim.
    await register(owner, victim, OWNER_PASSWORD)


async def test_an_account_made_through_a_provider_that_does_not_vouch(
    app: Server, oidc_provider: OIDCProvider, victim: str
) -> None:
    unvouched = oidc_provider.add_account(victim, email_verified=False)
    squatter = app.client()
    assert await sign_in_with(squatter, oidc_provider, victim, unvouched.password) == f"{APP}/"
    assert (await squatter.get("/users/me")).json()["is_verified"] is False

    owner = await owner_proves(app, oidc_provider, "reset", victim)

    again = app.client()
    assert error_of(await sign_in_with(again, oidc_provider, victim, unvouched.password)) == (
        "LINK_FROM_ACCOUNT_PAGE"
    )
    assert (await again.get("/users/me")).status_code == 401
    assert await OAuthAccount.find_all().count() == 0
    assert (await owner.get("/users/me")).status_code == 200


async def test_a_provider_that_vouches_does_not_merge_into_a_squatters_account(
    app: Server, oidc_provider: OIDCProvider, victim: str
) -> None:
    squatter, token = await squat(app, victim)
    # The owner opens the verification mail in a browser of their own: without the account's
    # password, the link proves nothing (the page offers "this wasn't me" instead).
    owner = app.client()
    verify_token = await mailed_token(owner, "/verify", victim)
    refused = await owner.post("/auth/verify", json={"token": verify_token})
    assert refused.status_code == 403, refused.text
    detail = refused.json()["detail"]
    assert detail["code"] == "ACCOUNT_PROOF_REQUIRED" and detail["methods"] == ["password"]
    assert detail["can_decline"] is True
    assert (await User.find_one(User.email == victim)).is_verified is False  # type: ignore[union-attr]

    # Then signs in with a provider that vouches for the address: the owner's account alone.
    person = oidc_provider.add_account(victim, email_verified=True)
    assert await sign_in_with(owner, oidc_provider, victim, person.password) == f"{APP}/"
    assert (await owner.get("/users/me")).json()["is_verified"] is True
    assert (await squatter.get("/users/me", headers=bearer(token))).status_code == 401
    login_attempt = await app.client().post(
        "/auth/jwt/login", data={"username": victim, "password": PASSWORD}
    )
    assert login_attempt.status_code == 400


@pytest.mark.parametrize("vouches", [True, False])
async def test_a_provider_never_merges_into_a_verified_account(
    app: Server, oidc_provider: OIDCProvider, victim: str, vouches: bool
) -> None:
    """Log in, then link: a provider sign-in never joins an account by itself, vouching or not."""
    local = app.client()
    await verified_sign_up(local, victim)
    person = oidc_provider.add_account(victim, email_verified=vouches)
    refused = await sign_in_with(app.client(), oidc_provider, person.email, person.password)
    assert error_of(refused) == "LINK_FROM_ACCOUNT_PAGE"
    assert await OAuthAccount.find_all().count() == 0
    assert (await local.get("/users/me")).status_code == 200


async def test_linking_from_the_account_page_needs_a_fresh_confirmation(
    app: Server, oidc_provider: OIDCProvider
) -> None:
    client = app.client()
    await verified_sign_up(client, "linker@example.com")
    long_ago = {"$set": {"created_at": datetime(2000, 1, 1, tzinfo=UTC)}}
    await Session.get_pymongo_collection().update_many({}, long_ago)
    stale = await client.post("/auth/oauth/corp/link")
    assert stale.status_code == 403 and code_of(stale) == "CONFIRMATION_REQUIRED"
    assert (await client.post("/auth/confirm", json={"current_password": PASSWORD})).status_code == 200
    assert (await client.post("/auth/oauth/corp/link")).status_code == 200


async def test_a_link_flow_that_outlives_the_proved_address_is_refused(
    app: Server, oidc_provider: OIDCProvider
) -> None:
    client = app.client()
    await verified_sign_up(client, "moved@example.com")
    linking = await client.post("/auth/oauth/corp/link")
    await User.get_pymongo_collection().update_one(
        {"email": "moved@example.com"}, {"$set": {"is_verified": False}}
    )
    person = oidc_provider.add_account()
    back = await oidc_provider.authorize(
        linking.json()["authorization_url"], email=person.email, password=person.password
    )
    location = (await client.get(local_path(back))).headers["location"]
    assert "link_error=VERIFICATION_REQUIRED" in location
    assert await OAuthAccount.find_all().count() == 0


# Rule 2: the password holder proves the inbox.


async def test_the_verification_link_completes_in_the_signed_in_browser(server: Server) -> None:
    client = server.client()
    token = await signed_up(client, "me@example.com")
    verify_token = await mailed_token(client, "/verify", "me@example.com")
    verified = await client.post("/auth/verify", json={"token": verify_token})
    assert verified.status_code == 200 and verified.json()["is_verified"] is True
    # Everything stays: it was the same person.
    assert (await client.get("/users/me", headers=bearer(token))).status_code == 200
    await login(server.client(), "me@example.com")


async def test_another_browser_completes_it_with_the_password(server: Server) -> None:
    registrant = server.client()
    token = await signed_up(registrant, "me@example.com")
    phone = server.client()
    verify_token = await mailed_token(phone, "/verify", "me@example.com")

    wrong = await phone.post("/auth/verify", json={"token": verify_token, "password": "not the password"})
    assert wrong.status_code == 400 and code_of(wrong) == "ACCOUNT_PROOF_INVALID"
    events = (await registrant.get("/users/me/activity")).json()
    assert any(e["type"] == "sign_in_failed" and e["detail"]["kinds"] == {"link_password": 1} for e in events)
    # Another account's session is not this account's.
    other = server.client()
    await signed_up(other, "other@example.com")
    assert (await other.post("/auth/verify", json={"token": verify_token})).status_code == 403

    verified = await phone.post("/auth/verify", json={"token": verify_token, "password": PASSWORD})
    assert verified.status_code == 200, verified.text
    assert (await registrant.get("/users/me", headers=bearer(token))).status_code == 200


async def test_wrong_link_passwords_count_toward_the_lockout(make_server: ServerFactory) -> None:
    async with make_server(rate_limit_login_account="3/15minutes", rate_limit_account="50/hour") as server:
        await signed_up(server.client(), "me@example.com")
        phone = server.client()
        verify_token = await mailed_token(phone, "/verify", "me@example.com")
        answers = [
            (
                await phone.post("/auth/verify", json={"token": verify_token, "password": f"guess {i}"})
            ).status_code
            for i in range(4)
        ]
        assert answers == [400, 400, 400, 429]
        locked = await phone.post("/auth/verify", json={"token": verify_token, "password": PASSWORD})
        assert locked.status_code == 429


async def test_an_account_without_a_password_signs_in_first(app: Server, oidc_provider: OIDCProvider) -> None:
    person = oidc_provider.add_account(email_verified=False)
    await sign_in_with(app.client(), oidc_provider, person.email, person.password)
    refused = await app.client().post(
        "/auth/verify", json={"token": await mailed_token(app.client(), "/verify", person.email)}
    )
    assert refused.status_code == 403 and refused.json()["detail"]["methods"] == []
    assert "Sign in" in refused.json()["detail"]["reason"]


async def test_a_new_address_completes_only_for_the_accounts_holder(server: Server) -> None:
    holder = server.client()
    await verified_sign_up(holder, "holder@example.com")
    assert (await holder.patch("/users/me", json={"email": "new@example.com"})).status_code == 202
    token = await mailed_token(holder, "/email-change/confirm", "new@example.com")
    inbox_only = server.client()

    refused = await inbox_only.post("/auth/email-change/confirm", json={"token": token})
    assert refused.status_code == 403 and code_of(refused) == "ACCOUNT_PROOF_REQUIRED"
    assert (await holder.get("/users/me")).json()["email"] == "holder@example.com"  # nothing spent
    confirmed = await inbox_only.post(
        "/auth/email-change/confirm", json={"token": token, "password": PASSWORD}
    )
    assert confirmed.status_code == 200 and confirmed.json()["email"] == "new@example.com"


# Rule 4: the address's owner refuses an account they never made; unproved accounts expire.


async def test_this_wasnt_me_deletes_the_squatters_account(server: Server, victim: str) -> None:
    squatter, token = await squat(server, victim)
    letter = (await outbox(squatter, victim))[0]
    assert (
        "an account was created" in letter["text"] and "If you did not create this account" in letter["text"]
    )
    owner = server.client()
    decline_token = await mailed_token(owner, "/verify/not-me", victim)

    assert (await owner.post("/auth/verify/not-me", json={"token": decline_token})).status_code == 204

    assert await User.find_one(User.email == victim) is None
    assert (await squatter.get("/users/me", headers=bearer(token))).status_code == 401
    assert (await owner.post("/auth/verify/not-me", json={"token": decline_token})).status_code == 400
    await register(owner, victim, OWNER_PASSWORD)  # the address is the owner's to use


async def test_the_verification_links_token_declines_too(server: Server, victim: str) -> None:
    await squat(server, victim)
    owner = server.client()
    verify_token = await mailed_token(owner, "/verify", victim)
    assert (await owner.post("/auth/verify/not-me", json={"token": verify_token})).status_code == 204
    assert await User.find_one(User.email == victim) is None


async def test_a_proved_account_cannot_be_declined(server: Server) -> None:
    client = server.client()
    await verified_sign_up(client, "me@example.com")
    decline_token = await mailed_token(client, "/verify/not-me", "me@example.com")
    refused = await server.client().post("/auth/verify/not-me", json={"token": decline_token})
    assert refused.status_code == 400 and code_of(refused) == "DECLINE_INVALID"
    assert await User.find_one(User.email == "me@example.com") is not None
    for bad in ("", "x" * 300, "a.b.c"):
        assert (await server.client().post("/auth/verify/not-me", json={"token": bad})).status_code == 400


async def test_an_address_an_administrator_set_is_not_declinable(server: Server) -> None:
    """Proved once, then moved by a superuser: unverified again, but someone's account."""
    client = server.client()
    await verified_sign_up(client, "me@example.com")
    me = (await client.get("/users/me")).json()
    admin = await superuser_client(server)
    moved = await admin.patch(f"/users/{me['id']}", json={"email": "typo@example.com"})
    assert moved.status_code == 200 and moved.json()["is_verified"] is False, moved.text

    verify_token = await mailed_token(client, "/verify", "typo@example.com")
    letter = next(
        m for m in await outbox(client, "typo@example.com") if m["subject"] == "Verify your email address"
    )
    assert not any("/verify/not-me" in link for link in letter["links"])
    assert "an account was created" not in letter["text"]
    refused = await server.client().post("/auth/verify/not-me", json={"token": verify_token})
    assert refused.status_code == 400
    # Nor does it expire.
    made = (await User.find_one(User.email == "typo@example.com")).created_at  # type: ignore[union-attr]
    assert await server_sweep(server)(made + timedelta(days=400)) == (0, 0)


async def test_unverified_accounts_are_reminded_then_deleted(make_server: ServerFactory, victim: str) -> None:
    async with make_server(unverified_account_days=10) as server:
        squatter, token = await squat(server, victim)
        await verified_sign_up(server.client(), "kept@example.com")
        sweep = server_sweep(server)
        made = (await User.find_one(User.email == victim)).created_at  # type: ignore[union-attr]

        assert await sweep(made + timedelta(days=6)) == (0, 0)  # 10 days, reminded 3 before
        assert await sweep(made + timedelta(days=7, minutes=1)) == (1, 0)
        await mailed_subjects(squatter, victim, "Verify your email address or this account will be deleted")
        reminder = next(m for m in await outbox(squatter, victim) if "will be deleted" in m["subject"])
        assert "/verify/not-me" in " ".join(reminder["links"])
        assert await sweep(made + timedelta(days=8)) == (0, 0)  # one reminder
        assert await sweep(made + timedelta(days=10, minutes=2)) == (0, 1)

        assert await User.find_one(User.email == victim) is None
        assert (await squatter.get("/users/me", headers=bearer(token))).status_code == 401
        assert await User.find_one(User.email == "kept@example.com") is not None


async def test_old_accounts_get_their_reminder_before_they_go(
    make_server: ServerFactory, victim: str
) -> None:
    """The first sweep after this arrives finds accounts older than the period: reminded first."""
    async with make_server(unverified_account_days=10) as server:
        await squat(server, victim)
        sweep = server_sweep(server)
        made = (await User.find_one(User.email == victim)).created_at  # type: ignore[union-attr]
        assert await sweep(made + timedelta(days=40)) == (1, 0)
        assert await sweep(made + timedelta(days=42)) == (0, 0)
        assert await sweep(made + timedelta(days=43, minutes=1)) == (0, 1)


async def test_zero_days_keeps_unverified_accounts(make_server: ServerFactory, victim: str) -> None:
    async with make_server(unverified_account_days=0) as server:
        squatter, _ = await squat(server, victim)
        made = (await User.find_one(User.email == victim)).created_at  # type: ignore[union-attr]
        assert await server_sweep(server)(made + timedelta(days=4000)) == (0, 0)
        await mailed_token(squatter, "/verify", victim)
        letter = (await outbox(squatter, victim))[0]
        assert "deleted on" not in letter["text"] and "/verify/not-me" in " ".join(letter["links"])


def server_sweep(server: Server) -> Callable[[Any], Awaitable[tuple[int, int]]]:
    return server.app.state.modules["user"].unverified.sweep  # type: ignore[no-any-return]


# Rule 5: a new factor ends the other sessions.


async def test_turning_on_the_authenticator_app_ends_the_other_sessions(server: Server) -> None:
    here, elsewhere = server.client(), server.client()
    await verified_sign_up(here, "me@example.com")
    other_token = await login(elsewhere, "me@example.com")
    secret = (await here.post("/auth/mfa/totp/setup")).json()["secret"]

    enabled = await here.post("/auth/mfa/totp/confirm", json={"code": pyotp.TOTP(secret).now()})

    assert enabled.status_code == 200 and enabled.json()["other_sessions_ended"] == 1
    assert (await elsewhere.get("/users/me", headers=bearer(other_token))).status_code == 401
    assert (await here.get("/users/me")).status_code == 200
    await mailed_subjects(here, "me@example.com", "Two-step sign-in was turned on")
    notice = next(
        m for m in await outbox(here, "me@example.com") if m["subject"] == "Two-step sign-in was turned on"
    )
    assert "Your 1 other session was signed out." in notice["text"]


async def test_the_first_passkey_ends_the_other_sessions_and_later_ones_ask(server: Server) -> None:
    here, first_device = server.client(), SoftAuthenticator(ORIGIN)
    await verified_sign_up(here, "me@example.com")

    async def added(device: SoftAuthenticator, **extra: Any) -> dict[str, Any]:
        made = await here.post("/auth/passkeys/registration-options")
        credential = device.create(made.json())
        response = await here.post("/auth/passkeys", json={"name": "Key", "credential": credential, **extra})
        assert response.status_code == 201, response.text
        return dict(response.json())

    async def other_session() -> str:
        """Another browser, signed in with the first passkey (a password alone asks for it now)."""
        client = server.client()
        assertion = first_device.get(await options(client, "sign_in"))
        signed_in = await client.post("/auth/passkeys/sign-in", json={"credential": assertion})
        assert signed_in.status_code == 200, signed_in.text
        return str(signed_in.json()["access_token"])

    password_session = await login(server.client(), "me@example.com")
    assert (await added(first_device, end_other_sessions=False))["other_sessions_ended"] == 1  # always
    assert (await here.get("/users/me", headers=bearer(password_session))).status_code == 401

    kept = await other_session()
    assert (await added(SoftAuthenticator(ORIGIN), end_other_sessions=False))["other_sessions_ended"] == 0
    assert (await here.get("/users/me", headers=bearer(kept))).status_code == 200
    assert (await added(SoftAuthenticator(ORIGIN)))["other_sessions_ended"] == 1  # checked by default
    assert (await here.get("/users/me", headers=bearer(kept))).status_code == 401

    kept = await other_session()
    codes = await here.post("/auth/mfa/recovery-codes", json={"end_other_sessions": False})
    assert codes.json()["other_sessions_ended"] == 0
    assert (await here.get("/users/me", headers=bearer(kept))).status_code == 200
    codes = await here.post("/auth/mfa/recovery-codes")
    assert codes.status_code == 200 and codes.json()["other_sessions_ended"] == 1
    assert (await here.get("/users/me", headers=bearer(kept))).status_code == 401
    assert (await here.get("/users/me")).status_code == 200
