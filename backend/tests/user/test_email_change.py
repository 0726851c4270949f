"""Changing my email address: nothing changes until the link mailed to the new address is opened.

The old address keeps working until then, is told at once (with a link that cancels), and is
told again once the change is made. Links work once, for 24 hours, are stored hashed, and a new
request or a cancellation kills them. An address another account took meanwhile is refused when
the link is opened, decided by the database's unique index.
"""

import asyncio
import hashlib
from datetime import datetime, timedelta
from typing import Any

import pytest
from httpx import AsyncClient, Response

from backend.apps.auth.activity.log import SecurityLog
from backend.apps.user.email_change import EmailChange
from backend.apps.user.models import User
from backend.core.clock import utcnow
from backend.tests.auth.flows.test_step_up import age_sessions, confirmation_required
from backend.tests.auth.methods.sign_in_links.test_sign_in_links import mailed_link_token
from backend.tests.conftest import Server, ServerFactory
from backend.tests.helpers import (
    PASSWORD,
    login,
    mailed_subjects,
    mailed_token,
    outbox,
    register,
    signed_up,
    superuser_client,
)
from backend.tests.user.test_mail import Inbox, inbox, smtp_settings, token_in  # noqa: F401

CONFIRM, CANCEL = "/email-change/confirm", "/email-change/cancel"
ASKED = "Your email address is being changed"
CONFIRM_SUBJECT = "Confirm your new email address"
CHANGED = "Your email address was changed"


async def ask(client: AsyncClient, email: str) -> Response:
    return await client.patch("/users/me", json={"email": email})


async def open_confirm(server: Server, token: str) -> Response:
    """The confirmation link, opened in a browser with no session: the account's password
    completes it (tests/auth/flows/test_verification.py has the rule)."""
    return await server.client().post(
        "/auth/email-change/confirm", json={"token": token, "password": PASSWORD}
    )


async def open_cancel(server: Server, token: str) -> Response:
    return await server.client().post("/auth/email-change/cancel", json={"token": token})


async def asked(
    client: AsyncClient, old: str, new: str, *, to_new: int = 1, to_old: int = 1
) -> tuple[str, str]:
    """Ask to move the signed-in `client` from `old` to `new`: the tokens of the mailed links
    (confirm, to the new address; cancel, to the old one), once the new address has `to_new`
    and the old one `to_old` of them."""
    response = await ask(client, new)
    assert response.status_code == 202, response.text
    return await mailed_token(client, CONFIRM, new, to_new), await mailed_token(client, CANCEL, old, to_old)


async def password_login(client: AsyncClient, email: str) -> int:
    response = await client.post("/auth/jwt/login", data={"username": email, "password": PASSWORD})
    return response.status_code


async def pending(client: AsyncClient) -> dict[str, Any] | None:
    response = await client.get("/users/me/email-change")
    assert response.status_code == 200, response.text
    return response.json()["pending"]  # type: ignore[no-any-return]


def refused(response: Response, status: int, code: str) -> None:
    assert response.status_code == status, response.text
    assert response.json()["detail"]["code"] == code and response.json()["detail"]["reason"]


