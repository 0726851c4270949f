"""The client's address behind proxies: Forwarded and X-Forwarded-For, believed only from
TRUSTED_PROXIES; a peer not trusted that sends them is named once and readiness says so."""

import logging
from typing import Any

import pytest
from httpx import ASGITransport, AsyncClient
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from backend.core.proxies import ForwardedHeadersMiddleware, ProxyNotice, TrustedProxies
from backend.tests.conftest import BASE_URL, Server
from backend.tests.helpers import PASSWORD, register

PROXY = "10.0.0.2"  # the load balancer the app sees
Headers = list[tuple[str, str | bytes]]


async def seen(
    headers: Headers, *, trusted: list[str] | None = None, peer: str = PROXY, base_url: str = BASE_URL
) -> dict[str, Any]:
    """What an app behind the middleware sees as its client and scheme."""

    async def echo(request: Request) -> JSONResponse:
        assert request.client is not None
        return JSONResponse(
            {"client": [request.client.host, request.client.port], "scheme": request.url.scheme}
        )

    proxies = TrustedProxies(["10.0.0.0/8"] if trusted is None else trusted)
    app = ForwardedHeadersMiddleware(
        Starlette(routes=[Route("/", echo)]), trusted=proxies, notice=ProxyNotice(proxies, production=True)
    )
    async with AsyncClient(transport=ASGITransport(app, client=(peer, 40000)), base_url=base_url) as client:
        response = await client.get("/", headers=headers)
    assert response.status_code == 200
    return dict(response.json())


async def client_of(headers: Headers, **kwargs: Any) -> str:
    return str((await seen(headers, **kwargs))["client"][0])


async def test_the_right_most_hop_that_is_not_a_trusted_proxy_is_the_client() -> None:
    chain = "198.51.100.9, 203.0.113.5, 10.0.0.7, 10.1.2.3"  # client, then two proxies of ours

    assert await client_of([("X-Forwarded-For", chain)]) == "203.0.113.5"
    forwarded = "for=198.51.100.9, for=203.0.113.5, for=10.0.0.7, for=10.1.2.3"
    assert await client_of([("Forwarded", forwarded)]) == "203.0.113.5"
    # The same chain over several header lines.
    lines = [("X-Forwarded-For", "198.51.100.9, 203.0.113.5"), ("X-Forwarded-For", "10.0.0.7")]
    assert await client_of(lines) == "203.0.113.5"
    assert await client_of([("Forwarded", "for=203.0.113.5"), ("Forwarded", "For=10.0.0.7")]) == "203.0.113.5"


async def test_what_a_client_writes_itself_does_not_move_it() -> None:
    # The client sends its own header, naming a stranger and one of our proxies; the proxy
    # appends the address it really saw.
    assert await client_of([("X-Forwarded-For", "192.0.2.1, 10.0.0.9, 203.0.113.5")]) == "203.0.113.5"
    assert await client_of([("X-Forwarded-For", "10.0.0.9"), ("X-Forwarded-For", "203.0.113.5")]) == (
        "203.0.113.5"
    )
    spoofs = [
        'for=192.0.2.1, for=10.0.0.9, for="203.0.113.5"',
        'for="10.0.0.9, for=203.0.113.5',  # an unterminated quote does not swallow what follows
        'for="10.0.0.9\\", for=203.0.113.5',
        "for=10.0.0.9;for=192.0.2.1, for=203.0.113.5",  # `for` twice: names no one
    ]
    for header in spoofs:
        assert await client_of([("Forwarded", header)]) == "203.0.113.5", header


@pytest.mark.parametrize(
    ("header", "client", "scheme"),
    [
        ('for="[2001:db8:cafe::17]:4711";proto=https, for=10.0.0.7', ["2001:db8:cafe::17", 4711], "https"),
        ('for="[2001:DB8:0:0::17]"', ["2001:db8::17", 0], "https"),  # one spelling for the limits
        ('for="192.0.2.43:8080";proto=http;by=10.0.0.7', ["192.0.2.43", 8080], "http"),
        ("FOR=192.0.2.43 ; Proto=HTTP", ["192.0.2.43", 0], "http"),
        ('for="[2001:db8::1]:_port"', ["2001:db8::1", 0], "https"),  # an obfuscated port
    ],
)
async def test_forwarded_values_as_rfc_7239_writes_them(header: str, client: list[Any], scheme: str) -> None:
    assert await seen([("Forwarded", header)]) == {"client": client, "scheme": scheme}


