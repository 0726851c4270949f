"""The security activity log: every event where it happens, read back a page at a time, kept for
SECURITY_LOG_RETENTION_DAYS by a TTL index; and the mail about a sign-in from a new device.

Events are read through `GET /users/me/activity` where a session is at hand, else straight from
the collection (`logged`), oldest first, so a test reads them in the order they happened.
"""

import asyncio
import re
from datetime import UTC, datetime, timedelta
from typing import Any, get_args

import pytest
from bson import ObjectId
from httpx import ASGITransport, AsyncClient
from pymongo import AsyncMongoClient, monitoring

from backend.apps.auth.activity import log as activity
from backend.apps.auth.activity.device import BROWSERS, SYSTEMS, describe_device, ip_network
from backend.apps.auth.activity.letters import ActivityLetters
from backend.apps.auth.activity.log import EXPIRY_INDEX, EventType, SecurityEvent, security_log
from backend.apps.auth.activity.new_device import SignInLog
from backend.apps.user.models import User
from backend.core.clock import utcnow
from backend.tests.auth.methods.passkeys.test_passkeys import sign_in as passkey_sign_in
from backend.tests.auth.methods.providers.test_providers import corp, sign_in_with
from backend.tests.auth.methods.sign_in_links.test_sign_in_links import consume, mailed_link_token
from backend.tests.auth.second_steps import (
    Clock,
    add_passkey,
    enrolled,
    passkey_answer,
    set_totp_clock,
    ticket_for,
    user_named,
    verify,
)
from backend.tests.auth.sessions.test_sessions import log_in, refresh_token_in, refresh_with
from backend.tests.conftest import BASE_URL, Server, ServerFactory
from backend.tests.helpers import (
    PASSWORD,
    REPO,
    claims_of,
    login,
    mailed_token,
    register,
    signed_up,
    superuser_client,
    verified_sign_up,
)
from backend.tests.oidc import OIDCProvider
from backend.tests.user.test_mail import Inbox, smtp_settings

FIREFOX_LINUX = "Mozilla/5.0 (X11; Linux x86_64; rv:130.0) Gecko/20100101 Firefox/130.0"
CHROME_WINDOWS = (
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/156.0 Safari/537.36"
)
NEW_PASSWORD = "quiet harbour lantern 7"
NEW_DEVICE_SUBJECT = "New sign-in to your account"
WRONG_CODE = "abcdef"  # never a TOTP code


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> Clock:
    return set_totp_clock(monkeypatch)


@pytest.fixture
def one_hour(monkeypatch: pytest.MonkeyPatch) -> datetime:
    """Failures are summarised per hour: the log's clock stops, so no test straddles two hours."""
    pinned = utcnow()
    monkeypatch.setattr(activity, "utcnow", lambda: pinned)
    return pinned


@pytest.fixture
def inbox():
    server = Inbox()
    server.controller.start()
    yield server
    server.controller.stop()


async def activity_of(client: AsyncClient, **params: Any) -> list[dict[str, Any]]:
    """The signed-in account's log through the API, newest first."""
    response = await client.get("/users/me/activity", params={"limit": 100, **params})
    assert response.status_code == 200, response.text
    return list(response.json())


async def logged(email: str) -> list[dict[str, Any]]:
    """The account's events as stored, oldest first."""
    user = await user_named(email)
    found = SecurityEvent.get_pymongo_collection().find({"user_id": user.id}).sort([("at", 1), ("_id", 1)])
    return await found.to_list()


def once(events: list[dict[str, Any]], type: str) -> dict[str, Any]:
    """The one event of `type`: each thing that happened is logged exactly once."""
    found = [event for event in events if event["type"] == type]
    assert len(found) == 1, (type, [event["type"] for event in events])
    return found[0]


def types(events: list[dict[str, Any]]) -> list[str]:
    return [event["type"] for event in events]


def client_at(server: Server, ip: str, **kwargs: Any) -> AsyncClient:
    """A client connecting from `ip` (the app trusts no proxy: the peer address counts)."""
    client = AsyncClient(
        transport=ASGITransport(server.asgi, client=(ip, 50000)), base_url=BASE_URL, **kwargs
    )
    server.clients.append(client)
    return client


# Sign-ins


