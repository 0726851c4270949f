"""A service that trusts FARM Auth's access tokens through the published keys alone.

No shared secret and no database: at start-up it reads the app's discovery document
(`/.well-known/openid-configuration`) for the issuer and the JWKS address, and from then on it
checks each token with PyJWT against the public key the token's `kid` names. The app must sign
with RS256, ES256 or EdDSA (`JWT_ALGORITHM`); HS256 tokens cannot be checked without the secret.

    AUTH_ISSUER    where the app is served (default http://localhost:8000)
    AUTH_AUDIENCE  the app's REALM_APP_ID (default farm-auth-dev, the app's development value)

Run: `.venv/bin/uvicorn examples.resource_server.app:app --port 8001` (see README.md here).
"""

import asyncio
import json
import os
import urllib.request
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Annotated, Any

import jwt
from fastapi import Depends, FastAPI, HTTPException, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

AUTH_ISSUER = os.environ.get("AUTH_ISSUER", "http://localhost:8000").rstrip("/")
AUTH_AUDIENCE = os.environ.get("AUTH_AUDIENCE", "farm-auth-dev")
# Public-key algorithms only: an HS256 "signature" made with a published public key proves nothing.
ASYMMETRIC = {"RS256", "ES256", "EdDSA"}
LEEWAY_SECONDS = 10  # clock skew between the app and this service, as the app itself allows


def read_json(url: str) -> Any:
    if not url.startswith(("https://", "http://")):  # urllib would also open file:// and others
        raise ValueError(f"not an http(s) URL: {url}")
    with urllib.request.urlopen(url, timeout=10) as response:  # noqa: S310 - http(s), checked above
        return json.load(response)


def discover(issuer: str) -> tuple[str, jwt.PyJWKClient]:
    """The tokens' `iss` and a client for the app's keys, read from its discovery document."""
    url = f"{issuer}/.well-known/openid-configuration"
    try:
        document = read_json(url)
    except (OSError, ValueError) as exc:
        raise RuntimeError(f"cannot read {url} ({exc}): is the app running at AUTH_ISSUER?") from None
    # PyJWKClient caches the whole key set for `lifespan` seconds (the app's Cache-Control), and
    # refetches it when a token names a kid it does not hold (a key the app has just started
    # signing with), at most once per 30 s, so made-up kids cannot make it hammer the app.
    # No per-kid cache (`cache_keys`): that one never expires, so a retired key would keep working.
    jwks = jwt.PyJWKClient(document["jwks_uri"], lifespan=300, timeout=10)
    try:
        jwks.get_jwk_set()  # fetched now: a mistake shows at start-up, not on the first request
    except jwt.PyJWTError as exc:
        raise RuntimeError(
            f"{document['jwks_uri']}: {exc} (an app signing with HS256 publishes none; "
            "run it with JWT_ALGORITHM=RS256, ES256 or EdDSA)"
        ) from None
    # The tokens' `iss` is the issuer the app declares (its JWT_ISSUER, by default its URL).
    return document["issuer"], jwks


@asynccontextmanager
async def lifespan(app: FastAPI) -> AsyncIterator[None]:
    # Blocking HTTP, so in a thread; if the app is not up, this service does not start either.
    app.state.issuer, app.state.jwks = await asyncio.to_thread(discover, AUTH_ISSUER)
    yield


def verify(jwks: jwt.PyJWKClient, issuer: str, token: str) -> dict[str, Any]:
    """The token's claims if the app signed it for us and it is still valid; jwt.PyJWTError if not."""
    key = jwks.get_signing_key_from_jwt(token)  # the published key its `kid` names
    # The algorithm is the one the key is published for, never the token header's choice.
    if key.algorithm_name not in ASYMMETRIC:
        raise jwt.InvalidAlgorithmError(f"{key.algorithm_name} keys are not accepted")
    return jwt.decode(
        token,
        key,
        algorithms=[key.algorithm_name],
        audience=AUTH_AUDIENCE,
        issuer=issuer,
        leeway=LEEWAY_SECONDS,
        options={"require": ["exp", "iss", "aud", "sub"]},
    )


bearer = HTTPBearer(auto_error=False)


async def claims(
    request: Request, credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(bearer)]
) -> dict[str, Any]:
    if credentials is None:  # RFC 6750 section 3.1: no token, no error code
        raise HTTPException(401, "Not authenticated", headers={"WWW-Authenticate": "Bearer"})
    state = request.app.state
    try:
        # PyJWKClient fetches the key set with blocking HTTP: keep it off the event loop.
        return await asyncio.to_thread(verify, state.jwks, state.issuer, credentials.credentials)
    except jwt.PyJWKClientConnectionError:
        raise HTTPException(503, "The token issuer's keys cannot be fetched; try again shortly.") from None
    except jwt.PyJWTError:
        raise HTTPException(
            401, "Invalid token", headers={"WWW-Authenticate": 'Bearer error="invalid_token"'}
        ) from None


app = FastAPI(title="Example resource server", lifespan=lifespan)


@app.get("/hello")
async def hello(token: Annotated[dict[str, Any], Depends(claims)]) -> dict[str, Any]:
    """Who the token's bearer is, as the app signed it."""
    return {"sub": token["sub"], "email": token.get("user_data", {}).get("email")}
