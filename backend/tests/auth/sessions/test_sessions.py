"""Sessions that can really be ended: refresh rotation, reuse detection, revocation."""

import asyncio
from datetime import timedelta

import pytest
from httpx import AsyncClient, Response
from pymongo import AsyncMongoClient, monitoring

from backend.apps.auth.sessions import service
from backend.apps.auth.sessions.models import RefreshToken, Session
from backend.apps.auth.sessions.service import ENDED_SESSION_SECONDS
from backend.apps.user.models import User
from backend.core.clock import utcnow
from backend.core.crypto import new_secret, token_hash
from backend.tests.conftest import Server
from backend.tests.helpers import (
    PASSWORD,
    bearer,
    claims_of,
    cookie_attributes,
    mailed_token,
    register,
    signed_up,
)


async def log_in(client: AsyncClient, email: str, password: str = PASSWORD) -> Response:
    response = await client.post("/auth/jwt/login", data={"username": email, "password": password})
    assert response.status_code == 200, response.text
    return response


def refresh_token_in(response: Response) -> str:
    return cookie_attributes(response, "FARM_refresh")["value"]


async def refresh_with(server: Server, token: str) -> Response:
    """A refresh as any holder of `token` would send it (a fresh client, no other cookies)."""
    return await server.client().post("/auth/jwt/refresh", headers={"Cookie": f"FARM_refresh={token}"})


async def two_devices(server: Server, email: str) -> tuple[AsyncClient, AsyncClient]:
    """One account logged in from two browsers."""
    first, second = server.client(), server.client()
    await register(first, email)
    await log_in(first, email)
    await log_in(second, email)
    return first, second


async def test_login_sets_refresh_and_csrf_cookies(server: Server, client: AsyncClient) -> None:
    await register(client, "cookies@example.com")

    response = await log_in(client, "cookies@example.com")

    refresh = cookie_attributes(response, "FARM_refresh")
    assert "httponly" in refresh and "secure" in refresh
    assert refresh["samesite"].lower() == "strict"
    assert refresh["path"] == "/auth/jwt/refresh"
    assert int(refresh["max-age"]) == pytest.approx(server.settings.session_idle_timeout_seconds, abs=5)
    csrf = cookie_attributes(response, "FARM_csrf")
    assert "httponly" not in csrf and "secure" in csrf
    assert csrf["samesite"].lower() == "strict" and csrf["path"] == "/"
    assert refresh["value"] not in response.text  # the refresh token travels only in its cookie


async def test_refresh_tokens_are_not_stored(client: AsyncClient) -> None:
    await register(client, "unstored@example.com")
    token = refresh_token_in(await log_in(client, "unstored@example.com"))

    session = await Session.get_pymongo_collection().find_one()

    # The token names its user, session and generation under a MAC; the session holds the
    # generation, and nothing per token is written anywhere.
    user_id, session_id, generation, mac = token.split(".")
    assert (user_id, session_id, generation) == (str(session["user_id"]), session["_id"], "0")
    assert session["generation"] == 0 and mac not in str(session)
    assert await RefreshToken.find_all().count() == 0
    assert (await client.post("/auth/jwt/refresh")).status_code == 200
    assert await RefreshToken.find_all().count() == 0
    assert (await Session.get(session_id)).generation == 1


async def test_a_forged_refresh_token_is_refused_and_revokes_nothing(server: Server) -> None:
    client = server.client()
    await register(client, "forged@example.com")
    token = refresh_token_in(await log_in(client, "forged@example.com"))
    user_id, session_id, generation, mac = token.split(".")
    forgeries = [
        f"{user_id}.{session_id}.{int(generation) + 5}.{mac}",  # a later generation, the same MAC
        f"{user_id}.{session_id}.{generation}.{mac[:-2]}AA",  # a garbled MAC
        f"{user_id}.{session_id}.{generation}",  # no MAC at all
        f"{user_id}.{session_id}.-1.{mac}",
        f"{user_id}.{session_id}.{generation}.\u00e9{mac[1:]}",  # not ASCII
        f"{user_id}.{session_id}.\u00b2.{mac}",  # a digit, but not an ASCII one
    ]

    for forged in forgeries:
        cookie = f"FARM_refresh={forged}".encode()  # as a browser may send it: bytes, not all ASCII
        response = await server.client().post("/auth/jwt/refresh", headers={"Cookie": cookie})
        assert response.status_code == 401 and response.json() == {"detail": "REFRESH_TOKEN_INVALID"}

    assert (await Session.get(session_id)).revoked_at is None
    assert (await refresh_with(server, token)).status_code == 200


