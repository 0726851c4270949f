"""Signing in with an OpenID Connect provider: a real one (oidc-provider, run by Node)."""

from typing import Any
from urllib.parse import parse_qs, urlsplit

import jwt
import pyotp
import pytest
from httpx import AsyncClient

from backend.apps.auth.methods.providers.clients import (
    Identity,
    OpenIDProvider,
    ProviderError,
    github_identity,
)
from backend.apps.auth.methods.providers.linked import OAuthAccount
from backend.apps.auth.methods.providers.routes import FLOW_COOKIE, FlowCookie, pkce_challenge
from backend.apps.user.models import User
from backend.config import ConfigError, Settings, load_settings
from backend.core.crypto import derive_secret
from backend.tests.conftest import TEST_SECRET, Server, ServerFactory
from backend.tests.helpers import (
    PASSWORD,
    login,
    mailed_subjects,
    mailed_token,
    signed_up,
    superuser_client,
    verified_sign_up,
)
from backend.tests.oidc import OIDCProvider

APP = "https://farm.test"


def corp(provider: OIDCProvider, **more: Any) -> dict[str, Any]:
    """Settings that configure the test provider as `corp`."""
    conf = {
        "discovery_url": provider.discovery_url,
        "client_id": provider.client_id,
        "client_secret": provider.client_secret,
        "label": "Corp ID",
    }
    return {"oidc_providers": ["corp"], "oidc": {"corp": conf}, **more}


@pytest.fixture
async def app(make_server: ServerFactory, oidc_provider: OIDCProvider) -> Any:
    async with make_server(**corp(oidc_provider)) as server:
        yield server


def local_path(url: str) -> str:
    assert url.startswith(APP), url
    return url.removeprefix(APP)


async def start(client: AsyncClient, name: str = "corp") -> str:
    response = await client.get(f"/auth/oauth/{name}/authorize")
    assert response.status_code == 302, response.text
    return response.headers["location"]


async def sign_in_with(
    client: AsyncClient,
    provider: OIDCProvider,
    email: str,
    password: str,
    *,
    name: str = "corp",
    consent: bool = True,
) -> str:
    """The whole flow, as a browser would go through it; returns where the app sends it at the end."""
    back = await provider.authorize(
        await start(client, name), email=email, password=password, consent=consent
    )
    response = await client.get(local_path(back))
    assert response.status_code == 302, response.text
    return response.headers["location"]


async def verified_account(app: Server, email: str, **client: Any) -> AsyncClient:
    """A local account whose owner verified its address, signed in."""
    local = app.client(**client)
    await signed_up(local, email)
    await User.get_pymongo_collection().update_one({"email": email}, {"$set": {"is_verified": True}})
    return local


def error_of(location: str) -> str:
    return parse_qs(urlsplit(location).query)["code"][0]


async def test_providers_are_listed_and_absent_when_none_is_configured(app: Server, server: Server) -> None:
    assert (await app.client().get("/auth/providers")).json() == [{"name": "corp", "label": "Corp ID"}]

    plain = server.client()
    assert (await plain.get("/auth/providers")).json() == []
    assert (await plain.get("/auth/oauth/corp/authorize")).status_code == 404


async def test_the_authorization_request_uses_pkce_state_and_nonce(app: Server) -> None:
    client = app.client()
    response = await client.get("/auth/oauth/corp/authorize")
    query = parse_qs(urlsplit(response.headers["location"]).query)

    assert query["code_challenge_method"] == ["S256"] and len(query["code_challenge"][0]) == 43
    assert len(query["state"][0]) >= 32 and len(query["nonce"][0]) >= 32
    assert query["redirect_uri"] == [f"{APP}/auth/oauth/corp/callback"]
    cookie = next(h for h in response.headers.get_list("set-cookie") if h.startswith(FLOW_COOKIE))
    assert "httponly" in cookie.lower() and "samesite=lax" in cookie.lower() and "Path=/auth/oauth" in cookie
    assert "Max-Age=600" in cookie


