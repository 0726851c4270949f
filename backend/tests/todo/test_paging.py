"""Keyset pages announced in a Link header, and the per-user task quota."""

import asyncio
import re

import pytest
from bson import ObjectId
from httpx import AsyncClient, Response

from backend.apps.todo.models import Task, TaskCount
from backend.apps.todo.quota import TaskQuota
from backend.tests.conftest import Server
from backend.tests.helpers import signed_up

NEXT = re.compile(r'^<(?P<url>[^>]+)>; rel="next"$')


async def add(client: AsyncClient, name: str, **fields: object) -> dict:
    response = await client.post("/task/", json={"name": name, **fields})
    assert response.status_code == 201, response.text
    return dict(response.json())


def next_url(response: Response) -> str | None:
    link = response.headers.get("link")
    if link is None:
        return None
    match = NEXT.match(link)
    assert match, link
    return match["url"]


async def all_pages(client: AsyncClient, url: str) -> list[list[str]]:
    pages = []
    while url:
        response = await client.get(url)
        assert response.status_code == 200, response.text
        pages.append([task["name"] for task in response.json()])
        url = next_url(response) or ""
    return pages


@pytest.fixture
async def alice(server: Server) -> AsyncClient:
    client = server.client()
    await signed_up(client, "alice@example.com")
    return client


async def test_pages_follow_the_link_header_to_the_end(alice: AsyncClient) -> None:
    for i in range(7):
        await add(alice, f"task {i}")

    pages = await all_pages(alice, "/task/?limit=3")

    assert pages == [["task 0", "task 1", "task 2"], ["task 3", "task 4", "task 5"], ["task 6"]]


async def test_the_last_full_page_has_no_next_link(alice: AsyncClient) -> None:
    for i in range(3):
        await add(alice, f"task {i}")

    response = await alice.get("/task/", params={"limit": 3})

    assert len(response.json()) == 3 and "link" not in response.headers


async def test_a_cursor_survives_inserts_and_deletes_between_pages(alice: AsyncClient) -> None:
    tasks = [await add(alice, f"task {i}") for i in range(6)]
    first = await alice.get("/task/", params={"limit": 3})
    assert [t["name"] for t in first.json()] == ["task 0", "task 1", "task 2"]

    await alice.delete(f"/task/{tasks[1]['_id']}")  # already seen
    await alice.delete(f"/task/{tasks[3]['_id']}")  # not seen yet
    await add(alice, "task 6")

    rest = await all_pages(alice, next_url(first) or "")

    assert [name for page in rest for name in page] == ["task 4", "task 5", "task 6"]  # no repeat, no skip


async def test_the_filter_carries_over_to_the_next_page(alice: AsyncClient) -> None:
    for i in range(6):
        await add(alice, f"task {i}", completed=i % 2 == 0)

    pages = await all_pages(alice, "/task/?completed=true&limit=2")

    assert pages == [["task 0", "task 2"], ["task 4"]]


async def test_skip_keeps_working_and_links_onward(alice: AsyncClient) -> None:
    for i in range(5):
        await add(alice, f"task {i}")

    response = await alice.get("/task/", params={"skip": 1, "limit": 2})

    assert [t["name"] for t in response.json()] == ["task 1", "task 2"]
    assert await all_pages(alice, next_url(response) or "") == [["task 3", "task 4"]]


@pytest.mark.parametrize("cursor", ["nope", "eyJ0IjoxfQ", "e30", "W10", "x" * 201])
async def test_a_cursor_that_is_not_ours_is_a_422(alice: AsyncClient, cursor: str) -> None:
    response = await alice.get("/task/", params={"cursor": cursor})

    assert response.status_code == 422
    assert response.json()["detail"][0]["loc"] == ["query", "cursor"]


async def test_someone_elses_cursor_shows_only_my_tasks(server: Server, alice: AsyncClient) -> None:
    bob = server.client()
    await signed_up(bob, "bob@example.com")
    for i in range(3):
        await add(bob, f"bob {i}")
    await add(alice, "alice 0")
    bobs_first = await bob.get("/task/", params={"limit": 1})

    response = await alice.get(next_url(bobs_first) or "")

    assert [t["name"] for t in response.json()] == ["alice 0"]