async def test_the_old_address_keeps_working_until_the_link_is_opened(server: Server) -> None:
    client = server.client()
    await signed_up(client, "old@example.com")

    response = await ask(client, "New@Example.com")

    assert response.status_code == 202
    assert response.json()["new_email"] == "new@example.com"
    expires_at = datetime.fromisoformat(response.json()["expires_at"])
    assert timedelta(hours=23, minutes=59) < expires_at - utcnow() <= timedelta(hours=24)
    me = (await client.get("/users/me")).json()
    assert me["email"] == "old@example.com"
    assert await password_login(server.client(), "old@example.com") == 200
    assert await password_login(server.client(), "new@example.com") == 400
    waiting = await pending(client)
    assert waiting is not None and waiting["new_email"] == "new@example.com"
    assert datetime.fromisoformat(waiting["expires_at"]) == expires_at

    # The old address is told at once, naming the new one, with a link that cancels.
    [told] = [m for m in await outbox(client, "old@example.com") if m["subject"] == ASKED]
    assert "new@example.com" in told["text"] and "new@example.com" in told["html"]
    cancel = await mailed_token(client, CANCEL, "old@example.com")
    confirm = await mailed_token(client, CONFIRM, "new@example.com")
    assert cancel != confirm
    [link] = [m for m in await outbox(client, "new@example.com") if m["subject"] == CONFIRM_SUBJECT]
    assert f"https://farm.test{CONFIRM}?token={confirm}" in link["text"]
    assert "24 hours" in link["text"] and "old@example.com" in link["text"]

    done = await open_confirm(server, confirm)

    assert done.status_code == 200, done.text
    assert done.json()["email"] == "new@example.com" and done.json()["is_verified"] is True
    assert await password_login(server.client(), "new@example.com") == 200
    assert await password_login(server.client(), "old@example.com") == 400
    assert (await client.get("/users/me")).json()["email"] == "new@example.com"
    assert await pending(client) is None
    assert await EmailChange.get_pymongo_collection().count_documents({}) == 0  # spent
    await mailed_subjects(client, "old@example.com", CHANGED)
    [notice] = [m for m in await outbox(client, "old@example.com") if m["subject"] == CHANGED]
    assert "from old@example.com to new@example.com" in notice["text"]
    assert not any("token=" in link for link in notice["links"])
    # Once only.
    refused(await open_confirm(server, confirm), 400, "EMAIL_CHANGE_INVALID")
    refused(await open_cancel(server, cancel), 400, "EMAIL_CHANGE_INVALID")


async def test_a_cancelled_change_cannot_be_confirmed(server: Server) -> None:
    client = server.client()
    await signed_up(client, "keeper@example.com")
    confirm, cancel = await asked(client, "keeper@example.com", "thief@example.com")

    cancelled = await open_cancel(server, cancel)
    refused_link = await open_confirm(server, confirm)

    assert cancelled.status_code == 204 and cancelled.content == b""
    refused(refused_link, 400, "EMAIL_CHANGE_INVALID")
    refused(await open_cancel(server, cancel), 400, "EMAIL_CHANGE_INVALID")
    assert (await client.get("/users/me")).json()["email"] == "keeper@example.com"
    assert await pending(client) is None
    assert await EmailChange.get_pymongo_collection().count_documents({}) == 0


async def test_cancelling_from_the_account_page_kills_both_links(server: Server) -> None:
    client = server.client()
    await signed_up(client, "page@example.com")
    confirm, cancel = await asked(client, "page@example.com", "elsewhere@example.com")

    response = await client.delete("/users/me/email-change")
    again = await client.delete("/users/me/email-change")

    assert response.status_code == again.status_code == 204 and response.content == b""
    assert await pending(client) is None
    refused(await open_confirm(server, confirm), 400, "EMAIL_CHANGE_INVALID")
    refused(await open_cancel(server, cancel), 400, "EMAIL_CHANGE_INVALID")
    assert await password_login(server.client(), "page@example.com") == 200


async def test_a_new_request_replaces_the_pending_one(server: Server) -> None:
    client = server.client()
    await signed_up(client, "twice@example.com")
    first_confirm, first_cancel = await asked(client, "twice@example.com", "first@example.com")
    second_confirm, _ = await asked(client, "twice@example.com", "second@example.com", to_old=2)

    assert (await pending(client) or {})["new_email"] == "second@example.com"
    refused(await open_confirm(server, first_confirm), 400, "EMAIL_CHANGE_INVALID")
    refused(await open_cancel(server, first_cancel), 400, "EMAIL_CHANGE_INVALID")
    assert (await open_confirm(server, second_confirm)).json()["email"] == "second@example.com"
    assert await User.find_one(User.email == "first@example.com") is None