async def test_a_first_sign_in_creates_an_account_and_a_real_session(
    app: Server, oidc_provider: OIDCProvider
) -> None:
    person = oidc_provider.add_account()
    client = app.client()

    assert await sign_in_with(client, oidc_provider, person.email, person.password) == f"{APP}/"

    # The SPA restores the session through the refresh cookie, as after a password login.
    refreshed = await client.post("/auth/jwt/refresh")
    assert refreshed.status_code == 200, refreshed.text
    me = (await client.get("/users/me")).json()
    assert me["email"] == person.email and me["is_verified"] is True
    assert len((await client.get("/auth/sessions")).json()) == 1
    user = await User.find_one(User.email == person.email)
    assert user is not None and user.password_set is False
    # Its password is nobody's: logging in with the provider's password does not work.
    assert (
        await app.client().post(
            "/auth/jwt/login", data={"username": person.email, "password": person.password}
        )
    ).status_code == 400


async def test_a_second_sign_in_reuses_the_account(app: Server, oidc_provider: OIDCProvider) -> None:
    person = oidc_provider.add_account()
    first, second = app.client(), app.client()
    await sign_in_with(first, oidc_provider, person.email, person.password)
    await sign_in_with(second, oidc_provider, person.email, person.password)

    ids = [(await c.get("/users/me")).json()["id"] for c in (first, second)]
    assert ids[0] == ids[1]
    assert await User.find(User.email == person.email).count() == 1
    assert len((await second.get("/auth/sessions")).json()) == 2


async def test_an_unverified_local_account_becomes_the_address_owners_alone(
    app: Server, oidc_provider: OIDCProvider
) -> None:
    person = oidc_provider.add_account()  # the provider vouches for the address
    registrant = app.client()
    await signed_up(registrant, person.email)  # someone registered it here, never verified it

    client = app.client()
    assert await sign_in_with(client, oidc_provider, person.email, person.password) == f"{APP}/"

    # The owner of the address is in, and whoever registered it is out (flows/test_verification.py).
    assert (await client.get("/users/me")).json()["is_verified"] is True
    assert (await registrant.get("/users/me")).status_code == 401
    relogin = await app.client().post(
        "/auth/jwt/login", data={"username": person.email, "password": PASSWORD}
    )
    assert relogin.status_code == 400


async def test_an_address_the_provider_does_not_vouch_for_links_nothing(
    app: Server, oidc_provider: OIDCProvider
) -> None:
    person = oidc_provider.add_account(email_verified=False)
    registrant = app.client()
    await signed_up(registrant, person.email)

    location = await sign_in_with(app.client(), oidc_provider, person.email, person.password)

    assert error_of(location) == "ACCOUNT_EXISTS"
    assert (await registrant.get("/users/me")).json()["is_verified"] is False  # untouched
    assert await OAuthAccount.find_all().count() == 0


async def test_an_address_the_provider_does_not_vouch_for_is_verified_by_mail(
    app: Server, oidc_provider: OIDCProvider
) -> None:
    person = oidc_provider.add_account(email_verified=False)
    client = app.client()

    assert await sign_in_with(client, oidc_provider, person.email, person.password) == f"{APP}/"

    await client.post("/auth/jwt/refresh")
    assert (await client.get("/users/me")).json()["is_verified"] is False
    token = await mailed_token(client, "/verify", person.email)
    assert (await client.post("/auth/verify", json={"token": token})).json()["is_verified"] is True


async def test_a_verified_account_is_linked_from_its_account_page_only(
    app: Server, oidc_provider: OIDCProvider
) -> None:
    person = oidc_provider.add_account()
    local = await verified_account(app, person.email)

    refused = await sign_in_with(app.client(), oidc_provider, person.email, person.password)
    assert error_of(refused) == "LINK_FROM_ACCOUNT_PAGE"
    assert await OAuthAccount.find_all().count() == 0

    # Logged in (it was, a moment ago: no confirmation needed), it links from the account page.
    started = (await local.post("/auth/oauth/corp/link")).json()["authorization_url"]
    back = await oidc_provider.authorize(started, email=person.email, password=person.password)
    assert (await local.get(local_path(back))).headers["location"] == f"{APP}/account/security?linked=corp"
    client = app.client()
    assert await sign_in_with(client, oidc_provider, person.email, person.password) == f"{APP}/"
    assert (await client.post("/auth/jwt/refresh")).status_code == 200
    assert (await client.get("/users/me")).json()["id"] == (await local.get("/users/me")).json()["id"]
    linked = (await client.get("/auth/oauth/accounts")).json()
    assert linked["has_password"] is True
    assert [(a["provider"], a["label"], a["email"]) for a in linked["accounts"]] == [
        ("corp", "Corp ID", person.email)
    ]
    await mailed_subjects(client, person.email, "Corp ID was linked to your account")


