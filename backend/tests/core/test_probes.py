"""Health probes, and the conventions a newcomer expects."""

import pytest
from httpx import AsyncClient

from backend.config import Settings


async def test_liveness_and_readiness_answer(client: AsyncClient) -> None:
    for path in ["/health", "/health/live", "/health/ready"]:
        response = await client.get(path)
        assert response.status_code == 200 and response.json() == {"status": "ok"}, path


@pytest.mark.parametrize(
    ("url", "name", "expected"),
    [
        ("mongodb://db.example.com/mydb", None, "mydb"),
        ("mongodb+srv://user:p%40ss@cluster0.example.net/shop?retryWrites=true", None, "shop"),
        ("mongodb://a:1,b:2/?replicaSet=rs0", None, "farmstack"),
        ("mongodb://db.example.com/mydb", "explicit", "explicit"),
        (None, None, "farmstack"),
    ],
)
def test_the_database_named_in_the_url_is_used_unless_mongodb_db_is_set(
    url: str | None, name: str | None, expected: str
) -> None:
    settings = Settings(environment="development", mongodb_url=url, **({"mongodb_db": name} if name else {}))

    assert settings.mongodb_db == expected


async def test_the_root_answers_the_page_to_anything_but_a_json_client(make_server, tmp_path) -> None:  # type: ignore[no-untyped-def]
    dist = tmp_path / "dist"
    (dist / "assets").mkdir(parents=True)
    (dist / "index.html").write_text("<!doctype html><title>FARM Auth</title>")
    async with make_server(frontend_dist=dist) as server:
        client: AsyncClient = server.client()
        for accept in [None, "*/*", "text/html"]:  # curl, a script, a browser
            response = await client.get("/", headers={"Accept": accept} if accept else {})
            assert response.status_code == 200 and "FARM Auth" in response.text, accept
        as_json = await client.get("/", headers={"Accept": "application/json"})
        assert as_json.status_code == 404 and as_json.json() == {"detail": "Not Found"}
