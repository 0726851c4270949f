"""Users: my profile, password reset, verification, superuser administration."""

import re

import jwt
from httpx import AsyncClient

from backend.apps.todo.models import Task
from backend.apps.user.manager import ensure_superuser
from backend.apps.user.models import User
from backend.core.crypto import derive_secret
from backend.tests.conftest import TEST_SECRET, Server, fast_password_helper
from backend.tests.helpers import (
    PASSWORD,
    bearer,
    login,
    mailed_token,
    outbox,
    register,
    signed_up,
    superuser_client,
)

NEW_PASSWORD = "a brand new passphrase"


async def test_me_shows_my_account(client: AsyncClient) -> None:
    await signed_up(client, "me@example.com")

    response = await client.get("/users/me")

    assert response.status_code == 200
    assert response.json()["email"] == "me@example.com"


async def test_me_needs_a_login(client: AsyncClient) -> None:
    assert (await client.get("/users/me")).status_code == 401
    assert (await client.patch("/users/me", json={"email": "x@example.com"})).status_code == 401


# Changing my own address (PATCH /users/me) is in test_email_change.py.


async def test_patch_me_cannot_grant_privileges(client: AsyncClient) -> None:
    await signed_up(client, "plain@example.com")

    response = await client.patch("/users/me", json={"is_superuser": True, "is_verified": True})

    assert response.status_code == 422
    user = await User.find_one(User.email == "plain@example.com")
    assert (user.is_superuser, user.is_verified) == (False, False)


async def test_patch_me_rejects_unknown_fields(client: AsyncClient) -> None:
    await signed_up(client, "typo@example.com")

    response = await client.patch("/users/me", json={"emial": "x@example.com"})

    assert response.status_code == 422


async def test_forgot_and_reset_password(client: AsyncClient) -> None:
    await register(client, "forgetful@example.com")

    forgot = await client.post("/auth/forgot-password", json={"email": "Forgetful@Example.com"})
    token = await mailed_token(client, "/reset-password", "forgetful@example.com")
    reset = await client.post("/auth/reset-password", json={"token": token, "password": NEW_PASSWORD})

    assert forgot.status_code == 202
    assert reset.status_code == 200
    assert (
        await client.post("/auth/jwt/login", data={"username": "forgetful@example.com", "password": PASSWORD})
    ).status_code == 400
    await login(client, "forgetful@example.com", NEW_PASSWORD)
    # The token dies with the password it was issued for.
    again = await client.post("/auth/reset-password", json={"token": token, "password": "yet another one!"})
    assert again.status_code == 400 and again.json() == {"detail": "RESET_PASSWORD_BAD_TOKEN"}


async def test_a_reset_link_carries_an_hmac_of_the_password_and_older_links_still_work(
    client: AsyncClient,
) -> None:
    await register(client, "fingerprint@example.com")
    await client.post("/auth/forgot-password", json={"email": "fingerprint@example.com"})
    token = await mailed_token(client, "/reset-password", "fingerprint@example.com")
    key = derive_secret(TEST_SECRET, "reset-password")
    claims = jwt.decode(token, key, algorithms=["HS256"], audience="fastapi-users:reset")
    user = await User.find_one(User.email == "fingerprint@example.com")
    assert user is not None
    # An HMAC of the stored hash (no argon2 to make, none to check), not the hash itself.
    assert re.fullmatch(r"[A-Za-z0-9_-]{43}", claims["password_fgpt"])
    assert user.hashed_password not in token

    def minted(fingerprint: object) -> str:
        return jwt.encode({**claims, "password_fgpt": fingerprint}, key, algorithm="HS256")

    # Forged fingerprints are refused even inside a validly signed token.
    for forged in [user.hashed_password, "A" * 43, None]:  # (five checks an hour per account)
        answer = await client.post("/auth/reset-password/check", json={"token": minted(forged)})
        assert answer.status_code == 400, forged
    # A link mailed before this release carries FastAPI Users' argon2 hash of the hash: it works.
    legacy = minted(fast_password_helper().hash(user.hashed_password))
    assert (await client.post("/auth/reset-password/check", json={"token": legacy})).status_code == 204
    reset = await client.post("/auth/reset-password", json={"token": legacy, "password": NEW_PASSWORD})
    assert reset.status_code == 200
    # And like every link it dies with the password it was made for.
    assert (await client.post("/auth/reset-password/check", json={"token": token})).status_code == 400