async def test_refresh_tokens_survive_a_rotation_of_the_secret(make_server) -> None:
    old_secret, new_secret = (f"{name}-secret-0123456789-abcdefghijklmnopqrstu" for name in ["old", "new"])

    def keys(*secrets: str) -> dict[str, object]:
        return {"jwt_secret_key": None, "jwt_secret_keys": ",".join(secrets)}

    # Three instances on one database: before the rotation, during it (the new secret first,
    # the old one still listed), after it.
    async with (
        make_server(**keys(old_secret)) as before,
        make_server(share_with=before, **keys(new_secret, old_secret)) as during,
        make_server(share_with=before, **keys(new_secret)) as after,
    ):
        client = before.client()
        await register(client, "rotating.secret@example.com")
        made_with_old = refresh_token_in(await log_in(client, "rotating.secret@example.com"))

        successor = refresh_token_in(await refresh_with(during, made_with_old))

        assert (await refresh_with(after, successor)).status_code == 200  # made with the new secret
        older = refresh_token_in(await log_in(before.client(), "rotating.secret@example.com"))
        assert (await refresh_with(after, older)).json() == {"detail": "REFRESH_TOKEN_INVALID"}
        assert (await refresh_with(during, older)).status_code == 200


async def test_refresh_rotates_and_keeps_the_session(server: Server, client: AsyncClient) -> None:
    await register(client, "rotate@example.com")
    login = await log_in(client, "rotate@example.com")
    first = refresh_token_in(login)

    response = await client.post("/auth/jwt/refresh")

    assert response.status_code == 200
    assert set(response.json()) == {"access_token", "token_type"}
    new_access = response.json()["access_token"]
    assert cookie_attributes(response, "FARM_auth")["value"] == new_access
    assert claims_of(new_access)["sid"] == claims_of(login.json()["access_token"])["sid"]
    assert claims_of(new_access)["jti"] != claims_of(login.json()["access_token"])["jti"]
    assert refresh_token_in(response) != first
    assert (await server.client().get("/users/me", headers=bearer(new_access))).status_code == 200
    # The jar now holds the new token, and it works in turn.
    assert (await client.post("/auth/jwt/refresh")).status_code == 200


async def test_refresh_without_a_valid_cookie_is_401(server: Server) -> None:
    missing = await server.client().post("/auth/jwt/refresh")
    garbage = await refresh_with(server, "not-a-token")

    for response in [missing, garbage]:
        assert response.status_code == 401
        assert response.json() == {"detail": "REFRESH_TOKEN_INVALID"}
        assert cookie_attributes(response, "FARM_refresh")["max-age"] == "0"


async def test_reusing_a_refresh_token_revokes_the_whole_family(make_server) -> None:
    async with make_server(refresh_grace_seconds=0) as server:
        browser = server.client()
        await register(browser, "victim@example.com")
        stolen = refresh_token_in(await log_in(browser, "victim@example.com"))
        rotated = await browser.post("/auth/jwt/refresh")
        newest = refresh_token_in(rotated)
        access = rotated.json()["access_token"]

        replay = await refresh_with(server, stolen)

        assert replay.status_code == 401
        assert replay.json() == {"detail": "REFRESH_TOKEN_REUSED"}
        # Every token of the session is dead, the newest included, and the access token too.
        assert (await refresh_with(server, newest)).json() == {"detail": "SESSION_ENDED"}
        assert (await server.client().get("/users/me", headers=bearer(access))).status_code == 401
        assert (await browser.get("/users/me")).status_code == 401


async def test_second_tab_racing_inside_the_grace_window_is_not_logged_out(server: Server) -> None:
    tab_one = server.client()
    await register(tab_one, "tabs@example.com")
    shared = refresh_token_in(await log_in(tab_one, "tabs@example.com"))

    first = await refresh_with(server, shared)
    second = await refresh_with(server, shared)  # the other tab, same cookie, a moment later

    assert first.status_code == second.status_code == 200
    # One rotation: the second tab gets the same successor (the server cannot tell it from a retry
    # whose first answer was lost, and the browser's jar holds that successor either way).
    assert refresh_token_in(second) == refresh_token_in(first) != shared
    assert (
        await server.client().get("/users/me", headers=bearer(second.json()["access_token"]))
    ).status_code == 200
    assert (await refresh_with(server, refresh_token_in(first))).status_code == 200


