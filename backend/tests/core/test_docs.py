"""Swagger UI: what a person needs to register, authorize and call protected routes from /docs."""

from httpx import AsyncClient

from backend.tests.helpers import PASSWORD


async def test_docs_page_and_schema_are_served(client: AsyncClient) -> None:
    assert (await client.get("/docs")).status_code == 200
    assert (await client.get("/openapi.json")).status_code == 200


async def test_authorize_button_logs_in_through_the_login_route(client: AsyncClient) -> None:
    schema = (await client.get("/openapi.json")).json()
    schemes = schema["components"]["securitySchemes"]
    password_flow = next(s for s in schemes.values() if s["type"] == "oauth2")["flows"]["password"]
    await client.post("/auth/register", json={"email": "swagger@example.com", "password": PASSWORD})

    # Swagger UI resolves tokenUrl against the /docs page and posts the form there.
    token_url = client.base_url.join("/docs").join(password_flow["tokenUrl"])
    response = await client.post(
        str(token_url), data={"username": "swagger@example.com", "password": PASSWORD}
    )

    assert token_url.path == "/auth/jwt/login"
    assert response.status_code == 200 and response.json()["token_type"] == "bearer"


async def test_every_protected_route_declares_bearer_security(client: AsyncClient) -> None:
    schema = (await client.get("/openapi.json")).json()
    oauth_name = next(n for n, s in schema["components"]["securitySchemes"].items() if s["type"] == "oauth2")

    protected = {
        (method, path)
        for path, operations in schema["paths"].items()
        for method, operation in operations.items()
        if path.startswith(("/task", "/users")) or path == "/auth/jwt/logout"
    }
    assert len(protected) >= 11
    for method, path in protected:
        security = schema["paths"][path][method].get("security", [])
        assert any(oauth_name in requirement for requirement in security), (method, path)
