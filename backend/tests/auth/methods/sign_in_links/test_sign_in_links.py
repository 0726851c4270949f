"""One-time sign-in links: asked for by email, opened once, a real session."""

import asyncio
import hashlib
from datetime import timedelta
from urllib.parse import urlsplit

from httpx import AsyncClient, Response

from backend.apps.auth.methods.sign_in_links.service import SignInLink
from backend.apps.auth.sessions.models import Session
from backend.apps.user.manager import get_user_db
from backend.apps.user.models import User, UserDatabase
from backend.core.clock import utcnow
from backend.tests.conftest import Server
from backend.tests.helpers import (
    PASSWORD,
    cookie_attributes,
    mailed_token,
    outbox,
    register,
    signed_up,
    superuser_client,
)

LINK_PATH = "/sign-in/link"


async def ask_for_link(client: AsyncClient, email: str) -> Response:
    return await client.post("/auth/sign-in-link", json={"email": email})


async def mailed_link_token(client: AsyncClient, email: str) -> str:
    await ask_for_link(client, email)
    return await mailed_token(client, LINK_PATH, email)


async def consume(server: Server, token: str, **headers: str) -> Response:
    """Open a link as a browser that holds nothing else would."""
    return await server.client().post("/auth/sign-in-link/consume", json={"token": token}, headers=headers)


async def test_any_address_gets_the_same_answer(client: AsyncClient) -> None:
    await register(client, "known@example.com")
    addresses = ["known@example.com", "stranger@example.com", "Odd.Spelling+tag_7@Bücher.Example"]

    answers = [await ask_for_link(client, email) for email in addresses]

    assert [a.status_code for a in answers] == [202, 202, 202]
    assert {a.content for a in answers} == {b"null"}
    assert len({tuple(sorted((k, v) for k, v in a.headers.items() if k != "date")) for a in answers}) == 1


class GatedUsers(UserDatabase):
    """The user collection, each lookup by email waiting until the test opens the gate."""

    def __init__(self) -> None:
        super().__init__(User)
        self.gate = asyncio.Event()

    async def get_by_email(self, email: str) -> User | None:
        await self.gate.wait()
        return await super().get_by_email(email)


async def test_the_answer_comes_before_any_lookup(server: Server, client: AsyncClient) -> None:
    await register(client, "patient.reader@example.com")
    users = GatedUsers()
    server.app.dependency_overrides[get_user_db] = lambda: users

    answers = [
        await asyncio.wait_for(ask_for_link(client, email), timeout=5)
        for email in ["patient.reader@example.com", "nobody.home@example.com"]
    ]

    assert [a.status_code for a in answers] == [202, 202]
    assert await SignInLink.find_all().count() == 0  # nothing was looked up yet
    users.gate.set()
    await mailed_token(client, LINK_PATH, "patient.reader@example.com")


async def test_only_a_known_active_account_gets_a_link(server: Server, client: AsyncClient) -> None:
    await register(client, "sleeper@example.com")
    await User.get_pymongo_collection().update_one(
        {"email": "sleeper@example.com"}, {"$set": {"is_active": False}}
    )
    await register(client, "awake@example.com")

    for email in ["nobody@example.com", "sleeper@example.com", "awake@example.com"]:
        assert (await ask_for_link(client, email)).status_code == 202
    await mailed_token(client, LINK_PATH, "awake@example.com")  # the last asked, so the others ran
    await asyncio.sleep(0.1)

    assert await outbox(client, "nobody@example.com") == []
    sleeper_mail = await outbox(client, "sleeper@example.com")
    assert all(LINK_PATH not in " ".join(m["links"]) for m in sleeper_mail)
    assert await SignInLink.find_all().count() == 1


async def test_the_mail_links_to_the_landing_page(client: AsyncClient) -> None:
    await register(client, "letter@example.com")
    await ask_for_link(client, "Letter@Example.com")

    await mailed_token(client, LINK_PATH, "letter@example.com")
    [message] = [m for m in await outbox(client, "letter@example.com") if m["subject"] == "Your sign-in link"]

    [link] = [link for link in message["links"] if LINK_PATH in link]
    assert link.startswith("https://farm.test/sign-in/link?token=")
    assert "15 minutes" in message["text"] and "only once" in message["text"]
    assert link in message["html"]


