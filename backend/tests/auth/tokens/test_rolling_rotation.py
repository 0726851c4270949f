"""Key rotation under a rolling restart: two instances a step apart of README's procedures.

Each procedure is a list of configurations; during a rolling restart one instance is on step k
while the other is still on step k-1 (and a rollback from step k puts the instances back on
k-1 with what step k made in the database and in people's mail). For every step, two
independent apps on one database, one per configuration, check each other's work in both
directions, so "made ahead, used behind" is also the rollback:

- an access token (Bearer), the session cookies with their CSRF proof (a write, a refresh);
- verification, "this wasn't me", reset-password, sign-in and email-change links mailed by one;
- an OpenID Connect sign-in (the test provider) started on one and finished on the other;
- a TOTP secret set up on one, confirmed on the other, re-encrypted by a sign-in on either.

The HS256 procedure rotates `JWT_SECRET_KEYS` and `TOTP_ENCRYPTION_KEYS` (K1 to K2); the
asymmetric one rotates ES256 key files (a `.next.pem` first) while the TOTP secrets move from the
JWT-derived key to TOTP_ENCRYPTION_KEYS. The apps are independent app objects (settings, key
rings, ciphers) in this process, which lets the OpenID provider's registered redirect URI and the
TOTP clock be the tests'; the last test runs the step where the instances' first keys differ as
two real `python -m backend.serve` processes, then rolls the one ahead back.
"""

import os
import shutil
import sys
import time
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx
import pyotp
import pytest
from cryptography.fernet import Fernet
from httpx import AsyncClient
from pymongo import MongoClient

from backend.apps.auth.tokens.keys import NEXT_SUFFIX, secret_kid, write_new_key
from backend.config import TOTP_JWT_DERIVED
from backend.core.embedded_db import free_port
from backend.tests.auth.second_steps import Clock, set_totp_clock, ticket_for, verify
from backend.tests.auth.tokens.test_jwks_clients import HOST, Service
from backend.tests.conftest import TEST_APP_ID, TEST_SECRET, Server, ServerFactory
from backend.tests.helpers import PASSWORD, bearer, header_of, login, mailed_token, register
from backend.tests.oidc import OIDCProvider

OLD, NEW = TEST_SECRET, "rotated-secret-0123456789-abcdefghijklmnopqrstuvwxyz"
K1, K2 = Fernet.generate_key().decode(), Fernet.generate_key().decode()
APP = "https://farm.test"
NEW_PASSWORD = "another horse battery staple"

Config = dict[str, Any]


def hs256_steps(keys_dir: Path) -> list[tuple[str, Config]]:
    """README "Rotating HS256 secrets" and "Rotating the TOTP encryption key", side by side."""
    return [
        ("before", {"jwt_secret_keys": [OLD], "totp_encryption_keys": [K1]}),
        ("publish", {"jwt_secret_keys": [OLD, NEW], "totp_encryption_keys": [K1, K2]}),
        ("sign", {"jwt_secret_keys": [NEW, OLD], "totp_encryption_keys": [K2, K1]}),
        ("retire", {"jwt_secret_keys": [NEW], "totp_encryption_keys": [K2]}),
    ]


def es256_steps(keys_dir: Path) -> list[tuple[str, Config]]:
    """README "Rotating asymmetric keys", each instance with its own copy of JWT_KEYS_DIR (in a
    rolling restart the folders differ until every instance has the new files); TOTP secrets move
    from the JWT-derived key to K1, published first."""
    first = write_new_key(keys_dir / "first", "ES256")
    next_key = write_new_key(keys_dir / "next", "ES256", next_key=True)
    signing = next_key.with_name(next_key.name.removesuffix(NEXT_SUFFIX) + ".pem")

    def folder(name: str, *files: tuple[Path, str]) -> Path:
        directory = keys_dir / name
        directory.mkdir()
        for source, target in files:
            shutil.copy2(source, directory / target)
        return directory

    es256 = {"jwt_algorithm": "ES256"}
    return [
        ("before", {**es256, "jwt_keys_dir": folder("0", (first, first.name))}),
        (
            "publish",
            {
                **es256,
                "jwt_keys_dir": folder("1", (first, first.name), (next_key, next_key.name)),
                "totp_encryption_keys": [TOTP_JWT_DERIVED, K1],
            },
        ),
        (
            "sign",
            {
                **es256,
                "jwt_keys_dir": folder("2", (first, first.name), (next_key, signing.name)),
                "totp_encryption_keys": [K1],
            },
        ),
        (
            "retire",
            {**es256, "jwt_keys_dir": folder("3", (next_key, signing.name)), "totp_encryption_keys": [K1]},
        ),
    ]


