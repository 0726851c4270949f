"""Hostile input gets a fast, clear 4xx: never a 5xx, never an echo of megabytes, never a stall."""

import asyncio
import re
from collections.abc import AsyncIterator

import pytest
from httpx import AsyncClient

from backend.tests.conftest import Server
from backend.tests.helpers import superuser_client

HOSTILE_TEXT = [
    b'"\\ud800"',  # a lone surrogate, escaped
    b'"\\udc00x\\ud83d"',  # a lone low and a lone high surrogate
    b'"\xed\xa0\x80"',  # a surrogate as raw (CESU) bytes: invalid UTF-8
    b'"\xff\xfe"',  # not UTF-8 at all
    b'"a\\u0000b\\u0007\\u001f"',  # control characters, escaped
]
FIELDS = ["email", "password", "name", "token", "current_password", "new_password", "completed", "is_active"]
PATH_PARAMETER = re.compile(r"\{[^}]+\}")


def api_calls(server: Server) -> list[tuple[str, str]]:
    """(method, path) of every API operation, path parameters filled with a hostile value."""
    return [
        (method.upper(), PATH_PARAMETER.sub("%ED%A0%80%00", path))
        for path, operations in server.app.openapi()["paths"].items()
        for method in operations
    ]


def assert_clear_refusal(response, what: str) -> None:  # type: ignore[no-untyped-def]
    assert response.status_code < 500, f"{what}: {response.status_code} {response.text[:300]}"
    if response.status_code >= 400:
        assert response.headers["content-type"].startswith("application/json"), what
        assert "detail" in response.json(), what


async def test_every_route_refuses_invalid_unicode_and_control_characters(server: Server) -> None:
    admin = await superuser_client(server)
    calls = api_calls(server)
    assert len(calls) > 20
    for method, path in calls:
        for text in HOSTILE_TEXT:
            body = b"{" + b",".join(b'"' + f.encode() + b'":' + text for f in FIELDS) + b"}"
            for content_type in ["application/json", "application/x-www-form-urlencoded"]:
                if content_type.endswith("urlencoded"):
                    body = b"username=%ED%A0%80&password=" + text.strip(b'"')
                response = await admin.request(
                    method,
                    f"{path}?q=%ED%A0%80%FF&completed=%00&skip=%ED%A0%80&to=%00",
                    content=body,
                    headers={"Content-Type": content_type, "User-Agent": "\x01\x7f"},
                )
                assert_clear_refusal(response, f"{method} {path} {content_type} {text!r}")


@pytest.mark.parametrize(
    "body",
    [b'{"email":"\\ud800","password":"x"}', b'{"email":"\xed\xa0\x80","password":"x"}'],
    ids=["escaped-surrogate", "raw-surrogate-bytes"],
)
async def test_a_lone_surrogate_is_a_422_with_a_reason(client: AsyncClient, body: bytes) -> None:
    for path in ["/auth/register", "/auth/forgot-password", "/auth/verify", "/auth/reset-password"]:
        response = await client.post(path, content=body, headers={"Content-Type": "application/json"})

        assert response.status_code == 422, response.text
        assert response.json()["detail"][0]["loc"] == ["body"]
        assert "UTF" in response.json()["detail"][0]["msg"]


async def test_proper_surrogate_pairs_are_ordinary_text(server: Server, client: AsyncClient) -> None:
    from backend.tests.helpers import signed_up

    await signed_up(client, "emoji@example.com")
    response = await client.post(
        "/task/", content=b'{"name": "party \\ud83c\\udf89"}', headers={"Content-Type": "application/json"}
    )

    assert response.status_code == 201, response.text
    assert response.json()["name"] == "party 🎉"


async def test_a_body_over_the_limit_is_refused_before_it_is_read(make_server) -> None:  # type: ignore[no-untyped-def]
    async with make_server(max_body_bytes=64 * 1024) as server:
        client = server.client()
        padding = b'{"name":"x","pad":[' + b"0," * 200_000 + b"0]}"

        declared = await client.post("/task/", content=padding, headers={"Content-Type": "application/json"})

        assert declared.status_code == 413
        assert declared.json() == {"detail": "The request body is larger than 65536 bytes."}
        assert declared.headers["connection"] == "close"


async def test_a_streamed_body_is_cut_off_at_the_limit(make_server) -> None:  # type: ignore[no-untyped-def]
    async with make_server(max_body_bytes=64 * 1024) as server:
        sent = 0

        async def chunks() -> AsyncIterator[bytes]:  # no Content-Length: the size is only known as it comes
            nonlocal sent
            yield b'{"email": "a@example.com", "password": "'
            for _ in range(10_000):
                sent += 1024
                yield b"x" * 1024

        response = await server.client().post(
            "/auth/register", content=chunks(), headers={"Content-Type": "application/json"}
        )

        assert response.status_code == 413
        assert sent < 10_000 * 1024  # it stopped reading long before the end


async def test_a_huge_body_holds_up_no_one(make_server) -> None:  # type: ignore[no-untyped-def]
    async with make_server() as server:  # the default limit, 1 MiB
        finished: list[str] = []
        gate = asyncio.Event()

        async def slow_huge_body() -> AsyncIterator[bytes]:
            yield b'{"name":"x","pad":['
            for i in range(20_000):  # 20 MB of zeros, sent in 1 kB chunks
                if i == 100:
                    gate.set()
                yield b"0," * 512
                await asyncio.sleep(0)
            yield b"0]}"

        async def huge() -> None:
            response = await server.client().post(
                "/task/", content=slow_huge_body(), headers={"Content-Type": "application/json"}
            )
            finished.append(f"huge {response.status_code}")

        async def cheap() -> None:
            await gate.wait()
            response = await server.client().get("/health/live")
            finished.append(f"cheap {response.status_code}")

        await asyncio.gather(huge(), cheap())

        assert finished == ["cheap 200", "huge 413"]


async def test_a_validation_error_echoes_only_a_short_excerpt(client: AsyncClient) -> None:
    padding = {"name": "x" * 900_000, "pad": [0] * 10_000, "completed": "maybe"}

    response = await client.post("/auth/register", json=padding)

    assert response.status_code == 422
    assert len(response.content) < 2_000, len(response.content)
    messages = {tuple(e["loc"]): e for e in response.json()["detail"]}
    assert messages[("body", "pad")]["input"] == "(an array of 10000 items)"
    assert len(messages[("body", "name")]["input"]) <= 81


async def test_not_a_number_is_refused_not_crashed_on(client: AsyncClient) -> None:
    response = await client.post(
        "/auth/register",
        content=b'{"email": NaN, "password": Infinity}',
        headers={"Content-Type": "application/json"},
    )

    assert response.status_code == 422
    assert {e["input"] for e in response.json()["detail"] if "input" in e} <= {"nan", "inf"}


async def test_thousands_of_errors_are_summarised(client: AsyncClient) -> None:
    response = await client.post("/auth/register", json={f"extra{i}": i for i in range(5_000)})

    assert response.status_code == 422
    detail = response.json()["detail"]
    assert len(detail) <= 21
    assert detail[-1]["type"] == "too_many_errors"
