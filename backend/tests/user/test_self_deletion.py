"""Deleting my own account: after a fresh confirmation, everything of mine goes, and I am told.

`DELETE /users/me` takes the admin route's path (FastAPI Users' delete and every clean-up hook),
so the test gives the account one document in every collection the app keeps, and checks each
is empty of it afterwards while another account keeps its own.
"""

from datetime import timedelta
from typing import Any

import pytest
from beanie import PydanticObjectId
from httpx import AsyncClient, Response

from backend.apps.user.models import User
from backend.core.clock import utcnow
from backend.core.crypto import new_secret
from backend.core.mail.queue import QueuedMail
from backend.core.ratelimit import RateLimitCounter
from backend.tests.auth.flows.test_step_up import age_sessions, confirmation_required
from backend.tests.auth.methods.sign_in_links.test_sign_in_links import mailed_link_token
from backend.tests.auth.second_steps import Clock, add_passkey, enrol, set_totp_clock, ticket_for
from backend.tests.conftest import Server, ServerFactory
from backend.tests.helpers import (
    PASSWORD,
    bearer,
    cookie_attributes,
    login,
    mailed_subjects,
    register,
    signed_up,
    superuser_client,
    verified_sign_up,
)
from backend.tests.user.test_mail import Inbox, inbox, smtp_settings  # noqa: F401

GOODBYE = "Your account was deleted"
# How each collection's documents name their user: `_id` for one document per user, else a field.
OWNER_FIELD = {"users": "_id", "second_factors": "_id", "email_changes": "_id", "task_counts": "_id"}
OWNER_FIELD |= {"tasks": "owner_id"}
NOBODYS = {RateLimitCounter.Settings.name}  # keyed by an address or an IP; they expire
# Letters on their way: sealed, deleted once sent or after MAIL_QUEUE_RETENTION_HOURS. The goodbye
# itself is one, queued as the account goes.
NOBODYS |= {QueuedMail.Settings.name}


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> Clock:
    return set_totp_clock(monkeypatch)


def collections(server: Server) -> list[str]:
    """Every collection of the app (each module's), but those keyed by no user."""
    names = [model.Settings.name for model in server.app.state.document_models]
    return [name for name in names if name not in NOBODYS]


async def documents_of(server: Server, user_id: PydanticObjectId) -> dict[str, int]:
    """Per collection, how many documents belong to `user_id`."""
    database = User.get_pymongo_collection().database
    return {
        name: await database[name].count_documents({OWNER_FIELD.get(name, "user_id"): user_id})
        for name in collections(server)
    }


async def with_something_everywhere(server: Server, clock: Clock, email: str) -> tuple[AsyncClient, Any]:
    """A signed-in account with at least one document in every collection."""
    client = server.client()
    await verified_sign_up(client, email)  # users, sessions (a proved address binds)
    user = await User.find_one(User.email == email)
    await enrol(client, clock)  # second_factors
    await add_passkey(client)  # passkeys
    await ticket_for(server, email)  # mfa_tickets: a password login waiting for its second step
    options = await client.post("/auth/passkeys/options", json={"purpose": "confirm"})
    assert options.status_code == 200, options.text  # passkey_challenges
    await mailed_link_token(server.client(), email)  # sign_in_links
    assert (await client.post("/task/", json={"name": "mine"})).status_code == 201  # tasks, task_counts
    assert (await client.patch("/users/me", json={"email": f"new.{email}"})).status_code == 202
    database = User.get_pymongo_collection().database
    await database["oauth_accounts"].insert_one(
        {"user_id": user.id, "provider": "github", "subject": email, "email": email, "linked_at": utcnow()}
    )
    # refresh_tokens: one of the version before, as an upgraded database holds (sessions/models.py).
    session = await database["sessions"].find_one({"user_id": user.id})
    await database["refresh_tokens"].insert_one(
        {
            "_id": new_secret(),
            "session_id": session["_id"],
            "user_id": user.id,
            "expires_at": utcnow() + timedelta(days=1),
        }
    )
    if "security_events" in collections(server):
        await database["security_events"].insert_one(
            {"user_id": user.id, "type": "sign_in", "at": utcnow(), "ip": "", "user_agent": "", "detail": {}}
        )
    return client, user


async def delete_me(client: AsyncClient) -> Response:
    return await client.delete("/users/me")


async def test_deleting_my_account_removes_every_document_of_mine(server: Server, clock: Clock) -> None:
    mine, me = await with_something_everywhere(server, clock, "leaving@example.com")
    _, other = await with_something_everywhere(server, clock, "staying@example.com")
    before = await documents_of(server, me.id)
    assert [name for name, count in before.items() if count == 0] == [], before
    others_before = await documents_of(server, other.id)

    response = await delete_me(mine)

    assert response.status_code == 204, response.text
    assert response.content == b""
    assert await documents_of(server, me.id) == dict.fromkeys(collections(server), 0)
    # Only mine: the other account keeps all of its own.
    assert await documents_of(server, other.id) == others_before


