"""Passkeys through the HTTP API, with a software authenticator where the browser would be.

The relying party's id is PUBLIC_URL's host: the test servers run at https://farm.test, so the
authenticator's page is there too. Attacks are staged on the authenticator: another origin (a
phishing page), no user verification, a sign count set back (a clone).
"""

from datetime import UTC, datetime, timedelta
from typing import Any

import pyotp
import pytest
from httpx import AsyncClient, Response
from webauthn.helpers import bytes_to_base64url

from backend.apps.auth.methods.passkeys.models import Passkey, PasskeyChallenge
from backend.apps.auth.sessions.models import Session
from backend.apps.user.models import User
from backend.core.clock import utcnow
from backend.tests.conftest import Server, ServerFactory
from backend.tests.helpers import PASSWORD, mailed_subjects, superuser_client, verified_sign_up
from backend.tests.webauthn_authenticator import AuthenticatorRefused, SoftAuthenticator

ORIGIN = "https://farm.test"  # make_server's PUBLIC_URL
RP_ID = "farm.test"


def code_of(response: Response) -> str:
    return str(response.json()["detail"]["code"])


async def options(client: AsyncClient, purpose: str, **extra: str) -> dict[str, Any]:
    response = await client.post("/auth/passkeys/options", json={"purpose": purpose, **extra})
    assert response.status_code == 200, response.text
    return dict(response.json())


async def add_passkey(client: AsyncClient, authenticator: SoftAuthenticator, name: str = "Laptop") -> dict:
    made = await client.post("/auth/passkeys/registration-options")
    assert made.status_code == 200, made.text
    added = await client.post(
        "/auth/passkeys", json={"name": name, "credential": authenticator.create(made.json())}
    )
    assert added.status_code == 201, added.text
    return dict(added.json())


async def with_passkey(server: Server, email: str) -> tuple[AsyncClient, SoftAuthenticator, dict]:
    """A signed-in client of a new account with one passkey, on `authenticator`; the 201 body."""
    client, authenticator = server.client(), SoftAuthenticator(ORIGIN)
    await verified_sign_up(client, email)
    return client, authenticator, await add_passkey(client, authenticator)


async def sign_in(client: AsyncClient, authenticator: SoftAuthenticator, **kwargs: Any) -> Response:
    assertion = authenticator.get(await options(client, "sign_in"), **kwargs)
    return await client.post("/auth/passkeys/sign-in", json={"credential": assertion})


async def password_login(client: AsyncClient, email: str) -> Response:
    return await client.post("/auth/jwt/login", data={"username": email, "password": PASSWORD})


async def ticket_for(server: Server, email: str) -> str:
    response = await password_login(server.client(), email)
    assert response.status_code == 401 and code_of(response) == "MFA_REQUIRED", response.text
    return str(response.json()["detail"]["ticket"])


async def confirm(client: AsyncClient, authenticator: SoftAuthenticator) -> Response:
    assertion = authenticator.get(await options(client, "confirm"))
    return await client.post("/auth/confirm", json={"passkey": assertion})


async def make_stale(email: str) -> None:
    """Sessions of `email` signed in ten minutes ago: changes need a confirmation first."""
    user = await User.find_one(User.email == email)
    assert user is not None
    ago = utcnow() - timedelta(minutes=10)
    await Session.get_pymongo_collection().update_many({"user_id": user.id}, {"$set": {"created_at": ago}})