PROCEDURES: dict[str, Callable[[Path], list[tuple[str, Config]]]] = {
    "hs256": hs256_steps,
    "es256": es256_steps,
}


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> Clock:
    return set_totp_clock(monkeypatch)


def corp(provider: OIDCProvider) -> Config:
    conf = {
        "discovery_url": provider.discovery_url,
        "client_id": provider.client_id,
        "client_secret": provider.client_secret,
        "label": "Corp ID",
    }
    return {"oidc_providers": ["corp"], "oidc": {"corp": conf}}


async def settled(client: AsyncClient, email: str) -> AsyncClient:
    """`client` signed in (cookies) as a new account `email` with a proved address."""
    await register(client, email)
    await login(client, email)
    verified = await client.post("/auth/verify", json={"token": await mailed_token(client, "/verify", email)})
    assert verified.status_code == 200, verified.text
    return client


async def tokens_and_cookies_cross(maker: Server, checker: Server, tag: str) -> None:
    browser = maker.client()
    await register(browser, f"{tag}-tokens@example.com")
    access = await login(browser, f"{tag}-tokens@example.com")
    assert (await checker.client().get("/users/me", headers=bearer(access))).status_code == 200
    # The same browser's next requests reach the other instance: its cookies and CSRF proof.
    elsewhere = checker.client(cookies=browser.cookies)
    assert (await elsewhere.get("/users/me")).status_code == 200
    wrote = await elsewhere.post("/task/", json={"name": "made across instances"})
    assert wrote.status_code == 201, wrote.text
    refreshed = await elsewhere.post("/auth/jwt/refresh")
    assert refreshed.status_code == 200, refreshed.text


async def links_cross(maker: Server, checker: Server, tag: str) -> None:
    # Verification: mailed at sign-up by the maker, opened on the checker.
    email = f"{tag}-verify@example.com"
    await register(maker.client(), email)
    token = await mailed_token(maker.client(), "/verify", email)
    opened = await checker.client().post("/auth/verify", json={"token": token, "password": PASSWORD})
    assert opened.status_code == 200, opened.text
    # "This wasn't me", from the same kind of mail.
    email = f"{tag}-decline@example.com"
    await register(maker.client(), email)
    token = await mailed_token(maker.client(), "/verify/not-me", email)
    assert (await checker.client().post("/auth/verify/not-me", json={"token": token})).status_code == 204
    # Reset password.
    email = f"{tag}-reset@example.com"
    await register(maker.client(), email)
    assert (await maker.client().post("/auth/forgot-password", json={"email": email})).status_code == 202
    token = await mailed_token(maker.client(), "/reset-password", email)
    reset = await checker.client().post(
        "/auth/reset-password", json={"token": token, "password": NEW_PASSWORD}
    )
    assert reset.status_code == 200, reset.text
    await login(maker.client(), email, NEW_PASSWORD)
    # Sign-in link.
    assert (await maker.client().post("/auth/sign-in-link", json={"email": email})).status_code == 202
    token = await mailed_token(maker.client(), "/sign-in/link", email)
    consumed = await checker.client().post("/auth/sign-in-link/consume", json={"token": token})
    assert consumed.status_code == 200, consumed.text
    # Email change, asked for on the maker, confirmed on the checker.
    mover = await settled(maker.client(), f"{tag}-mover@example.com")
    moved_to = f"{tag}-moved@example.com"
    assert (await mover.patch("/users/me", json={"email": moved_to})).status_code == 202
    token = await mailed_token(maker.client(), "/email-change/confirm", moved_to)
    confirmed = await checker.client().post(
        "/auth/email-change/confirm", json={"token": token, "password": PASSWORD}
    )
    assert confirmed.status_code == 200, confirmed.text


async def oauth_crosses(maker: Server, checker: Server, provider: OIDCProvider) -> None:
    alice = provider.account("alice@example.com")
    browser = maker.client()
    started = await browser.get("/auth/oauth/corp/authorize")  # the flow cookie, made by the maker
    assert started.status_code == 302, started.text
    back = await provider.authorize(started.headers["location"], email=alice.email, password=alice.password)
    assert back.startswith(APP), back
    finished = await checker.client(cookies=browser.cookies).get(back.removeprefix(APP))
    assert finished.status_code == 302, finished.text
    assert "error" not in finished.headers["location"], finished.headers["location"]
    assert finished.cookies.get("FARM_refresh"), "no session after the provider's sign-in"