async def test_a_link_signs_in_once_with_a_real_session(server: Server, client: AsyncClient) -> None:
    await register(client, "linked@example.com")
    token = await mailed_link_token(client, "linked@example.com")
    browser = server.client()

    response = await browser.post("/auth/sign-in-link/consume", json={"token": token})

    assert response.status_code == 200, response.text
    assert set(response.json()) == {"access_token", "token_type"}
    assert response.json()["token_type"] == "bearer"
    for name in ["FARM_auth", "FARM_refresh", "FARM_csrf"]:
        assert cookie_attributes(response, name)["value"]
    me = await browser.get("/users/me")
    assert me.status_code == 200 and me.json()["email"] == "linked@example.com"
    assert me.json()["is_verified"] is True
    sessions = (await browser.get("/auth/sessions")).json()
    assert [s["current"] for s in sessions] == [True]
    assert (await browser.post("/auth/jwt/refresh")).status_code == 200
    assert (await browser.post("/task/", json={"name": "signed in by link"})).status_code == 201

    again = await consume(server, token)

    assert again.status_code == 400 and again.json() == {"detail": "SIGN_IN_LINK_INVALID"}
    assert await Session.find_all().count() == 1


async def test_bad_expired_and_used_tokens_get_one_answer(server: Server, client: AsyncClient) -> None:
    await register(client, "expiring@example.com")
    expired = await mailed_link_token(client, "expiring@example.com")
    await SignInLink.get_pymongo_collection().update_many(
        {}, {"$set": {"expires_at": utcnow() - timedelta(seconds=1)}}
    )

    answers = [await consume(server, token) for token in [expired, "nonsense", "", "x" * 5000]]

    assert [a.status_code for a in answers] == [400] * 4
    assert {a.content for a in answers} == {b'{"detail":"SIGN_IN_LINK_INVALID"}'}
    assert await Session.find_all().count() == 0


async def test_links_expire_by_themselves(server: Server, client: AsyncClient) -> None:
    await register(client, "ttl@example.com")
    await mailed_link_token(client, "ttl@example.com")
    link = await SignInLink.find_one()
    assert link is not None

    indexes = await SignInLink.get_pymongo_collection().index_information()

    assert any(
        list(index["key"]) == [("expires_at", 1)] and index.get("expireAfterSeconds") == 0
        for index in indexes.values()
    )
    lifetime = link.expires_at - link.created_at
    assert (
        lifetime == timedelta(seconds=server.settings.sign_in_link_lifetime_seconds) == timedelta(minutes=15)
    )


async def test_the_token_is_stored_hashed(client: AsyncClient) -> None:
    await register(client, "hashed@example.com")
    token = await mailed_link_token(client, "hashed@example.com")

    [stored] = await SignInLink.get_pymongo_collection().find().to_list()

    assert stored["_id"] == hashlib.sha256(token.encode()).hexdigest()
    assert token not in repr(stored)
    assert stored["email"] == "hashed@example.com"


async def test_two_workers_racing_on_one_link_start_one_session(make_server) -> None:
    async with make_server() as worker_one, make_server(share_with=worker_one) as worker_two:
        client = worker_one.client()
        await register(client, "racer@example.com")
        token = await mailed_link_token(client, "racer@example.com")
        # Warm connection pools, as a busy server has: otherwise the first request to get a
        # connection finishes before the others have one, and nothing overlaps.
        workers = [worker_one, worker_two] * 5
        await asyncio.gather(*[worker.client().get("/health/ready") for worker in workers])

        answers = await asyncio.gather(*[consume(worker, token) for worker in workers])

        assert sorted(a.status_code for a in answers) == [200] + [400] * 9
        assert await Session.find_all().count() == 1


async def test_requests_are_limited_per_address_known_or_not(make_server) -> None:
    async with make_server(rate_limit_account="2/hour") as server:
        client = server.client()
        await register(client, "asker@example.com")

        known = [(await ask_for_link(client, "asker@example.com")).status_code for _ in range(3)]
        unknown = [(await ask_for_link(client, "ghost@example.com")).status_code for _ in range(3)]

        assert known == unknown == [202, 202, 429]