async def test_adding_a_passkey_gives_recovery_codes_once_and_is_mailed(server: Server) -> None:
    client, authenticator = server.client(), SoftAuthenticator(ORIGIN)
    await verified_sign_up(client, "ada@example.com")

    made = await client.post("/auth/passkeys/registration-options")  # a fresh sign-in confirms

    assert made.status_code == 200, made.text
    creation = made.json()
    assert creation["rp"]["id"] == RP_ID and creation["user"]["name"] == "ada@example.com"
    assert creation["authenticatorSelection"]["residentKey"] == "required"
    assert creation["authenticatorSelection"]["userVerification"] == "required"
    assert creation["excludeCredentials"] == []
    added = await client.post(
        "/auth/passkeys", json={"name": "Laptop", "credential": authenticator.create(creation)}
    )
    assert added.status_code == 201, added.text
    [credential_id] = authenticator.credentials
    body = added.json()
    assert body["passkey"]["id"] == bytes_to_base64url(credential_id) and body["passkey"]["name"] == "Laptop"
    codes = body["recovery_codes"]
    assert len(codes) == len(set(codes)) == 10
    status = (await client.get("/auth/mfa")).json()
    assert status == {
        "totp_enabled": False,
        "passkeys": 1,
        "methods": ["passkey", "recovery_code"],
        "recovery_codes_left": 10,
        "passkeys_available": True,
        "passkeys_unavailable_reason": None,
    }
    await mailed_subjects(client, "ada@example.com", "A passkey was added")
    # The second passkey adds no codes, and the first ones still work.
    second = await add_passkey(client, SoftAuthenticator(ORIGIN), "Phone")
    assert second["recovery_codes"] == []
    used = await client.post(
        "/auth/mfa/verify",
        json={"ticket": await ticket_for(server, "ada@example.com"), "recovery_code": codes[0]},
    )
    assert used.status_code == 200, used.text


async def test_a_stale_session_confirms_before_adding_or_removing(server: Server) -> None:
    client, authenticator, added = await with_passkey(server, "stale@example.com")
    await make_stale("stale@example.com")

    refused = [
        await client.post("/auth/passkeys/registration-options"),
        await client.delete(f"/auth/passkeys/{added['passkey']['id']}"),
    ]

    for answer in refused:
        assert answer.status_code == 403 and code_of(answer) == "CONFIRMATION_REQUIRED", answer.text
        assert answer.json()["detail"]["methods"] == ["password", "passkey", "recovery_code"]
    assert len((await client.get("/auth/passkeys")).json()) == 1
    confirmed = await confirm(client, authenticator)
    assert confirmed.status_code == 200, confirmed.text
    assert (await client.post("/auth/passkeys/registration-options")).status_code == 200


async def test_list_rename_and_one_passkey_per_device(server: Server) -> None:
    client, laptop, added = await with_passkey(server, "list@example.com")
    passkey_id = added["passkey"]["id"]
    [listed] = (await client.get("/auth/passkeys")).json()
    assert listed == added["passkey"]
    assert listed["last_used_at"] is None and listed["backed_up"] is False
    created = datetime.fromisoformat(listed["created_at"].replace("Z", "+00:00"))
    assert abs(created.replace(tzinfo=UTC) - utcnow()) < timedelta(minutes=1)

    renamed = await client.patch(f"/auth/passkeys/{passkey_id}", json={"name": "Work laptop"})
    assert renamed.status_code == 200 and renamed.json()["name"] == "Work laptop"
    for bad in ["", "x" * 65, "tab\there"]:
        assert (await client.patch(f"/auth/passkeys/{passkey_id}", json={"name": bad})).status_code == 422
    stranger = server.client()
    await verified_sign_up(stranger, "stranger@example.com")
    assert (await stranger.patch(f"/auth/passkeys/{passkey_id}", json={"name": "Mine"})).status_code == 404
    assert (await stranger.delete(f"/auth/passkeys/{passkey_id}")).status_code == 404
    assert (await stranger.get("/auth/passkeys")).json() == []

    # The same device again: the options exclude its credential, and the authenticator refuses.
    again = (await client.post("/auth/passkeys/registration-options")).json()
    assert [c["id"] for c in again["excludeCredentials"]] == [passkey_id]
    with pytest.raises(AuthenticatorRefused):
        laptop.create(again)
    phone = await add_passkey(client, SoftAuthenticator(ORIGIN), "Phone")
    assert [p["name"] for p in (await client.get("/auth/passkeys")).json()] == ["Work laptop", "Phone"]
    assert phone["recovery_codes"] == []