async def test_a_hop_that_names_no_address_stops_at_the_last_trusted_one() -> None:
    for header in ["for=unknown, for=10.0.0.7", "for=_hidden, for=10.0.0.7", "proto=https, for=10.0.0.7"]:
        assert await client_of([("Forwarded", header)]) == "10.0.0.7", header
    # Never past it: what lies further left is not vouched for.
    assert await client_of([("Forwarded", "for=203.0.113.5, for=unknown, for=10.0.0.7")]) == "10.0.0.7"
    assert await client_of([("X-Forwarded-For", "203.0.113.5, garbage, 10.0.0.7")]) == "10.0.0.7"
    # A parameter twice in one element: which one is true? Neither.
    assert await client_of([("Forwarded", "for=203.0.113.5;for=198.51.100.1, for=10.0.0.7")]) == "10.0.0.7"
    # Nothing vouched for but the peer: the peer.
    assert await client_of([("Forwarded", "for=_hidden")]) == PROXY
    assert await client_of([("X-Forwarded-For", "unknown")]) == PROXY


async def test_forwarded_is_preferred_over_x_forwarded_for() -> None:
    both = [("X-Forwarded-For", "198.51.100.1"), ("Forwarded", "for=203.0.113.5;proto=https")]

    assert await client_of(both) == "203.0.113.5"


async def test_the_scheme_behind_a_trusted_proxy_and_not_otherwise() -> None:
    plain = "http://test"
    assert (await seen([("X-Forwarded-Proto", "https")], base_url=plain))["scheme"] == "https"
    assert (await seen([("Forwarded", "for=203.0.113.5;proto=https")], base_url=plain))["scheme"] == "https"
    # The client's element says the scheme; without one, X-Forwarded-Proto still does.
    with_both = [("Forwarded", "for=203.0.113.5"), ("X-Forwarded-Proto", "https")]
    assert (await seen(with_both, base_url=plain))["scheme"] == "https"
    assert (await seen([("X-Forwarded-Proto", "https")], base_url=plain, peer="203.0.113.9"))[
        "scheme"
    ] == "http"
    assert (await seen([("X-Forwarded-Proto", "http")], peer="203.0.113.9"))["scheme"] == "https"


async def test_headers_from_a_peer_not_trusted_are_ignored() -> None:
    headers = [("X-Forwarded-For", "192.0.2.1"), ("Forwarded", "for=192.0.2.1")]

    assert await seen(headers, peer="203.0.113.9") == {"client": ["203.0.113.9", 40000], "scheme": "https"}
    assert await client_of(headers, trusted=[]) == PROXY


async def test_trusted_proxies_take_addresses_networks_and_a_star() -> None:
    xff = [("X-Forwarded-For", "198.51.100.1, 192.0.2.1")]
    assert await client_of(xff, trusted=["10.0.0.2"]) == "192.0.2.1"
    assert await client_of(xff, trusted=["10.0.0.0/8", "192.0.2.0/24"]) == "198.51.100.1"
    assert await client_of(xff, trusted=["2001:db8::/32"], peer="2001:db8::9") == "192.0.2.1"
    assert await client_of(xff, trusted=["10.0.0.2"], peer="::ffff:10.0.0.2") == "192.0.2.1"
    assert await client_of(xff, trusted=["::ffff:10.0.0.0/104"], peer="::ffff:10.0.0.2") == "192.0.2.1"
    # `*` trusts every peer and hop, as uvicorn's middleware did: the left-most hop.
    assert await client_of(xff, trusted=["*"], peer="203.0.113.9") == "198.51.100.1"


HOSTILE: list[str | bytes] = [
    "",
    " , ,, ",
    "x" * 60_000,
    ", ".join(["10.0.0.7"] * 5000),
    '"' * 1000,
    'for="\\',
    'for="[::1',
    'for="[::1]:99999"',
    "for=[::1]x",
    "for=1.2.3.4:abc",
    "for=::::",
    "for=999.1.1.1",
    "for=1.2.3.4%eth0",
    "for=\x00\x7f",
    'a="\\",' * 5000,
    "for=é".encode() + b"\xff",  # not ASCII
    "=" * 100,
    ";" * 100,
]


@pytest.mark.parametrize("value", HOSTILE, ids=range(len(HOSTILE)))
async def test_hostile_values_leave_the_peer_or_a_real_address(value: str | bytes) -> None:
    for name in ["Forwarded", "X-Forwarded-For", "X-Forwarded-Proto"]:
        client = await client_of([(name, value)])
        assert client in {PROXY, "10.0.0.7"}, (name, client)


# The app itself, on both databases.


def through(server: Server, peer: str = PROXY) -> AsyncClient:
    client = AsyncClient(transport=ASGITransport(server.asgi, client=(peer, 40000)), base_url=BASE_URL)
    server.clients.append(client)
    return client


async def fail_login(client: AsyncClient, email: str, headers: dict[str, Any]) -> int:
    data = {"username": email, "password": "wrong password!"}
    return (await client.post("/auth/jwt/login", data=data, headers=headers)).status_code