async def test_a_password_sign_in_is_logged_with_where_it_came_from(server: Server) -> None:
    browser = server.client(headers={"User-Agent": FIREFOX_LINUX})
    await register(browser, "ada@example.com")

    token = await login(browser, "ada@example.com")

    [event] = await activity_of(browser)
    assert set(event) == {"id", "at", "type", "ip", "user_agent", "device", "detail"}
    assert event["type"] == "sign_in"
    assert (event["ip"], event["user_agent"], event["device"]) == (
        "127.0.0.1",
        FIREFOX_LINUX,
        "Firefox on Linux",
    )
    assert event["detail"] == {
        "method": "password",
        "session_id": claims_of(token)["sid"],
        "new_device": False,
        "count": 1,
        "methods": {"password": 1},
        "first_at": event["at"],
    }
    stored = once(await logged("ada@example.com"), "sign_in")
    assert isinstance(stored["at"], datetime)  # a BSON date: what a TTL index expires
    assert stored["network"] == "127.0.0.0/24"


async def test_sign_ins_by_link_passkey_and_second_factor_name_both_steps(
    server: Server, clock: Clock
) -> None:
    email = "steps@example.com"
    client, secret, codes = await enrolled(server, clock, email)
    authenticator, _ = await add_passkey(client)

    by_code = await verify(server.client(), await ticket_for(server, email), code=clock.code(secret))
    assert once(await logged(email), "sign_in")["detail"]["second_factor"] == "totp"
    clock.advance()
    by_recovery_code = await verify(server.client(), await ticket_for(server, email), recovery_code=codes[0])
    second = server.client()
    ticket = await ticket_for(server, email)
    by_passkey = await verify(
        second, ticket, passkey=await passkey_answer(second, authenticator, "second_factor", ticket)
    )
    link_then_code = await consume(server, await mailed_link_token(client, email))
    assert link_then_code.status_code == 401, link_then_code.text
    by_link_and_code = await verify(
        server.client(), link_then_code.json()["detail"]["ticket"], code=clock.code(secret)
    )
    passkey_alone = await passkey_sign_in(server.client(), authenticator)

    answers = [by_code, by_recovery_code, by_passkey, by_link_and_code, passkey_alone]
    assert [a.status_code for a in answers] == [200] * 5, [a.text for a in answers]
    # All from one device and network: one summary, counting each way in.
    sign_in = once(await logged(email), "sign_in")
    assert sign_in["detail"]["count"] == 6
    assert sign_in["detail"]["methods"] == {
        "password": 1,  # the sign-up's login, before any factor
        "password+totp": 1,
        "password+recovery_code": 1,
        "password+passkey": 1,
        "sign_in_link+totp": 1,
        "passkey": 1,
    }
    # The latest one's method and session; its second factor, none, replaces the one before.
    assert sign_in["detail"]["method"] == "passkey" and "second_factor" not in sign_in["detail"]
    assert sign_in["detail"]["session_id"] == claims_of(passkey_alone.json()["access_token"])["sid"]


async def test_a_sign_in_link_alone_is_logged_as_such(server: Server) -> None:
    client = server.client()
    await register(client, "linked@example.com")

    signed_in = await consume(server, await mailed_link_token(client, "linked@example.com"))

    assert signed_in.status_code == 200, signed_in.text
    event = once(await logged("linked@example.com"), "sign_in")
    assert event["detail"]["method"] == "sign_in_link" and event["device"] == "Python script"


async def test_providers_sign_in_link_unlink_and_a_first_password_is_set(
    make_server: ServerFactory, oidc_provider: OIDCProvider
) -> None:
    async with make_server(**corp(oidc_provider)) as app:
        person = oidc_provider.add_account()
        await sign_in_with(app.client(), oidc_provider, person.email, person.password)
        # The account has no password yet: the reset sets its first one.
        client = app.client()
        await client.post("/auth/forgot-password", json={"email": person.email})
        token = await mailed_token(client, "/reset-password", person.email)
        reset = await client.post("/auth/reset-password", json={"token": token, "password": NEW_PASSWORD})
        assert reset.status_code == 200, reset.text
        await login(client, person.email, NEW_PASSWORD)

        assert (await client.delete("/auth/oauth/accounts/corp")).status_code == 204

        events = await logged(person.email)
        assert types(events) == [
            "provider_linked",  # made with the account
            "password_set",
            "session_ended",  # the reset ends every session
            "sign_in",  # both sign-ins, from one device and network: the latest's time
            "provider_unlinked",
        ]
        assert events[0]["detail"] == {"provider": "corp"} and events[4]["detail"] == {"provider": "corp"}
        assert events[3]["detail"]["methods"] == {"provider:corp": 1, "password": 1}
        assert events[2]["detail"] == {"reason": "password reset", "sessions": 1}
        assert all(e["ip"] == "127.0.0.1" and e["device"] == "Python script" for e in events)


# Sessions and passwords