async def test_a_passkey_alone_signs_in_even_with_totp_on(server: Server) -> None:
    client, authenticator, added = await with_passkey(server, "solo@example.com")
    secret = (await client.post("/auth/mfa/totp/setup")).json()["secret"]
    on = await client.post("/auth/mfa/totp/confirm", json={"code": pyotp.TOTP(secret).now()})
    assert on.status_code == 200, on.text
    browser = server.client()

    request_options = await options(browser, "sign_in")
    signed = await browser.post(
        "/auth/passkeys/sign-in", json={"credential": authenticator.get(request_options)}
    )

    assert request_options["allowCredentials"] == [] and request_options["rpId"] == RP_ID
    assert request_options["userVerification"] == "required"
    assert signed.status_code == 200, signed.text
    assert signed.json()["token_type"] == "bearer" and signed.headers.get_list("set-cookie")
    assert (await browser.get("/users/me")).json()["email"] == "solo@example.com"
    assert (await browser.post("/auth/jwt/refresh")).status_code == 200
    [listed] = (await browser.get("/auth/passkeys")).json()
    assert listed["id"] == added["passkey"]["id"] and listed["last_used_at"] is not None
    methods = (await password_login(server.client(), "solo@example.com")).json()
    assert methods["detail"]["methods"] == ["totp", "passkey", "recovery_code"]


async def test_a_password_and_a_passkey_sign_in_in_two_steps(server: Server) -> None:
    _, authenticator, added = await with_passkey(server, "two@example.com")
    await with_passkey(server, "other@example.com")
    browser = server.client()

    first = await password_login(browser, "two@example.com")

    assert first.status_code == 401 and not first.headers.get_list("set-cookie")
    detail = first.json()["detail"]
    assert detail["code"] == "MFA_REQUIRED" and detail["methods"] == ["passkey", "recovery_code"]
    request_options = await options(browser, "second_factor", ticket=detail["ticket"])
    assert [c["id"] for c in request_options["allowCredentials"]] == [added["passkey"]["id"]]
    assert (await browser.get("/users/me")).status_code == 401
    finished = await browser.post(
        "/auth/mfa/verify", json={"ticket": detail["ticket"], "passkey": authenticator.get(request_options)}
    )
    assert finished.status_code == 200, finished.text
    assert (await browser.get("/users/me")).json()["email"] == "two@example.com"
    unknown = await browser.post(
        "/auth/passkeys/options", json={"purpose": "second_factor", "ticket": "nope"}
    )
    assert unknown.status_code == 400 and code_of(unknown) == "MFA_TICKET_INVALID"
    anonymous = await server.client().post("/auth/passkeys/options", json={"purpose": "confirm"})
    assert anonymous.status_code == 401


async def test_removing_passkeys(server: Server) -> None:
    client, laptop, first = await with_passkey(server, "remove@example.com")
    phone = SoftAuthenticator(ORIGIN)
    await add_passkey(client, phone, "Phone")
    other = server.client()
    assert (await sign_in(other, phone)).status_code == 200

    removed = await client.delete(f"/auth/passkeys/{first['passkey']['id']}")

    assert removed.status_code == 204, removed.text
    assert (await other.get("/users/me")).status_code == 401  # other sessions ended
    assert (await client.get("/users/me")).status_code == 200
    await mailed_subjects(client, "remove@example.com", "A passkey was removed")
    gone = await sign_in(server.client(), laptop)  # still on the device, no longer on the account
    assert gone.status_code == 400 and code_of(gone) == "PASSKEY_INVALID"
    assert (await client.delete(f"/auth/passkeys/{first['passkey']['id']}")).status_code == 404
    assert (await client.get("/auth/mfa")).json()["recovery_codes_left"] == 10  # the phone is left

    [last] = (await client.get("/auth/passkeys")).json()
    assert (await client.delete(f"/auth/passkeys/{last['id']}")).status_code == 204

    status = (await client.get("/auth/mfa")).json()
    assert (status["passkeys"], status["methods"], status["recovery_codes_left"]) == (0, [], 0)
    direct = await password_login(server.client(), "remove@example.com")
    assert direct.status_code == 200, direct.text
    assert (await sign_in(server.client(), phone)).status_code == 400


