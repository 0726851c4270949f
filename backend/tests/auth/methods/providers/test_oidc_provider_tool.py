"""tools/oidc-provider is a real OpenID Connect provider, for a client nobody here wrote.

The client below is written from the specs, not from the app: discovery, an authorization request
with state, nonce and PKCE (S256), the provider's own login and consent pages (driven by
`oidc_provider.authorize`), the code exchanged with the verifier (client_secret_basic or
client_secret_post), and the ID token verified with PyJWT through the provider's JWKS.

No MongoDB: these tests ask for neither `backend` nor `make_server`, so each runs once.
Node and the provider's package must be installed: `make test-backend` does it.
"""

import base64
import hashlib
import secrets
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qs, urlencode

import httpx
import jwt
import pytest

from backend.tests.oidc import AuthorizeError, LoginFailed, OIDCProvider, redirect_uri

SCOPE = "openid email profile"


@pytest.fixture(scope="module")
def discovery(oidc_provider: OIDCProvider) -> dict[str, Any]:
    response = httpx.get(oidc_provider.discovery_url, timeout=10)
    assert response.status_code == 200, response.text
    return dict(response.json())


@dataclass
class AuthRequest:
    """What a client keeps between sending the browser to the provider and the callback."""

    url: str
    state: str
    nonce: str
    verifier: str
    redirect_uri: str


def s256(verifier: str) -> str:
    return base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).rstrip(b"=").decode()


def authorization_request(
    provider: OIDCProvider,
    discovery: dict[str, Any],
    *,
    callback: str = redirect_uri("corp"),
    pkce_method: str | None = "S256",
) -> AuthRequest:
    state, nonce, verifier = secrets.token_urlsafe(16), secrets.token_urlsafe(16), secrets.token_urlsafe(48)
    params = {
        "response_type": "code",
        "client_id": provider.client_id,
        "redirect_uri": callback,
        "scope": SCOPE,
        "state": state,
        "nonce": nonce,
    }
    if pkce_method == "S256":
        params |= {"code_challenge": s256(verifier), "code_challenge_method": "S256"}
    elif pkce_method is not None:  # "plain": the challenge is the verifier itself
        params |= {"code_challenge": verifier, "code_challenge_method": pkce_method}
    url = f"{discovery['authorization_endpoint']}?{urlencode(params)}"
    return AuthRequest(url, state, nonce, verifier, callback)


def callback_params(request: AuthRequest, redirect: str) -> dict[str, str]:
    """The query of the provider's redirect, checked to be the client's callback."""
    base, _, query = redirect.partition("?")
    assert base == request.redirect_uri, redirect
    params = {key: values[0] for key, values in parse_qs(query).items()}
    assert params.get("state") == request.state, redirect
    return params


async def exchange(
    provider: OIDCProvider,
    discovery: dict[str, Any],
    request: AuthRequest,
    code: str,
    *,
    verifier: str | None = None,
    client_auth: str = "client_secret_basic",
) -> httpx.Response:
    form = {
        "grant_type": "authorization_code",
        "code": code,
        "redirect_uri": request.redirect_uri,
        "code_verifier": verifier or request.verifier,
    }
    auth: tuple[str, str] | None = None
    if client_auth == "client_secret_basic":
        auth = (provider.client_id, provider.client_secret)
    else:
        form |= {"client_id": provider.client_id, "client_secret": provider.client_secret}
    async with httpx.AsyncClient(timeout=10) as http:
        return await http.post(discovery["token_endpoint"], data=form, auth=auth)


def verified_id_token(
    provider: OIDCProvider, discovery: dict[str, Any], id_token: str, nonce: str
) -> dict[str, Any]:
    signing_key = jwt.PyJWKClient(discovery["jwks_uri"]).get_signing_key_from_jwt(id_token)
    claims = jwt.decode(
        id_token,
        signing_key.key,
        algorithms=["RS256"],
        audience=provider.client_id,
        issuer=provider.issuer,
        options={"require": ["iss", "aud", "sub", "exp", "iat", "nonce"]},
    )
    assert claims["nonce"] == nonce
    return dict(claims)


async def sign_in(
    provider: OIDCProvider, discovery: dict[str, Any], email: str, password: str, **options: Any
) -> tuple[AuthRequest, str]:
    """A whole successful authorization: the request, and the code the callback got."""
    request = authorization_request(provider, discovery, **options)
    params = callback_params(request, await provider.authorize(request.url, email=email, password=password))
    assert "error" not in params, params
    assert params["iss"] == provider.issuer  # RFC 9207
    return request, params["code"]


def test_discovery_describes_a_code_flow_provider_with_pkce(
    oidc_provider: OIDCProvider, discovery: dict[str, Any]
) -> None:
    assert discovery["issuer"] == oidc_provider.issuer
    assert discovery["response_types_supported"] == ["code"]
    assert discovery["code_challenge_methods_supported"] == ["S256"]
    assert discovery["id_token_signing_alg_values_supported"] == ["RS256"]
    assert {"client_secret_basic", "client_secret_post"} <= set(
        discovery["token_endpoint_auth_methods_supported"]
    )
    assert {"openid", "email", "profile"} <= set(discovery["scopes_supported"])
    assert {"sub", "email", "email_verified", "name"} <= set(discovery["claims_supported"])
    for endpoint in ("authorization_endpoint", "token_endpoint", "userinfo_endpoint", "jwks_uri"):
        assert discovery[endpoint].startswith(f"{oidc_provider.issuer}/")


