"""Second factors: TOTP enrolment, recovery codes, and signing in in two steps.

Codes are computed here from the secret with pyotp, at moments the test picks: the server reads
the time for TOTP from `Totp.clock`, which the `clock` fixture sets. Changes need a
recent sign-in or confirmation; the sessions here have just signed in (test_confirmation.py
covers older ones). The administrators' reset is in test_mfa_admin.py.
"""

import asyncio
import hashlib
from datetime import timedelta
from typing import Any
from urllib.parse import parse_qs, unquote, urlsplit

import pyotp
import pytest
from cryptography.fernet import Fernet, InvalidToken
from httpx import AsyncClient, Response

from backend.apps.auth.flows.factors import SecondFactorState
from backend.apps.auth.flows.sign_in import TICKET_MAX_FAILURES, MfaTicket
from backend.apps.auth.methods.passkeys.models import Passkey
from backend.apps.auth.methods.totp import service as totp_service
from backend.apps.auth.methods.totp.codes import fernet_key
from backend.apps.auth.methods.totp.service import Totp
from backend.apps.auth.sessions.models import Session
from backend.apps.user.models import User
from backend.core.clock import utcnow
from backend.tests.auth.test_oauth import corp, local_path, sign_in_with
from backend.tests.auth.test_sign_in_links import mailed_link_token
from backend.tests.conftest import TEST_SECRET, Server, ServerFactory
from backend.tests.helpers import (
    PASSWORD,
    login,
    mailed_subjects,
    outbox,
    register,
    superuser_client,
    verified_sign_up,
)
from backend.tests.oidc import OIDCProvider
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


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> Clock:
    return set_totp_clock(monkeypatch)


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


async def test_setup_shows_the_secret_once_and_stores_it_encrypted(server: Server, clock: Clock) -> None:
    client = server.client()
    await verified_sign_up(client, "setup@example.com")

    setup = await client.post("/auth/mfa/totp/setup")

    assert setup.status_code == 200, setup.text
    body = setup.json()
    secret = body["secret"]
    assert len(secret) == 32 and set(secret) <= set("ABCDEFGHIJKLMNOPQRSTUVWXYZ234567")  # 160 bits
    uri = urlsplit(body["otpauth_uri"])
    assert (uri.scheme, uri.netloc, unquote(uri.path)) == ("otpauth", "totp", "/FARM Auth:setup@example.com")
    assert parse_qs(uri.query)["secret"] == [secret] and parse_qs(uri.query)["issuer"] == ["FARM Auth"]
    assert body["qr_svg"].startswith("data:image/svg+xml")
    assert "<svg" in unquote(body["qr_svg"]) and "http" not in unquote(body["qr_svg"]).replace(
        "http://www.w3.org", ""
    )
    # Pending until confirmed: nothing changes at login yet.
    assert (await client.get("/auth/mfa")).json() == NO_FACTOR
    assert (await password_login(server.client(), "setup@example.com")).status_code == 200
    # Encrypted at rest with the key derived from the app's secret.
    stored = await stored_state("setup@example.com")
    assert stored is not None and secret not in repr(stored)
    assert Fernet(fernet_key(TEST_SECRET)).decrypt(stored["totp_secret"].encode()).decode() == secret
    with pytest.raises(InvalidToken):
        Fernet(fernet_key("another-secret-0123456789-abcdefghijklmno")).decrypt(
            stored["totp_secret"].encode()
        )


