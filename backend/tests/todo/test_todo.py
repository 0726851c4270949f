"""The todo API: per-user tasks."""

import pytest
from httpx import AsyncClient

from backend.apps.todo.models import Task
from backend.tests.conftest import Server
from backend.tests.helpers import signed_up

MISSING_ID = "5f5f5f5f5f5f5f5f5f5f5f5f"


@pytest.fixture
async def alice(server: Server) -> AsyncClient:
    client = server.client()
    await signed_up(client, "alice@example.com")
    return client


@pytest.fixture
async def bob(server: Server) -> AsyncClient:
    client = server.client()
    await signed_up(client, "bob@example.com")
    return client


async def add(client: AsyncClient, name: str, **fields: object) -> dict:
    response = await client.post("/task/", json={"name": name, **fields})
    assert response.status_code == 201, response.text
    return dict(response.json())


async def test_create_returns_the_task(alice: AsyncClient) -> None:
    response = await alice.post("/task/", json={"name": "  buy milk  "})

    assert response.status_code == 201
    task = response.json()
    assert set(task) == {"_id", "name", "completed", "created_at", "updated_at"}
    assert task["name"] == "buy milk"
    assert task["completed"] is False
    assert task["created_at"] == task["updated_at"]


async def test_create_may_set_completed(alice: AsyncClient) -> None:
    assert (await add(alice, "done already", completed=True))["completed"] is True


@pytest.mark.parametrize(
    "body",
    [
        {},
        {"name": ""},
        {"name": "   "},
        {"name": "x" * 501},
        {"name": None},
        {"name": 42},
        {"name": "ok", "completed": "maybe"},
        {"name": "ok", "owner_id": MISSING_ID},
        [],
        "a string",
    ],
)
async def test_create_validates_the_body(alice: AsyncClient, body: object) -> None:
    response = await alice.post("/task/", json=body)

    assert response.status_code == 422
    assert response.json()["detail"]


async def test_names_of_500_characters_are_fine(alice: AsyncClient) -> None:
    assert (await add(alice, "x" * 500))["name"] == "x" * 500


async def test_malformed_json_is_422(alice: AsyncClient) -> None:
    response = await alice.post("/task/", content=b'{"name": ', headers={"Content-Type": "application/json"})

    assert response.status_code == 422


async def test_list_is_mine_oldest_first(alice: AsyncClient, bob: AsyncClient) -> None:
    for name in ["first", "second", "third"]:
        await add(alice, name)
    await add(bob, "bob's")

    response = await alice.get("/task/")

    assert response.status_code == 200
    assert [t["name"] for t in response.json()] == ["first", "second", "third"]
    assert [t["name"] for t in (await bob.get("/task/")).json()] == ["bob's"]


async def test_list_pages_with_skip_and_limit(alice: AsyncClient) -> None:
    for i in range(7):
        await add(alice, f"task {i}")

    page = await alice.get("/task/", params={"skip": 2, "limit": 3})

    assert [t["name"] for t in page.json()] == ["task 2", "task 3", "task 4"]
    assert len((await alice.get("/task/", params={"skip": 5})).json()) == 2


async def test_list_limit_defaults_to_100(alice: AsyncClient) -> None:
    await Task.insert_many(
        [Task(owner_id=(await alice.get("/users/me")).json()["id"], name=f"bulk {i}") for i in range(105)]
    )

    assert len((await alice.get("/task/")).json()) == 100
    assert len((await alice.get("/task/", params={"limit": 1000})).json()) == 105


@pytest.mark.parametrize(
    "params", [{"limit": 0}, {"limit": 1001}, {"skip": -1}, {"limit": "ten"}, {"completed": "perhaps"}]
)
async def test_list_validates_paging(alice: AsyncClient, params: dict) -> None:
    assert (await alice.get("/task/", params=params)).status_code == 422


async def test_list_filters_on_completed(alice: AsyncClient) -> None:
    await add(alice, "open one")
    await add(alice, "done one", completed=True)

    done = await alice.get("/task/", params={"completed": "true"})
    open_ = await alice.get("/task/", params={"completed": "false"})

    assert [t["name"] for t in done.json()] == ["done one"]
    assert [t["name"] for t in open_.json()] == ["open one"]


