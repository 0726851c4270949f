"""POST /auth/password-strength: the server's own judgement of a new password, for a live meter.

It is the judgement register, reset and change make (one policy function), so it never disagrees
with them; it looks nothing up, so it tells nothing of accounts; its cost is bounded and it runs
off the event loop; it is limited per IP, and what it is sent is neither kept nor echoed.
"""

import asyncio
import logging
import threading

import pytest
from httpx import ASGITransport, AsyncClient

from backend.apps.auth.methods.password import routes
from backend.core.hashing import HashingPool
from backend.tests.conftest import BASE_URL, Server, ServerFactory

EMAIL = "policy@example.com"
LONG_RANDOM = "vQ7#mZ2!kR9$wL4@xT8%pN3&bJ6*hF1^cY5"
CHECKED_PASSWORDS = [
    ("password", EMAIL),  # common
    ("iloveyou123", EMAIL),
    ("short1!", EMAIL),  # short
    ("policy@example.com!", EMAIL),  # the address
    ("my policy is secret 99", EMAIL),  # its local part
    ("correct horse battery staple", EMAIL),
    (LONG_RANDOM, EMAIL),
    ("Ω unicode ünïcödé päss phrase", EMAIL),
    ("ñññññññññññ", EMAIL),
    ("a\x00b\x07 null and bell passphrase", EMAIL),  # control characters are text like any other
    (("4@8({[<36910!|7+$5%2" * 4)[:72], EMAIL),  # crafted to be slow for zxcvbn
    (("quasar " * 147)[:1023] + "Z", EMAIL),  # 1024 characters: the most allowed
    ("a" * 1024, EMAIL),
    ("x" * 1025, EMAIL),  # over the maximum
    (LONG_RANDOM * 100, EMAIL),
    # Register judges the address as EmailStr spells it (the domain in Unicode): so does the check.
    ("ab@bücher.example 2024!", "ab@XN--BCHER-KVA.example"),
]


async def check(client: AsyncClient, password: str, email: str | None = None):  # type: ignore[no-untyped-def]
    return await client.post("/auth/password-strength", json={"password": password, "email": email})


@pytest.mark.parametrize(("password", "email"), CHECKED_PASSWORDS)
async def test_the_check_says_what_register_would(client: AsyncClient, password: str, email: str) -> None:
    checked = await check(client, password, email)
    registered = await client.post("/auth/register", json={"email": email, "password": password})

    assert checked.status_code == 200, checked.text
    judgement = checked.json()
    assert set(judgement) == {"acceptable", "score", "reason", "warning", "suggestions"}
    assert registered.status_code in (201, 400), registered.text
    if registered.status_code == 201:
        assert (judgement["acceptable"], judgement["reason"]) == (True, None)
    else:
        assert registered.json()["detail"]["code"] == "REGISTER_INVALID_PASSWORD"
        assert (judgement["acceptable"], judgement["reason"]) == (
            False,
            registered.json()["detail"]["reason"],
        )
    # A meter cannot look strong while the server refuses: 3 and more is "acceptable".
    assert judgement["score"] in range(5) and (judgement["score"] >= 3) == judgement["acceptable"]
    assert all(isinstance(s, str) for s in judgement["suggestions"])


async def test_a_weak_password_comes_with_advice(client: AsyncClient) -> None:
    judgement = (await check(client, "password")).json()

    assert judgement["acceptable"] is False and judgement["score"] == 0
    assert judgement["warning"] == "This is a top-10 common password."
    assert judgement["suggestions"] and judgement["reason"].startswith("Password is too easy to guess. ")
    assert all(part in judgement["reason"] for part in [judgement["warning"], *judgement["suggestions"]])


async def test_without_an_address_only_the_password_is_judged(client: AsyncClient) -> None:
    for email in [None, ""]:
        judgement = (await check(client, "policy@example.com 2024 river", email)).json()
        assert judgement["acceptable"] is True, email
    assert (await check(client, "policy@example.com 2024 river", EMAIL)).json()["reason"] == (
        "Password must not contain your email address."
    )
    assert (await client.post("/auth/password-strength", json={"password": LONG_RANDOM})).json()[
        "acceptable"
    ] is True


async def test_the_answer_says_nothing_of_accounts(client: AsyncClient) -> None:
    """It looks nothing up: an address with an account answers as it did before it had one."""
    password = "tulip harbour 81"

    before = await check(client, password, "someone@example.com")
    assert (
        await client.post("/auth/register", json={"email": "someone@example.com", "password": LONG_RANDOM})
    ).status_code == 201
    after = await check(client, password, "someone@example.com")
    stranger = await check(client, password, "stranger@example.com")

    assert before.status_code == after.status_code == stranger.status_code == 200
    assert before.content == after.content == stranger.content
    assert before.headers.keys() == after.headers.keys() == stranger.headers.keys()