async def test_confirming_needs_a_valid_code(server: Server, clock: Clock) -> None:
    client = server.client()
    await verified_sign_up(client, "confirm@example.com")
    not_started = await client.post("/auth/mfa/totp/confirm", json={"code": "123456"})
    assert not_started.status_code == 409 and not_started.json()["detail"]["code"] == "TOTP_SETUP_NOT_STARTED"
    secret = (await client.post("/auth/mfa/totp/setup")).json()["secret"]

    too_far = await client.post("/auth/mfa/totp/confirm", json={"code": clock.code(secret, 2)})
    # The proof is the recent sign-in now: a password in the body is not part of the API any more.
    old_style = await client.post(
        "/auth/mfa/totp/confirm", json={"code": clock.code(secret), "current_password": PASSWORD}
    )

    assert too_far.status_code == 400 and too_far.json()["detail"]["code"] == "MFA_CODE_INVALID"
    assert old_style.status_code == 422
    confirmed = await client.post("/auth/mfa/totp/confirm", json={"code": clock.code(secret)})
    assert confirmed.status_code == 200, confirmed.text
    codes = confirmed.json()["recovery_codes"]
    assert len(codes) == len(set(codes)) == 10
    assert all(len(code) == 29 and code.count("-") == 5 for code in codes)
    assert not set("".join(codes)) & set("01ilo")
    assert (await client.get("/auth/mfa")).json() == {
        **NO_FACTOR,
        "totp_enabled": True,
        "recovery_codes_left": 10,
        "methods": ["totp", "recovery_code"],
    }
    await mailed_subjects(client, "confirm@example.com", "Two-step sign-in was turned on")
    # The codes are stored hashed; nothing in the document is a secret in clear.
    stored = await stored_state("confirm@example.com")
    assert stored is not None
    assert all(code not in repr(stored) and code.replace("-", "") not in repr(stored) for code in codes)
    assert secret not in repr(stored)
    assert hashlib.sha256(codes[0].replace("-", "").encode()).hexdigest() in stored["recovery_codes"]
    again = await client.post("/auth/mfa/totp/setup")
    assert again.status_code == 409 and again.json()["detail"]["code"] == "TOTP_ALREADY_ENABLED"


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


async def test_codes_one_step_either_side_pass_two_do_not(server: Server, clock: Clock) -> None:
    _, secret, _ = await enrolled(server, clock, "drift@example.com")

    for steps in (-2, 2):
        answer = await verify(
            server.client(), await ticket_for(server, "drift@example.com"), code=clock.code(secret, steps)
        )
        assert answer.status_code == 400 and answer.json()["detail"]["code"] == "MFA_CODE_INVALID", steps
    for steps in (-1, 0, 1):
        clock.advance(5)  # later each time: every accepted step is newer than the last
        answer = await verify(
            server.client(), await ticket_for(server, "drift@example.com"), code=clock.code(secret, steps)
        )
        assert answer.status_code == 200, (steps, answer.text)


async def test_each_code_works_once(server: Server, clock: Clock) -> None:
    _, secret, _ = await enrolled(server, clock, "replay@example.com")
    code = clock.code(secret)
    assert (
        await verify(server.client(), await ticket_for(server, "replay@example.com"), code=code)
    ).status_code == 200

    replayed = await verify(server.client(), await ticket_for(server, "replay@example.com"), code=code)
    older = await verify(
        server.client(), await ticket_for(server, "replay@example.com"), code=clock.code(secret, -1)
    )

    assert replayed.status_code == older.status_code == 400
    assert replayed.json()["detail"]["code"] == "MFA_CODE_INVALID"


async def test_two_requests_racing_with_one_code_start_one_session(server: Server, clock: Clock) -> None:
    _, secret, _ = await enrolled(server, clock, "race@example.com")
    tickets = [await ticket_for(server, "race@example.com") for _ in range(4)]
    code = clock.code(secret)

    answers = await asyncio.gather(*(verify(server.client(), ticket, code=code) for ticket in tickets))

    assert sorted(a.status_code for a in answers) == [200, 400, 400, 400]


