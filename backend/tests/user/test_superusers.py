"""Somebody can always administer the app: the last active superuser cannot remove itself."""

from backend.apps.user.models import User
from backend.tests.conftest import Server
from backend.tests.helpers import superuser_client


async def me(client) -> dict:  # type: ignore[no-untyped-def]
    response = await client.get("/users/me")
    assert response.status_code == 200
    return dict(response.json())


async def test_the_last_superuser_cannot_delete_deactivate_or_demote_itself(server: Server) -> None:
    admin = await superuser_client(server)
    my_id = (await me(admin))["id"]

    for change in [{"is_superuser": False}, {"is_active": False}]:
        response = await admin.patch(f"/users/{my_id}", json=change)
        assert response.status_code == 409, response.text
        assert response.json()["detail"]["code"] == "LAST_SUPERUSER"
        assert "another account a superuser" in response.json()["detail"]["reason"]
    response = await admin.delete(f"/users/{my_id}")
    assert response.status_code == 409

    stored = await User.find_one(User.email == "root@example.com")
    assert stored is not None and stored.is_superuser and stored.is_active


async def test_with_another_superuser_one_may_step_down(server: Server) -> None:
    first = await superuser_client(server, "first@example.com")
    second = await superuser_client(server, "second@example.com")
    first_id, second_id = (await me(first))["id"], (await me(second))["id"]

    assert (await first.patch(f"/users/{first_id}", json={"is_superuser": False})).status_code == 200
    # Now second is the last one.
    assert (await second.delete(f"/users/{second_id}")).status_code == 409
    assert (await second.patch(f"/users/{first_id}", json={"is_superuser": True})).status_code == 200
    assert (await second.delete(f"/users/{second_id}")).status_code == 204


async def test_an_inactive_superuser_does_not_count(server: Server) -> None:
    admin = await superuser_client(server)
    dormant = await superuser_client(server, "dormant@example.com")
    dormant_id = (await me(dormant))["id"]
    assert (await admin.patch(f"/users/{dormant_id}", json={"is_active": False})).status_code == 200

    response = await admin.patch(f"/users/{(await me(admin))['id']}", json={"is_superuser": False})

    assert response.status_code == 409
