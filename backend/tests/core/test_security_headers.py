"""Security headers on every response."""

import inspect
import re
import typing
from datetime import datetime
from email.message import EmailMessage
from urllib.parse import urlsplit

import pytest
from beanie import PydanticObjectId
from httpx import AsyncClient

import backend.main  # noqa: F401  (every module, and with them every feature's letters)
from backend.apps.user.models import User
from backend.config import Settings
from backend.core.clock import utcnow
from backend.core.mail.delivery import Letter
from backend.core.mail.letters import Letters
from backend.core.token_pages import TOKEN_PAGES, token_link
from backend.tests.helpers import PASSWORD, register


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("GET", "/health"),
        ("GET", "/nowhere"),
        ("GET", "/docs"),
        ("GET", "/task/"),
        ("POST", "/auth/jwt/login"),
    ],
)
async def test_every_response_carries_the_headers(client: AsyncClient, method: str, path: str) -> None:
    response = await client.request(method, path)

    assert response.headers["x-content-type-options"] == "nosniff"
    assert response.headers["x-frame-options"] == "DENY"
    assert "frame-ancestors 'none'" in response.headers["content-security-policy"]
    assert "default-src 'self'" in response.headers["content-security-policy"]
    assert response.headers["strict-transport-security"].startswith("max-age=31536000")


async def test_auth_routes_and_token_pages_send_no_referrer(client: AsyncClient) -> None:
    await register(client, "referrer@example.com")
    login = await client.post(
        "/auth/jwt/login", data={"username": "referrer@example.com", "password": PASSWORD}
    )

    assert login.headers["referrer-policy"] == "no-referrer"
    for path in ["/auth/sessions", *TOKEN_PAGES]:
        assert (await client.get(path)).headers["referrer-policy"] == "no-referrer", path
    assert (await client.get("/health")).headers["referrer-policy"] == "strict-origin-when-cross-origin"


async def test_no_hsts_without_secure_cookies(make_server) -> None:
    async with make_server(cookie_secure=False) as server:
        response = await server.client().get("/health")

        assert "strict-transport-security" not in response.headers
        assert response.headers["x-content-type-options"] == "nosniff"


async def test_docs_work_without_a_cdn(client: AsyncClient) -> None:
    page = (await client.get("/docs")).text

    assert "cdn" not in page.lower()
    for asset in [
        "/docs-assets/swagger-ui-bundle.js",
        "/docs-assets/swagger-ui.css",
        "/docs-static/swagger-init.js",
    ]:
        response = await client.get(asset)
        assert response.status_code == 200, asset
    assert "X-CSRF-Token" in (await client.get("/docs-static/swagger-init.js")).text


async def every_token_link() -> list[str]:
    """Every link with a token the app mails: each feature's letters (`Letters` subclasses), each
    `send_*` of theirs that takes a token called (found by its signature, so a new one is found
    too), and the letters' links collected."""
    sent: list[EmailMessage] = []

    class Keep:
        async def send(self, letter: Letter) -> None:
            sent.append(letter.message)

    settings = Settings(environment="development", public_url="https://farm.test")
    user = User.model_construct(id=PydanticObjectId(), email="person@example.com", created_at=utcnow())
    values = {str: "a-token-value", int: 3600, bool: True, datetime: utcnow()}
    senders = [
        method
        for letters in Letters.__subclasses__()
        for method in inspect.getmembers(letters(settings, Keep()), inspect.iscoroutinefunction)  # type: ignore[arg-type]
    ]
    for name, method in senders:
        hints = typing.get_type_hints(method)
        if not name.startswith("send_") or not any("token" in parameter for parameter in hints):
            continue
        await method(
            user,
            **{
                parameter: next(v for t, v in values.items() if t in (hint, *typing.get_args(hint)))
                for parameter, hint in hints.items()
                if parameter not in ("user", "return")
            },
        )
    texts = [part.get_content() for message in sent for part in message.walk() if not part.is_multipart()]
    links = [link for text in texts for link in re.findall(r"https://farm\.test[^\s\"<>]+", text)]
    return sorted({link for link in links if "token=" in link})


async def test_every_page_a_token_link_opens_sends_no_referrer(client: AsyncClient) -> None:
    links = await every_token_link()
    pages = {urlsplit(link).path for link in links}
    # The mails so far: verification (and "this wasn't me"), reset, sign-in link, email change.
    assert pages >= {"/verify", "/verify/not-me", "/reset-password", "/sign-in/link"} | {
        "/email-change/confirm",
        "/email-change/cancel",
    }
    for page in pages | set(TOKEN_PAGES):
        assert page in TOKEN_PAGES, page
        response = await client.get(page, params={"token": "t", "ticket": "t"})
        assert response.headers["referrer-policy"] == "no-referrer", page


def test_a_token_link_to_a_page_not_listed_is_refused() -> None:
    with pytest.raises(ValueError, match="TOKEN_PAGES"):
        token_link("https://farm.test", "/somewhere-new", token="secret")
    assert token_link("https://farm.test", "/verify", token="a b") == "https://farm.test/verify?token=a+b"