async def test_a_code_claimed_meanwhile_is_refused(
    server: Server, clock: Clock, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Two requests with one code, the second having read the account before the first claimed
    the step (what a race looks like): only the first passes."""
    _, secret, _ = await enrolled(server, clock, "stale@example.com")
    stale = await stored_state("stale@example.com")
    code = clock.code(secret)
    assert (
        await verify(server.client(), await ticket_for(server, "stale@example.com"), code=code)
    ).status_code == 200
    real = totp_service._states

    class ReadBeforeTheClaim:
        """The collection, except that reading the account gives what it held before."""

        def __getattr__(self, name: str) -> Any:
            return getattr(real(), name)

        async def find_one(self, query: dict[str, Any], *args: Any, **kwargs: Any) -> Any:
            return (
                stale if query.get("totp_enabled") is True else await real().find_one(query, *args, **kwargs)
            )

    monkeypatch.setattr(totp_service, "_states", ReadBeforeTheClaim)
    second = await verify(server.client(), await ticket_for(server, "stale@example.com"), code=code)

    assert second.status_code == 400 and second.json()["detail"]["code"] == "MFA_CODE_INVALID"


async def test_a_recovery_code_signs_in_once(server: Server, clock: Clock) -> None:
    client, _, codes = await enrolled(server, clock, "recovery@example.com")
    browser = server.client()

    # Typed as people do: upper case, spaces for dashes.
    used = await verify(
        browser,
        await ticket_for(server, "recovery@example.com"),
        recovery_code=codes[3].upper().replace("-", " "),
    )

    assert used.status_code == 200, used.text
    assert (await browser.get("/users/me")).status_code == 200
    again = await verify(
        server.client(), await ticket_for(server, "recovery@example.com"), recovery_code=codes[3]
    )
    assert again.status_code == 400 and again.json()["detail"]["code"] == "MFA_CODE_INVALID"
    assert (await client.get("/auth/mfa")).json()["recovery_codes_left"] == 9
    await mailed_subjects(client, "recovery@example.com", "A recovery code was used to sign in")
    [notice] = [
        m for m in await outbox(client, "recovery@example.com") if "recovery code was used" in m["subject"]
    ]
    assert "9 unused recovery codes are left" in notice["text"]


async def test_new_recovery_codes_replace_the_old(server: Server, clock: Clock) -> None:
    client, _, old = await enrolled(server, clock, "regenerate@example.com")

    fresh = await client.post("/auth/mfa/recovery-codes")

    assert fresh.status_code == 200, fresh.text
    new = fresh.json()["recovery_codes"]
    assert len(new) == len(set(new)) == 10 and not set(new) & set(old)
    assert (await client.get("/auth/mfa")).json()["recovery_codes_left"] == 10
    stale = await verify(
        server.client(), await ticket_for(server, "regenerate@example.com"), recovery_code=old[0]
    )
    assert stale.status_code == 400
    current = await verify(
        server.client(), await ticket_for(server, "regenerate@example.com"), recovery_code=new[0]
    )
    assert current.status_code == 200
    await mailed_subjects(client, "regenerate@example.com", "New recovery codes were made")
    # Without a second factor there is nothing to recover.
    plain = server.client()
    await verified_sign_up(plain, "no-factor@example.com")
    refused = await plain.post("/auth/mfa/recovery-codes")
    assert refused.status_code == 409 and refused.json()["detail"]["code"] == "MFA_NOT_ENABLED"


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


async def test_removing_totp_ends_other_sessions_and_is_mailed(server: Server, clock: Clock) -> None:
    client, secret, codes = await enrolled(server, clock, "disable@example.com")
    other = server.client()
    await verify(other, await ticket_for(server, "disable@example.com"), code=clock.code(secret))
    assert (await other.get("/users/me")).status_code == 200

    done = await client.delete("/auth/mfa/totp")

    assert done.status_code == 200, done.text
    assert done.json() == NO_FACTOR  # the recovery codes went with the last factor
    assert (await other.get("/users/me")).status_code == 401
    assert (await other.post("/auth/jwt/refresh")).status_code == 401
    assert (await client.get("/users/me")).status_code == 200
    stored = await stored_state("disable@example.com")
    assert stored is None or (stored["totp_secret"] is None and stored["recovery_codes"] == [])
    await mailed_subjects(client, "disable@example.com", "Your authenticator app was removed")
    assert (await password_login(server.client(), "disable@example.com")).status_code == 200
    again = await client.delete("/auth/mfa/totp")
    assert again.status_code == 409 and again.json()["detail"]["code"] == "MFA_NOT_ENABLED"
    # It can be set up again, with a new secret and new recovery codes.
    new_secret, new_codes = await enrol(client, clock)
    assert new_secret != secret and not set(new_codes) & set(codes)


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


async def test_secret_rotation_keeps_totp_working(make_server: ServerFactory, clock: Clock) -> None:
    old, new = TEST_SECRET, "rotated-secret-0123456789-abcdefghijklmnopqrstuvwxyz"
    async with make_server() as before:
        _, secret, _ = await enrolled(before, clock, "rotation@example.com")
        async with make_server(share_with=before, jwt_secret_key=None, jwt_secret_keys=[new, old]) as during:
            signed = await verify(
                during.client(), await ticket_for(during, "rotation@example.com"), code=clock.code(secret)
            )
            assert signed.status_code == 200, signed.text
        clock.advance()
        # The accepted code re-encrypted the secret under the new key: the old one can go.
        async with make_server(share_with=before, jwt_secret_key=None, jwt_secret_keys=[new]) as after:
            signed = await verify(
                after.client(), await ticket_for(after, "rotation@example.com"), code=clock.code(secret)
            )
            assert signed.status_code == 200, signed.text


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
