"""A refresh that fails half-way: each step of the rotation fails once (a failover), and the
person stays signed in, the retry gets a working refresh cookie, and nothing is logged as theft.

The refresh's steps (sessions/service.py): read the user, rotate the session (one atomic update,
the only write but the rate limit's), answer. Each fails either before the database applied it
or after (the answer lost).
"""

from typing import Any

import pytest
from beanie import Document
from httpx import Response
from pymongo import AsyncMongoClient
from pymongo.errors import AutoReconnect

from backend.apps.auth.activity.log import SecurityEvent
from backend.apps.auth.sessions.models import Session
from backend.apps.user.models import User
from backend.tests.auth.sessions.test_sessions import CommandCounter, log_in, refresh_token_in, refresh_with
from backend.tests.conftest import Server
from backend.tests.helpers import bearer, register


def fail_once(
    monkeypatch: pytest.MonkeyPatch, document: type[Document], method: str, *, applied: bool
) -> None:
    """The next `method` on `document`'s collection raises AutoReconnect, after the database
    applied it when `applied` (its answer lost on the way back), before otherwise."""
    collection = document.get_pymongo_collection()
    original = getattr(collection, method)
    failed = False

    async def failing(*args: Any, **kwargs: Any) -> Any:
        nonlocal failed
        if failed:
            return await original(*args, **kwargs)
        failed = True
        if applied:
            await original(*args, **kwargs)
        raise AutoReconnect("injected failover")

    monkeypatch.setattr(collection, method, failing)


async def signed_in(server: Server, email: str) -> str:
    client = server.client()
    await register(client, email)
    return refresh_token_in(await log_in(client, email))


def refresh_cookie_of(response: Response) -> str:
    assert response.status_code == 200, response.text
    assert "FARM_refresh=" in response.headers.get("set-cookie", ""), "200 without a new refresh cookie"
    return refresh_token_in(response)


async def reuse_events() -> int:
    return await SecurityEvent.find(SecurityEvent.type == "refresh_token_reused").count()


async def assert_recovered(server: Server, old: str, failed: Response) -> str:
    """What the person sees after a failed refresh: a 503 that says when to retry; the retry
    gets a new refresh cookie that works in turn; the session is live; no theft was logged."""
    assert failed.status_code == 503
    assert int(failed.headers["retry-after"]) > 0
    assert failed.json()["detail"]
    retried = refresh_cookie_of(await refresh_with(server, old))
    assert retried != old
    following = await refresh_with(server, retried)
    newest = refresh_cookie_of(following)
    me = await server.client().get("/users/me", headers=bearer(following.json()["access_token"]))
    assert me.status_code == 200
    assert [s.revoked_at for s in await Session.find_all().to_list()] == [None]
    assert await reuse_events() == 0
    return newest


STEPS = [
    pytest.param(User, "find_one", id="user-read"),
    pytest.param(Session, "find_one_and_update", id="rotation"),
]


@pytest.mark.parametrize(("document", "method"), STEPS)
@pytest.mark.parametrize("applied", [False, True], ids=["not-applied", "answer-lost"])
async def test_a_step_failing_once_leaves_the_session_working(
    make_server, monkeypatch: pytest.MonkeyPatch, document: type[Document], method: str, applied: bool
) -> None:
    async with make_server() as server:
        old = await signed_in(server, f"{document.__name__.lower()}.{method}.{applied}@example.com")
        fail_once(monkeypatch, document, method, applied=applied)

        failed = await refresh_with(server, old)

        await assert_recovered(server, old, failed)


@pytest.mark.parametrize(("document", "method"), STEPS)
async def test_an_unfinished_rotation_keeps_the_old_token_usable_past_the_grace(
    make_server, monkeypatch: pytest.MonkeyPatch, document: type[Document], method: str
) -> None:
    # The rotation was never applied, so no successor exists: however late the retry, the old
    # token still works (no grace window at all here).
    async with make_server(refresh_grace_seconds=0) as server:
        old = await signed_in(server, f"late.{document.__name__.lower()}.{method}@example.com")
        fail_once(monkeypatch, document, method, applied=False)

        failed = await refresh_with(server, old)

        await assert_recovered(server, old, failed)


async def test_an_answer_lost_after_the_rotation_is_answered_again(server: Server) -> None:
    old = await signed_in(server, "lost.answer@example.com")
    lost = await refresh_with(server, old)  # committed, then the answer never arrives
    assert lost.status_code == 200

    retried = refresh_cookie_of(await refresh_with(server, old))

    assert retried == refresh_token_in(lost)  # the one successor, handed out again
    assert [s.generation for s in await Session.find_all().to_list()] == [1]  # one rotation
    refresh_cookie_of(await refresh_with(server, retried))
    assert await reuse_events() == 0


async def test_real_reuse_after_a_recovered_failure_still_ends_the_session(
    make_server, monkeypatch: pytest.MonkeyPatch
) -> None:
    async with make_server(refresh_grace_seconds=0) as server:
        stolen = await signed_in(server, "recovered.then.stolen@example.com")
        fail_once(monkeypatch, Session, "find_one_and_update", applied=False)
        newest = await assert_recovered(server, stolen, await refresh_with(server, stolen))

        replay = await refresh_with(server, stolen)  # its successor was handed out and used

        assert replay.status_code == 401
        assert replay.json() == {"detail": "REFRESH_TOKEN_REUSED"}
        assert (await refresh_with(server, newest)).json() == {"detail": "SESSION_ENDED"}
        assert await reuse_events() == 1


# Counting wire commands needs the wire; mongomock has no protocol to listen to.
@pytest.mark.parametrize("backend", ["wire"])
async def test_a_refresh_costs_three_database_commands(make_server, wire_url: str) -> None:
    counter = CommandCounter()
    client = AsyncMongoClient(wire_url, tz_aware=True, event_listeners=[counter])
    try:
        async with make_server(mongo_client=client) as server:
            token = await signed_in(server, "counted@example.com")
            # A first refresh starts this window's rate-limit counters (an insert each): the
            # count below is the steady one.
            token = refresh_cookie_of(await refresh_with(server, token))
            counter.commands.clear()

            refresh_cookie_of(await refresh_with(server, token))
            rotation = counter.commands.copy()
            counter.commands.clear()
            refresh_cookie_of(await refresh_with(server, token))  # its answer was lost: again

            # The per-IP limit, the user (active, the session theirs), the rotation (the session's
            # generation, deadlines and per-session limit in one atomic update): 3, 2 of them writes.
            assert rotation == ["findAndModify", "find", "findAndModify"]
            # The rotation matches nothing (the generation moved on); the session is read, and its
            # current token, the same successor, answered again: 4, 2 of them writes.
            assert counter.commands == ["findAndModify", "find", "findAndModify", "find"]
    finally:
        await client.close()