@pytest.mark.parametrize("counts", [True, False], ids=["counter", "synced-no-counter"])
async def test_each_challenge_works_once(server: Server, counts: bool) -> None:
    """Replays are refused by the challenge being spent, not only by the signature counter: a
    synced passkey keeps none (always 0), and signs in again and again with new challenges."""
    _, authenticator, _ = await with_passkey(server, "replay@example.com")
    [credential] = authenticator.credentials.values()
    credential.counts = counts
    assertion = authenticator.get(await options(server.client(), "sign_in"))
    first = await server.client().post("/auth/passkeys/sign-in", json={"credential": assertion})
    assert first.status_code == 200, first.text

    replayed = await server.client().post("/auth/passkeys/sign-in", json={"credential": assertion})

    assert replayed.status_code == 400 and code_of(replayed) == "PASSKEY_INVALID"
    ticket = await ticket_for(server, "replay@example.com")
    step = authenticator.get(await options(server.client(), "second_factor", ticket=ticket))
    verified = await server.client().post("/auth/mfa/verify", json={"ticket": ticket, "passkey": step})
    assert verified.status_code == 200, verified.text
    again = await server.client().post(
        "/auth/mfa/verify", json={"ticket": await ticket_for(server, "replay@example.com"), "passkey": step}
    )
    assert again.status_code == 400 and code_of(again) == "MFA_CODE_INVALID"
    assert (await sign_in(server.client(), authenticator)).status_code == 200
    assert credential.sign_count == (3 if counts else 0)


async def test_an_assertion_works_only_for_its_purpose(server: Server) -> None:
    client, authenticator, _ = await with_passkey(server, "purpose@example.com")
    await make_stale("purpose@example.com")
    ticket = await ticket_for(server, "purpose@example.com")
    made = {  # in this order: each signs with a higher count than the one before
        purpose: authenticator.get(await options(client, purpose, **extra))
        for purpose, extra in [("sign_in", {}), ("confirm", {}), ("second_factor", {"ticket": ticket})]
    }
    uses = {
        "sign_in": ("/auth/passkeys/sign-in", "credential", {}, "PASSKEY_INVALID"),
        "confirm": ("/auth/confirm", "passkey", {}, "CONFIRMATION_INVALID"),
        "second_factor": ("/auth/mfa/verify", "passkey", {"ticket": ticket}, "MFA_CODE_INVALID"),
    }

    for made_for, assertion in made.items():
        for used_for, (path, field, extra, refusal) in uses.items():
            if used_for != made_for:
                answer = await client.post(path, json={field: assertion, **extra})
                assert (answer.status_code, code_of(answer)) == (400, refusal), (made_for, used_for)

    assert (await client.post("/auth/passkeys/registration-options")).status_code == 403  # not confirmed
    # Refused for what they were not made for, not broken: each works for its own purpose.
    for purpose, (path, field, extra, _) in uses.items():
        browser = client if purpose == "confirm" else server.client()
        answer = await browser.post(path, json={field: made[purpose], **extra})
        assert answer.status_code == 200, (purpose, answer.text)


@pytest.mark.parametrize("attack", ["phishing", "no_user_verification", "clone", "expired"])
async def test_a_suspicious_assertion_is_refused(server: Server, attack: str) -> None:
    _, authenticator, _ = await with_passkey(server, "attack@example.com")
    assert (await sign_in(server.client(), authenticator)).status_code == 200  # sign count 1
    browser, kwargs = server.client(), {}
    request_options = await options(browser, "sign_in")
    [credential] = authenticator.credentials.values()
    if attack == "phishing":
        authenticator.origin = "https://farm-test.example"
    elif attack == "no_user_verification":
        kwargs = {"user_verified": False}
    elif attack == "clone":
        credential.sign_count = 0  # the clone signs with a count the server has seen
    else:
        await PasskeyChallenge.get_pymongo_collection().update_many(
            {}, {"$set": {"expires_at": utcnow() - timedelta(seconds=1)}}
        )

    refused = await browser.post(
        "/auth/passkeys/sign-in", json={"credential": authenticator.get(request_options, **kwargs)}
    )

    assert refused.status_code == 400 and code_of(refused) == "PASSKEY_INVALID", refused.text
    assert (await browser.get("/users/me")).status_code == 401


@pytest.mark.parametrize("attack", ["phishing", "no_user_verification"])
async def test_a_suspicious_registration_is_refused(server: Server, attack: str) -> None:
    client, authenticator = server.client(), SoftAuthenticator(ORIGIN)
    await verified_sign_up(client, "bad-add@example.com")
    creation = (await client.post("/auth/passkeys/registration-options")).json()
    if attack == "phishing":
        authenticator.origin = "https://farm-test.example"
    credential = authenticator.create(creation, user_verified=attack != "no_user_verification")

    refused = await client.post("/auth/passkeys", json={"name": "Laptop", "credential": credential})

    assert refused.status_code == 400 and code_of(refused) == "PASSKEY_INVALID", refused.text
    assert (await client.get("/auth/passkeys")).json() == []