async def test_the_browser_is_signed_out_and_every_token_of_mine_dies(server: Server) -> None:
    client = server.client()
    await signed_up(client, "gone@example.com")
    elsewhere = server.client()
    token = await login(elsewhere, "gone@example.com")

    response = await delete_me(client)

    assert response.status_code == 204
    for cookie in ("FARM_auth", "FARM_csrf", "FARM_refresh"):
        attributes = cookie_attributes(response, cookie)
        assert attributes["value"] in ("", '""') and attributes["max-age"] == "0", attributes
    assert (await client.get("/users/me")).status_code == 401
    assert (await server.client().get("/users/me", headers=bearer(token))).status_code == 401
    refreshed = await elsewhere.post("/auth/jwt/refresh")
    assert refreshed.status_code == 401 and refreshed.json()["detail"] == "REFRESH_TOKEN_INVALID"
    relogin = await server.client().post(
        "/auth/jwt/login", data={"username": "gone@example.com", "password": PASSWORD}
    )
    assert relogin.status_code == 400
    # The address is free again.
    await register(server.client(), "gone@example.com")


async def test_a_goodbye_is_mailed(server: Server) -> None:
    client = server.client()
    await signed_up(client, "farewell@example.com")

    assert (await delete_me(client)).status_code == 204

    await mailed_subjects(server.client(), "farewell@example.com", GOODBYE)


async def test_deleting_needs_a_recent_sign_in_or_confirmation(server: Server) -> None:
    client = server.client()
    await signed_up(client, "hesitant@example.com")
    await age_sessions("hesitant@example.com")

    stale = await delete_me(client)

    assert confirmation_required(stale) == ["password"]
    assert await User.find_one(User.email == "hesitant@example.com") is not None
    assert (await client.get("/users/me")).status_code == 200  # still signed in
    assert (await client.post("/auth/confirm", json={"current_password": PASSWORD})).status_code == 200
    assert (await delete_me(client)).status_code == 204
    assert await User.find_one(User.email == "hesitant@example.com") is None


async def test_a_second_factor_confirms_too(server: Server, clock: Clock) -> None:
    client = server.client()
    await verified_sign_up(client, "coded@example.com")
    secret, _ = await enrol(client, clock)
    await age_sessions("coded@example.com")

    assert confirmation_required(await delete_me(client)) == ["password", "totp", "recovery_code"]
    confirmed = await client.post("/auth/confirm", json={"code": clock.code(secret)})
    assert confirmed.status_code == 200, confirmed.text
    assert (await delete_me(client)).status_code == 204


async def test_an_account_without_a_password_signs_in_again_to_delete(server: Server) -> None:
    client = server.client()
    await signed_up(client, "provider.made@example.com")
    await User.get_pymongo_collection().update_one(
        {"email": "provider.made@example.com"}, {"$set": {"password_set": False}}
    )
    await age_sessions("provider.made@example.com")
    assert confirmation_required(await delete_me(client)) == []

    browser = server.client()
    token = await mailed_link_token(browser, "provider.made@example.com")
    assert (await browser.post("/auth/sign-in-link/consume", json={"token": token})).status_code == 200

    assert (await delete_me(browser)).status_code == 204
    assert await User.find_one(User.email == "provider.made@example.com") is None


async def test_the_last_superuser_cannot_delete_itself(server: Server) -> None:
    admin = await superuser_client(server)

    response = await delete_me(admin)

    assert response.status_code == 409
    assert response.json()["detail"]["code"] == "LAST_SUPERUSER"
    assert "set-cookie" not in response.headers
    assert (await admin.get("/users/me")).status_code == 200
    # With another superuser, it may go.
    await superuser_client(server, "deputy@example.com")
    assert (await delete_me(admin)).status_code == 204


async def test_deleting_needs_a_login_and_the_csrf_header(server: Server) -> None:
    assert (await delete_me(server.client())).status_code == 401
    client = server.client(csrf=False)
    await signed_up(client, "forged@example.com")

    forged = await delete_me(client)

    assert forged.status_code == 403 and forged.json()["detail"]["code"] == "CSRF_TOKEN_INVALID"
    assert await User.find_one(User.email == "forged@example.com") is not None


async def test_the_goodbye_arrives_through_real_smtp(make_server: ServerFactory, inbox: Inbox) -> None:  # noqa: F811
    async with make_server(**smtp_settings(inbox)) as server:
        client = server.client()
        await signed_up(client, "smtp.leaver@example.com")

        assert (await delete_me(client)).status_code == 204

        messages = await inbox.wait_for(2, to="smtp.leaver@example.com")
        [goodbye] = [m for m in messages if m["Subject"] == GOODBYE]
        text = goodbye.get_body(("plain",)).get_content()
        assert "smtp.leaver@example.com was deleted" in text and "token" not in text
