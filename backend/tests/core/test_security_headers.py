"""Security headers on every response."""

import pytest
from httpx import AsyncClient

from backend.tests.helpers import PASSWORD, register


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("GET", "/health"),
        ("GET", "/nowhere"),
        ("GET", "/docs"),
        ("GET", "/task/"),
        ("POST", "/auth/jwt/login"),
    ],
)
async def test_every_response_carries_the_headers(client: AsyncClient, method: str, path: str) -> None:
    response = await client.request(method, path)

    assert response.headers["x-content-type-options"] == "nosniff"
    assert response.headers["x-frame-options"] == "DENY"
    assert "frame-ancestors 'none'" in response.headers["content-security-policy"]
    assert "default-src 'self'" in response.headers["content-security-policy"]
    assert response.headers["strict-transport-security"].startswith("max-age=31536000")


async def test_auth_routes_and_token_pages_send_no_referrer(client: AsyncClient) -> None:
    await register(client, "referrer@example.com")
    login = await client.post(
        "/auth/jwt/login", data={"username": "referrer@example.com", "password": PASSWORD}
    )

    assert login.headers["referrer-policy"] == "no-referrer"
    for path in ["/auth/sessions", "/verify", "/reset-password", "/sign-in/link", "/sign-in/mfa"]:
        assert (await client.get(path)).headers["referrer-policy"] == "no-referrer", path
    assert (await client.get("/health")).headers["referrer-policy"] == "strict-origin-when-cross-origin"


async def test_no_hsts_without_secure_cookies(make_server) -> None:
    async with make_server(cookie_secure=False) as server:
        response = await server.client().get("/health")

        assert "strict-transport-security" not in response.headers
        assert response.headers["x-content-type-options"] == "nosniff"


async def test_docs_work_without_a_cdn(client: AsyncClient) -> None:
    page = (await client.get("/docs")).text

    assert "cdn" not in page.lower()
    for asset in [
        "/docs-assets/swagger-ui-bundle.js",
        "/docs-assets/swagger-ui.css",
        "/docs-static/swagger-init.js",
    ]:
        response = await client.get(asset)
        assert response.status_code == 200, asset
    assert "X-CSRF-Token" in (await client.get("/docs-static/swagger-init.js")).text