async def test_grace_covers_only_the_immediately_previous_token(server: Server) -> None:
    client = server.client()
    await register(client, "older@example.com")
    oldest = refresh_token_in(await log_in(client, "older@example.com"))
    middle = refresh_token_in(await refresh_with(server, oldest))
    assert (await refresh_with(server, middle)).status_code == 200

    replay = await refresh_with(server, oldest)  # two rotations old: theft, not a racing tab

    assert replay.json() == {"detail": "REFRESH_TOKEN_REUSED"}


async def test_concurrent_refreshes_on_two_workers_rotate_once(make_server) -> None:
    async with make_server() as worker_one, make_server(share_with=worker_one) as worker_two:
        client = worker_one.client()
        await register(client, "race@example.com")
        token = refresh_token_in(await log_in(client, "race@example.com"))

        responses = await asyncio.gather(
            *[refresh_with(worker, token) for worker in [worker_one, worker_two] * 5]
        )

        assert [r.status_code for r in responses] == [200] * 10
        assert len({refresh_token_in(r) for r in responses}) == 1  # one successor, handed to all
        assert [s.generation for s in await Session.find_all().to_list()] == [1]  # one rotation


async def test_logout_ends_the_session_at_once(server: Server) -> None:
    browser = server.client()
    await register(browser, "leaver@example.com")
    login = await log_in(browser, "leaver@example.com")
    access, refresh_token = login.json()["access_token"], refresh_token_in(login)

    response = await browser.post("/auth/jwt/logout")

    assert response.status_code == 204
    for name in ["FARM_auth", "FARM_refresh", "FARM_csrf"]:
        assert cookie_attributes(response, name)["max-age"] == "0"
    replay = server.client()
    assert (await replay.get("/users/me", headers=bearer(access))).status_code == 401
    replay.cookies.set("FARM_auth", access)
    assert (await replay.get("/users/me")).status_code == 401
    assert (await refresh_with(server, refresh_token)).json() == {"detail": "SESSION_ENDED"}


async def test_sessions_list_marks_the_current_one(server: Server) -> None:
    laptop = server.client(headers={"User-Agent": "Laptop Browser/1.0"})
    phone = server.client(headers={"User-Agent": "Phone Browser/2.0"})
    await register(laptop, "devices@example.com")
    await log_in(laptop, "devices@example.com")
    await log_in(phone, "devices@example.com")

    listed = (await laptop.get("/auth/sessions")).json()

    assert len(listed) == 2
    assert {s["user_agent"] for s in listed} == {"Laptop Browser/1.0", "Phone Browser/2.0"}
    assert [s["current"] for s in listed if s["user_agent"].startswith("Laptop")] == [True]
    assert [s["current"] for s in listed if s["user_agent"].startswith("Phone")] == [False]
    assert all(s["ip"] == "127.0.0.1" and s["last_used_at"] and s["created_at"] for s in listed)


async def test_ending_another_device_logs_it_out(server: Server) -> None:
    laptop, phone = await two_devices(server, "two.devices@example.com")
    phone_session = next(s for s in (await laptop.get("/auth/sessions")).json() if not s["current"])

    response = await laptop.delete(f"/auth/sessions/{phone_session['id']}")

    assert response.status_code == 204
    assert (await phone.get("/users/me")).status_code == 401
    assert (await phone.post("/auth/jwt/refresh")).json() == {"detail": "SESSION_ENDED"}
    assert (await laptop.get("/users/me")).status_code == 200
    assert len((await laptop.get("/auth/sessions")).json()) == 1


async def test_someone_elses_session_is_404(server: Server) -> None:
    alice, bob = server.client(), server.client()
    await signed_up(alice, "alice.s@example.com")
    await signed_up(bob, "bob.s@example.com")
    bobs = (await bob.get("/auth/sessions")).json()[0]["id"]

    assert (await alice.delete(f"/auth/sessions/{bobs}")).status_code == 404
    assert (await alice.delete("/auth/sessions/no-such-session")).status_code == 404
    assert (await bob.get("/users/me")).status_code == 200


