"""The authenticator app (TOTP): enrolment, codes, removal, and its secrets under rotation.

Codes are computed here from the secret with pyotp, at moments the test picks: the server reads
the time for TOTP from `Totp.clock`, which the `clock` fixture sets. Changes need a recent
sign-in or confirmation; the sessions here have just signed in (flows/test_step_up.py covers
older ones).
"""

import asyncio
import hashlib
from typing import Any
from urllib.parse import parse_qs, unquote, urlsplit

import pytest
from cryptography.fernet import Fernet, InvalidToken

from backend.apps.auth.methods.totp import service as totp_service
from backend.apps.auth.methods.totp.codes import fernet_key
from backend.manage import main
from backend.tests.auth.second_steps import (
    NO_FACTOR,
    Clock,
    enrol,
    enrolled,
    password_login,
    set_totp_clock,
    stored_state,
    ticket_for,
    verify,
)
from backend.tests.conftest import TEST_SECRET, Server, ServerFactory
from backend.tests.helpers import (
    PASSWORD,
    mailed_subjects,
    verified_sign_up,
)


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> Clock:
    return set_totp_clock(monkeypatch)


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


K1, K2, K3 = (Fernet.generate_key().decode() for _ in range(3))


async def test_totp_keys_are_their_own_setting_and_the_jwt_derived_key_still_decrypts(
    make_server: ServerFactory, clock: Clock
) -> None:
    async with make_server() as before:  # no TOTP_ENCRYPTION_KEYS: the JWT-derived key encrypts
        _, secret, _ = await enrolled(before, clock, "keys@example.com")
        stored = (await stored_state("keys@example.com"))["totp_secret"]
        Fernet(fernet_key(TEST_SECRET)).decrypt(stored.encode())
        async with make_server(share_with=before, totp_encryption_keys=[K1]) as after:
            signed = await verify(
                after.client(), await ticket_for(after, "keys@example.com"), code=clock.code(secret)
            )
            assert signed.status_code == 200, signed.text
            # The accepted code re-encrypted it under K1, the first (and only listed) key.
            stored = (await stored_state("keys@example.com"))["totp_secret"]
            Fernet(K1.encode()).decrypt(stored.encode())
            with pytest.raises(InvalidToken):
                Fernet(fernet_key(TEST_SECRET)).decrypt(stored.encode())


async def test_a_secret_no_key_opens_is_a_503_not_a_wrong_code(
    make_server: ServerFactory, clock: Clock, caplog: pytest.LogCaptureFixture
) -> None:
    email = "unreadable@example.com"
    async with make_server(totp_encryption_keys=[K1], rate_limit_login_account="3/15minutes") as keeper:
        _, secret, _ = await enrolled(keeper, clock, email)
        other_secret = "another-secret-0123456789-abcdefghijklmnopqrstuvwxyz"
        async with make_server(
            share_with=keeper,
            jwt_secret_key=other_secret,
            totp_encryption_keys=[K2],
            rate_limit_login_account="3/15minutes",
        ) as lost:
            for _ in range(5):  # more than the account's failed-login limit
                refused = await verify(lost.client(), await ticket_for(lost, email), code=clock.code(secret))
                assert refused.status_code == 503, refused.text
                assert refused.json()["detail"]["code"] == "TOTP_KEY_MISSING"
                assert int(refused.headers["retry-after"]) > 0
            # None of those counted toward the lockout: the instance with the key signs them in.
            signed = await verify(keeper.client(), await ticket_for(keeper, email), code=clock.code(secret))
            assert signed.status_code == 200, signed.text
    assert "opens with none of TOTP_ENCRYPTION_KEYS" in caplog.text
    assert secret not in caplog.text


async def test_reencrypt_moves_every_secret_to_the_first_key(
    make_server: ServerFactory, clock: Clock
) -> None:
    async with make_server(totp_encryption_keys=[K1]) as before:
        _, secret, _ = await enrolled(before, clock, "idle@example.com")  # never signs in again
        async with make_server(share_with=before, totp_encryption_keys=[K2, K1]) as during:
            assert await totp_service.reencrypt_all(during.settings) == (1, 0, 0)
            assert await totp_service.reencrypt_all(during.settings) == (0, 1, 0)
        # K1 can go: the idle account's secret is under K2 now.
        async with make_server(
            share_with=before,
            jwt_secret_key="another-secret-0123456789-abcdefghijklmnopqrstuvwxyz",
            totp_encryption_keys=[K2],
        ) as after:
            signed = await verify(
                after.client(), await ticket_for(after, "idle@example.com"), code=clock.code(secret)
            )
            assert signed.status_code == 200, signed.text
        async with make_server(share_with=before, totp_encryption_keys=[K3]) as wrong:
            # Made with K2 only: no key this instance has opens it (the JWT-derived one neither).
            assert await totp_service.reencrypt_all(wrong.settings) == (0, 0, 1)


async def test_the_reencrypt_command(
    make_server: ServerFactory,
    clock: Clock,
    backend: str,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    if backend == "mongomock":
        pytest.skip("the command connects to a database of its own")
    async with make_server(totp_encryption_keys=[K1]) as server:
        await enrolled(server, clock, "command@example.com")
        for name, value in {
            "ENVIRONMENT": "development",
            "MONGODB_URL": server.settings.mongodb_url,
            "MONGODB_DB": server.settings.mongodb_db,
            "DATA_DIR": str(server.settings.data_dir),
            "JWT_SECRET_KEY": TEST_SECRET,
        }.items():
            monkeypatch.setenv(name, str(value))
        # Its own event loop, as from a shell (the test's loop is running).
        monkeypatch.setenv("TOTP_ENCRYPTION_KEYS", f"{K2},{K1}")
        assert await asyncio.to_thread(main, ["totp", "reencrypt"]) == 0
        out, _ = capsys.readouterr()
        assert "1 re-encrypted under the first key, 0 already were" in out
        monkeypatch.setenv("TOTP_ENCRYPTION_KEYS", K3)
        assert await asyncio.to_thread(main, ["totp", "reencrypt"]) == 1
        out, err = capsys.readouterr()
        assert "0 re-encrypted" in out and "1 open with no configured key (left unchanged)" in err
        assert K1 not in out + err and K2 not in out + err