async def test_an_account_with_a_second_factor_is_not_linked_by_a_provider_sign_in(
    app: Server, oidc_provider: OIDCProvider
) -> None:
    person = oidc_provider.add_account()
    local = await verified_account(app, person.email)
    secret = (await local.post("/auth/mfa/totp/setup")).json()["secret"]
    code = pyotp.TOTP(secret).now()
    assert (await local.post("/auth/mfa/totp/confirm", json={"code": code})).status_code == 200

    location = await sign_in_with(app.client(), oidc_provider, person.email, person.password)

    assert location.startswith(f"{APP}/sign-in/error?") and error_of(location) == "LINK_FROM_ACCOUNT_PAGE"
    assert await OAuthAccount.find_all().count() == 0


async def test_link_and_unlink_from_the_account_page(app: Server, oidc_provider: OIDCProvider) -> None:
    person = oidc_provider.add_account()  # another address than the account's: linking is explicit
    client = app.client()
    await verified_sign_up(client, "linker@example.com")

    started = await client.post("/auth/oauth/corp/link")
    assert started.status_code == 200, started.text
    back = await oidc_provider.authorize(
        started.json()["authorization_url"], email=person.email, password=person.password
    )
    response = await client.get(local_path(back))

    assert response.headers["location"] == f"{APP}/account/security?linked=corp"
    assert [a["email"] for a in (await client.get("/auth/oauth/accounts")).json()["accounts"]] == [
        person.email
    ]
    # Now the provider signs this account in.
    other = app.client()
    await sign_in_with(other, oidc_provider, person.email, person.password)
    await other.post("/auth/jwt/refresh")
    assert (await other.get("/users/me")).json()["email"] == "linker@example.com"

    assert (await client.delete("/auth/oauth/accounts/corp")).status_code == 204
    assert (await client.get("/auth/oauth/accounts")).json()["accounts"] == []
    await mailed_subjects(
        client,
        "linker@example.com",
        "Corp ID was linked to your account",
        "Corp ID was unlinked from your account",
    )
    assert (await client.delete("/auth/oauth/accounts/corp")).status_code == 404


async def test_linking_needs_the_csrf_proof(app: Server) -> None:
    client = await verified_account(app, "csrf-link@example.com", csrf=False)

    refused = await client.post("/auth/oauth/corp/link")
    assert refused.status_code == 403 and refused.json()["detail"]["code"] == "CSRF_TOKEN_INVALID"


async def test_an_identity_linked_to_another_account_is_not_moved(
    app: Server, oidc_provider: OIDCProvider
) -> None:
    person = oidc_provider.add_account()
    await sign_in_with(app.client(), oidc_provider, person.email, person.password)  # its own account now
    client = app.client()
    await verified_sign_up(client, "second@example.com")

    started = (await client.post("/auth/oauth/corp/link")).json()["authorization_url"]
    back = await oidc_provider.authorize(started, email=person.email, password=person.password)
    location = (await client.get(local_path(back))).headers["location"]

    assert location == f"{APP}/account/security?link_error=PROVIDER_ACCOUNT_IN_USE&provider=corp"