async def test_another_accounts_passkey_does_not_pass_my_second_step(server: Server) -> None:
    await with_passkey(server, "victim@example.com")
    _, attacker, _ = await with_passkey(server, "attacker@example.com")
    [attacker_credential] = attacker.credentials
    browser = server.client()
    ticket = await ticket_for(server, "victim@example.com")  # the attacker knows the password

    # The options list only the victim's credentials; the attacker's script drops that list.
    victims_options = await options(browser, "second_factor", ticket=ticket)
    forged = attacker.get({**victims_options, "allowCredentials": []}, credential_id=attacker_credential)
    with_own_options = attacker.get(
        await options(browser, "second_factor", ticket=await ticket_for(server, "attacker@example.com"))
    )
    answers = [
        await browser.post("/auth/mfa/verify", json={"ticket": ticket, "passkey": forged}),
        await browser.post("/auth/mfa/verify", json={"ticket": ticket, "passkey": with_own_options}),
    ]

    assert [(a.status_code, code_of(a)) for a in answers] == [(400, "MFA_CODE_INVALID")] * 2
    assert (await browser.get("/users/me")).status_code == 401


async def test_a_registration_for_another_accounts_challenge_is_refused(server: Server) -> None:
    victim, attacker = server.client(), server.client()
    await verified_sign_up(victim, "victim@example.com")
    await verified_sign_up(attacker, "attacker@example.com")
    authenticator = SoftAuthenticator(ORIGIN)
    credential = authenticator.create((await victim.post("/auth/passkeys/registration-options")).json())

    refused = await attacker.post("/auth/passkeys", json={"name": "Sneaky", "credential": credential})

    assert refused.status_code == 400 and code_of(refused) == "PASSKEY_INVALID"
    assert (await attacker.get("/auth/passkeys")).json() == []
    assert (
        await victim.post("/auth/passkeys", json={"name": "Mine", "credential": credential})
    ).status_code == 201


def malformed(binary: str) -> list[Any]:
    """Ways to break a credential whose `binary` field is authenticatorData or attestationObject."""

    def body(**changes: Any) -> Any:
        return lambda good: {**good, "response": {**good["response"], **changes}}

    return [
        lambda good: {**good, "id": "not base64url!"},
        lambda good: {**good, "rawId": 12345},
        lambda good: {**good, "type": "password"},
        lambda good: {**good, "response": "nothing"},
        lambda good: {k: v for k, v in good.items() if k != "response"},
        lambda good: {**good, "response": {k: v for k, v in good["response"].items() if k != binary}},
        body(clientDataJSON="%%%%"),
        body(clientDataJSON="A" * 100_000),
        body(clientDataJSON=bytes_to_base64url(b"not json")),
        body(clientDataJSON=bytes_to_base64url(b'{"challenge": 5}')),
        body(clientDataJSON=bytes_to_base64url(b'["challenge"]')),
        body(clientDataJSON=bytes_to_base64url(b"\xff\xfe")),
        body(**{binary: ["AAAA"]}),
        body(**{binary: "AAAA"}),  # with the real challenge: refused after it is spent
        body(**{binary: "A" * 2000}),
        *(
            [body(userHandle=bytes_to_base64url(b"someone else")), body(signature="A" * 2048)]
            if binary == "authenticatorData"
            else [body(transports="usb")]
        ),
    ]


async def test_malformed_credentials_are_refused_with_a_reason(make_server: ServerFactory) -> None:
    async with make_server(rate_limit_enabled=False) as server:  # every case may fail as a login
        client, authenticator, _ = await with_passkey(server, "garbage@example.com")
        answers: list[Response] = []
        for breaks in malformed("attestationObject"):
            creation = (await client.post("/auth/passkeys/registration-options")).json()
            broken = breaks(SoftAuthenticator(ORIGIN).create(creation))
            answers.append(await client.post("/auth/passkeys", json={"name": "Broken", "credential": broken}))
        for breaks in malformed("authenticatorData"):
            ticket = await ticket_for(server, "garbage@example.com")
            for purpose, path, field, extra in [
                ("sign_in", "/auth/passkeys/sign-in", "credential", {}),
                ("second_factor", "/auth/mfa/verify", "passkey", {"ticket": ticket}),
                ("confirm", "/auth/confirm", "passkey", {}),
            ]:
                broken = breaks(authenticator.get(await options(client, purpose, **extra)))
                answers.append(await client.post(path, json={field: broken, **extra}))

        assert not [(a.request.url.path, a.text) for a in answers if a.status_code not in (400, 422)]
        assert all(a.json()["detail"] for a in answers)
        assert len((await client.get("/auth/passkeys")).json()) == 1
        assert (await sign_in(server.client(), authenticator)).status_code == 200  # nothing was broken