async def test_an_address_taken_meanwhile_is_refused_and_nothing_changes(server: Server) -> None:
    client = server.client()
    await signed_up(client, "slow@example.com")
    confirm, _ = await asked(client, "slow@example.com", "wanted@example.com")
    quick = await register(server.client(), "Wanted@Example.com")

    response = await open_confirm(server, confirm)

    refused(response, 409, "EMAIL_TAKEN")
    assert (await client.get("/users/me")).json()["email"] == "slow@example.com"
    owner = await User.find_one(User.email == "wanted@example.com")
    assert owner is not None and str(owner.id) == quick["id"]
    assert await password_login(server.client(), "slow@example.com") == 200
    refused(await open_confirm(server, confirm), 400, "EMAIL_CHANGE_INVALID")  # spent
    assert CHANGED not in await mailed_subjects(client, "slow@example.com", ASKED)


async def test_two_accounts_racing_for_one_address_one_wins(server: Server) -> None:
    tokens = []
    for name in ("ann", "bob"):
        client = server.client()
        await signed_up(client, f"{name}@example.com")
        confirm, _ = await asked(client, f"{name}@example.com", "prize@example.com", to_new=len(tokens) + 1)
        tokens.append(confirm)

    answers = await asyncio.gather(*(open_confirm(server, token) for token in tokens))

    assert sorted(a.status_code for a in answers) == [200, 409]
    [winner] = [a.json()["email"] for a in answers if a.status_code == 200]
    assert winner == "prize@example.com"
    users = await User.find_all().to_list()
    assert sorted(u.email for u in users) in (
        ["ann@example.com", "prize@example.com"],
        ["bob@example.com", "prize@example.com"],
    )


async def test_one_link_opened_twice_at_once_works_once(server: Server) -> None:
    client = server.client()
    await signed_up(client, "double@example.com")
    confirm, _ = await asked(client, "double@example.com", "click@example.com")

    answers = await asyncio.gather(*(open_confirm(server, confirm) for _ in range(2)))

    assert sorted(a.status_code for a in answers) == [200, 400]


async def test_the_answer_to_a_change_claimed_meanwhile(server: Server) -> None:
    """An account no longer at the address the change was asked from: a superuser moved it."""
    client = server.client()
    await signed_up(client, "moved@example.com")
    confirm, _ = await asked(client, "moved@example.com", "mine@example.com")
    admin = await superuser_client(server)
    user = await User.find_one(User.email == "moved@example.com")
    assert (await admin.patch(f"/users/{user.id}", json={"email": "put@example.com"})).status_code == 200

    response = await open_confirm(server, confirm)

    refused(response, 400, "EMAIL_CHANGE_INVALID")
    moved = await User.get(user.id)
    assert moved is not None and moved.email == "put@example.com"


async def test_an_expired_link_is_refused(server: Server) -> None:
    client = server.client()
    await signed_up(client, "late@example.com")
    confirm, cancel = await asked(client, "late@example.com", "later@example.com")
    await EmailChange.get_pymongo_collection().update_many(
        {}, {"$set": {"expires_at": utcnow() - timedelta(seconds=1)}}
    )

    refused(await open_confirm(server, confirm), 400, "EMAIL_CHANGE_INVALID")
    refused(await open_cancel(server, cancel), 400, "EMAIL_CHANGE_INVALID")
    assert await pending(client) is None
    assert (await client.get("/users/me")).json()["email"] == "late@example.com"