async def test_the_last_way_to_sign_in_cannot_be_unlinked_until_a_password_is_set(
    app: Server, oidc_provider: OIDCProvider
) -> None:
    person = oidc_provider.add_account()
    client = app.client()
    await sign_in_with(client, oidc_provider, person.email, person.password)
    await client.post("/auth/jwt/refresh")

    refused = await client.delete("/auth/oauth/accounts/corp")
    assert refused.status_code == 409
    assert refused.json()["detail"]["code"] == "LAST_SIGN_IN_METHOD"
    assert (await client.get("/auth/oauth/accounts")).json()["has_password"] is False

    await client.post("/auth/forgot-password", json={"email": person.email})
    token = await mailed_token(client, "/reset-password", person.email)
    reset = await client.post(
        "/auth/reset-password", json={"token": token, "password": "a brand new passphrase 7"}
    )
    assert reset.status_code == 200, reset.text
    fresh = app.client()
    await login(fresh, person.email, "a brand new passphrase 7")
    assert (await fresh.delete("/auth/oauth/accounts/corp")).status_code == 204


async def test_denied_consent_lands_on_the_error_page(app: Server, oidc_provider: OIDCProvider) -> None:
    alice = oidc_provider.account("alice@example.com")
    location = await sign_in_with(app.client(), oidc_provider, alice.email, alice.password, consent=False)

    assert location == f"{APP}/sign-in/error?code=ACCESS_DENIED&provider=corp"


async def test_state_must_match_the_browser_that_started(app: Server, oidc_provider: OIDCProvider) -> None:
    alice = oidc_provider.account("alice@example.com")
    starter = app.client()
    back = await oidc_provider.authorize(await start(starter), email=alice.email, password=alice.password)
    path = local_path(back)

    # Another browser (no flow cookie) gets nowhere with that code: login CSRF refused.
    stranger = await app.client().get(path)
    assert error_of(stranger.headers["location"]) == "STATE_INVALID"
    # The right browser with a tampered state neither.
    tampered = path.replace("state=", "state=x")
    assert error_of((await starter.get(tampered)).headers["location"]) == "STATE_INVALID"
    assert starter.cookies.get("FARM_refresh") is None


def forged_flow(client: AsyncClient, **changes: str) -> None:
    """Rewrite this browser's flow cookie as only the app's key could (the test knows it)."""
    key = derive_secret(TEST_SECRET, "oauth-flow")
    claims = jwt.decode(client.cookies[FLOW_COOKIE], key, algorithms=["HS256"], audience=FlowCookie.audience)
    client.cookies.set(
        FLOW_COOKIE, jwt.encode({**claims, **changes}, key, algorithm="HS256"), path="/auth/oauth"
    )


@pytest.mark.parametrize(("change", "code"), [("v", "PROVIDER_REFUSED_CODE"), ("n", "ID_TOKEN_INVALID")])
async def test_a_wrong_pkce_verifier_or_nonce_is_refused(
    app: Server, oidc_provider: OIDCProvider, change: str, code: str
) -> None:
    alice = oidc_provider.account("alice@example.com")
    client = app.client()
    back = await oidc_provider.authorize(await start(client), email=alice.email, password=alice.password)
    forged_flow(client, **{change: "x" * 64})

    location = (await client.get(local_path(back))).headers["location"]

    assert error_of(location) == code  # the provider refuses the verifier; we refuse the nonce


async def test_an_id_token_for_another_audience_is_refused(oidc_provider: OIDCProvider) -> None:
    provider = OpenIDProvider(
        "corp", "Corp", oidc_provider.discovery_url, oidc_provider.client_id, oidc_provider.client_secret
    )
    redirect, verifier, nonce = f"{APP}/auth/oauth/corp/callback", "v" * 50, "n" * 32
    alice = oidc_provider.account("alice@example.com")
    url = await provider.authorization_url(redirect, "s" * 32, pkce_challenge(verifier), nonce)
    code = parse_qs(
        urlsplit(await oidc_provider.authorize(url, email=alice.email, password=alice.password)).query
    )
    provider.client_id = "someone-elses-client"  # what we expect `aud` to be from here on

    with pytest.raises(ProviderError) as refused:
        await provider.identity(code["code"][0], redirect, verifier, nonce)
    assert refused.value.code == "ID_TOKEN_INVALID" and "audience" in str(refused.value).lower()