async def test_logout_all_ends_every_session(server: Server) -> None:
    first, second = await two_devices(server, "everywhere@example.com")

    response = await first.post("/auth/logout-all")

    assert response.status_code == 204
    assert (await first.get("/users/me")).status_code == 401
    assert (await second.get("/users/me")).status_code == 401
    assert (await second.post("/auth/jwt/refresh")).status_code == 401


async def test_password_change_ends_my_other_sessions(server: Server) -> None:
    here, elsewhere = await two_devices(server, "changer@example.com")

    response = await here.post(
        "/users/me/password", json={"current_password": PASSWORD, "new_password": "quiet harbour lantern 7"}
    )

    assert response.status_code == 200 and response.json()["email"] == "changer@example.com"
    assert (await here.get("/users/me")).status_code == 200
    assert (await here.post("/auth/jwt/refresh")).status_code == 200
    assert (await elsewhere.get("/users/me")).status_code == 401
    assert (await elsewhere.post("/auth/jwt/refresh")).status_code == 401
    await log_in(server.client(), "changer@example.com", "quiet harbour lantern 7")


async def test_password_change_refusals_say_why(client: AsyncClient) -> None:
    await signed_up(client, "careful@example.com")

    wrong = await client.post(
        "/users/me/password",
        json={"current_password": "not it at all", "new_password": "quiet harbour lantern 7"},
    )
    weak = await client.post(
        "/users/me/password", json={"current_password": PASSWORD, "new_password": "password1"}
    )
    missing = await client.post("/users/me/password", json={"new_password": "quiet harbour lantern 7"})

    assert wrong.status_code == 400
    assert wrong.json()["detail"] == {
        "code": "CHANGE_PASSWORD_BAD_CURRENT",
        "reason": "The current password is wrong.",
    }
    assert weak.status_code == 400 and weak.json()["detail"]["code"] == "CHANGE_PASSWORD_INVALID_PASSWORD"
    assert "too easy to guess" in weak.json()["detail"]["reason"]
    assert missing.status_code == 422
    await log_in(client, "careful@example.com")  # the password did not change


async def test_patch_me_no_longer_changes_the_password(client: AsyncClient) -> None:
    await signed_up(client, "patcher@example.com")

    response = await client.patch("/users/me", json={"password": "quiet harbour lantern 7"})

    assert response.status_code == 422
    assert "POST /users/me/password" in response.text
    await log_in(client, "patcher@example.com")


async def test_password_reset_ends_every_session(server: Server) -> None:
    client = server.client()
    await register(client, "reset.all@example.com")
    await log_in(client, "reset.all@example.com")
    await server.client().post("/auth/forgot-password", json={"email": "reset.all@example.com"})
    token = await mailed_token(client, "/reset-password", "reset.all@example.com")

    response = await server.client().post(
        "/auth/reset-password", json={"token": token, "password": "quiet harbour lantern 7"}
    )

    assert response.status_code == 200
    assert (await client.get("/users/me")).status_code == 401
    assert (await client.post("/auth/jwt/refresh")).status_code == 401


async def test_deactivation_ends_sessions_for_good(server: Server) -> None:
    user_client = server.client()
    await register(user_client, "deactivated@example.com")
    await log_in(user_client, "deactivated@example.com")
    user = await User.find_one(User.email == "deactivated@example.com")
    admin = server.client()
    await register(admin, "admin.s@example.com")
    await User.find_one(User.email == "admin.s@example.com").set({User.is_superuser: True})
    await log_in(admin, "admin.s@example.com")

    assert (await admin.patch(f"/users/{user.id}", json={"is_active": False})).status_code == 200
    assert (await user_client.post("/auth/jwt/refresh")).status_code == 401
    # Reactivating the account does not bring the old sessions back.
    assert (await admin.patch(f"/users/{user.id}", json={"is_active": True})).status_code == 200
    assert (await user_client.get("/users/me")).status_code == 401
    assert (await user_client.post("/auth/jwt/refresh")).status_code == 401