async def test_requests_are_limited_per_ip(make_server) -> None:
    async with make_server(rate_limit_ip="3/hour") as server:
        client = server.client()

        statuses = [(await ask_for_link(client, f"who{i}@example.com")).status_code for i in range(4)]

        assert statuses == [202, 202, 202, 429]


async def test_failed_consumes_are_limited_per_ip_without_burning_links(make_server) -> None:
    async with make_server(rate_limit_login_ip="2/hour") as server:
        client = server.client()
        await register(client, "patient@example.com")
        token = await mailed_link_token(client, "patient@example.com")

        statuses = [(await consume(server, f"guess-{i}")).status_code for i in range(2)]
        locked = await consume(server, token)

        assert statuses == [400, 400]
        assert locked.status_code == 429 and "retry-after" in locked.headers
        assert await SignInLink.find_all().count() == 1  # the real link is still there


async def test_a_foreign_page_cannot_spend_a_link(server: Server, client: AsyncClient) -> None:
    await register(client, "origin@example.com")
    token = await mailed_link_token(client, "origin@example.com")

    foreign = await consume(server, token, Origin="https://evil.example")
    own = await consume(server, token, Origin="https://test")

    assert foreign.status_code == 403 and foreign.json()["detail"]["code"] == "ORIGIN_NOT_ALLOWED"
    assert own.status_code == 200


async def test_a_link_proves_only_the_address_it_was_mailed_to(server: Server) -> None:
    client = server.client()
    await signed_up(client, "before@example.com")
    token = await mailed_link_token(client, "before@example.com")
    assert (await client.patch("/users/me", json={"email": "after@example.com"})).status_code == 202
    change = await mailed_token(client, "/email-change/confirm", "after@example.com")
    assert (await client.post("/auth/email-change/confirm", json={"token": change})).status_code == 200

    response = await consume(server, token)

    assert response.json() == {"detail": "SIGN_IN_LINK_INVALID"}
    assert "set-cookie" not in response.headers


async def test_a_deactivated_account_cannot_use_its_link(server: Server, client: AsyncClient) -> None:
    await register(client, "deactivated@example.com")
    token = await mailed_link_token(client, "deactivated@example.com")
    await User.get_pymongo_collection().update_one(
        {"email": "deactivated@example.com"}, {"$set": {"is_active": False}}
    )

    assert (await consume(server, token)).status_code == 400


async def test_deleting_a_user_deletes_their_links(server: Server) -> None:
    admin = await superuser_client(server)
    user = await register(server.client(), "leaving@example.com")
    await mailed_link_token(admin, "leaving@example.com")
    await mailed_link_token(admin, "root@example.com")

    assert (await admin.delete(f"/users/{user['id']}")).status_code == 204

    assert [link.email for link in await SignInLink.find_all().to_list()] == ["root@example.com"]


async def test_a_link_signs_in_where_unverified_logins_are_refused(make_server) -> None:
    async with make_server(require_verified_login=True) as server:
        client = server.client()
        await register(client, "strict@example.com")
        password_login = await client.post(
            "/auth/jwt/login", data={"username": "strict@example.com", "password": PASSWORD}
        )
        assert password_login.json() == {"detail": "LOGIN_USER_NOT_VERIFIED"}
        token = await mailed_link_token(client, "strict@example.com")
        browser = server.client()

        assert (await browser.post("/auth/sign-in-link/consume", json={"token": token})).status_code == 200
        assert (await browser.get("/task/")).status_code == 200


async def test_switched_off_the_routes_do_not_exist(make_server) -> None:
    async with make_server(sign_in_links_enabled=False) as server:
        client = server.client()
        await register(client, "off@example.com")

        asked = await ask_for_link(client, "off@example.com")
        consumed = await client.post("/auth/sign-in-link/consume", json={"token": "anything"})

        assert asked.status_code in (404, 405) and consumed.status_code in (404, 405)
        paths = (await client.get("/openapi.json")).json()["paths"]
        assert not [path for path in paths if path.startswith("/auth/sign-in-link")]
        await asyncio.sleep(0.1)
        assert await outbox(client, "off@example.com") != []  # the verification mail, nothing else
        assert all(
            urlsplit(link).path != LINK_PATH
            for message in await outbox(client, "off@example.com")
            for link in message["links"]
        )