async def test_a_provider_that_is_down_lands_on_the_error_page(make_server: ServerFactory) -> None:
    down = {
        "discovery_url": "http://127.0.0.1:9/.well-known/openid-configuration",
        "client_id": "x",
        "client_secret": "y",
    }
    async with make_server(oidc_providers=["corp"], oidc={"corp": down}) as server:
        response = await server.client().get("/auth/oauth/corp/authorize")

    assert response.status_code == 302
    assert response.headers["location"] == f"{APP}/sign-in/error?code=PROVIDER_UNAVAILABLE&provider=corp"


async def test_google_is_an_openid_provider(make_server: ServerFactory, oidc_provider: OIDCProvider) -> None:
    # Google's client is the OpenID one; pointed at the local provider it runs the same flow.
    settings = {
        "oauth_google_client_id": oidc_provider.client_id,
        "oauth_google_client_secret": oidc_provider.client_secret,
        "oauth_google_discovery_url": oidc_provider.discovery_url,
    }
    person = oidc_provider.add_account()
    async with make_server(**settings) as server:
        client = server.client()
        assert (await client.get("/auth/providers")).json() == [{"name": "google", "label": "Google"}]
        assert (
            await sign_in_with(client, oidc_provider, person.email, person.password, name="google")
            == f"{APP}/"
        )
        await client.post("/auth/jwt/refresh")
        assert (await client.get("/users/me")).json()["email"] == person.email


def test_github_identity_takes_the_verified_primary_address() -> None:
    user = {"id": 42, "login": "octo", "name": None}
    emails = [
        {"email": "old@example.com", "primary": False, "verified": True},
        {"email": "octo@example.com", "primary": True, "verified": True},
    ]
    assert github_identity(user, emails) == Identity("42", "octo@example.com", True, "octo")
    emails[1]["verified"] = False
    assert github_identity(user, emails).email_verified is False
    assert github_identity(user, []) == Identity("42", None, False, "octo")


def test_oidc_providers_come_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OIDC_PROVIDERS", "corp,keycloak-eu")
    for name in ("CORP", "KEYCLOAK_EU"):
        monkeypatch.setenv(
            f"OIDC_{name}_DISCOVERY_URL", f"https://{name.lower()}.example/.well-known/openid-configuration"
        )
        monkeypatch.setenv(f"OIDC_{name}_CLIENT_ID", "app")
        monkeypatch.setenv(f"OIDC_{name}_CLIENT_SECRET", "s3cret")
    monkeypatch.setenv("OIDC_CORP_NAME", "Our company")

    settings = Settings(environment="development")

    assert settings.oidc["corp"].label == "Our company"
    assert settings.oidc["keycloak-eu"].client_secret.get_secret_value() == "s3cret"
    monkeypatch.delenv("OIDC_KEYCLOAK_EU_CLIENT_ID")
    with pytest.raises(ConfigError, match=r"OIDC\.KEYCLOAK-EU\.CLIENT_ID"):
        load_settings(environment="development")


@pytest.mark.parametrize(
    ("settings", "message"),
    [
        ({"oidc_providers": ["Bad Name"]}, "must be lower-case"),
        ({"oidc_providers": ["google"]}, "must be lower-case"),
        ({"oauth_github_client_id": "x"}, "go together"),
    ],
)
def test_provider_settings_are_checked(settings: dict, message: str) -> None:
    oidc = {
        name: {"discovery_url": "https://x/", "client_id": "a", "client_secret": "b"}
        for name in settings.get("oidc_providers", [])
    }
    with pytest.raises(ValueError, match=message):
        Settings(environment="development", oidc=oidc, **settings)


async def test_deleting_a_user_deletes_its_links(app: Server, oidc_provider: OIDCProvider) -> None:
    person = oidc_provider.add_account()
    client = app.client()
    await sign_in_with(client, oidc_provider, person.email, person.password)
    user = await User.find_one(User.email == person.email)
    assert user is not None and await OAuthAccount.find({"user_id": user.id}).count() == 1

    admin = await superuser_client(app)
    assert (await admin.delete(f"/users/{user.id}")).status_code == 204
    assert await OAuthAccount.find({"user_id": user.id}).count() == 0
    # A new sign-in makes a new account rather than finding a dangling link.
    await sign_in_with(app.client(), oidc_provider, person.email, person.password)
    assert await User.find(User.email == person.email).count() == 1