async def test_deleting_a_user_forgets_their_sessions(server: Server) -> None:
    client = server.client()
    await signed_up(client, "gone@example.com")
    user = await User.find_one(User.email == "gone@example.com")
    admin = server.client()
    await register(admin, "admin.d@example.com")
    await User.find_one(User.email == "admin.d@example.com").set({User.is_superuser: True})
    await log_in(admin, "admin.d@example.com")

    assert (await admin.delete(f"/users/{user.id}")).status_code == 204

    assert await Session.find(Session.user_id == user.id).count() == 0
    assert await RefreshToken.find(RefreshToken.user_id == user.id).count() == 0
    assert (await client.post("/auth/jwt/refresh")).status_code == 401


async def test_idle_and_absolute_deadlines(make_server) -> None:
    async with make_server(
        session_idle_timeout_seconds=3600, session_absolute_lifetime_seconds=7200
    ) as server:
        client = server.client()
        await register(client, "deadlines@example.com")
        await log_in(client, "deadlines@example.com")
        session = await Session.find_one()
        now = utcnow()
        assert session.expires_at - now == pytest.approx(timedelta(hours=1), abs=timedelta(seconds=10))
        assert session.absolute_expires_at - now == pytest.approx(
            timedelta(hours=2), abs=timedelta(seconds=10)
        )

        # Near the absolute deadline, a refresh extends the session only up to it.
        deadline = now + timedelta(seconds=100)
        await session.set({Session.absolute_expires_at: deadline})
        refreshed = await client.post("/auth/jwt/refresh")
        assert int(cookie_attributes(refreshed, "FARM_refresh")["max-age"]) == pytest.approx(100, abs=5)

        # Past the deadline the session is over, whatever the TTL monitor has done yet.
        await Session.find_all().update({"$set": {"expires_at": now - timedelta(seconds=1)}})
        assert (await client.post("/auth/jwt/refresh")).json() == {"detail": "SESSION_ENDED"}


async def test_expiring_documents_have_ttl_indexes(client: AsyncClient) -> None:
    for collection in ["sessions", "refresh_tokens", "rate_limits"]:
        indexes = await User.get_pymongo_collection().database[collection].index_information()
        ttl = [spec for spec in indexes.values() if "expireAfterSeconds" in spec]
        assert ttl and list(ttl[0]["key"]) == [("expires_at", 1)], collection


class CommandCounter(monitoring.CommandListener):
    def __init__(self) -> None:
        self.commands: list[str] = []
        self.targets: list[tuple[str, str]] = []  # (command, collection), in order

    def started(self, event: monitoring.CommandStartedEvent) -> None:
        self.commands.append(event.command_name)
        self.targets.append((event.command_name, str(event.command.get(event.command_name))))

    def clear(self) -> None:
        self.commands.clear()
        self.targets.clear()

    def succeeded(self, event: monitoring.CommandSucceededEvent) -> None:
        pass

    def failed(self, event: monitoring.CommandFailedEvent) -> None:
        pass


# Counting wire commands needs the wire; mongomock has no protocol to listen to.
@pytest.mark.parametrize("backend", ["wire"])
async def test_checking_an_access_token_costs_one_database_read(make_server, wire_url: str) -> None:
    counter = CommandCounter()
    client = AsyncMongoClient(wire_url, tz_aware=True, event_listeners=[counter])
    try:
        async with make_server(mongo_client=client) as server:
            http = server.client()
            token = await signed_up(http, "cheap@example.com")
            for use in [bearer(token), {}]:  # Bearer, then the cookie
                counter.commands.clear()
                assert (await http.get("/users/me", headers=use)).status_code == 200
                assert counter.commands == ["find"]
    finally:
        await client.close()


# Counting wire commands needs the wire; mongomock has no protocol to listen to.
@pytest.mark.parametrize("backend", ["wire"])
async def test_a_password_login_costs_six_database_commands(make_server, wire_url: str) -> None:
    counter = CommandCounter()
    client = AsyncMongoClient(wire_url, tz_aware=True, event_listeners=[counter])
    try:
        async with make_server(mongo_client=client) as server:
            await register(server.client(), "counted.login@example.com")
            await log_in(server.client(), "counted.login@example.com")  # the account's first sign-in
            counter.clear()

            await log_in(server.client(), "counted.login@example.com")

            assert counter.targets == [
                ("find", "rate_limits"),  # both login limits (per account, per IP), in one read
                ("find", "users"),  # by address; the password verified (no rehash: not needed)
                # Is there a second step? The account's factors and, in the same command, whether
                # it has a passkey (flows/factors.py).
                ("aggregate", "second_factors"),
                ("insert", "sessions"),  # the session; its refresh token is not stored
                ("update", "users"),  # $push session_ids
                # The sign-in counted on this device's summary, its "before" telling whether the
                # device is new (activity/new_device.py).
                ("update", "security_events"),
            ]
    finally:
        await client.close()


