"""Register, log in, log out, and the cookie that carries the token."""

from httpx import AsyncClient

from backend.apps.user.models import User
from backend.tests.conftest import Server
from backend.tests.helpers import (
    PASSWORD,
    bearer,
    cookie_attributes,
    login,
    register,
    signed_up,
)


async def test_register_returns_the_public_user(client: AsyncClient) -> None:
    response = await client.post("/auth/register", json={"email": "new@example.com", "password": PASSWORD})

    assert response.status_code == 201
    body = response.json()
    public = {"id", "email", "is_active", "is_superuser", "is_verified", "created_at", "has_password"}
    assert set(body) == public
    assert body["email"] == "new@example.com"
    assert (body["is_active"], body["is_superuser"], body["is_verified"]) == (True, False, False)
    assert "hashed" not in response.text and PASSWORD not in response.text


async def test_register_twice_is_refused_whatever_the_case(client: AsyncClient) -> None:
    await register(client, "Alice@Example.com")

    for email in ["alice@example.com", "ALICE@EXAMPLE.COM", "Alice@Example.com"]:
        response = await client.post("/auth/register", json={"email": email, "password": PASSWORD})
        assert response.status_code == 400
        assert response.json() == {"detail": "REGISTER_USER_ALREADY_EXISTS"}
    assert await User.find_all().count() == 1


async def test_register_stores_the_address_in_one_case(client: AsyncClient) -> None:
    body = await register(client, "Mixed.Case@Example.COM")

    assert body["email"] == "mixed.case@example.com"
    assert (await User.find_one()).email == "mixed.case@example.com"


async def test_register_cannot_grant_itself_privileges(client: AsyncClient) -> None:
    response = await client.post(
        "/auth/register",
        json={"email": "sneaky@example.com", "password": PASSWORD, "is_superuser": True},
    )

    assert response.status_code == 422
    assert await User.find_all().count() == 0


async def test_register_refuses_a_short_password_with_a_reason(client: AsyncClient) -> None:
    response = await client.post("/auth/register", json={"email": "short@example.com", "password": "1234567"})

    assert response.status_code == 400
    assert response.json()["detail"]["code"] == "REGISTER_INVALID_PASSWORD"
    assert "at least 8 characters" in response.json()["detail"]["reason"]


async def test_register_validates_the_body(client: AsyncClient) -> None:
    for body in [
        {"email": "not-an-email", "password": PASSWORD},
        {"email": "x@example.com"},
        {"password": PASSWORD},
        {"email": ["x@example.com"], "password": PASSWORD},
    ]:
        response = await client.post("/auth/register", json=body)
        assert response.status_code == 422, body
        assert response.json()["detail"], body


async def test_login_answers_with_bearer_body_and_cookie(client: AsyncClient, server: Server) -> None:
    await register(client, "login@example.com")

    response = await client.post(
        "/auth/jwt/login", data={"username": "login@example.com", "password": PASSWORD}
    )

    assert response.status_code == 200
    body = response.json()
    assert set(body) == {"access_token", "token_type"}
    assert body["token_type"] == "bearer"
    cookie = cookie_attributes(response, "FARM_auth")
    assert cookie["value"] == body["access_token"]
    assert "httponly" in cookie
    assert "secure" in cookie
    assert cookie["samesite"].lower() == "lax"
    assert cookie["path"] == "/"
    assert cookie["max-age"] == str(server.settings.jwt_lifetime_seconds)


async def test_cookie_is_not_secure_when_configured_off(make_server) -> None:
    async with make_server(cookie_secure=False) as server:
        client = server.client()
        await register(client, "plain@example.com")
        response = await client.post(
            "/auth/jwt/login", data={"username": "plain@example.com", "password": PASSWORD}
        )
        assert "secure" not in cookie_attributes(response, "FARM_auth")


async def test_login_is_case_insensitive_for_the_email(client: AsyncClient) -> None:
    await register(client, "Case@Example.com")

    for username in ["case@example.com", "CASE@EXAMPLE.COM", " Case@Example.com "]:
        response = await client.post("/auth/jwt/login", data={"username": username, "password": PASSWORD})
        assert response.status_code == 200, username


async def test_wrong_password_and_unknown_email_look_the_same(client: AsyncClient) -> None:
    await register(client, "known@example.com")

    wrong = await client.post(
        "/auth/jwt/login", data={"username": "known@example.com", "password": "nope-nope"}
    )
    unknown = await client.post(
        "/auth/jwt/login", data={"username": "who@example.com", "password": "nope-nope"}
    )

    assert wrong.status_code == unknown.status_code == 400
    assert wrong.json() == unknown.json() == {"detail": "LOGIN_BAD_CREDENTIALS"}
    assert "set-cookie" not in wrong.headers and "set-cookie" not in unknown.headers


async def test_login_needs_both_form_fields(client: AsyncClient) -> None:
    for data in [{"username": "x@example.com"}, {"password": PASSWORD}, {}]:
        response = await client.post("/auth/jwt/login", data=data)
        assert response.status_code == 422, data


async def test_inactive_user_cannot_log_in(client: AsyncClient) -> None:
    await register(client, "sleepy@example.com")
    await User.find_one(User.email == "sleepy@example.com").set({User.is_active: False})

    response = await client.post(
        "/auth/jwt/login", data={"username": "sleepy@example.com", "password": PASSWORD}
    )

    assert response.status_code == 400
    assert response.json() == {"detail": "LOGIN_BAD_CREDENTIALS"}


async def test_protected_routes_accept_bearer_or_cookie(server: Server) -> None:
    browser = server.client()
    token = await signed_up(browser, "both@example.com")
    api_client = server.client()

    assert (await browser.get("/users/me")).status_code == 200  # cookie only
    assert (await api_client.get("/users/me")).status_code == 401  # nothing
    assert (await api_client.get("/users/me", headers=bearer(token))).status_code == 200  # bearer only


async def test_logout_clears_the_cookie(client: AsyncClient) -> None:
    await signed_up(client, "bye@example.com")

    response = await client.post("/auth/jwt/logout")

    assert response.status_code == 204
    assert response.content == b""
    cookie = cookie_attributes(response, "FARM_auth")
    assert cookie["value"] in ('""', "")
    assert cookie["max-age"] == "0"
    assert (await client.get("/users/me")).status_code == 401


async def test_logout_needs_a_logged_in_user(client: AsyncClient) -> None:
    response = await client.post("/auth/jwt/logout")

    assert response.status_code == 401


async def test_a_user_logged_in_twice_gets_distinct_tokens(client: AsyncClient) -> None:
    await register(client, "twice@example.com")

    first = await login(client, "twice@example.com")
    second = await login(client, "twice@example.com")

    assert first != second
