"""FastAPI serves the built React app, with client-side routes falling back to index.html."""

import json
import subprocess
import sys

import pytest

from backend.config import REPO_ROOT
from backend.tests.helpers import register

INDEX = "<!doctype html><title>app shell</title><script src='/assets/app.js'></script>"


@pytest.fixture
def dist(tmp_path):
    (tmp_path / "assets").mkdir()
    (tmp_path / "assets" / "app.js").write_text("console.log('app')")
    (tmp_path / "favicon.svg").write_text("<svg/>")
    (tmp_path / "index.html").write_text(INDEX)
    return tmp_path


BROWSER = {"Accept": "text/html,application/xhtml+xml,*/*;q=0.8"}


async def test_client_routes_get_the_app_shell(make_server, dist) -> None:
    async with make_server(frontend_dist=dist) as server:
        client = server.client()
        for path in [
            "/",
            "/login",
            "/reset-password?token=abc",
            "/verify?token=abc",
            "/sessions",
            "/no/such/page",
        ]:
            response = await client.get(path, headers=BROWSER)
            assert response.status_code == 200, path
            assert response.text == INDEX
            assert response.headers["cache-control"] == "no-cache"
        assert (await client.get("/assets/app.js")).text == "console.log('app')"
        assert (await client.get("/favicon.svg")).text == "<svg/>"


async def test_the_api_and_docs_keep_working_beside_the_app(make_server, dist) -> None:
    async with make_server(frontend_dist=dist) as server:
        client = server.client()
        await register(client, "beside@example.com")
        assert (await client.get("/health", headers=BROWSER)).json() == {"status": "ok"}
        assert "swagger-ui" in (await client.get("/docs", headers=BROWSER)).text
        assert (await client.get("/openapi.json")).json()["info"]["title"] == "FARM Auth"
        assert (await client.get("/task/", headers=BROWSER)).status_code == 401
        unknown = await client.get("/no/such/thing", headers={"Accept": "application/json"})
        assert unknown.status_code == 404 and unknown.json() == {"detail": "Not Found"}
        assert (await client.get("/../../etc/passwd", headers={"Accept": "*/*"})).status_code == 404


async def test_without_a_build_the_root_says_how_to_build(client) -> None:
    response = await client.get("/")

    assert response.status_code == 200
    assert "make run" in response.text and "/docs" in response.text


def test_the_openapi_command_writes_the_schema_the_frontend_is_generated_from(tmp_path) -> None:
    output = tmp_path / "openapi.json"
    subprocess.run(
        [sys.executable, "-m", "backend.manage", "openapi", "--output", str(output)],
        cwd=REPO_ROOT,
        check=True,
        env={"PATH": "/usr/bin:/bin", "SMTP_HOST": "smtp.example.com"},
        timeout=60,
    )

    paths = json.loads(output.read_text())["paths"]
    assert {
        "/auth/jwt/login",
        "/auth/jwt/refresh",
        "/auth/sessions",
        "/users",
        "/task/{id}",
        "/dev/outbox",
        "/auth/oauth/accounts",  # documented through the export's placeholder provider
    } <= set(paths)