async def test_a_reset_link_can_be_checked_before_the_form_is_shown(client: AsyncClient) -> None:
    await register(client, "checker@example.com")
    await client.post("/auth/forgot-password", json={"email": "checker@example.com"})
    token = await mailed_token(client, "/reset-password", "checker@example.com")

    fresh = await client.post("/auth/reset-password/check", json={"token": token})
    assert fresh.status_code == 204
    # Checking spends nothing: the link still resets, once.
    reset = await client.post("/auth/reset-password", json={"token": token, "password": NEW_PASSWORD})
    assert reset.status_code == 200
    for dead in [token, "nonsense", ""]:
        used = await client.post("/auth/reset-password/check", json={"token": dead})
        assert used.status_code == 400 and used.json() == {"detail": "RESET_PASSWORD_BAD_TOKEN"}, dead
    assert (await client.post("/auth/reset-password/check", json={"token": "x" * 5000})).status_code == 422
    assert (await client.post("/auth/reset-password/check", json={})).status_code == 422


async def test_forgot_password_answers_the_same_for_unknown_addresses(client: AsyncClient) -> None:
    await register(client, "exists@example.com")

    known = await client.post("/auth/forgot-password", json={"email": "exists@example.com"})
    unknown = await client.post("/auth/forgot-password", json={"email": "ghost@example.com"})

    assert known.status_code == unknown.status_code == 202
    assert known.content == unknown.content


async def test_reset_password_refusals(client: AsyncClient) -> None:
    await register(client, "resetter@example.com")
    await client.post("/auth/forgot-password", json={"email": "resetter@example.com"})
    token = await mailed_token(client, "/reset-password", "resetter@example.com")

    bad_token = await client.post(
        "/auth/reset-password", json={"token": "nonsense", "password": NEW_PASSWORD}
    )
    weak = await client.post("/auth/reset-password", json={"token": token, "password": "short"})
    missing = await client.post("/auth/reset-password", json={"token": token})

    assert bad_token.status_code == 400 and bad_token.json() == {"detail": "RESET_PASSWORD_BAD_TOKEN"}
    assert weak.status_code == 400 and weak.json()["detail"]["code"] == "RESET_PASSWORD_INVALID_PASSWORD"
    assert missing.status_code == 422


async def test_verify_flow(client: AsyncClient) -> None:
    await register(client, "verify.me@example.com")
    await login(client, "verify.me@example.com")  # the link opened where the account is signed in
    token = await mailed_token(client, "/verify", "verify.me@example.com")

    verified = await client.post("/auth/verify", json={"token": token})
    again = await client.post("/auth/verify", json={"token": token})

    assert verified.status_code == 200 and verified.json()["is_verified"] is True
    assert again.status_code == 400 and again.json() == {"detail": "VERIFY_USER_ALREADY_VERIFIED"}


async def test_request_verify_token_answers_202_for_anyone(client: AsyncClient) -> None:
    await register(client, "pending@example.com")
    await mailed_token(client, "/verify", "pending@example.com")  # the one sent on registration

    for email in ["pending@example.com", "nobody@example.com"]:
        response = await client.post("/auth/request-verify-token", json={"email": email})
        assert response.status_code == 202
    await mailed_token(client, "/verify", "pending@example.com", count=2)
    assert await outbox(client, "nobody@example.com") == []


async def test_verify_refuses_garbage(client: AsyncClient) -> None:
    response = await client.post("/auth/verify", json={"token": "garbage"})

    assert response.status_code == 400
    assert response.json() == {"detail": "VERIFY_USER_BAD_TOKEN"}


async def test_user_admin_routes_are_for_superusers_only(server: Server) -> None:
    target = await register(server.client(), "target@example.com")
    client = server.client()
    await signed_up(client, "regular@example.com")
    anonymous = server.client()

    for method, body in [("GET", None), ("PATCH", {"is_active": False}), ("DELETE", None)]:
        response = await client.request(method, f"/users/{target['id']}", json=body)
        assert response.status_code == 403, method
        response = await anonymous.request(method, f"/users/{target['id']}", json=body)
        assert response.status_code == 401, method


async def test_superuser_reads_updates_and_deletes_users(server: Server) -> None:
    target = await register(server.client(), "managed@example.com")
    admin = await superuser_client(server)

    read = await admin.get(f"/users/{target['id']}")
    patched = await admin.patch(
        f"/users/{target['id']}", json={"is_verified": True, "email": "Managed2@example.com"}
    )
    deleted = await admin.delete(f"/users/{target['id']}")

    assert read.status_code == 200 and read.json()["email"] == "managed@example.com"
    assert patched.status_code == 200
    assert patched.json()["is_verified"] is True and patched.json()["email"] == "managed2@example.com"
    assert deleted.status_code == 204 and deleted.content == b""
    assert (await admin.get(f"/users/{target['id']}")).status_code == 404