async def test_the_answer_is_not_stored_and_the_password_not_echoed_or_logged(
    client: AsyncClient, caplog: pytest.LogCaptureFixture
) -> None:
    secret = "my secret passphrase 1234 zebra"
    with caplog.at_level(logging.DEBUG):
        answers = [
            await check(client, secret, EMAIL),
            await check(client, "x" * 1025 + secret, EMAIL),
            await check(client, secret[:6], EMAIL),
        ]

    for answer in answers:
        assert answer.status_code == 200
        assert answer.headers["cache-control"] == "no-store"
        assert secret[:6] not in answer.text
    assert secret[:6] not in caplog.text


@pytest.mark.parametrize(
    ("body", "status"),
    [
        ({"password": 12345678}, 422),
        ({"password": None}, 422),
        ({"password": ["correct horse battery staple"]}, 422),
        ({"password": {"$gt": ""}}, 422),
        ({}, 422),
        ({"password": "correct horse battery staple", "email": 42}, 422),
        ({"password": "correct horse battery staple", "email": "e" * 321}, 422),
        ({"password": "correct horse battery staple", "admin": True}, 422),
        ([], 422),
        ("correct horse battery staple", 422),
    ],
)
async def test_hostile_bodies_get_a_clear_refusal(client: AsyncClient, body: object, status: int) -> None:
    response = await client.post("/auth/password-strength", json=body)

    assert response.status_code == status, response.text
    assert "detail" in response.json()


@pytest.mark.parametrize(
    "raw",
    [
        b'{"password": "\\ud800 correct horse"}',  # a lone surrogate
        b'{"password": "\xff\xfe correct horse"}',  # not UTF-8
        b'{"password": "correct horse battery staple", "email": "\\udfff@example.com"}',
        b'{"password": "unterminated',
    ],
)
async def test_text_that_is_not_unicode_is_refused(client: AsyncClient, raw: bytes) -> None:
    response = await client.post(
        "/auth/password-strength", content=raw, headers={"Content-Type": "application/json"}
    )
    clean = await check(client, "correct horse battery staple")

    assert response.status_code == 422, response.text
    assert clean.status_code == 200


async def test_a_body_over_the_limit_is_413_and_one_under_it_is_judged(make_server: ServerFactory) -> None:
    async with make_server(max_body_bytes=64 * 1024) as server:
        client = server.client()
        over = await check(client, "x" * 64 * 1024)
        under = await check(client, "x" * 60 * 1024)

        assert over.status_code == 413
        assert under.status_code == 200
        assert under.json()["reason"] == "Password should be at most 1024 characters."


def client_at(server: Server, ip: str) -> AsyncClient:
    client = AsyncClient(transport=ASGITransport(server.asgi, client=(ip, 50000)), base_url=BASE_URL)
    server.clients.append(client)
    return client


async def test_the_check_is_limited_per_ip(make_server: ServerFactory) -> None:
    async with make_server(rate_limit_password_check_ip="3/minute") as server:
        typist, other = client_at(server, "203.0.113.7"), client_at(server, "203.0.113.8")

        statuses = [(await check(typist, f"typing {i} more letters")).status_code for i in range(4)]
        refused = await check(typist, "and another")
        elsewhere = await check(other, "typing elsewhere")

        assert statuses == [200, 200, 200, 429]
        assert refused.json()["detail"]["code"] == "TOO_MANY_REQUESTS"
        assert 0 < int(refused.headers["retry-after"]) <= 60
        assert elsewhere.status_code == 200


class Gate:
    """Stands in for the judgement: judges for real, once the test opens the gate."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch) -> None:
        self.judge = routes.judge_password
        self.entered = threading.Event()
        self.opened = threading.Event()
        monkeypatch.setattr(routes, "judge_password", self)

    def __call__(self, password: str, email: str | None) -> object:
        self.entered.set()
        self.opened.wait(timeout=5)  # on the event loop, this would stall every other request
        return self.judge(password, email)

    async def reached(self) -> bool:
        return await asyncio.to_thread(self.entered.wait, 5)


async def test_a_slow_judgement_stalls_no_other_request(
    server: Server, monkeypatch: pytest.MonkeyPatch
) -> None:
    gate = Gate(monkeypatch)
    client = server.client()

    slow = asyncio.create_task(check(client, "correct horse battery staple"))
    assert await gate.reached(), "the check never judged"
    health = await asyncio.wait_for(client.get("/health"), timeout=5)
    slow_done_first = slow.done()
    gate.opened.set()
    answer = await slow

    assert health.status_code == 200 and not slow_done_first
    assert answer.status_code == 200 and answer.json()["acceptable"] is True


async def test_checks_beyond_the_queue_are_told_to_come_back(
    server: Server, monkeypatch: pytest.MonkeyPatch
) -> None:
    gate = Gate(monkeypatch)
    # One judgement at a time and none waiting, to fill the queue with one request.
    monkeypatch.setattr(server.app.state.modules["password"], "judging", HashingPool(1, 0))
    client = server.client()

    first = asyncio.create_task(check(client, "correct horse battery staple"))
    assert await gate.reached()
    busy = await check(client, "another horse battery staple")
    gate.opened.set()

    assert (await first).status_code == 200
    assert busy.status_code == 503
    assert busy.json()["detail"]["code"] == "SERVER_BUSY" and int(busy.headers["retry-after"]) >= 1
