"""Every query the app sends runs on an index: the main flows of every kind of user are run once
against the wire database with every command recorded, then each recorded filter is explained
with the collection's own planner, and a collection scan of a collection that grows with users
fails the test, naming the command.

On MongoDB a scan of `users` or `security_events` per request is what takes a cluster down at
scale; SecantusDB plans with the same rules (IXSCAN or COLLSCAN, collations included), so the
check is the one a real server would give. Only the wire has commands to record: wire only.
"""

import asyncio
from typing import Any

import pytest
from pymongo import AsyncMongoClient, monitoring

from backend.tests.helpers import (
    bearer,
    login,
    mailed_token,
    register,
    superuser_client,
    verified_sign_up,
)

NEW_PASSWORD = "quiet harbour lantern seven"
GROWING = {"users", "sessions", "refresh_tokens", "security_events", "tasks", "mail_queue"}
READS = {"find": "filter", "count": "query", "distinct": "query"}


class Recorder(monitoring.CommandListener):
    def __init__(self) -> None:
        self.commands: list[dict[str, Any]] = []

    def started(self, event: monitoring.CommandStartedEvent) -> None:
        self.commands.append(dict(event.command))

    def succeeded(self, event: monitoring.CommandSucceededEvent) -> None:
        pass

    def failed(self, event: monitoring.CommandFailedEvent) -> None:
        pass


def queries(command: dict[str, Any]) -> list[tuple[str, dict[str, Any], dict[str, Any]]]:
    """(collection, filter, find options) of each query a command runs."""
    name = next(iter(command))
    collection = command[name]
    if not isinstance(collection, str) or collection not in GROWING:
        return []
    if name in READS:
        options = {key: command[key] for key in ("sort", "collation", "hint") if key in command}
        return [(collection, command.get(READS[name]) or {}, options)]
    if name == "findAndModify":
        options = {key: command[key] for key in ("sort", "collation", "hint") if key in command}
        return [(collection, command.get("query") or {}, options)]
    if name in ("update", "delete"):
        found = []
        for statement in command.get("updates" if name == "update" else "deletes", []):
            options = {key: statement[key] for key in ("collation", "hint") if key in statement}
            found.append((collection, statement.get("q") or {}, options))
        return found
    if name == "aggregate":
        first = (command.get("pipeline") or [{}])[0]
        return [(collection, first.get("$match", {}), {})]
    return []


def stages(plan: dict[str, Any]) -> list[str]:
    found = [plan.get("stage", "")]
    for child in [plan.get("inputStage"), *plan.get("inputStages", [])]:
        if child:
            found += stages(child)
    return found


# Conditions that bound no range of an index: MongoDB would walk all of it.
UNBOUNDED = {"$ne", "$nin", "$not", "$exists", "$type", "$options"}


def bounds(condition: Any) -> bool:
    if not isinstance(condition, dict) or not any(key.startswith("$") for key in condition):
        return True  # an equality
    operators = set(condition)
    if "$regex" in operators:  # only an anchored pattern is a range of the index
        return str(condition["$regex"]).startswith("^") and "i" not in str(condition.get("$options", ""))
    return bool(operators - UNBOUNDED)


def usable(index: dict[str, Any], query: dict[str, Any], options: dict[str, Any]) -> bool:
    """Whether MongoDB's planner can run `query` on `index`: its first key is bound by the filter
    (or, with no filter, leads the sort), and a collated index is only used for strings compared
    under the same collation. (SecantusDB's own planner takes an index only for a filter of one
    field; MongoDB takes it whenever the index's first key is bound, so this is MongoDB's rule.)"""
    first = index["key"][0][0]
    if first not in query or not bounds(query[first]):
        sort = list(options.get("sort", {}))
        return not query and bool(sort) and sort[0] == first
    value = query[first]
    strings = isinstance(value, str) or (
        isinstance(value, dict)
        and any(
            isinstance(v, str) or (isinstance(v, list) and any(isinstance(x, str) for x in v))
            for v in value.values()
        )
    )
    if not strings:
        return True
    wanted, held = options.get("collation"), index.get("collation")
    if held is not None and held.get("locale") == "simple":
        held = None
    if held is None:
        return wanted is None or wanted.get("locale") == "simple"
    return wanted is not None and all(wanted.get(k) == held.get(k) for k in ("locale", "strength"))


async def scans(client: AsyncMongoClient[Any], database: str, commands: list[dict[str, Any]]) -> list[str]:
    indexes = {name: await client[database][name].index_information() for name in GROWING}
    seen: set[str] = set()
    found: list[str] = []
    for command in commands:
        for collection, query, options in queries(command):
            key = repr((collection, sorted(query), sorted(options)))
            if key in seen:
                continue
            seen.add(key)
            if not any(usable(index, query, options) for index in indexes[collection].values()):
                found.append(f"{next(iter(command))} on {collection}: {query} {options}")
    return found


