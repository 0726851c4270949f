"""One credential decides: a Bearer token is judged alone, whatever cookie rides along (RFC 6750)."""

from httpx import AsyncClient

from backend.tests.conftest import Server
from backend.tests.helpers import bearer, login, register, signed_up


async def test_a_bad_bearer_token_is_a_401_even_beside_a_valid_cookie(server: Server) -> None:
    browser = server.client()
    await signed_up(browser, "cookie-owner@example.com")  # the cookie belongs to this account
    assert (await browser.get("/users/me")).status_code == 200

    for token in ["not-a-jwt", "", "eyJhbGciOiJub25lIn0.e30."]:
        response = await browser.get("/users/me", headers={"Authorization": f"Bearer {token}"})

        assert response.status_code == 401, token
        assert response.headers["www-authenticate"] == 'Bearer error="invalid_token"'


async def test_a_revoked_bearer_token_does_not_fall_back_to_the_cookie(server: Server) -> None:
    browser = server.client()
    await register(browser, "a@example.com")
    await register(browser, "b@example.com")
    stale = await login(browser, "a@example.com")
    await browser.post("/auth/jwt/logout", headers=bearer(stale))  # A's session is over
    await login(browser, "b@example.com")  # the browser's cookie is now B's

    response = await browser.post("/task/", json={"name": "whose?"}, headers=bearer(stale))

    assert response.status_code == 401
    assert response.headers["www-authenticate"] == 'Bearer error="invalid_token"'
    assert (await browser.get("/task/")).json() == []  # nothing was added to B's list


async def test_a_valid_bearer_token_acts_as_its_own_user(server: Server) -> None:
    browser = server.client()
    await register(browser, "a@example.com")
    await register(browser, "b@example.com")
    token_a = await login(browser, "a@example.com")
    await login(browser, "b@example.com")

    response = await browser.get("/users/me", headers=bearer(token_a))

    assert response.json()["email"] == "a@example.com"


async def test_no_credentials_is_a_401_with_a_challenge(client: AsyncClient) -> None:
    response = await client.get("/users/me")

    assert response.status_code == 401
    assert response.headers["www-authenticate"] == "Bearer"
    assert response.json() == {"detail": "Unauthorized"}