async def test_sign_outs_and_ended_sessions_are_logged(server: Server) -> None:
    email = "sessions@example.com"
    laptop, phone, tablet, desktop = (server.client() for _ in range(4))
    await register(laptop, email)
    sids = [claims_of(await login(device, email))["sid"] for device in (laptop, phone, tablet, desktop)]

    assert (await laptop.delete(f"/auth/sessions/{sids[1]}")).status_code == 204
    assert (await laptop.post("/auth/logout-others")).status_code == 204
    assert (await laptop.post("/auth/jwt/logout")).status_code == 204

    events = await logged(email)
    assert types(events) == ["sign_in", "session_ended", "session_ended", "sign_out"]
    assert events[0]["detail"]["count"] == 4
    assert events[1]["detail"] == {"session_id": sids[1], "reason": "ended from another session"}
    assert events[2]["detail"] == {"reason": "ended from another session", "sessions": 2}
    assert events[3]["detail"] == {"session_id": sids[0], "reason": "logout"}
    # Signing out everywhere is one sign-out, for every session.
    again, other = server.client(), server.client()
    await login(again, email)
    await login(other, email)
    assert (await again.post("/auth/logout-all")).status_code == 204
    assert (await logged(email))[-1]["type"] == "sign_out"
    assert (await logged(email))[-1]["detail"] == {"reason": "logged out everywhere", "sessions": 2}


async def test_refresh_token_reuse_is_logged_once(make_server: ServerFactory) -> None:
    async with make_server(refresh_grace_seconds=0) as server:
        browser = server.client()
        await register(browser, "reused@example.com")
        signed_in = await log_in(browser, "reused@example.com")
        stolen = refresh_token_in(signed_in)
        assert (await browser.post("/auth/jwt/refresh")).status_code == 200

        replay = await refresh_with(server, stolen)

        assert replay.json() == {"detail": "REFRESH_TOKEN_REUSED"}
        events = await logged("reused@example.com")
        assert types(events) == ["sign_in", "refresh_token_reused"]  # not also a session_ended
        reused = events[1]
        sid = claims_of(signed_in.json()["access_token"])["sid"]
        assert reused["detail"] == {"session_id": sid, "reason": "refresh token reuse"}
        assert reused["ip"] == "127.0.0.1"


async def test_password_change_and_reset_are_logged(server: Server) -> None:
    email = "passwords@example.com"
    client, other = server.client(), server.client()
    signed_in = await verified_sign_up(client, email)
    await login(other, email)

    wrong = await client.post(
        "/users/me/password", json={"current_password": "not it at all", "new_password": NEW_PASSWORD}
    )
    changed = await client.post(
        "/users/me/password", json={"current_password": PASSWORD, "new_password": NEW_PASSWORD}
    )
    await server.client().post("/auth/forgot-password", json={"email": email})
    token = await mailed_token(client, "/reset-password", email)
    reset = await server.client().post("/auth/reset-password", json={"token": token, "password": PASSWORD})

    assert (wrong.status_code, changed.status_code, reset.status_code) == (400, 200, 200)
    events = await logged(email)
    assert types(events) == [
        "address_verified",
        "sign_in",  # both sign-ins, from one device and network: the latest's time
        "password_change_refused",
        "password_changed",
        "session_ended",
        "password_reset",
        "session_ended",
    ]
    assert events[0]["detail"] == {"via": "verification_link"}
    # Not a failed sign-in: the one asking is signed in; the session it came from is named.
    assert events[2]["detail"] == {"session_id": claims_of(signed_in)["sid"]}
    assert events[3]["detail"] == {} and events[3]["device"] == "Python script"
    assert events[4]["detail"] == {"reason": "password changed", "sessions": 1}
    assert events[6]["detail"] == {"reason": "password reset", "sessions": 1}


# Failed attempts and lockouts


async def test_failed_attempts_are_summarised_in_one_event(
    server: Server, clock: Clock, one_hour: datetime
) -> None:
    email = "guessed@example.com"
    client, _, _ = await enrolled(server, clock, email)
    await register(server.client(), "bystander@example.com")
    browser = server.client(headers={"User-Agent": CHROME_WINDOWS})

    for _ in range(3):
        wrong = await browser.post("/auth/jwt/login", data={"username": email, "password": "wrong guess"})
        assert wrong.status_code == 400
    assert (await verify(browser, await ticket_for(server, email), code=WRONG_CODE)).status_code == 400
    assert (await client.post("/auth/confirm", json={"code": WRONG_CODE})).status_code == 400
    unknown = await browser.post("/auth/jwt/login", data={"username": "nobody@example.com", "password": "x"})
    assert unknown.status_code == 400

    failed = once(await logged(email), "sign_in_failed")
    assert failed["detail"] == {
        "count": 5,
        "kinds": {"password": 3, "second_factor": 1, "confirmation": 1},
        "last_at": one_hour,
    }
    assert failed["at"] == one_hour
    # The latest attempt's origin (the confirmation, from the signed-in client).
    assert failed["device"] == "Python script"
    assert await SecurityEvent.find({"type": "sign_in_failed"}).count() == 1  # none for unknown addresses
    assert once(await activity_of(client), "sign_in_failed")["detail"]["count"] == 5


