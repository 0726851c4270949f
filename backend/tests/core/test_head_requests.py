"""HEAD wherever GET answers (RFC 9110 section 9.3.2): the same status and headers, no body."""

import gzip

import pytest
from httpx import ASGITransport, AsyncClient
from starlette.applications import Starlette
from starlette.responses import StreamingResponse
from starlette.routing import Route

from backend.core.head import HeadAsGetMiddleware
from backend.tests.helpers import bearer, signed_up

BROWSER = {"Accept": "text/html,application/xhtml+xml,*/*;q=0.8"}
PER_REQUEST = {"date"}


def same_answer(get, head) -> None:  # type: ignore[no-untyped-def]
    assert head.status_code == get.status_code, head.url
    assert head.content == b"", head.url
    assert {k: v for k, v in head.headers.items() if k not in PER_REQUEST} == {
        k: v for k, v in get.headers.items() if k not in PER_REQUEST
    }, head.url


@pytest.fixture
def dist(tmp_path):
    (tmp_path / "assets").mkdir()
    (tmp_path / "assets" / "app-0a1B2c3D.js").write_text("console.log('app');" * 100)
    (tmp_path / "assets" / "app-0a1B2c3D.js.br").write_bytes(b"brotli bytes")
    (tmp_path / "favicon.svg").write_text("<svg/>")
    (tmp_path / "index.html").write_text("<!doctype html><title>app shell</title>")
    (tmp_path / "index.html.gz").write_bytes(gzip.compress(b"<!doctype html><title>app shell</title>"))
    return tmp_path


async def test_head_answers_every_get_route_of_the_api(make_server) -> None:
    async with make_server() as server:
        client = server.client()
        token = await signed_up(client, "head@example.com")
        for path in [
            "/health",
            "/health/live",
            "/health/ready",
            "/users/me",
            "/task/",
            "/auth/sessions",
            "/auth/providers",
            "/.well-known/jwks.json",
            "/.well-known/openid-configuration",
            "/openapi.json",
            "/docs",
            "/dev/outbox",
            "/task/0123456789abcdef01234567",  # a 404 of the API is a 404 for HEAD too
            "/",  # no build: the page that says how to make one
        ]:
            get = await client.get(path, headers=bearer(token))
            head = await client.head(path, headers=bearer(token))
            same_answer(get, head)
            assert int(head.headers["content-length"]) == len(get.content), path
        anonymous = server.client()
        same_answer(await anonymous.get("/users/me"), await anonymous.head("/users/me"))  # 401
        schema = (await client.get("/openapi.json")).json()

    assert not [path for path, item in schema["paths"].items() if "head" in item]  # no new operations


async def test_head_answers_the_frontend_as_get_does(make_server, dist) -> None:
    async with make_server(frontend_dist=dist) as server:
        client = server.client()
        for path, headers in [
            ("/", BROWSER),
            ("/login", BROWSER),
            ("/assets/app-0a1B2c3D.js", {"Accept-Encoding": "br"}),
            ("/assets/app-0a1B2c3D.js", {"Accept-Encoding": "identity"}),
            ("/favicon.svg", {}),
            ("/assets/missing-0a1B2c3D.js", {}),
            ("/no/such/file.json", {"Accept": "application/json"}),
        ]:
            get = await client.get(path, headers=headers)
            head = await client.head(path, headers=headers)
            same_answer(get, head)
        index = await client.head("/login", headers={**BROWSER, "Accept-Encoding": "gzip"})
        asset = await client.head("/assets/app-0a1B2c3D.js", headers={"Accept-Encoding": "br"})

    assert index.headers["content-encoding"] == "gzip"
    assert index.headers["content-length"] == str((dist / "index.html.gz").stat().st_size)
    assert asset.headers["content-length"] == str(len(b"brotli bytes"))


@pytest.mark.parametrize("built", [False, True])
async def test_a_path_without_get_answers_head_as_it_answers_get(make_server, dist, built) -> None:
    """POST-only routes: 405 with the routes' Allow, or the frontend's JSON 404 once a build is
    served (its catch-all answers GET for every path). Other methods are left alone."""
    settings = {"frontend_dist": dist} if built else {}
    async with make_server(cors_origins=["https://app.example"], **settings) as server:
        client = server.client()
        for path in ["/auth/jwt/login", "/auth/register", "/auth/jwt/logout"]:
            get = await client.get(path, headers={"Accept": "application/json"})
            head = await client.head(path, headers={"Accept": "application/json"})
            same_answer(get, head)
            assert head.status_code == (404 if built else 405), path
        preflight = await client.options(
            "/task/",
            headers={"Origin": "https://app.example", "Access-Control-Request-Method": "POST"},
        )
        login = await client.post("/auth/jwt/login", data={"username": "x@example.com", "password": "x"})

    assert preflight.status_code == 200
    assert preflight.headers["access-control-allow-methods"] == "GET, POST, PUT, PATCH, DELETE"
    assert login.status_code == 400 and login.json()["detail"] == "LOGIN_BAD_CREDENTIALS"


async def test_head_of_a_stream_sends_its_headers_and_lets_it_run_to_the_end() -> None:
    finished: list[str] = []

    async def chunks():  # type: ignore[no-untyped-def]
        for n in range(3):
            yield f"chunk {n}\n".encode()
        finished.append("done")

    async def stream(request):  # type: ignore[no-untyped-def]
        return StreamingResponse(chunks(), media_type="text/plain", headers={"X-Rows": "3"})

    async def upload(request):  # type: ignore[no-untyped-def]
        return StreamingResponse(iter([await request.body()]), media_type="text/plain")

    app = HeadAsGetMiddleware(
        Starlette(routes=[Route("/rows", stream), Route("/echo", upload, methods=["PUT"])])
    )
    async with AsyncClient(transport=ASGITransport(app), base_url="https://test") as client:
        get = await client.get("/rows")
        head = await client.head("/rows")
        echoed = await client.put("/echo", content=b"as sent")

    assert get.text == "chunk 0\nchunk 1\nchunk 2\n"
    assert head.status_code == 200 and head.content == b"" and head.headers["x-rows"] == "3"
    assert finished == ["done", "done"]
    assert echoed.text == "as sent"