async def test_show_update_delete(alice: AsyncClient) -> None:
    task = await add(alice, "draft")

    shown = await alice.get(f"/task/{task['_id']}")
    renamed = await alice.put(f"/task/{task['_id']}", json={"name": " final "})
    completed = await alice.put(f"/task/{task['_id']}", json={"completed": True})
    deleted = await alice.delete(f"/task/{task['_id']}")

    assert shown.status_code == 200 and shown.json() == task
    assert renamed.status_code == 200
    assert renamed.json()["name"] == "final" and renamed.json()["completed"] is False
    assert renamed.json()["updated_at"] >= task["updated_at"]
    assert renamed.json()["created_at"] == task["created_at"]
    assert completed.json()["name"] == "final" and completed.json()["completed"] is True
    assert deleted.status_code == 204 and deleted.content == b""
    assert (await alice.get(f"/task/{task['_id']}")).status_code == 404
    assert (await alice.delete(f"/task/{task['_id']}")).status_code == 404


async def test_update_with_nothing_changes_nothing(alice: AsyncClient) -> None:
    task = await add(alice, "steady")

    response = await alice.put(f"/task/{task['_id']}", json={})

    assert response.status_code == 200 and response.json() == task


@pytest.mark.parametrize(
    "body", [{"name": ""}, {"name": None}, {"completed": None}, {"done": True}, {"name": "y" * 501}]
)
async def test_update_validates_the_body(alice: AsyncClient, body: dict) -> None:
    task = await add(alice, "keep me")

    assert (await alice.put(f"/task/{task['_id']}", json=body)).status_code == 422
    assert (await alice.get(f"/task/{task['_id']}")).json() == task


async def test_another_users_task_looks_missing(alice: AsyncClient, bob: AsyncClient) -> None:
    task = await add(alice, "private")

    for method, body in [("GET", None), ("PUT", {"name": "hacked", "completed": True}), ("DELETE", None)]:
        theirs = await bob.request(method, f"/task/{task['_id']}", json=body)
        missing = await bob.request(method, f"/task/{MISSING_ID}", json=body)
        assert theirs.status_code == missing.status_code == 404, method
        assert theirs.json() == missing.json(), method
    assert (await alice.get(f"/task/{task['_id']}")).json() == task


@pytest.mark.parametrize("bad_id", ["not-an-id", "123", "5f5f5f5f5f5f5f5f5f5f5f5g", "%00"])
async def test_malformed_ids_are_not_server_errors(alice: AsyncClient, bad_id: str) -> None:
    for method, body in [("GET", None), ("PUT", {"name": "x"}), ("DELETE", None)]:
        response = await alice.request(method, f"/task/{bad_id}", json=body)
        assert response.status_code in (404, 422), (method, response.status_code)


async def test_every_todo_route_needs_a_login(client: AsyncClient) -> None:
    for method, path in [
        ("POST", "/task/"),
        ("GET", "/task/"),
        ("GET", f"/task/{MISSING_ID}"),
        ("PUT", f"/task/{MISSING_ID}"),
        ("DELETE", f"/task/{MISSING_ID}"),
    ]:
        response = await client.request(
            method, path, json={"name": "x"} if method in ("POST", "PUT") else None
        )
        assert response.status_code == 401, (method, path)


async def test_tasks_are_indexed_by_owner_and_creation(alice: AsyncClient) -> None:
    await add(alice, "indexed")

    indexes = await Task.get_pymongo_collection().index_information()

    keys = [tuple(field for field, _ in spec["key"]) for spec in indexes.values()]
    assert ("owner_id", "created_at", "_id") in keys


async def test_task_names_refuse_control_characters(client: AsyncClient) -> None:
    await signed_up(client, "controls@example.com")

    for name in ["nul\u0000inside", "bell\u0007", "two\nlines", "tab\there", "del\u007f"]:
        response = await client.post("/task/", json={"name": name})
        assert response.status_code == 422, (name, response.text)
        assert "control characters" in response.json()["detail"][0]["msg"]
    created = await client.post("/task/", json={"name": "  trimmed\t\n"})
    assert created.status_code == 201 and created.json()["name"] == "trimmed"
    renamed = await client.put(f"/task/{created.json()['_id']}", json={"name": "a\u0000b"})
    assert renamed.status_code == 422