async def test_superuser_routes_answer_404_for_unknown_or_malformed_ids(server: Server) -> None:
    admin = await superuser_client(server)

    for user_id in ["5f5f5f5f5f5f5f5f5f5f5f5f", "not-an-id", "1"]:
        for method in ["GET", "PATCH", "DELETE"]:
            response = await admin.request(
                method, f"/users/{user_id}", json={} if method == "PATCH" else None
            )
            assert response.status_code == 404, (user_id, method)


async def test_deactivated_user_is_locked_out(server: Server) -> None:
    client = server.client()
    token = await signed_up(client, "soon.inactive@example.com")
    user = await User.find_one(User.email == "soon.inactive@example.com")
    admin = await superuser_client(server)

    response = await admin.patch(f"/users/{user.id}", json={"is_active": False})

    assert response.status_code == 200
    assert (await client.get("/users/me", headers=bearer(token))).status_code == 401


async def test_deleting_a_user_deletes_their_tasks(server: Server) -> None:
    client = server.client()
    token = await signed_up(client, "leaving@example.com")
    for name in ["one", "two"]:
        await client.post("/task/", json={"name": name}, headers=bearer(token))
    bystander = server.client()
    other_token = await signed_up(bystander, "staying@example.com")
    await bystander.post("/task/", json={"name": "mine"}, headers=bearer(other_token))
    leaving = await User.find_one(User.email == "leaving@example.com")
    admin = await superuser_client(server)

    assert (await admin.delete(f"/users/{leaving.id}")).status_code == 204

    assert await Task.find(Task.owner_id == leaving.id).count() == 0
    assert [t["name"] for t in (await bystander.get("/task/")).json()] == ["mine"]


async def test_first_superuser_is_created_at_startup_once(make_server) -> None:
    settings = {
        "first_superuser_email": "Boss@Example.com",
        "first_superuser_password": "quiet harbour lantern 7",
    }
    async with make_server(fast_hashing=False, **settings) as server:
        client = server.client()
        await login(client, "boss@example.com", "quiet harbour lantern 7")
        me = (await client.get("/users/me")).json()
        assert me["is_superuser"] is True and me["is_verified"] is True
        # What each start-up runs changes nothing the second time.
        letters = server.app.state.modules["user"].letters
        assert not await ensure_superuser(
            server.settings, letters, "BOSS@example.com", "another harbour lantern"
        )
        assert await User.find(User.email == "boss@example.com").count() == 1
        await login(client, "boss@example.com", "quiet harbour lantern 7")


async def test_superusers_list_and_search_users(server: Server) -> None:
    for i in range(5):
        await register(server.client(), f"member{i}@example.com")
    await register(server.client(), "Someone.Else@Other.org")
    admin = await superuser_client(server)

    everyone = await admin.get("/users")
    assert everyone.status_code == 200
    assert [u["email"] for u in everyone.json()] == [
        *(f"member{i}@example.com" for i in range(5)),
        "someone.else@other.org",
        "root@example.com",
    ]  # oldest first
    assert "link" not in everyone.headers  # one page
    assert "hashed_password" not in everyone.text

    # Keyset pages: each names the next in its Link header, the last names none.
    pages, url = [], "/users?limit=3"
    while url:
        page = await admin.get(url)
        pages.append([u["email"] for u in page.json()])
        url = page.links.get("next", {}).get("url")
    assert pages == [
        [f"member{i}@example.com" for i in range(3)],
        ["member3@example.com", "member4@example.com", "someone.else@other.org"],
        ["root@example.com"],
    ]

    # Search: the start of an address, in any spelling, in address order; or a whole address.
    prefix = await admin.get("/users", params={"q": "MEMBER", "limit": 4})
    assert [u["email"] for u in prefix.json()] == [f"member{i}@example.com" for i in range(4)]
    rest = await admin.get(prefix.links["next"]["url"])
    assert [u["email"] for u in rest.json()] == ["member4@example.com"] and "link" not in rest.headers
    whole = await admin.get("/users", params={"q": "Someone.Else@OTHER.org"})
    assert [u["email"] for u in whole.json()] == ["someone.else@other.org"]
    # The query is text, never a pattern.
    for pattern in [".*", "^", "member.", "[a-z]"]:
        assert (await admin.get("/users", params={"q": pattern})).json() == [], pattern
    # A cursor is ours or refused.
    for bad in ["nonsense", "e30", "eyJrIjogMX0"]:
        refused = await admin.get("/users", params={"cursor": bad})
        assert refused.status_code == 422 and refused.json()["detail"][0]["type"] == "cursor_invalid", bad


async def test_listing_users_is_for_superusers_only(server: Server) -> None:
    client = server.client()
    await signed_up(client, "curious@example.com")

    assert (await client.get("/users")).status_code == 403
    assert (await server.client().get("/users")).status_code == 401
    assert (await client.get("/users", params={"limit": 1000})).status_code in (403, 422)
