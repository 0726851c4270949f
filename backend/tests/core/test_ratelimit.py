"""Brute force and abuse: limits per account and per IP, kept in the database."""

import asyncio
import logging

import pytest
from httpx import AsyncClient

from backend.core import ratelimit
from backend.tests.helpers import PASSWORD, bearer, register, signed_up


async def fail_login(client: AsyncClient, email: str, headers: dict | None = None) -> int:
    response = await client.post(
        "/auth/jwt/login", data={"username": email, "password": "wrong password!"}, headers=headers or {}
    )
    return response.status_code


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch):
    """Move the limiter's clock, to see a window end without waiting for it."""

    class Clock:
        offset = 0.0

        def advance(self, seconds: float) -> None:
            self.offset += seconds

    clock = Clock()
    real = ratelimit.time.time
    monkeypatch.setattr(ratelimit.time, "time", lambda: real() + clock.offset)
    return clock


async def test_failed_logins_lock_the_account_and_the_lock_lifts(make_server, clock) -> None:
    async with make_server(rate_limit_login_account="3/hour") as server:
        client = server.client()
        await register(client, "target@example.com")

        assert [await fail_login(client, "target@example.com") for _ in range(3)] == [400, 400, 400]
        locked = await client.post(
            "/auth/jwt/login", data={"username": "target@example.com", "password": PASSWORD}
        )

        assert locked.status_code == 429
        assert locked.json()["detail"]["code"] == "TOO_MANY_REQUESTS"
        assert "Try again in" in locked.json()["detail"]["reason"]
        assert 0 < int(locked.headers["retry-after"]) <= 3600
        # Other accounts are not affected; the same account in another case is.
        await register(client, "bystander@example.com")
        assert (
            await client.post(
                "/auth/jwt/login", data={"username": "bystander@example.com", "password": PASSWORD}
            )
        ).status_code == 200
        assert await fail_login(client, "TARGET@example.com") == 429

        clock.advance(int(locked.headers["retry-after"]) + 1)
        again = await client.post(
            "/auth/jwt/login", data={"username": "target@example.com", "password": PASSWORD}
        )
        assert again.status_code == 200


async def test_unknown_accounts_lock_the_same_way(make_server) -> None:
    async with make_server(rate_limit_login_account="2/hour") as server:
        client = server.client()
        await register(client, "real@example.com")
        real = [await fail_login(client, "real@example.com") for _ in range(3)]
        ghost = [await fail_login(client, "ghost@example.com") for _ in range(3)]

        assert real == ghost == [400, 400, 429]


async def test_failed_logins_per_ip_across_accounts(make_server) -> None:
    async with make_server(rate_limit_login_ip="4/hour") as server:
        client = server.client()
        statuses = [await fail_login(client, f"user{i}@example.com") for i in range(5)]

        assert statuses == [400, 400, 400, 400, 429]


async def test_forwarded_for_counts_only_behind_a_trusted_proxy(make_server) -> None:
    for trusted, expected in [([], [400, 400, 429]), (["127.0.0.1"], [400, 400, 400])]:
        async with make_server(rate_limit_login_ip="2/hour", trusted_proxies=trusted) as server:
            client = server.client()
            statuses = [
                await fail_login(client, f"p{i}@example.com", {"X-Forwarded-For": f"203.0.113.{i}"})
                for i in range(3)
            ]
            assert statuses == expected, trusted


async def test_wrong_current_password_counts_as_a_failed_login(make_server) -> None:
    async with make_server(rate_limit_login_account="2/hour") as server:
        client = server.client()
        token = await signed_up(client, "oracle@example.com")
        body = {"current_password": "guess guess guess", "new_password": "quiet harbour lantern 7"}

        statuses = [
            (await client.post("/users/me/password", json=body, headers=bearer(token))).status_code
            for _ in range(3)
        ]

        assert statuses == [400, 400, 429]


@pytest.mark.parametrize(
    ("path", "body"),
    [
        ("/auth/register", lambda i: {"email": f"new{i}@example.com", "password": PASSWORD}),
        ("/auth/forgot-password", lambda i: {"email": f"who{i}@example.com"}),
        ("/auth/request-verify-token", lambda i: {"email": f"who{i}@example.com"}),
        ("/auth/reset-password", lambda i: {"token": f"bad{i}", "password": PASSWORD}),
    ],
)
async def test_account_routes_are_limited_per_ip(make_server, path: str, body) -> None:
    async with make_server(rate_limit_ip="3/hour") as server:
        client = server.client()
        statuses = [(await client.post(path, json=body(i))).status_code for i in range(4)]

        assert statuses[:3] != [429] * 3 and 429 not in statuses[:3]
        assert statuses[3] == 429


@pytest.mark.parametrize("path", ["/auth/forgot-password", "/auth/request-verify-token"])
async def test_mail_routes_are_limited_per_address_known_or_not(make_server, path: str) -> None:
    async with make_server(rate_limit_account="2/hour") as server:
        client = server.client()
        await register(client, "inbox@example.com")
        known = [(await client.post(path, json={"email": "inbox@example.com"})).status_code for _ in range(3)]
        unknown = [
            (await client.post(path, json={"email": "nobody@example.com"})).status_code for _ in range(3)
        ]

        assert known == unknown == [202, 202, 429]


async def test_refresh_is_limited(make_server) -> None:
    async with make_server(rate_limit_refresh_account="2/hour") as server:
        client = server.client()
        await signed_up(client, "refresher@example.com")

        statuses = [(await client.post("/auth/jwt/refresh")).status_code for _ in range(3)]

        assert statuses == [200, 200, 429]


async def test_limits_can_be_switched_off_with_a_warning(make_server, caplog) -> None:
    caplog.set_level(logging.WARNING)
    async with make_server(rate_limit_enabled=False, rate_limit_login_account="2/hour") as server:
        client = server.client()
        await register(client, "loadtest@example.com")

        assert [await fail_login(client, "loadtest@example.com") for _ in range(5)] == [400] * 5
        assert "RATE_LIMIT_ENABLED=false" in caplog.text


async def test_counters_hold_across_workers(make_server) -> None:
    async with (
        make_server(rate_limit_login_account="3/hour") as one,
        make_server(share_with=one, rate_limit_login_account="3/hour") as two,
    ):
        await register(one.client(), "shared.limit@example.com")
        statuses = [
            await fail_login(worker.client(), "shared.limit@example.com") for worker in [one, two, one, two]
        ]

        assert statuses == [400, 400, 400, 429]


async def test_concurrent_first_hits_are_each_counted_once(server) -> None:
    limiter = ratelimit.RateLimiter(enabled=True)
    rate = ratelimit.Rate(5, 3600)

    outcomes = await asyncio.gather(
        *[limiter.hit("race", "one-subject", rate) for _ in range(10)], return_exceptions=True
    )

    counts = [o for o in outcomes if isinstance(o, int)]  # a hit under the limit returns the count
    assert len(counts) == 5 and all(1 <= count <= 5 for count in counts)
    assert all(isinstance(o, ratelimit.TooManyRequests) for o in outcomes if not isinstance(o, int))
    assert [c.hits for c in await ratelimit.RateLimitCounter.find_all().to_list()] == [10]
