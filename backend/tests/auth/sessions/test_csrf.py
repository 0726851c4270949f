"""CSRF and CORS: what a page on another site can and cannot make a browser do."""

import pytest
from httpx import AsyncClient

from backend.config import ConfigError, load_settings
from backend.tests.conftest import Server
from backend.tests.helpers import PASSWORD, bearer, register, signed_up

EVIL = "https://evil.example"


async def cookie_session(server: Server, email: str) -> tuple[AsyncClient, str]:
    """A browser-like client logged in by cookie that does NOT add the CSRF header by itself."""
    client = server.client(csrf=False)
    token = await signed_up(client, email)
    return client, token


async def test_cookie_requests_that_change_state_need_the_csrf_header(server: Server) -> None:
    client, _ = await cookie_session(server, "csrf@example.com")

    without = await client.post("/task/", json={"name": "forged"})
    wrong = await client.post("/task/", json={"name": "forged"}, headers={"X-CSRF-Token": "guess"})
    right = await client.post(
        "/task/", json={"name": "mine"}, headers={"X-CSRF-Token": client.cookies["FARM_csrf"]}
    )

    assert without.status_code == wrong.status_code == 403
    assert without.json()["detail"]["code"] == "CSRF_TOKEN_INVALID"
    assert "X-CSRF-Token" in without.json()["detail"]["reason"]
    assert right.status_code == 201
    listed = await client.get("/task/")  # reading needs no proof
    assert listed.status_code == 200 and [t["name"] for t in listed.json()] == ["mine"]


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("PUT", "/task/5f5f5f5f5f5f5f5f5f5f5f5f"),
        ("DELETE", "/task/5f5f5f5f5f5f5f5f5f5f5f5f"),
        ("PATCH", "/users/me"),
        ("POST", "/auth/jwt/logout"),
        ("POST", "/auth/logout-all"),
        ("POST", "/users/me/password"),
    ],
)
async def test_every_unsafe_cookie_route_is_guarded(server: Server, method: str, path: str) -> None:
    client, _ = await cookie_session(server, "guarded@example.com")

    response = await client.request(method, path, json={})

    assert response.status_code == 403
    assert (await client.get("/users/me")).status_code == 200  # still logged in: nothing happened


async def test_the_csrf_token_is_bound_to_its_session(server: Server) -> None:
    alice, _ = await cookie_session(server, "alice.csrf@example.com")
    bob, _ = await cookie_session(server, "bob.csrf@example.com")

    response = await alice.post(
        "/task/", json={"name": "x"}, headers={"X-CSRF-Token": bob.cookies["FARM_csrf"]}
    )

    assert response.status_code == 403


async def test_bearer_requests_are_exempt(server: Server) -> None:
    client, token = await cookie_session(server, "api.client@example.com")

    assert (await client.post("/task/", json={"name": "by bearer"}, headers=bearer(token))).status_code == 201
    plain = server.client(csrf=False)  # curl-like: no cookies, no Origin, no extra headers
    assert (await plain.post("/task/", json={"name": "script"}, headers=bearer(token))).status_code == 201


async def test_clients_without_origin_log_in_and_use_bearer_plainly(server: Server) -> None:
    script = server.client(csrf=False)
    await register(script, "script@example.com")

    login = await script.post(
        "/auth/jwt/login", data={"username": "script@example.com", "password": PASSWORD}
    )
    token = login.json()["access_token"]
    script.cookies.clear()

    assert login.status_code == 200
    assert (await script.post("/task/", json={"name": "ok"}, headers=bearer(token))).status_code == 201


async def test_login_and_refresh_refuse_foreign_origins(server: Server) -> None:
    client = server.client()
    await register(client, "origin@example.com")
    form = {"username": "origin@example.com", "password": PASSWORD}

    foreign = await client.post("/auth/jwt/login", data=form, headers={"Origin": EVIL})
    null = await client.post("/auth/jwt/login", data=form, headers={"Origin": "null"})
    own = await client.post("/auth/jwt/login", data=form, headers={"Origin": "https://test"})
    refresh = await client.post("/auth/jwt/refresh", headers={"Origin": EVIL})

    assert foreign.status_code == null.status_code == 403
    assert foreign.json()["detail"]["code"] == "ORIGIN_NOT_ALLOWED"
    assert "set-cookie" not in foreign.headers
    assert own.status_code == 200
    assert refresh.status_code == 403
    assert (await client.post("/auth/jwt/refresh", headers={"Origin": "https://test"})).status_code == 200


async def test_cors_allows_only_configured_origins(make_server) -> None:
    async with make_server(cors_origins=["https://app.example"]) as server:
        client = server.client()
        await register(client, "cors@example.com")
        preflight = {
            "Access-Control-Request-Method": "POST",
            "Access-Control-Request-Headers": "X-CSRF-Token",
        }

        allowed = await client.options("/task/", headers={"Origin": "https://app.example", **preflight})
        refused = await client.options("/task/", headers={"Origin": EVIL, **preflight})
        simple = await client.get("/health", headers={"Origin": EVIL})
        login = await client.post(
            "/auth/jwt/login",
            data={"username": "cors@example.com", "password": PASSWORD},
            headers={"Origin": "https://app.example"},
        )

        assert allowed.status_code == 200
        assert allowed.headers["access-control-allow-origin"] == "https://app.example"
        assert allowed.headers["access-control-allow-credentials"] == "true"
        assert "access-control-allow-origin" not in refused.headers
        assert "access-control-allow-origin" not in simple.headers
        assert login.status_code == 200


@pytest.mark.parametrize(
    "origins", ["*", "https://*.example.com", "app.example.com", "https://a.example/path"]
)
def test_cors_origins_must_be_explicit(origins: str) -> None:
    with pytest.raises(ConfigError, match="CORS_ORIGINS"):
        load_settings(environment="development", jwt_secret_key="x" * 40, cors_origins=origins)


async def test_an_ended_session_is_401_not_a_csrf_error(server: Server) -> None:
    browser, token = await cookie_session(server, "ended.csrf@example.com")
    await server.client().post("/auth/logout-all", headers=bearer(token))  # from elsewhere

    response = await browser.post("/task/", json={"name": "x"})  # the stale cookie, no CSRF header

    assert response.status_code == 401  # "sign in again", not "send a CSRF header"
