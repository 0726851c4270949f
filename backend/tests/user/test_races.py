"""Changes racing a delete answer 404, never 500: run for real on the wire server."""

import asyncio

import pytest

from backend.tests.conftest import Server
from backend.tests.helpers import PASSWORD, register, signed_up, superuser_client

ROUNDS = 15


@pytest.fixture
def backend() -> str:  # concurrency needs a real server: mongomock runs every call in turn
    return "wire"


async def test_an_admin_change_racing_a_delete_is_a_404_not_a_500(server: Server) -> None:
    admin = await superuser_client(server)
    seen: set[tuple[int, int]] = set()
    for round_ in range(ROUNDS):
        user = await register(server.client(), f"racer{round_}@example.com")
        patch, delete = await asyncio.gather(
            admin.patch(
                f"/users/{user['id']}", json={"is_verified": True, "email": f"moved{round_}@example.com"}
            ),
            admin.delete(f"/users/{user['id']}"),
        )
        assert patch.status_code in (200, 404), patch.text
        assert delete.status_code in (204, 404), delete.text
        seen.add((patch.status_code, delete.status_code))
    assert (200, 204) in seen or (404, 204) in seen


async def test_a_password_change_racing_a_delete_is_a_404_not_a_500(server: Server) -> None:
    admin = await superuser_client(server)
    for round_ in range(ROUNDS):
        email = f"changer{round_}@example.com"
        owner = server.client()
        await signed_up(owner, email)
        user_id = (await owner.get("/users/me")).json()["id"]
        change, delete = await asyncio.gather(
            owner.post(
                "/users/me/password",
                json={"current_password": PASSWORD, "new_password": "a brand new passphrase"},
            ),
            admin.delete(f"/users/{user_id}"),
        )
        assert change.status_code in (200, 401, 404), change.text
        assert delete.status_code == 204, delete.text


async def test_task_changes_racing_a_delete_are_404s(server: Server) -> None:
    client = server.client()
    await signed_up(client, "tasker@example.com")
    for _ in range(ROUNDS):
        task = (await client.post("/task/", json={"name": "short-lived"})).json()
        update, delete = await asyncio.gather(
            client.put(f"/task/{task['_id']}", json={"completed": True}),
            client.delete(f"/task/{task['_id']}"),
        )
        assert update.status_code in (200, 404), update.text
        assert delete.status_code == 204
