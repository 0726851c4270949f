"""Identity providers: Google and any OpenID Connect provider by discovery, and GitHub (OAuth 2).

Each provider builds the authorization URL (code flow, PKCE S256 per RFC 7636, `state`, and for
OpenID Connect a `nonce`) and turns the code it sends back into an `Identity`: who the person is
at the provider, and the email address the provider vouches for.

OpenID Connect ID tokens are verified here, as OpenID Connect Core 1.0 section 3.1.3.7 asks:
signature with a key from the provider's JWKS (asymmetric algorithms only, as the discovery
document announces them), `iss` = the discovery document's issuer, `aud` containing our client id
(and `azp` = our client id when there are several audiences), `exp` and `iat`, and `nonce` = the
one this browser's flow was started with. httpx-oauth does the HTTP (authorize URL, token
exchange); it leaves ID tokens unverified, so PyJWT does that.
"""

import asyncio
import hmac
import logging
from dataclasses import dataclass
from typing import Any

import httpx
import jwt
from httpx_oauth.clients.github import GitHubOAuth2
from httpx_oauth.clients.openid import OpenID
from httpx_oauth.oauth2 import BaseOAuth2, GetAccessTokenError, OAuth2RequestError

from backend.config import Settings

logger = logging.getLogger(__name__)

ID_TOKEN_ALGORITHMS = {
    "RS256",
    "RS384",
    "RS512",
    "PS256",
    "PS384",
    "PS512",
    "ES256",
    "ES384",
    "ES512",
    "EdDSA",
}
ID_TOKEN_LEEWAY_SECONDS = 60
HTTP_TIMEOUT_SECONDS = 10
GITHUB_API = "https://api.github.com"


class ProviderError(Exception):
    """The provider could not be reached, or answered something we cannot trust: `code` says which."""

    def __init__(self, code: str, detail: str = "") -> None:
        super().__init__(f"{code}: {detail}" if detail else code)
        self.code = code


@dataclass(frozen=True)
class Identity:
    subject: str  # the provider's stable id for the person (`sub`, GitHub's numeric id)
    email: str | None
    email_verified: bool
    name: str | None = None


def claimed_true(value: Any) -> bool:
    # Some providers send email_verified as the string "true".
    return value is True or (isinstance(value, str) and value.lower() == "true")


class Provider:
    name: str
    label: str
    client_id: str
    uses_nonce = False

    async def authorization_url(self, redirect_uri: str, state: str, challenge: str, nonce: str) -> str:
        raise NotImplementedError

    async def identity(self, code: str, redirect_uri: str, verifier: str, nonce: str) -> Identity:
        raise NotImplementedError

    @staticmethod
    async def _exchange(
        client: BaseOAuth2[Any], code: str, redirect_uri: str, verifier: str
    ) -> dict[str, Any]:
        try:
            return dict(await client.get_access_token(code, redirect_uri, code_verifier=verifier))
        except GetAccessTokenError as exc:  # the provider refused the code (or our verifier)
            raise ProviderError("PROVIDER_REFUSED_CODE", str(exc)) from None
        except (OAuth2RequestError, httpx.HTTPError) as exc:
            raise ProviderError("PROVIDER_UNAVAILABLE", str(exc)) from None