async def recorded(make_server, wire_url: str, flows) -> list[str]:  # type: ignore[no-untyped-def]
    """The collection scans among the queries `flows(server, admin)` makes the app send."""
    recorder = Recorder()
    client: AsyncMongoClient[Any] = AsyncMongoClient(wire_url, tz_aware=True, event_listeners=[recorder])
    try:
        async with make_server(mongo_client=client) as server:
            admin = await superuser_client(server)  # (made by the test's own shortcut: not recorded)
            recorder.commands.clear()
            await flows(server, admin)
            await asyncio.sleep(0.2)  # mail and other work after the answers
            return await scans(client, server.settings.mongodb_db, recorder.commands)
    finally:
        await client.close()


async def a_person_and_an_administrator(server, admin) -> None:  # type: ignore[no-untyped-def]
    # A person: register, verify, log in, tasks, refresh, sessions, activity, a refused password
    # change, a reset, a change of address, the links, log out, delete the account.
    alice = server.client()
    await verified_sign_up(alice, "alice@example.com")
    for name in ["one", "two", "three"]:
        assert (await alice.post("/task/", json={"name": name})).status_code == 201
    tasks = (await alice.get("/task/?limit=2")).json()
    await alice.put(f"/task/{tasks[0]['_id']}", json={"completed": True})
    await alice.get("/task/?completed=true")
    await alice.delete(f"/task/{tasks[1]['_id']}")
    assert (await alice.post("/auth/jwt/refresh")).status_code == 200
    await alice.get("/users/me/activity")
    await login(server.client(), "alice@example.com")
    others = [s for s in (await alice.get("/auth/sessions")).json() if not s["current"]]
    await alice.delete(f"/auth/sessions/{others[0]['id']}")
    await alice.post("/auth/logout-others")
    await alice.post(
        "/users/me/password", json={"current_password": "wrong password here", "new_password": NEW_PASSWORD}
    )
    await alice.post("/auth/forgot-password", json={"email": "alice@example.com"})
    reset = await mailed_token(alice, "/reset-password", "alice@example.com")
    await alice.post("/auth/reset-password/check", json={"token": reset})
    await alice.post("/auth/reset-password", json={"token": reset, "password": NEW_PASSWORD})
    await login(alice, "alice@example.com", NEW_PASSWORD)
    await alice.patch("/users/me", json={"email": "alice.new@example.com"})
    await alice.get("/users/me/email-change")
    await alice.post("/auth/jwt/login", data={"username": "nobody@example.com", "password": "x" * 12})
    await alice.post("/auth/request-verify-token", json={"email": "alice@example.com"})
    await alice.post("/auth/sign-in-link", json={"email": "alice@example.com"})

    # An administrator: look at a user, make them a superuser and back, deactivate, delete.
    bob = await register(server.client(), "bob@example.com")
    await admin.get(f"/users/{bob['id']}")
    await admin.get(f"/users/{bob['id']}/activity")
    await admin.patch(f"/users/{bob['id']}", json={"is_superuser": True})
    await admin.patch(f"/users/{bob['id']}", json={"is_superuser": False})
    await admin.patch(f"/users/{bob['id']}", json={"is_active": False})
    await admin.delete(f"/users/{bob['id']}")

    await alice.post("/auth/jwt/logout")
    await alice.delete("/users/me", headers=bearer(await login(alice, "alice@example.com", NEW_PASSWORD)))


@pytest.mark.parametrize("backend", ["wire"])
async def test_every_query_of_the_main_flows_runs_on_an_index(make_server, wire_url: str) -> None:  # type: ignore[no-untyped-def]
    found = await recorded(make_server, wire_url, a_person_and_an_administrator)
    assert found == [], "\n".join(found)


async def listing_users(server, admin) -> None:  # type: ignore[no-untyped-def]
    await register(server.client(), "carol@example.com")
    for i in range(3):
        await register(server.client(), f"carl{i}@example.com")
    first = await admin.get("/users?limit=2")
    await admin.get(first.links["next"]["url"])
    found = await admin.get("/users?q=car&limit=2")
    await admin.get(found.links["next"]["url"])
    await admin.get("/users?q=carol@example.com")


@pytest.mark.parametrize("backend", ["wire"])
async def test_the_admin_user_list_runs_on_an_index(make_server, wire_url: str) -> None:  # type: ignore[no-untyped-def]
    found = await recorded(make_server, wire_url, listing_users)
    assert found == [], "\n".join(found)