@pytest.mark.parametrize("client_auth", ["client_secret_basic", "client_secret_post"])
async def test_code_and_pkce_sign_in_gives_a_verifiable_id_token(
    oidc_provider: OIDCProvider, discovery: dict[str, Any], client_auth: str
) -> None:
    alice = oidc_provider.account("alice@example.com")
    request, code = await sign_in(oidc_provider, discovery, alice.email, alice.password)

    response = await exchange(oidc_provider, discovery, request, code, client_auth=client_auth)
    assert response.status_code == 200, response.text
    tokens = response.json()
    assert tokens["token_type"].lower() == "bearer"
    claims = verified_id_token(oidc_provider, discovery, tokens["id_token"], request.nonce)
    assert claims["sub"] == alice.sub
    assert claims["email"] == "alice@example.com"
    assert claims["email_verified"] is True
    assert claims["name"] == alice.name

    async with httpx.AsyncClient(timeout=10) as http:
        userinfo = await http.get(
            discovery["userinfo_endpoint"], headers={"Authorization": f"Bearer {tokens['access_token']}"}
        )
    assert userinfo.status_code == 200, userinfo.text
    assert userinfo.json() == {
        "sub": alice.sub,
        "email": alice.email,
        "email_verified": True,
        "name": alice.name,
    }

    replay = await exchange(oidc_provider, discovery, request, code, client_auth=client_auth)
    assert replay.status_code == 400
    assert replay.json()["error"] == "invalid_grant"


async def test_a_wrong_code_verifier_is_refused(
    oidc_provider: OIDCProvider, discovery: dict[str, Any]
) -> None:
    carol = oidc_provider.account("carol@example.com")
    request, code = await sign_in(oidc_provider, discovery, carol.email, carol.password)

    response = await exchange(oidc_provider, discovery, request, code, verifier=secrets.token_urlsafe(48))
    assert response.status_code == 400, response.text
    assert response.json()["error"] == "invalid_grant"


@pytest.mark.parametrize("pkce_method", [None, "plain"])
async def test_an_authorization_request_without_s256_pkce_is_refused(
    oidc_provider: OIDCProvider, discovery: dict[str, Any], pkce_method: str | None
) -> None:
    alice = oidc_provider.account("alice@example.com")
    request = authorization_request(oidc_provider, discovery, pkce_method=pkce_method)
    redirect = await oidc_provider.authorize(request.url, email=alice.email, password=alice.password)
    params = callback_params(request, redirect)
    assert params["error"] == "invalid_request"
    assert "code" not in params


async def test_denying_consent_returns_access_denied(
    oidc_provider: OIDCProvider, discovery: dict[str, Any]
) -> None:
    alice = oidc_provider.account("alice@example.com")
    request = authorization_request(oidc_provider, discovery)
    redirect = await oidc_provider.authorize(
        request.url, email=alice.email, password=alice.password, consent=False
    )
    params = callback_params(request, redirect)
    assert params["error"] == "access_denied"
    assert "code" not in params


async def test_a_wrong_password_yields_no_code(
    oidc_provider: OIDCProvider, discovery: dict[str, Any]
) -> None:
    request = authorization_request(oidc_provider, discovery)
    with pytest.raises(LoginFailed, match="Wrong email or password"):
        await oidc_provider.authorize(request.url, email="alice@example.com", password="not-her-password")
    with pytest.raises(LoginFailed):
        await oidc_provider.authorize(request.url, email="nobody@example.com", password="whatever")


async def test_bobs_email_is_not_verified(oidc_provider: OIDCProvider, discovery: dict[str, Any]) -> None:
    bob = oidc_provider.account("bob@example.com")
    request, code = await sign_in(oidc_provider, discovery, bob.email, bob.password)
    tokens = (await exchange(oidc_provider, discovery, request, code)).json()
    claims = verified_id_token(oidc_provider, discovery, tokens["id_token"], request.nonce)
    assert claims["email"] == "bob@example.com"
    assert claims["email_verified"] is False


async def test_an_account_added_while_running_signs_in_at_any_registered_callback(
    oidc_provider: OIDCProvider, discovery: dict[str, Any]
) -> None:
    dora = oidc_provider.add_account(email="Dora@Example.com", name="Dora", email_verified=False)
    callback = redirect_uri("github", "https://test")
    request, code = await sign_in(
        oidc_provider, discovery, "dora@example.com", dora.password, callback=callback
    )
    response = await exchange(oidc_provider, discovery, request, code, client_auth="client_secret_post")
    claims = verified_id_token(oidc_provider, discovery, response.json()["id_token"], request.nonce)
    assert (claims["sub"], claims["email"], claims["email_verified"], claims["name"]) == (
        dora.sub,
        "Dora@Example.com",
        False,
        "Dora",
    )


async def test_an_unregistered_redirect_uri_gets_an_error_page_not_a_redirect(
    oidc_provider: OIDCProvider, discovery: dict[str, Any]
) -> None:
    alice = oidc_provider.account("alice@example.com")
    request = authorization_request(
        oidc_provider, discovery, callback="https://evil.test/auth/oauth/corp/callback"
    )
    with pytest.raises(AuthorizeError, match="redirect_uri"):
        await oidc_provider.authorize(request.url, email=alice.email, password=alice.password)
