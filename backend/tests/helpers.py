"""Small steps the tests take the way a client would."""

import asyncio
import base64
import json
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

from httpx import AsyncClient, Response

from backend.apps.user.models import User

PASSWORD = "correct horse battery staple"
REPO = Path(__file__).resolve().parents[2]  # the checkout


async def register(client: AsyncClient, email: str, password: str = PASSWORD) -> dict[str, Any]:
    response = await client.post("/auth/register", json={"email": email, "password": password})
    assert response.status_code == 201, response.text
    return dict(response.json())


async def login(client: AsyncClient, email: str, password: str = PASSWORD) -> str:
    response = await client.post("/auth/jwt/login", data={"username": email, "password": password})
    assert response.status_code == 200, response.text
    return str(response.json()["access_token"])


async def signed_up(client: AsyncClient, email: str, password: str = PASSWORD) -> str:
    """Register and log in; the client keeps the cookie, the token is returned for Bearer use."""
    await register(client, email, password)
    return await login(client, email, password)


async def verified_sign_up(client: AsyncClient, email: str, password: str = PASSWORD) -> str:
    """Register, log in and open the verification link in this browser (signed in, as the mail
    says): a person who proved their address. The token is returned for Bearer use."""
    token = await signed_up(client, email, password)
    verified = await client.post("/auth/verify", json={"token": await mailed_token(client, "/verify", email)})
    assert verified.status_code == 200, verified.text
    return token


async def superuser_client(server: Any, email: str = "root@example.com") -> AsyncClient:
    """A client logged in (cookie) as a new superuser `email`."""
    client = server.client()
    await register(client, email)
    await User.get_pymongo_collection().update_one({"email": email}, {"$set": {"is_superuser": True}})
    await login(client, email)
    return client


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def claims_of(token: str) -> dict[str, Any]:
    """The payload as anyone can read it, no signature check."""
    payload = token.split(".")[1]
    return dict(json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4))))


def header_of(token: str) -> dict[str, Any]:
    header = token.split(".")[0]
    return dict(json.loads(base64.urlsafe_b64decode(header + "=" * (-len(header) % 4))))


def cookie_attributes(response: Response, name: str) -> dict[str, str]:
    """The attributes of the Set-Cookie header for `name`, lower-cased keys ('' for flags)."""
    for header in response.headers.get_list("set-cookie"):
        first, *attributes = [part.strip() for part in header.split(";")]
        if first.split("=", 1)[0] == name:
            parsed = {"value": first.split("=", 1)[1]}
            for attribute in attributes:
                key, _, value = attribute.partition("=")
                parsed[key.lower()] = value
            return parsed
    raise AssertionError(f"no Set-Cookie for {name}: {response.headers.get_list('set-cookie')}")


async def outbox(client: AsyncClient, email: str) -> list[dict[str, Any]]:
    """What the development outbox holds for `email`, newest first."""
    response = await client.get("/dev/outbox", params={"to": email})
    assert response.status_code == 200, response.text
    return list(response.json())


async def mailed_subjects(client: AsyncClient, email: str, *expected: str) -> list[str]:
    """The subjects of mail to `email`, once every `expected` one has arrived (mail is sent in
    the background)."""
    for _ in range(200):
        subjects = [m["subject"] for m in await outbox(client, email)]
        if set(expected) <= set(subjects):
            return subjects
        await asyncio.sleep(0.025)
    raise AssertionError(f"{email} got {subjects}, not {expected}")


async def mailed_token(client: AsyncClient, path: str, email: str, count: int = 1) -> str:
    """The token of the newest `path` link mailed to `email`, once `count` such mails arrived.

    Mail is sent in the background, so this waits (briefly) for it like a person checking an inbox.
    """
    for _ in range(200):
        links = [
            urlsplit(link)
            for message in await outbox(client, email)
            for link in message["links"]
            if urlsplit(link).path == path
        ]
        if len(links) >= count:
            return parse_qs(links[0].query)["token"][0]
        await asyncio.sleep(0.025)
    raise AssertionError(f"no {path} mail for {email}")