async def test_logout_others_keeps_only_this_session(server: Server) -> None:
    here, there = await two_devices(server, "others@example.com")

    response = await here.post("/auth/logout-others")

    assert response.status_code == 204
    assert (await here.get("/users/me")).status_code == 200
    assert (await there.get("/users/me")).status_code == 401
    assert [s["current"] for s in (await here.get("/auth/sessions")).json()] == [True]


async def a_session_of_the_version_before(client: AsyncClient, email: str) -> str:
    """A session as the version before stored it (no generation) and its refresh token, stored
    hashed in `refresh_tokens`: what an upgraded database holds."""
    await register(client, email)
    await log_in(client, email)
    session = await Session.find_one()
    fields = {"generation": "", "rotated_at": "", "refresh_window": "", "refresh_hits": ""}
    await Session.get_pymongo_collection().update_one({"_id": session.id}, {"$unset": fields})
    legacy = new_secret()
    await RefreshToken(
        id=token_hash(legacy),
        session_id=session.id,
        user_id=session.user_id,
        expires_at=session.absolute_expires_at,
    ).insert()
    return legacy


async def test_a_refresh_token_of_the_version_before_is_bridged_once(server: Server) -> None:
    legacy = await a_session_of_the_version_before(server.client(), "upgraded@example.com")

    bridged = await refresh_with(server, legacy)
    racing = await refresh_with(server, legacy)  # another tab, within the grace window

    assert bridged.status_code == racing.status_code == 200
    successor = refresh_token_in(bridged)
    assert refresh_token_in(racing) == successor and successor.count(".") == 3
    assert (await RefreshToken.get(token_hash(legacy))).used_at is not None
    assert (await refresh_with(server, successor)).status_code == 200


async def test_a_used_refresh_token_of_the_version_before_is_a_reuse(make_server) -> None:
    async with make_server(refresh_grace_seconds=0) as server:
        legacy = await a_session_of_the_version_before(server.client(), "upgraded.stolen@example.com")
        successor = refresh_token_in(await refresh_with(server, legacy))

        replay = await refresh_with(server, legacy)

        assert replay.json() == {"detail": "REFRESH_TOKEN_REUSED"}
        assert (await refresh_with(server, successor)).json() == {"detail": "SESSION_ENDED"}
        assert (await refresh_with(server, new_secret())).json() == {"detail": "REFRESH_TOKEN_INVALID"}


async def test_ended_sessions_expire_within_minutes(server: Server) -> None:
    one, two = await two_devices(server, "short.lived@example.com")
    three = server.client()
    await log_in(three, "short.lived@example.com")

    assert (await one.post("/auth/jwt/logout")).status_code == 204
    assert (await two.post("/auth/logout-all")).status_code == 204

    sessions = await Session.find_all().to_list()
    assert len(sessions) == 3 and all(s.revoked_at for s in sessions)
    soon = timedelta(seconds=ENDED_SESSION_SECONDS + 10)
    assert all(s.expires_at - utcnow() < soon for s in sessions)  # not their idle deadline


async def test_sessions_beyond_the_cap_end_at_the_next_login(server: Server, monkeypatch) -> None:
    monkeypatch.setattr(service, "MAX_SESSIONS_PER_USER", 2)
    first = server.client()
    await register(first, "many.devices@example.com")
    await log_in(first, "many.devices@example.com")
    oldest = (await Session.find_one()).id
    for _ in range(2):
        await log_in(server.client(), "many.devices@example.com")

    sessions = {s.id: s for s in await Session.find_all().to_list()}

    assert len(sessions) == 3 and [s for s in sessions if sessions[s].revoked_at] == [oldest]
    assert sessions[oldest].expires_at - utcnow() < timedelta(seconds=ENDED_SESSION_SECONDS + 10)
    assert (await first.post("/auth/jwt/refresh")).json() == {"detail": "SESSION_ENDED"}