@pytest.mark.parametrize(
    "header",
    [
        lambda ip: {"X-Forwarded-For": f"{ip}, 10.0.0.7"},
        lambda ip: {"Forwarded": f'for="{ip}", for=10.0.0.7'},
    ],
    ids=["x-forwarded-for", "forwarded"],
)
async def test_one_clients_failed_logins_through_the_proxy_do_not_lock_out_another(
    make_server, header
) -> None:
    async with make_server(rate_limit_login_ip="3/hour", trusted_proxies=["10.0.0.0/8"]) as server:
        balancer = through(server)
        await register(balancer, "bystander@example.com")
        mallory, bob = header("203.0.113.66"), header("2001:db8::b0b")

        assert [await fail_login(balancer, f"guess{i}@example.com", mallory) for i in range(4)] == [
            400,
            400,
            400,
            429,
        ]
        data = {"username": "bystander@example.com", "password": PASSWORD}
        signed_in = await balancer.post("/auth/jwt/login", data=data, headers=bob)
        assert signed_in.status_code == 200
        token = signed_in.json()["access_token"]
        sessions = await balancer.get("/auth/sessions", headers={"Authorization": f"Bearer {token}"})
        assert [session["ip"] for session in sessions.json()] == ["2001:db8::b0b"]


async def test_without_trusted_proxies_everyone_behind_the_balancer_shares_its_limit(make_server) -> None:
    async with make_server(rate_limit_login_ip="3/hour") as server:
        balancer = through(server)
        await register(balancer, "bystander@example.com")
        for i in range(3):
            await fail_login(balancer, f"guess{i}@example.com", {"X-Forwarded-For": "203.0.113.66"})
        data = {"username": "bystander@example.com", "password": PASSWORD}

        refused = await balancer.post("/auth/jwt/login", data=data, headers={"X-Forwarded-For": "192.0.2.7"})

        assert refused.status_code == 429


def proxy_records(caplog: pytest.LogCaptureFixture) -> list[logging.LogRecord]:
    return [record for record in caplog.records if record.name == "backend.core.proxies"]


async def test_production_names_an_untrusted_peer_once_and_readiness_reports_it(make_server, caplog) -> None:
    caplog.set_level(logging.INFO)
    async with make_server(environment="production", trusted_proxies=["10.9.9.9"]) as server:
        balancer = through(server)
        assert (await balancer.get("/health/ready")).json() == {"status": "ok"}
        for _ in range(3):
            assert (
                await balancer.get("/health/live", headers={"X-Forwarded-For": "192.0.2.77"})
            ).status_code == 200
        await through(server, "10.0.0.3").get("/health/live", headers={"Forwarded": "for=192.0.2.78"})

        [record] = proxy_records(caplog)
        assert record.levelno == logging.WARNING
        message = record.getMessage()
        assert "TRUSTED_PROXIES=10.9.9.9,10.0.0.2" in message and "10.0.0.3" not in message
        assert "192.0.2.77" not in message  # what the header says is never repeated
        for path in ["/health/ready", "/health"]:
            ready = await balancer.get(path)
            assert ready.status_code == 200
            [warning] = ready.json()["warnings"]
            assert "TRUSTED_PROXIES" in warning and "10.0.0.2" not in warning  # anyone can read it
        assert (await balancer.get("/health/live")).json() == {"status": "ok"}


async def test_a_trusted_proxy_or_no_header_raises_no_warning(make_server, caplog) -> None:
    caplog.set_level(logging.INFO)
    async with make_server(environment="production", trusted_proxies=[PROXY]) as server:
        await through(server).get("/health/live", headers={"X-Forwarded-For": "192.0.2.77"})
        await through(server, "203.0.113.1").get("/health/live")

        assert proxy_records(caplog) == []
        assert (await through(server).get("/health/ready")).json() == {"status": "ok"}


@pytest.mark.parametrize("peer", [PROXY, f"::ffff:{PROXY}"])  # the second: a dual-stack socket's view
async def test_development_says_it_once_at_info(make_server, caplog, peer: str) -> None:
    caplog.set_level(logging.INFO)
    async with make_server() as server:
        for _ in range(2):
            await through(server, peer).get("/health/live", headers={"X-Forwarded-For": "192.0.2.77"})

        [record] = proxy_records(caplog)
        assert record.levelno == logging.INFO and "TRUSTED_PROXIES=10.0.0.2" in record.getMessage()


@pytest.mark.parametrize("trusted", [[], ["10.0.0.0/8"]], ids=["untrusted", "trusted"])
async def test_hostile_forwarding_headers_never_break_the_app(make_server, trusted: list[str]) -> None:
    async with make_server(trusted_proxies=trusted) as server:
        balancer = through(server)
        for value in HOSTILE:
            for name in ["Forwarded", "X-Forwarded-For", "X-Forwarded-Proto"]:
                response = await fail_login(balancer, "who@example.com", {name: value})
                assert response in (400, 429), (name, value[:40])
        assert (await balancer.get("/health/ready")).status_code == 200