async def totp_crosses(maker: Server, checker: Server, clock: Clock, tag: str) -> None:
    email = f"{tag}-totp@example.com"
    browser = await settled(maker.client(), email)
    setup = await browser.post("/auth/mfa/totp/setup")  # encrypted under the maker's first key
    assert setup.status_code == 200, setup.text
    secret = setup.json()["secret"]
    confirm = await checker.client(cookies=browser.cookies).post(
        "/auth/mfa/totp/confirm", json={"code": clock.code(secret)}
    )
    assert confirm.status_code == 200, confirm.text
    for server in (checker, maker):  # each sign-in re-encrypts under that instance's first key
        clock.advance()
        signed = await verify(server.client(), await ticket_for(server, email), code=clock.code(secret))
        assert signed.status_code == 200, signed.text


@pytest.mark.parametrize("step", [1, 2, 3], ids=["publish", "sign", "retire"])
@pytest.mark.parametrize("procedure", list(PROCEDURES))
async def test_two_instances_a_step_apart_accept_each_others_work(
    make_server: ServerFactory,
    oidc_provider: OIDCProvider,
    clock: Clock,
    tmp_path: Path,
    procedure: str,
    step: int,
) -> None:
    steps = PROCEDURES[procedure](tmp_path)
    (behind_name, behind), (ahead_name, ahead) = steps[step - 1], steps[step]
    common = {"jwt_secret_key": None, "rate_limit_enabled": False, **corp(oidc_provider)}
    if procedure == "es256":
        common["jwt_secret_key"] = TEST_SECRET
    async with (
        make_server(**common, **behind) as old,
        make_server(share_with=old, **common, **ahead) as new,
    ):
        for maker, checker, tag in ((new, old, f"{ahead_name}-to-{behind_name}"), (old, new, "forward")):
            await tokens_and_cookies_cross(maker, checker, tag)
            await links_cross(maker, checker, tag)
            await oauth_crosses(maker, checker, oidc_provider)
            await totp_crosses(maker, checker, clock, tag)


# --- the same as real processes -------------------------------------------------------------------
def process_env(wire_url: str, database: str, data_dir: Path, keys: Config) -> dict[str, str]:
    return {
        **{k: v for k, v in os.environ.items() if k in ("PATH", "HOME", "LANG")},
        "ENVIRONMENT": "development",
        "HOST": HOST,
        "MONGODB_URL": wire_url,
        "MONGODB_DB": database,
        "DATA_DIR": str(data_dir),  # one outbox for both, as one mail server would be
        "PUBLIC_URL": APP,  # the balancer's address: one issuer for both
        "COOKIE_SECURE": "false",  # plain http on the loopback
        "FRONTEND_DIST": str(data_dir / "no-frontend-build"),
        "REALM_APP_ID": TEST_APP_ID,
        "RATE_LIMIT_ENABLED": "false",
        "LOG_LEVEL": "warning",
        "ARGON2_MEMORY_KIB": "8192",
        "ARGON2_TIME_COST": "1",
        "ARGON2_PARALLELISM": "1",
        **{name.upper(): ",".join(value) for name, value in keys.items()},
    }


def instance(name: str, env: dict[str, str], log: Path, port: int | None = None) -> Service:
    port = port or free_port(HOST)
    args = [sys.executable, "-m", "backend.serve"]
    return Service(
        name,
        args,
        {**env, "PORT": str(port)},
        log,
        port,
        ("/health", 200),
    )


def browser(service: Service, **kwargs: Any) -> httpx.Client:
    """A client that echoes the CSRF cookie in its header, as the web app does."""

    def add_csrf(request: httpx.Request) -> None:
        if token := client.cookies.get("FARM_csrf"):
            request.headers.setdefault("X-CSRF-Token", token)

    client = httpx.Client(base_url=service.url, timeout=30, event_hooks={"request": [add_csrf]}, **kwargs)
    return client


def mailed(service: Service, path: str, email: str) -> str:
    """The token of the newest `path` link mailed to `email` (mail goes out in the background)."""
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        messages = httpx.get(f"{service.url}/dev/outbox", params={"to": email}, timeout=10).json()
        for link in (urlsplit(link) for message in messages for link in message["links"]):
            if link.path == path:
                return parse_qs(link.query)["token"][0]
        time.sleep(0.05)
    raise AssertionError(f"no {path} mail for {email}")


def sign_up(service: Service, email: str, password: str = PASSWORD) -> httpx.Client:
    client = browser(service)
    assert client.post("/auth/register", json={"email": email, "password": password}).status_code == 201
    signed = client.post("/auth/jwt/login", data={"username": email, "password": password})
    assert signed.status_code == 200, signed.text
    return client