async def test_the_task_quota_is_a_409_with_a_reason(make_server) -> None:  # type: ignore[no-untyped-def]
    async with make_server(max_tasks_per_user=3) as server:
        client = server.client()
        await signed_up(client, "busy@example.com")
        created = [await add(client, f"task {i}") for i in range(3)]

        refused = await client.post("/task/", json={"name": "one too many"})
        assert refused.status_code == 409
        assert refused.json()["detail"]["code"] == "TASK_QUOTA_REACHED"
        assert "3 tasks" in refused.json()["detail"]["reason"]

        await client.delete(f"/task/{created[0]['_id']}")  # a delete makes room again
        await add(client, "fits again")
        assert (await client.post("/task/", json={"name": "full again"})).status_code == 409


async def test_concurrent_creates_never_pass_the_quota(make_server, backend: str) -> None:  # type: ignore[no-untyped-def]
    async with make_server(max_tasks_per_user=5) as server:
        client = server.client()
        await signed_up(client, "racer@example.com")

        answers = await asyncio.gather(*(client.post("/task/", json={"name": f"t{i}"}) for i in range(12)))

        assert sorted(r.status_code for r in answers) == [201] * 5 + [409] * 7
        assert len((await client.get("/task/")).json()) == 5


async def test_tasks_from_before_the_quota_are_counted(make_server) -> None:  # type: ignore[no-untyped-def]
    async with make_server(max_tasks_per_user=3) as server:
        client = server.client()
        await signed_up(client, "early@example.com")
        first = await add(client, "first")
        tasks = Task.get_pymongo_collection()
        stored = await tasks.find_one({"_id": ObjectId(first["_id"])})
        # Two more written before the quota existed, and no count kept for any of them.
        await tasks.insert_many([{**stored, "_id": ObjectId()} for _ in range(2)])
        await TaskCount.get_pymongo_collection().delete_many({})

        assert (await client.post("/task/", json={"name": "fourth"})).status_code == 409


async def test_a_first_create_racing_another_is_not_refused(make_server, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    # The race as another instance makes it: this create finds no count document, and before it
    # looks again, a concurrent first create of the same account has started the count.
    async with make_server(max_tasks_per_user=1000) as server:
        client = server.client()
        await signed_up(client, "raced@example.com")
        counts = TaskCount.get_pymongo_collection()
        raced: list[object] = []

        class RacedCounts:
            def __getattr__(self, name: str) -> object:
                return getattr(counts, name)

            async def update_one(self, query, update, **options):  # type: ignore[no-untyped-def]
                result = await counts.update_one(query, update, **options)
                if result.modified_count == 0 and not raced:
                    raced.append(query["_id"])
                    await TaskQuota._start_counting(query["_id"])  # the other create, meanwhile
                    await counts.update_one({"_id": query["_id"]}, {"$inc": {"tasks": 1}})
                return result

        monkeypatch.setattr(TaskCount, "get_pymongo_collection", classmethod(lambda cls: RacedCounts()))
        answer = await client.post("/task/", json={"name": "mine"})

        assert raced, "the race was not staged"
        assert answer.status_code == 201, answer.text
        stored = await counts.find_one({"_id": raced[0]})
        assert stored is not None and stored["tasks"] == 2  # the other create's and this one's


async def test_concurrent_first_creates_of_a_new_account_all_fit(make_server) -> None:  # type: ignore[no-untyped-def]
    # The count document does not exist yet: every create races to start it. None of them may be
    # told the quota is reached while it is nowhere near.
    async with make_server(max_tasks_per_user=1000) as server:
        for round_ in range(3):
            client = server.client()
            await signed_up(client, f"first.{round_}@example.com")

            answers = await asyncio.gather(*(client.post("/task/", json={"name": f"t{i}"}) for i in range(8)))

            assert [r.status_code for r in answers] == [201] * 8, [
                r.text for r in answers if r.status_code != 201
            ]
            assert len((await client.get("/task/")).json()) == 8
            me = ObjectId((await client.get("/users/me")).json()["id"])
            count = await TaskCount.get_pymongo_collection().find_one({"_id": me})
            assert count is not None and count["tasks"] == 8