async def test_a_lockout_is_logged_once(make_server: ServerFactory, one_hour: datetime) -> None:
    async with make_server(rate_limit_login_account="3/15minutes") as server:
        browser = server.client(headers={"User-Agent": FIREFOX_LINUX})
        await register(browser, "locked@example.com")

        answers = [
            await browser.post("/auth/jwt/login", data={"username": "locked@example.com", "password": "nope"})
            for _ in range(5)
        ]
        right = await browser.post(
            "/auth/jwt/login", data={"username": "locked@example.com", "password": PASSWORD}
        )

        assert [a.status_code for a in answers] + [right.status_code] == [400, 400, 400, 429, 429, 429]
        events = await logged("locked@example.com")
        assert types(events) == ["sign_in_failed", "locked_out"]
        assert events[0]["detail"]["count"] == 3  # refused attempts are not tried, so not counted
        assert events[1]["detail"] == {"failures": 3, "window_seconds": 900}
        assert events[1]["device"] == "Firefox on Linux"


async def test_wrong_current_passwords_count_toward_the_lockout(
    make_server: ServerFactory, one_hour: datetime
) -> None:
    # Guessing the current password from a stolen session is throttled like guessing it at login
    # (ASVS 5.0 6.3.1): the same per-account counter, the same lockout, logged as refused changes.
    async with make_server(rate_limit_login_account="3/15minutes") as server:
        client = server.client()
        await signed_up(client, "stolen@example.com")
        guess = {"current_password": "guess guess guess", "new_password": NEW_PASSWORD}

        guesses = [(await client.post("/users/me/password", json=guess)).status_code for _ in range(4)]
        right = await server.client().post(
            "/auth/jwt/login", data={"username": "stolen@example.com", "password": PASSWORD}
        )

        assert [*guesses, right.status_code] == [400, 400, 400, 429, 429]
        events = await logged("stolen@example.com")
        assert types(events) == ["sign_in"] + ["password_change_refused"] * 3 + ["locked_out"]
        assert events[-1]["detail"] == {"failures": 3, "window_seconds": 900}


# Second factors and passkeys


async def test_second_factor_changes_are_logged(server: Server, clock: Clock) -> None:
    email = "factors@example.com"
    client, _, _ = await enrolled(server, clock, email)
    codes = (await client.post("/auth/mfa/recovery-codes")).json()["recovery_codes"]
    signed_in = await verify(server.client(), await ticket_for(server, email), recovery_code=codes[0])
    assert signed_in.status_code == 200, signed_in.text

    assert (await client.delete("/auth/mfa/totp")).status_code == 200

    events = await logged(email)
    assert types(events) == [
        "address_verified",
        "second_factor_added",
        "recovery_codes_regenerated",
        "sign_in",  # both sign-ins: the latest's time
        "second_factor_removed",
        "session_ended",
    ]
    assert events[1]["detail"] == {"factor": "totp"} and events[4]["detail"] == {"factor": "totp"}
    assert events[2]["detail"] == {}
    assert events[5]["detail"] == {"reason": "second factor removed", "sessions": 1}


async def test_passkeys_added_and_removed_are_logged(server: Server, clock: Clock) -> None:
    email = "keys@example.com"
    client = server.client()
    await verified_sign_up(client, email)
    _, added = await add_passkey(client, "Work laptop")
    passkey_id = added.json()["passkey"]["id"]

    assert (await client.delete(f"/auth/passkeys/{passkey_id}")).status_code == 204

    events = await logged(email)
    assert types(events) == ["sign_in", "address_verified", "passkey_added", "passkey_removed"]
    assert events[2]["detail"] == events[3]["detail"] == {"passkey_id": passkey_id, "name": "Work laptop"}