def session_crosses(maker: Service, checker: Service, email: str) -> str:
    """A browser signed in on `maker` goes on on `checker`; the access token for Bearer use."""
    made = sign_up(maker, email)
    access = made.post("/auth/jwt/login", data={"username": email, "password": PASSWORD}).json()[
        "access_token"
    ]
    with browser(checker, cookies=made.cookies) as elsewhere:
        assert elsewhere.get("/users/me", headers={"Authorization": f"Bearer {access}"}).status_code == 200
        assert elsewhere.post("/task/", json={"name": "across"}).status_code == 201  # cookie + CSRF proof
        assert elsewhere.post("/auth/jwt/refresh").status_code == 200
    made.close()
    return str(access)


def totp_code(secret: str, step: int) -> str:
    return str(pyotp.TOTP(secret).at(step * 30))


def test_real_instances_through_the_sign_step_and_its_rollback(wire_url: str, tmp_path: Path) -> None:
    """HS256 and TOTP keys at the step where the instances' first keys differ (one on `OLD,NEW`,
    the other already on `NEW,OLD`), as two `python -m backend.serve` processes; then the one
    ahead is rolled back, and what it made still works."""
    database = f"test_rotation_{uuid.uuid4().hex[:12]}"
    data = tmp_path / "data"
    (data / "no-frontend-build").mkdir(parents=True)
    publish = process_env(
        wire_url, database, data, {"jwt_secret_keys": [OLD, NEW], "totp_encryption_keys": [K1, K2]}
    )
    sign = process_env(
        wire_url, database, data, {"jwt_secret_keys": [NEW, OLD], "totp_encryption_keys": [K2, K1]}
    )
    behind, ahead = (
        instance("publish", publish, tmp_path / "a.log"),
        instance("sign", sign, tmp_path / "b.log"),
    )
    try:
        with behind, ahead:
            for maker, checker in ((ahead, behind), (behind, ahead)):
                access = session_crosses(maker, checker, f"{maker.name}-session@example.com")
                assert header_of(access)["kid"] == secret_kid(NEW if maker is ahead else OLD)
                email = f"{maker.name}-links@example.com"
                sign_up(maker, email).close()
                opened = httpx.post(
                    f"{checker.url}/auth/verify",
                    json={"token": mailed(maker, "/verify", email), "password": PASSWORD},
                )
                assert opened.status_code == 200, opened.text
                assert (
                    httpx.post(f"{maker.url}/auth/forgot-password", json={"email": email}).status_code == 202
                )
                reset = httpx.post(
                    f"{checker.url}/auth/reset-password",
                    json={"token": mailed(maker, "/reset-password", email), "password": NEW_PASSWORD},
                )
                assert reset.status_code == 200, reset.text
            # TOTP: set up on the instance behind (K1), confirmed and used ahead (re-encrypted
            # under K2); steps are real time, so one a request, from a step that just began.
            while time.time() % 30 > 25:
                time.sleep(0.5)
            step = int(time.time() // 30)
            person = sign_up(behind, "totp@example.com")
            person.post("/auth/verify", json={"token": mailed(behind, "/verify", "totp@example.com")})
            secret = person.post("/auth/mfa/totp/setup").json()["secret"]
            with browser(ahead, cookies=person.cookies) as there:
                confirmed = there.post("/auth/mfa/totp/confirm", json={"code": totp_code(secret, step - 1)})
                assert confirmed.status_code == 200, confirmed.text
            assert second_step(ahead, "totp@example.com", totp_code(secret, step)) == 200
            # Mailed ahead, opened after the rollback.
            sign_up(ahead, "rollback@example.com").close()
            link = mailed(ahead, "/verify", "rollback@example.com")
        rolled_back = instance("rolled back", publish, tmp_path / "b.log", port=ahead.port)
        with behind, rolled_back:
            assert second_step(rolled_back, "totp@example.com", totp_code(secret, step + 1)) == 200
            opened = httpx.post(f"{behind.url}/auth/verify", json={"token": link, "password": PASSWORD})
            assert opened.status_code == 200, opened.text
    finally:
        with MongoClient(wire_url, serverSelectionTimeoutMS=2000) as client:
            client.drop_database(database)


def second_step(service: Service, email: str, code: str) -> int:
    with browser(service) as client:
        ticket = client.post("/auth/jwt/login", data={"username": email, "password": PASSWORD})
        assert ticket.status_code == 401, ticket.text
        finished = client.post(
            "/auth/mfa/verify", json={"ticket": ticket.json()["detail"]["ticket"], "code": code}
        )
        assert finished.status_code == 200, finished.text
        return finished.status_code