async def test_links_are_stored_only_as_hashes(server: Server) -> None:
    client = server.client()
    await signed_up(client, "hashed@example.com")
    confirm, cancel = await asked(client, "hashed@example.com", "digest@example.com")
    user = await User.find_one(User.email == "hashed@example.com")

    [stored] = await EmailChange.get_pymongo_collection().find({}).to_list()

    assert stored["_id"] == user.id
    assert stored["confirm_hash"] == hashlib.sha256(confirm.encode()).hexdigest()
    assert stored["cancel_hash"] == hashlib.sha256(cancel.encode()).hexdigest()
    assert confirm not in repr(stored) and cancel not in repr(stored)
    assert len(confirm) >= 43 and len(cancel) >= 43  # 256 bits, base64url
    indexes = await EmailChange.get_pymongo_collection().index_information()
    assert indexes["expiry"]["expireAfterSeconds"] == 0
    assert indexes["confirm"]["unique"] and indexes["cancel"]["unique"]


async def test_asking_needs_a_recent_sign_in_or_confirmation(server: Server) -> None:
    client = server.client()
    await signed_up(client, "stale@example.com")
    await age_sessions("stale@example.com")

    stale = await ask(client, "fresh@example.com")
    wrong = await client.post("/auth/confirm", json={"current_password": "not my password"})
    confirmed = await client.post("/auth/confirm", json={"current_password": PASSWORD})
    after = await ask(client, "fresh@example.com")

    assert confirmation_required(stale) == ["password"]
    refused(wrong, 400, "CONFIRMATION_INVALID")
    assert confirmed.status_code == 200
    assert after.status_code == 202
    assert await mailed_token(client, CONFIRM, "fresh@example.com")
    assert len([m for m in await outbox(client, "fresh@example.com")]) == 1  # the refused one sent nothing


async def test_refusals_when_asking(server: Server) -> None:
    await register(server.client(), "taken@example.com")
    client = server.client()
    await signed_up(client, "mine@example.com")

    same = await ask(client, "MINE@example.com")
    taken = await ask(client, "TAKEN@Example.com")
    flags = await client.patch("/users/me", json={"email": "x@example.com", "is_superuser": True})
    password = await client.patch("/users/me", json={"password": "a new one, please"})
    nothing = await client.patch("/users/me", json={})
    not_an_address = await ask(client, "nobody")

    refused(same, 400, "EMAIL_UNCHANGED")
    refused(taken, 400, "EMAIL_TAKEN")
    assert [r.status_code for r in (flags, password, nothing, not_an_address)] == [422] * 4
    assert "POST /users/me/password" in password.text
    assert await pending(client) is None
    assert await outbox(client, "x@example.com") == []


async def test_asking_is_rate_limited_per_account(make_server: ServerFactory) -> None:
    async with make_server(rate_limit_account="2/hour") as server:
        client = server.client()
        await signed_up(client, "eager@example.com")

        answers = [(await ask(client, f"try{i}@example.com")).status_code for i in range(3)]

        assert answers == [202, 202, 429]


async def test_bad_links_count_towards_a_limit_per_address(make_server: ServerFactory) -> None:
    async with make_server(rate_limit_login_ip="2/hour") as server:
        client = server.client()
        await signed_up(client, "guessed@example.com")
        confirm, _ = await asked(client, "guessed@example.com", "target@example.com")

        guesses = [await open_confirm(server, "guess"), await open_cancel(server, "guess")]
        locked = await open_confirm(server, confirm)

        assert [g.status_code for g in guesses] == [400, 400]
        assert locked.status_code == 429 and "retry-after" in locked.headers
        # The lockout burnt nobody's link.
        assert await pending(client) is not None


async def test_a_superuser_changes_an_address_directly_and_the_owner_is_told(server: Server) -> None:
    client = server.client()
    await signed_up(client, "owned@example.com")
    user = await User.find_one(User.email == "owned@example.com")
    admin = await superuser_client(server)

    response = await admin.patch(f"/users/{user.id}", json={"email": "Assigned@Example.com"})

    assert response.status_code == 200 and response.json()["email"] == "assigned@example.com"
    await mailed_subjects(client, "owned@example.com", CHANGED)
    await mailed_subjects(client, "assigned@example.com", CHANGED, "Verify your email address")
    [notice] = [m for m in await outbox(client, "owned@example.com") if m["subject"] == CHANGED]
    assert "from owned@example.com to assigned@example.com by an administrator" in notice["text"]
    assert await password_login(server.client(), "assigned@example.com") == 200