async def test_an_administrators_reset_is_logged(server: Server, clock: Clock) -> None:
    email = "reset-me@example.com"
    await enrolled(server, clock, email)
    admin = server.client(headers={"User-Agent": FIREFOX_LINUX})
    await register(admin, "root@example.com")
    await User.get_pymongo_collection().update_one(
        {"email": "root@example.com"}, {"$set": {"is_superuser": True}}
    )
    await login(admin, "root@example.com")
    user, admin_user = await user_named(email), await user_named("root@example.com")

    assert (await admin.delete(f"/users/{user.id}/second-factors")).status_code == 204

    events = await logged(email)
    assert types(events)[-2:] == ["second_factors_reset", "session_ended"]
    assert events[-2]["detail"] == {"by": str(admin_user.id)}
    assert events[-2]["device"] == "Firefox on Linux"  # where the administrator was
    assert events[-1]["detail"] == {"reason": "second factors reset by an administrator", "sessions": 1}


# Reading the log


async def test_the_log_pages_newest_first(server: Server) -> None:
    client = server.client()
    await signed_up(client, "pages@example.com")
    user = await user_named("pages@example.com")
    for type in get_args(EventType):  # every type the log knows, readable through the API
        await security_log.record(user.id, type)
    same_moment = datetime.now(UTC).replace(microsecond=0) + timedelta(seconds=5)
    tied = [
        {"_id": ObjectId(), "user_id": user.id, "at": same_moment, "type": "sign_out", "detail": {"n": n}}
        for n in range(3)
    ]
    await SecurityEvent.get_pymongo_collection().insert_many(tied)

    everything = await activity_of(client)
    pages, response = [], await client.get("/users/me/activity", params={"limit": 4})
    while True:
        assert response.status_code == 200, response.text
        pages.append(response.json())
        link = response.headers.get("link")
        if link is None:
            break
        match = re.fullmatch(r'<(/users/me/activity\?limit=4&cursor=[\w-]+)>; rel="next"', link)
        assert match, link
        response = await client.get(match.group(1))

    total = 1 + len(get_args(EventType)) + 3
    assert len(everything) == total
    assert [len(page) for page in pages] == [min(4, total - start) for start in range(0, total, 4)]
    assert [e["id"] for page in pages for e in page] == [e["id"] for e in everything]
    positions = [(datetime.fromisoformat(e["at"]), e["id"]) for e in everything]
    assert positions == sorted(positions, reverse=True)
    assert [e["detail"] for e in everything[:3]] == [{"n": 2}, {"n": 1}, {"n": 0}]
    assert everything[-1]["type"] == "sign_in"
    assert set(types(everything)) == set(get_args(EventType))
    assert (await client.get("/users/me/activity")).json() == everything[:20]  # the default limit


@pytest.mark.parametrize(
    "params", [{"cursor": "not-a-cursor"}, {"cursor": "eyJ0IjoxfQ"}, {"limit": 0}, {"limit": 101}]
)
async def test_a_bad_cursor_or_limit_is_422(client: AsyncClient, params: dict[str, Any]) -> None:
    await signed_up(client, "bad-cursor@example.com")

    response = await client.get("/users/me/activity", params=params)

    assert response.status_code == 422, response.text
    assert response.json()["detail"][0]["loc"] == ["query", next(iter(params))]


async def test_superusers_read_anyones_log_and_nobody_else_does(server: Server) -> None:
    client = server.client()
    await signed_up(client, "watched@example.com")
    await login(server.client(), "watched@example.com")
    admin = await superuser_client(server)
    user, root = await user_named("watched@example.com"), await user_named("root@example.com")
    await security_log.record(user.id, "password_changed")  # a second event: a second page

    theirs = await admin.get(f"/users/{user.id}/activity", params={"limit": 1})

    assert theirs.status_code == 200, theirs.text
    assert theirs.json() == (await activity_of(client))[:1]
    assert theirs.headers["link"].startswith(f"</users/{user.id}/activity?limit=1&cursor=")
    assert (await client.get(f"/users/{user.id}/activity")).status_code == 403
    assert (await client.get(f"/users/{root.id}/activity")).status_code == 403
    assert (await server.client().get(f"/users/{user.id}/activity")).status_code == 401
    assert (await server.client().get("/users/me/activity")).status_code == 401
    assert (await admin.get(f"/users/{ObjectId()}/activity")).status_code == 404


# Keeping and forgetting