async def test_a_deeply_nested_client_data_is_refused(server: Server) -> None:
    client, authenticator, _ = await with_passkey(server, "nested@example.com")
    assertion = authenticator.get(await options(client, "sign_in"))
    nested = bytes_to_base64url(b"[" * 6000)

    answer = await client.post(
        "/auth/passkeys/sign-in",
        json={"credential": {**assertion, "response": {**assertion["response"], "clientDataJSON": nested}}},
    )

    assert answer.status_code == 400 and code_of(answer) == "PASSKEY_INVALID"


async def test_passkeys_need_a_host_name(
    make_server: ServerFactory, caplog: pytest.LogCaptureFixture
) -> None:
    async with make_server(public_url="http://127.0.0.1:8000") as server:
        assert any(
            "passkeys are off" in r.getMessage() and "localhost" in r.getMessage() for r in caplog.records
        )
        client = server.client()
        await verified_sign_up(client, "ip@example.com")
        fake = SoftAuthenticator("http://127.0.0.1:8000")
        creation = {"rp": {"id": "127.0.0.1"}, "user": {"id": "AAAA"}, "pubKeyCredParams": [{"alg": -7}]}
        credential = fake.create({**creation, "challenge": "AAAA"})  # made up: refused before any check

        answers = [
            await client.post("/auth/passkeys/registration-options"),
            await client.post("/auth/passkeys", json={"name": "Laptop", "credential": credential}),
            await client.post("/auth/passkeys/options", json={"purpose": "sign_in"}),
            await client.post("/auth/passkeys/options", json={"purpose": "confirm"}),
            await client.post("/auth/passkeys/sign-in", json={"credential": fake.get({"challenge": "AAAA"})}),
        ]

        for answer in answers:
            assert answer.status_code == 409 and code_of(answer) == "PASSKEYS_UNAVAILABLE", answer.text
            reason = answer.json()["detail"]["reason"]
            assert "127.0.0.1" in reason and "host name" in reason and "localhost" in reason
        status = (await client.get("/auth/mfa")).json()
        assert status["passkeys_available"] is False and status["passkeys_unavailable_reason"] == reason


async def test_deleting_a_user_deletes_their_passkeys_and_challenges(server: Server) -> None:
    client, authenticator, _ = await with_passkey(server, "gone@example.com")
    await with_passkey(server, "stays@example.com")
    await options(client, "confirm")
    await client.post("/auth/passkeys/registration-options")
    user = await User.find_one(User.email == "gone@example.com")
    assert user is not None
    assert await PasskeyChallenge.get_pymongo_collection().count_documents({"user_id": user.id}) == 2

    admin = await superuser_client(server)
    assert (await admin.delete(f"/users/{user.id}")).status_code == 204

    assert await Passkey.get_pymongo_collection().count_documents({"user_id": user.id}) == 0
    assert await PasskeyChallenge.get_pymongo_collection().count_documents({"user_id": user.id}) == 0
    assert await Passkey.get_pymongo_collection().count_documents({}) == 1  # the other account's
    assert (await sign_in(server.client(), authenticator)).status_code == 400


async def test_failed_passkey_sign_ins_count_toward_the_login_limit(make_server: ServerFactory) -> None:
    async with make_server(rate_limit_login_ip="3/hour") as server:
        _, authenticator, _ = await with_passkey(server, "limit@example.com")
        phished = SoftAuthenticator("https://farm-test.example")
        phished.credentials = authenticator.credentials  # the same passkey, on a phishing page

        failed = [(await sign_in(server.client(), phished)).status_code for _ in range(3)]
        blocked = await sign_in(server.client(), authenticator)
        password = await password_login(server.client(), "limit@example.com")

        assert failed == [400, 400, 400]
        assert blocked.status_code == password.status_code == 429 and "Retry-After" in blocked.headers
