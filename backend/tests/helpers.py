"""Small steps the tests take the way a client would."""

import base64
import json
import re
from typing import Any

import pytest
from httpx import AsyncClient, Response

PASSWORD = "correct horse battery staple"


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


def mailed_token(caplog: pytest.LogCaptureFixture, path: str, email: str) -> str:
    """The newest token the development mailer logged for `email` and link `path`."""
    pattern = re.compile(rf"mail to {re.escape(email)} .*: {re.escape(path)}\?token=(\S+)")
    tokens = [m.group(1) for r in caplog.records if (m := pattern.search(r.getMessage()))]
    assert tokens, f"no {path} mail for {email}"
    return tokens[-1]