async def test_entries_expire_through_a_ttl_index_that_follows_the_setting(
    make_server: ServerFactory,
) -> None:
    async with make_server() as server:
        events = SecurityEvent.get_pymongo_collection()
        expiry = (await events.index_information())[EXPIRY_INDEX]
        assert expiry["key"] == [("at", 1)] and expiry["expireAfterSeconds"] == 90 * 86400

        # Another start with another retention changes the index it finds (collMod on a real
        # server, drop and create on mongomock); the same retention leaves it alone.
        for days in (7, 7, 3650):
            async with make_server(share_with=server, security_log_retention_days=days):
                expiry = (await SecurityEvent.get_pymongo_collection().index_information())[EXPIRY_INDEX]
                assert expiry["key"] == [("at", 1)] and expiry["expireAfterSeconds"] == days * 86400


async def test_a_failing_log_never_fails_the_request(
    server: Server, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    client = server.client()
    await register(client, "unlogged@example.com")
    events = SecurityEvent.get_pymongo_collection()

    async def broken(*args: Any, **kwargs: Any) -> None:
        raise RuntimeError("the log's collection is unavailable")

    for method in ("insert_one", "update_one", "find_one"):
        monkeypatch.setattr(events, method, broken)

    wrong = await client.post(
        "/auth/jwt/login", data={"username": "unlogged@example.com", "password": "nope"}
    )
    first = await client.post(
        "/auth/jwt/login", data={"username": "unlogged@example.com", "password": PASSWORD}
    )
    second = await server.client(headers={"User-Agent": CHROME_WINDOWS}).post(
        "/auth/jwt/login", data={"username": "unlogged@example.com", "password": PASSWORD}
    )
    out = await client.post("/auth/jwt/logout")

    assert [r.status_code for r in (wrong, first, second, out)] == [400, 200, 200, 204]
    assert "could not record a failed sign-in" in caplog.text
    assert "could not record the security event sign_in" in caplog.text
    monkeypatch.undo()
    assert await logged("unlogged@example.com") == []


async def test_a_failing_new_device_check_mails_nothing_and_says_not_new(
    server: Server, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    email = "unchecked@example.com"
    await signed_up(server.client(), email)
    notices: list[str] = []

    async def notice(self: Any, user: User, device: str, ip: str) -> None:
        notices.append(device)

    def broken(*args: Any, **kwargs: Any) -> None:
        raise RuntimeError("the log cannot be read")

    monkeypatch.setattr(ActivityLetters, "send_new_device_notice", notice)
    monkeypatch.setattr(SecurityEvent.get_pymongo_collection(), "find", broken)

    await login(server.client(headers={"User-Agent": CHROME_WINDOWS}), email)

    assert "could not tell whether a sign-in comes from a new device" in caplog.text
    monkeypatch.undo()
    assert notices == []
    chrome = [e for e in await logged(email) if e["device"] == "Chrome on Windows"]
    assert len(chrome) == 1 and chrome[0]["detail"]["new_device"] is False


async def test_deleting_a_user_deletes_their_log(server: Server) -> None:
    client = server.client()
    await signed_up(client, "leaving@example.com")
    admin = await superuser_client(server)
    user = await user_named("leaving@example.com")
    assert await logged("leaving@example.com")

    assert (await admin.delete(f"/users/{user.id}")).status_code == 204

    assert await SecurityEvent.find({"user_id": user.id}).count() == 0
    assert await logged("root@example.com")  # others keep theirs


# New devices


async def test_a_sign_in_from_a_new_device_or_network_is_mailed(
    make_server: ServerFactory, inbox: Inbox
) -> None:
    email = "traveller@example.com"
    async with make_server(**smtp_settings(inbox)) as server:
        firefox = server.client(headers={"User-Agent": FIREFOX_LINUX})
        await register(firefox, email)
        await login(firefox, email)  # the first sign-in: nothing to compare with, no mail
        await login(server.client(headers={"User-Agent": FIREFOX_LINUX}), email)  # known: no mail
        await login(server.client(headers={"User-Agent": CHROME_WINDOWS}), email)  # a new browser
        await login(
            client_at(server, "203.0.113.9", headers={"User-Agent": FIREFOX_LINUX}), email
        )  # elsewhere
        await login(
            client_at(server, "203.0.113.77", headers={"User-Agent": FIREFOX_LINUX}), email
        )  # same /24

        # One summary per device and network: the first (nothing to compare with), Chrome, elsewhere.
        sign_ins = [e for e in await logged(email) if e["type"] == "sign_in"]
        assert [(e["device"], e["network"], e["detail"]["count"]) for e in sign_ins] == [
            ("Firefox on Linux", "127.0.0.0/24", 2),
            ("Chrome on Windows", "127.0.0.0/24", 1),
            ("Firefox on Linux", "203.0.113.0/24", 2),
        ]
        assert [e["detail"]["new_device"] for e in sign_ins] == [False, True, True]
        messages = await inbox.wait_for(3)
        notices = [m for m in messages if m["Subject"] == NEW_DEVICE_SUBJECT]
        assert len(notices) == 2 and {m["To"] for m in notices} == {email}
        texts = sorted(m.get_body(("plain",)).get_content() for m in notices)
        htmls = sorted(m.get_body(("html",)).get_content() for m in notices)
        where = [("Chrome on Windows", "127.0.0.1"), ("Firefox on Linux", "203.0.113.9")]
        for text, html, (device, ip) in zip(texts, htmls, where, strict=True):
            assert f"from {device}, IP {ip}," in text
            assert "End that session here: https://farm.test/account/sessions" in text and "token" not in text
            assert 'href="https://farm.test/account/sessions"' in html and device in html and ip in html


async def test_sign_ins_from_one_device_and_network_are_one_event_counting_them(server: Server) -> None:
    email = "regular@example.com"
    await register(server.client(), email)
    firefox = [server.client(headers={"User-Agent": FIREFOX_LINUX}) for _ in range(3)]
    sids = [claims_of(await login(browser, email))["sid"] for browser in firefox]
    await login(server.client(headers={"User-Agent": CHROME_WINDOWS}), email)
    await login(client_at(server, "198.51.100.4", headers={"User-Agent": FIREFOX_LINUX}), email)

    summaries = [e for e in await logged(email) if e["type"] == "sign_in"]
    assert [(e["device"], e["network"], e["detail"]["count"]) for e in summaries] == [
        ("Firefox on Linux", "127.0.0.0/24", 3),
        ("Chrome on Windows", "127.0.0.0/24", 1),
        ("Firefox on Linux", "198.51.100.0/24", 1),
    ]
    here = summaries[0]
    assert here["detail"]["first_at"] < here["at"]  # the first and the latest sign-in from here
    assert here["detail"]["session_id"] == sids[-1] and here["detail"]["methods"] == {"password": 3}
    # The API shows the summary as stored: one entry, "Signed in 3 times".
    [shown] = [e for e in await activity_of(firefox[0]) if e["id"] == str(here["_id"])]
    assert shown["detail"]["count"] == 3 and shown["device"] == "Firefox on Linux"


async def test_each_account_keeps_at_most_its_cap_of_events(
    make_server: ServerFactory, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(activity, "MAX_EVENTS_PER_ACCOUNT", 5)
    async with make_server() as server:
        email = "busy@example.com"
        browser = server.client(headers={"User-Agent": FIREFOX_LINUX})
        await signed_up(browser, email)
        user = await user_named(email)
        long_ago = utcnow() - timedelta(days=30)
        await SecurityEvent.get_pymongo_collection().insert_many(
            [
                {
                    "user_id": user.id,
                    "type": "sign_out",
                    "at": long_ago + timedelta(minutes=n),
                    "detail": {"n": n},
                }
                for n in range(8)
            ]
        )
        await login(browser, email)  # a known device and network: nothing more is read or dropped
        assert len(await logged(email)) == 9

        await login(server.client(headers={"User-Agent": CHROME_WINDOWS}), email)  # a new one

        kept = await logged(email)
        assert len(kept) == 5  # the newest: the two sign-in summaries and the latest three sign-outs
        assert [e["detail"].get("n") for e in kept if e["type"] == "sign_out"] == [5, 6, 7]
        assert [e["device"] for e in kept if e["type"] == "sign_in"] == [
            "Firefox on Linux",
            "Chrome on Windows",
        ]
        # The first failure of an hour makes a summary too, and checks the cap.
        await SecurityEvent.get_pymongo_collection().insert_many(
            [{"user_id": user.id, "type": "sign_out", "at": long_ago, "detail": {}} for _ in range(3)]
        )
        wrong = await browser.post("/auth/jwt/login", data={"username": email, "password": "nope"})
        assert wrong.status_code == 400
        kept = await logged(email)
        assert len(kept) == 5 and kept[-1]["type"] == "sign_in_failed"


class CollectionCommands(monitoring.CommandListener):
    """The commands sent to `security_events`, by name."""

    def __init__(self) -> None:
        self.commands: list[str] = []

    def started(self, event: monitoring.CommandStartedEvent) -> None:
        if event.command.get(event.command_name) == "security_events":
            self.commands.append(event.command_name)

    def succeeded(self, event: monitoring.CommandSucceededEvent) -> None:
        pass

    def failed(self, event: monitoring.CommandFailedEvent) -> None:
        pass


# Counting wire commands needs the wire; mongomock has no protocol to listen to.
@pytest.mark.parametrize("backend", ["wire"])
async def test_a_sign_in_costs_one_log_command_from_a_known_device_two_from_a_new_one(
    make_server: ServerFactory, wire_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    counter = CollectionCommands()
    sent: list[list[str]] = []
    original = SignInLog.signed_in

    async def counted(self: SignInLog, *args: Any, **kwargs: Any) -> None:
        counter.commands.clear()
        await original(self, *args, **kwargs)
        sent.append(counter.commands.copy())

    monkeypatch.setattr(SignInLog, "signed_in", counted)
    client = AsyncMongoClient(wire_url, tz_aware=True, event_listeners=[counter])
    try:
        async with make_server(mongo_client=client) as server:
            email = "counted-sign-ins@example.com"
            await register(server.client(), email)
            await login(server.client(headers={"User-Agent": FIREFOX_LINUX}), email)
            await login(server.client(headers={"User-Agent": FIREFOX_LINUX}), email)
            await login(server.client(headers={"User-Agent": CHROME_WINDOWS}), email)

            assert sent == [
                # The account's first sign-in: the summary inserted, the account's newest events
                # read (no other sign-in: not a new device, so the summary says so).
                ["update", "find", "update"],
                ["update"],  # a known device and network: the summary counts it
                ["update", "find"],  # a new one: inserted, and the newest events read
            ]
    finally:
        await client.close()


@pytest.mark.parametrize("backend", ["wire"])
async def test_concurrent_first_sign_ins_from_a_new_device_mail_once(
    server: Server, monkeypatch: pytest.MonkeyPatch
) -> None:
    email = "racing@example.com"
    await signed_up(server.client(), email)
    notices: list[str] = []

    async def notice(self: Any, user: User, device: str, ip: str) -> None:
        notices.append(device)

    monkeypatch.setattr(ActivityLetters, "send_new_device_notice", notice)

    browsers = [server.client(headers={"User-Agent": CHROME_WINDOWS}) for _ in range(6)]
    await asyncio.gather(*(login(browser, email) for browser in browsers))

    assert notices == ["Chrome on Windows"]
    chrome = [e for e in await logged(email) if e["device"] == "Chrome on Windows"]
    assert len(chrome) == 1 and chrome[0]["detail"]["count"] == 6 and chrome[0]["detail"]["new_device"]


async def test_exactly_one_of_racing_first_writers_inserts_a_summary(server: Server) -> None:
    # What the new-device mail (once) and the cap's trim rely on; logins through the app are
    # serialised by password hashing, so the race is run on the summary itself, many times.
    for attempt in range(10):
        summary_id = ObjectId()
        update = {"$setOnInsert": {"user_id": summary_id, "type": "sign_in"}, "$inc": {"detail.count": 1}}
        inserted = await asyncio.gather(*(activity.count_on_summary(summary_id, update) for _ in range(8)))
        assert sorted(inserted) == [False] * 7 + [True], attempt
        stored = await SecurityEvent.get_pymongo_collection().find_one({"_id": summary_id})
        assert stored is not None and stored["detail"]["count"] == 8


# Devices and networks


def test_devices_are_named_as_the_sessions_page_names_them() -> None:
    source = (REPO / "frontend" / "src" / "lib" / "device.ts").read_text()
    table = [
        (pattern.replace("\\/", "/"), label)
        for pattern, label in re.findall(r'\[/(.+?)/, "([^"]+)"\]', source)
    ]

    assert table == BROWSERS + SYSTEMS
    for user_agent, expected in [
        (FIREFOX_LINUX, "Firefox on Linux"),
        (CHROME_WINDOWS + " Edg/156.0", "Edge on Windows"),
        (
            "Mozilla/5.0 (iPhone; CPU iPhone OS 18_0 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) "
            "Version/18.0 Mobile/15E148 Safari/604.1",
            "Safari on iOS",
        ),
        (
            "Mozilla/5.0 (Linux; Android 15) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/156.0 Mobile",
            "Chrome on Android",
        ),
        ("curl/8.5.0", "curl"),
        ("python-httpx/0.28.1", "Python script"),
        ("Laptop Browser/1.0", "Browser"),
        ("", "Unknown device"),
    ]:
        assert describe_device(user_agent) == expected, user_agent


def test_networks_are_ipv4_24s_and_ipv6_64s() -> None:
    assert ip_network("203.0.113.77") == "203.0.113.0/24"
    assert ip_network("::ffff:203.0.113.77") == "203.0.113.0/24"
    assert ip_network("2001:db8:1:2:3:4:5:6") == "2001:db8:1:2::/64"
    assert ip_network("unknown") == "unknown"
