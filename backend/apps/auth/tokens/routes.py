"""Where other services find the keys that verify our access tokens (`/.well-known/...`).

- `GET /.well-known/jwks.json`: the public keys (RFC 7517), each with `kid`, `alg` and
  `use: sig`; an empty set with HS256, whose secrets are never published.
- `GET /.well-known/openid-configuration`: `issuer` and `jwks_uri`, the two members a token
  verifier reads (OpenID Connect Discovery 1.0 section 3). Nothing more, until this app becomes
  an authorization server (apps/oauth_server/ will own the document then).

Both may be cached for JWKS_MAX_AGE seconds; a key is published at least that long before it
signs (see the rotation procedure in README).
"""

from typing import Any

from fastapi import APIRouter, Response

from backend.apps.auth.tokens.keys import JWKS_MAX_AGE, KeyRing

JWKS_PATH = "/.well-known/jwks.json"


def get_keys_router(keys: KeyRing, issuer: str, base_url: str) -> APIRouter:
    """`issuer`: the tokens' `iss`; `base_url`: where this app is reached (PUBLIC_URL)."""
    router = APIRouter(prefix="/.well-known", tags=["keys"])
    cache = {"Cache-Control": f"public, max-age={JWKS_MAX_AGE}"}

    @router.get(
        "/jwks.json",
        name="Token verification keys (JWKS)",
        response_class=Response,
        responses={200: {"content": {"application/jwk-set+json": {}}, "description": "RFC 7517 key set"}},
    )
    async def jwks() -> Response:
        """The public keys that verify access tokens; empty when tokens are HS256."""
        body = keys.jwks_json
        return Response(body, media_type="application/jwk-set+json", headers=cache)

    @router.get("/openid-configuration", name="Discovery document")
    async def openid_configuration(response: Response) -> dict[str, Any]:
        """The token issuer and where its keys are (OpenID Connect Discovery 1.0)."""
        response.headers.update(cache)
        return {"issuer": issuer, "jwks_uri": base_url + JWKS_PATH}

    return router