class OpenIDProvider(Provider):
    """Any OpenID Connect provider, configured by its discovery document (Google is one)."""

    uses_nonce = True

    def __init__(self, name: str, label: str, discovery_url: str, client_id: str, client_secret: str) -> None:
        self.name, self.label, self.discovery_url = name, label, discovery_url
        self.client_id, self._client_secret = client_id, client_secret
        self._client: OpenID | None = None
        self._jwks: jwt.PyJWKClient | None = None
        self._lock = asyncio.Lock()

    async def client(self) -> OpenID:
        """httpx-oauth's client, made on first use: it reads the discovery document (blocking,
        so in a thread) and a provider that is down must not stop the app from starting."""
        async with self._lock:
            if self._client is None:
                try:
                    client = await asyncio.to_thread(
                        OpenID,
                        self.client_id,
                        self._client_secret,
                        self.discovery_url,
                        self.name,
                        ["openid", "email", "profile"],
                    )
                    self._jwks = jwt.PyJWKClient(
                        client.openid_configuration["jwks_uri"], lifespan=300, timeout=HTTP_TIMEOUT_SECONDS
                    )
                except (OAuth2RequestError, KeyError, ValueError) as exc:
                    raise ProviderError("PROVIDER_UNAVAILABLE", f"{self.discovery_url}: {exc}") from None
                self._client = client
            return self._client

    async def authorization_url(self, redirect_uri: str, state: str, challenge: str, nonce: str) -> str:
        client = await self.client()
        return await client.get_authorization_url(
            redirect_uri,
            state=state,
            code_challenge=challenge,
            code_challenge_method="S256",
            extras_params={"nonce": nonce},
        )

    async def identity(self, code: str, redirect_uri: str, verifier: str, nonce: str) -> Identity:
        client = await self.client()
        token = await self._exchange(client, code, redirect_uri, verifier)
        id_token = token.get("id_token")
        if not isinstance(id_token, str):
            raise ProviderError("ID_TOKEN_INVALID", "the token response holds no id_token")
        claims = await self.verify_id_token(id_token, nonce)
        email, verified = claims.get("email"), claimed_true(claims.get("email_verified"))
        if not isinstance(email, str):  # not in the ID token: ask the userinfo endpoint
            profile = await self._userinfo(client, str(token.get("access_token", "")))
            if profile.get("sub") != claims["sub"]:  # OpenID Connect Core 1.0 section 5.3.2
                raise ProviderError("ID_TOKEN_INVALID", "userinfo describes another subject")
            email, verified = profile.get("email"), claimed_true(profile.get("email_verified"))
        name = claims.get("name")
        return Identity(
            str(claims["sub"]),
            email if isinstance(email, str) else None,
            verified,
            name if isinstance(name, str) else None,
        )

    async def verify_id_token(self, id_token: str, nonce: str) -> dict[str, Any]:
        client = await self.client()
        configuration = client.openid_configuration
        assert self._jwks is not None
        announced = set(configuration.get("id_token_signing_alg_values_supported") or ["RS256"])
        try:
            key = await asyncio.to_thread(self._jwks.get_signing_key_from_jwt, id_token)
            # The key's algorithm, if the provider announces it and it is asymmetric (RFC 8725 3.1).
            allowed = [key.algorithm_name] if key.algorithm_name in announced & ID_TOKEN_ALGORITHMS else []
            claims = jwt.decode(
                id_token,
                key,
                algorithms=allowed,
                audience=self.client_id,
                issuer=configuration["issuer"],
                leeway=ID_TOKEN_LEEWAY_SECONDS,
                options={"require": ["iss", "aud", "sub", "exp", "iat"]},
            )
        except jwt.PyJWKClientConnectionError as exc:
            raise ProviderError("PROVIDER_UNAVAILABLE", str(exc)) from None
        except jwt.PyJWTError as exc:
            raise ProviderError("ID_TOKEN_INVALID", str(exc)) from None
        audiences = claims["aud"] if isinstance(claims["aud"], list) else [claims["aud"]]
        if len(audiences) > 1 and claims.get("azp") != self.client_id:
            raise ProviderError("ID_TOKEN_INVALID", "several audiences and azp is not us")
        if not isinstance(claims.get("nonce"), str) or not hmac.compare_digest(claims["nonce"], nonce):
            raise ProviderError("ID_TOKEN_INVALID", "the nonce is not this sign-in's")
        return claims

    @staticmethod
    async def _userinfo(client: OpenID, access_token: str) -> dict[str, Any]:
        try:
            return dict(await client.get_profile(access_token))
        except Exception as exc:  # httpx-oauth's GetProfileError, HTTP errors
            raise ProviderError("PROVIDER_UNAVAILABLE", f"userinfo: {exc}") from None


def github_identity(user: dict[str, Any], emails: list[dict[str, Any]]) -> Identity:
    """GitHub's user and /user/emails answers as an Identity: the primary address, verified only
    when GitHub says so (an unverified primary address proves nothing)."""
    primary = next((e for e in emails if e.get("primary")), None)
    email = primary.get("email") if primary else None
    verified = bool(primary and primary.get("verified") is True)
    name = user.get("name") or user.get("login")
    return Identity(str(user["id"]), email if isinstance(email, str) else None, verified, name)


class GitHubProvider(Provider):
    """GitHub: OAuth 2 without OpenID Connect; who and which address come from its REST API."""

    def __init__(self, client_id: str, client_secret: str, api: str = GITHUB_API) -> None:
        self.name, self.label, self.client_id, self.api = "github", "GitHub", client_id, api
        self._client = GitHubOAuth2(client_id, client_secret, scopes=["read:user", "user:email"])

    async def authorization_url(self, redirect_uri: str, state: str, challenge: str, nonce: str) -> str:
        return await self._client.get_authorization_url(
            redirect_uri, state=state, code_challenge=challenge, code_challenge_method="S256"
        )

    async def identity(self, code: str, redirect_uri: str, verifier: str, nonce: str) -> Identity:
        token = await self._exchange(self._client, code, redirect_uri, verifier)
        headers = {
            "Authorization": f"Bearer {token.get('access_token', '')}",
            "Accept": "application/vnd.github+json",
        }
        try:
            async with httpx.AsyncClient(
                base_url=self.api, headers=headers, timeout=HTTP_TIMEOUT_SECONDS
            ) as http:
                user, emails = await asyncio.gather(http.get("/user"), http.get("/user/emails"))
                user.raise_for_status()
                emails.raise_for_status()
        except httpx.HTTPError as exc:
            raise ProviderError("PROVIDER_UNAVAILABLE", f"GitHub API: {exc}") from None
        return github_identity(user.json(), emails.json())


def build_providers(settings: Settings) -> dict[str, Provider]:
    """The providers the settings configure, by name (the name is in their routes)."""
    providers: dict[str, Provider] = {}
    if settings.oauth_google_client_id and settings.oauth_google_client_secret:
        providers["google"] = OpenIDProvider(
            "google",
            "Google",
            settings.oauth_google_discovery_url,
            settings.oauth_google_client_id,
            settings.oauth_google_client_secret.get_secret_value(),
        )
    if settings.oauth_github_client_id and settings.oauth_github_client_secret:
        providers["github"] = GitHubProvider(
            settings.oauth_github_client_id, settings.oauth_github_client_secret.get_secret_value()
        )
    for name in settings.oidc_providers:
        conf = settings.oidc[name]
        providers[name] = OpenIDProvider(
            name,
            conf.label or name.capitalize(),
            conf.discovery_url,
            conf.client_id,
            conf.client_secret.get_secret_value(),
        )
    return providers