async def test_an_account_without_a_password_confirms_by_signing_in_again(server: Server) -> None:
    client = server.client()
    await signed_up(client, "linked@example.com")
    await User.get_pymongo_collection().update_one(
        {"email": "linked@example.com"}, {"$set": {"password_set": False}}
    )
    await age_sessions("linked@example.com")
    assert confirmation_required(await ask(client, "next@example.com")) == []

    browser = server.client()
    token = await mailed_link_token(browser, "linked@example.com")
    signed_in = await browser.post("/auth/sign-in-link/consume", json={"token": token})
    assert signed_in.status_code == 200, signed_in.text

    assert (await ask(browser, "next@example.com")).status_code == 202


async def test_each_step_is_in_the_security_log(
    make_server: ServerFactory, monkeypatch: pytest.MonkeyPatch
) -> None:
    events: list[tuple[Any, str, dict[str, Any]]] = []

    async def record(self: SecurityLog, user_id: Any, type: str, request: Any = None, **detail: Any) -> None:
        assert request is not None
        events.append((user_id, type, detail))

    monkeypatch.setattr(SecurityLog, "record", record)
    async with make_server() as server:
        client = server.client()
        await signed_up(client, "logged@example.com")
        user = await User.find_one(User.email == "logged@example.com")
        _, cancel = await asked(client, "logged@example.com", "one@example.com")
        await open_cancel(server, cancel)
        confirm, _ = await asked(client, "logged@example.com", "two@example.com", to_old=2)
        await open_confirm(server, confirm)
        admin = await superuser_client(server)
        await admin.patch(f"/users/{user.id}", json={"email": "three@example.com"})

    mine = [(type, detail) for user_id, type, detail in events if user_id == user.id and "email" in type]
    change = {"old_email": "logged@example.com"}
    assert mine == [
        ("email_change_requested", {**change, "new_email": "one@example.com"}),
        ("email_change_cancelled", {**change, "new_email": "one@example.com"}),
        ("email_change_requested", {**change, "new_email": "two@example.com"}),
        ("email_change_confirmed", {**change, "new_email": "two@example.com"}),
        ("email_changed_by_admin", {"old_email": "two@example.com", "new_email": "three@example.com"}),
    ]


async def test_the_whole_change_through_real_smtp(make_server: ServerFactory, inbox: Inbox) -> None:  # noqa: F811
    async with make_server(**smtp_settings(inbox)) as server:
        client = server.client()
        await signed_up(client, "smtp.old@example.com")
        await inbox.wait_for(1, to="smtp.old@example.com")  # the verification of registering

        assert (await ask(client, "smtp.new@example.com")).status_code == 202
        [link] = await inbox.wait_for(1, to="smtp.new@example.com")
        told = [m for m in await inbox.wait_for(2, to="smtp.old@example.com") if m["Subject"] == ASKED]
        assert link["Subject"] == CONFIRM_SUBJECT and len(told) == 1
        assert "smtp.new@example.com" in told[0].get_body(("plain",)).get_content()
        assert token_in(told[0], CANCEL) != token_in(link, CONFIRM)
        assert await login(server.client(), "smtp.old@example.com")  # still the old address

        response = await open_confirm(server, token_in(link, CONFIRM))

        assert response.status_code == 200 and response.json()["email"] == "smtp.new@example.com"
        changed = [m for m in await inbox.wait_for(3, to="smtp.old@example.com") if m["Subject"] == CHANGED]
        assert len(changed) == 1
        assert "to smtp.new@example.com" in changed[0].get_body(("plain",)).get_content()
        assert await login(server.client(), "smtp.new@example.com")
