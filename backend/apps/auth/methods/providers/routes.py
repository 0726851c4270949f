"""Signing in with another provider, and linking providers to an account: the flow's routes.

The flow (RFC 6749 authorization code, RFC 7636 PKCE with S256, OpenID Connect Core 1.0):

1. `GET /auth/oauth/{provider}/authorize` (a link on the login page) or, for a signed-in user
   whose address is verified and who signed in or confirmed it is them in the last few minutes,
   `POST /auth/oauth/{provider}/link` (CSRF-protected, so no other site can make someone link
   an account of its choosing) starts a flow: fresh `state`, `nonce` and PKCE verifier go into
   the `FARM_oauth` cookie (HttpOnly, SameSite=Lax, 10 minutes, signed so it cannot be forged),
   and the browser is sent to the provider.
2. `GET /auth/oauth/{provider}/callback` accepts the answer only with that cookie and the same
   `state` (RFC 6749 section 10.12: this is what binds the answer to the browser that asked),
   exchanges the code with the verifier, verifies the ID token (clients.py) and then:
   - an identity linked before signs its account in;
   - a new identity whose email no account uses creates an account (verified when the provider
     vouches for the address; no usable password until the person sets one by reset);
   - a new identity whose email an account already uses never merges into it by itself
     (FastAPI Users' `associate_by_email` would). Into a verified account it is refused with
     LINK_FROM_ACCOUNT_PAGE: the person signs in the way they did so far, then links it from the
     account page (log in, then link, as GitHub and Auth0 do), so nobody without the account's
     credential gets in and nobody with it is locked out. An unverified account's address was
     never proved, so the account may be a stranger's: a provider that vouches for the address
     proves the inbox, and the account becomes its owner's alone, everything its maker set up
     removed (flows/verification.py), before the identity is linked; a provider that does not vouch gets
     ACCOUNT_EXISTS;
   - for a link flow, the identity is linked to the signed-in user unless another account has it
     or the user's address is not verified (VERIFICATION_REQUIRED).
   A sign-in ends in the same session a password login starts (cookies, refresh token) and a
   redirect to the app, which restores it through the refresh cookie; for an account with a
   second factor, in a redirect to `/sign-in/mfa?ticket=...&methods=...` instead (see flows/sign_in.py).
   Every failure redirects to `/sign-in/error?code=...` (or the account page for a link), never
   to a JSON error page.
Linked identities, and the routes that list and unlink them, are in linked.py; the provider
clients (OpenID Connect, GitHub) in clients.py.
"""

import base64
import hashlib
import hmac
import logging
import secrets
import time
from dataclasses import dataclass
from typing import TYPE_CHECKING, Annotated
from urllib.parse import urlencode

import jwt
from beanie import PydanticObjectId
from fastapi import APIRouter, Depends, HTTPException, Request, Response, status
from fastapi.responses import RedirectResponse
from fastapi_users.exceptions import UserAlreadyExists
from pydantic import BaseModel
from pymongo.errors import DuplicateKeyError

from backend.apps.auth.activity.log import security_log
from backend.apps.auth.flows.sign_in import SignedIn
from backend.apps.auth.flows.verification import PROVED_ADDRESS_RESPONSES
from backend.apps.auth.methods.providers.clients import Identity, Provider, ProviderError
from backend.apps.auth.methods.providers.linked import OAuthAccount
from backend.apps.auth.sessions.authenticator import CurrentSession
from backend.apps.user.manager import UserManager
from backend.apps.user.models import User
from backend.core.crypto import derive_secret
from backend.core.email_address import normalize_email
from backend.core.token_pages import token_link

if TYPE_CHECKING:
    from backend.apps.auth.methods.providers.module import ProvidersMethod

logger = logging.getLogger(__name__)

FLOW_COOKIE = "FARM_oauth"
FLOW_SECONDS = 600
FLOW_PATH = "/auth/oauth"


class ProviderRead(BaseModel):
    name: str
    label: str


class AuthorizationURL(BaseModel):
    authorization_url: str


@dataclass(frozen=True)
class Flow:
    provider: str
    state: str
    nonce: str
    verifier: str
    user_id: str | None  # set for a link flow: who asked


class SignInRefused(Exception):
    def __init__(self, code: str) -> None:
        super().__init__(code)
        self.code = code


def pkce_challenge(verifier: str) -> str:
    """RFC 7636 section 4.2, S256."""
    return base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).rstrip(b"=").decode()


class FlowCookie:
    """The flow's secrets, in a cookie only this app can have written (HS256 with its own key).

    Made with the key of the first JWT secret, read with that of any configured one: a flow
    started on an instance a rotation step ahead (or behind) finishes on this one."""

    audience = "farm-auth:oauth-flow"

    def __init__(self, secrets: list[str], secure: bool) -> None:
        self.keys = [derive_secret(secret, "oauth-flow") for secret in secrets]
        self.key = self.keys[0]
        self.secure = secure

    def set(self, response: Response, flow: Flow) -> None:
        claims = {
            "aud": self.audience,
            "exp": int(time.time()) + FLOW_SECONDS,
            "p": flow.provider,
            "s": flow.state,
            "n": flow.nonce,
            "v": flow.verifier,
            "u": flow.user_id,
        }
        response.set_cookie(
            FLOW_COOKIE,
            jwt.encode(claims, self.key, algorithm="HS256"),
            max_age=FLOW_SECONDS,
            path=FLOW_PATH,
            secure=self.secure,
            httponly=True,
            samesite="lax",  # sent on the provider's top-level redirect back to us, not on cross-site POSTs
        )

    def read(self, request: Request) -> Flow | None:
        value = request.cookies.get(FLOW_COOKIE)
        if not value:
            return None
        for key in self.keys:
            try:
                claims = jwt.decode(value, key, algorithms=["HS256"], audience=self.audience)
            except jwt.InvalidSignatureError:
                continue  # perhaps made with another secret of the rotation
            except jwt.PyJWTError:
                return None
            try:
                return Flow(
                    str(claims["p"]), str(claims["s"]), str(claims["n"]), str(claims["v"]), claims.get("u")
                )
            except (KeyError, TypeError):
                return None
        return None

    def clear(self, response: Response) -> None:
        response.delete_cookie(FLOW_COOKIE, path=FLOW_PATH, secure=self.secure, httponly=True, samesite="lax")


def get_providers_router(providers: dict[str, Provider]) -> APIRouter:
    router = APIRouter(tags=["auth"])
    listed = [ProviderRead(name=p.name, label=p.label) for p in providers.values()]

    @router.get("/auth/providers", response_model=list[ProviderRead])
    async def list_providers() -> list[ProviderRead]:
        """The sign-in providers this server offers (an empty list when none is configured)."""
        return listed

    return router


def get_oauth_router(method: "ProvidersMethod") -> APIRouter:
    settings, providers, letters = method.settings, method.providers, method.letters
    cookie = FlowCookie(settings.jwt_secrets, settings.cookie_secure)
    router = APIRouter(prefix="/auth/oauth", tags=["auth"])
    UserManagerDep = Annotated[UserManager, Depends(method.get_user_manager)]
    # Linking adds a way in: the same fresh confirmation as adding a passkey, on a proved address.
    ProvedSession = Annotated[CurrentSession, Depends(method.proved_and_confirmed)]

    def provider_named(name: str) -> Provider:
        if name not in providers:
            raise HTTPException(status.HTTP_404_NOT_FOUND, detail="PROVIDER_NOT_FOUND")
        return providers[name]

    def callback_url(provider: Provider) -> str:
        return f"{settings.base_url}/auth/oauth/{provider.name}/callback"

    def app_url(path: str, **query: str) -> str:
        return f"{settings.base_url}{path}" + (f"?{urlencode(query)}" if query else "")

    async def start(provider: Provider, response: Response, user_id: str | None) -> str:
        flow = Flow(
            provider.name,
            secrets.token_urlsafe(32),
            secrets.token_urlsafe(32),
            secrets.token_urlsafe(48),
            user_id,
        )
        url = await provider.authorization_url(
            callback_url(provider), flow.state, pkce_challenge(flow.verifier), flow.nonce
        )
        cookie.set(response, flow)
        return url

    @router.get(
        "/{provider}/authorize",
        response_class=RedirectResponse,
        status_code=status.HTTP_302_FOUND,
        responses={302: {"description": "to the provider; or to /sign-in/error when it cannot be reached"}},
        summary="Sign in with a provider",
    )
    async def authorize(provider: str) -> Response:
        """Start signing in with `provider`: the browser is sent to the provider."""
        chosen = provider_named(provider)
        response = RedirectResponse("", status_code=status.HTTP_302_FOUND)
        try:
            response.headers["location"] = await start(chosen, response, None)
        except ProviderError as exc:
            logger.warning("sign-in with %s could not start: %s", chosen.name, exc)
            return RedirectResponse(
                app_url("/sign-in/error", code=exc.code, provider=chosen.name), status.HTTP_302_FOUND
            )
        return response

    @router.post(
        "/{provider}/link",
        response_model=AuthorizationURL,
        responses=PROVED_ADDRESS_RESPONSES,
        summary="Link a provider to my account",
    )
    async def link(provider: str, current: ProvedSession, response: Response) -> AuthorizationURL:
        """Start linking `provider` to the signed-in account: open the returned URL in the browser.
        Needs a verified address and a recent sign-in or confirmation."""
        chosen = provider_named(provider)
        try:
            return AuthorizationURL(authorization_url=await start(chosen, response, str(current.user.id)))
        except ProviderError as exc:
            raise HTTPException(
                status.HTTP_503_SERVICE_UNAVAILABLE,
                detail={"code": exc.code, "reason": f"{chosen.label} cannot be reached; try again shortly."},
            ) from None

    @router.get(
        "/{provider}/callback",
        response_class=RedirectResponse,
        status_code=status.HTTP_302_FOUND,
        responses={
            302: {
                "description": "signed in: to the app; second factor needed: to /sign-in/mfa?ticket=...; "
                "refused: to /sign-in/error?code=..."
            }
        },
        summary="Where the provider sends the browser back",
    )
    async def callback(request: Request, provider: str, user_manager: UserManagerDep) -> Response:
        chosen = provider_named(provider)
        flow = cookie.read(request)
        linking = flow is not None and flow.user_id is not None

        def refuse(code: str) -> Response:
            target = (
                app_url("/account/security", link_error=code, provider=chosen.name)
                if linking
                else app_url("/sign-in/error", code=code, provider=chosen.name)
            )
            response = RedirectResponse(target, status.HTTP_302_FOUND)
            cookie.clear(response)
            return response

        params = request.query_params
        state = params.get("state", "")
        # RFC 6749 section 10.12: only the browser that started this flow may finish it.
        if (
            flow is None
            or flow.provider != chosen.name
            or not hmac.compare_digest(state.encode(), flow.state.encode())
        ):
            return refuse("STATE_INVALID")
        if error := params.get("error"):
            return refuse("ACCESS_DENIED" if error == "access_denied" else "PROVIDER_ERROR")
        code = params.get("code")
        if not code:
            return refuse("PROVIDER_ERROR")
        try:
            identity = await chosen.identity(code, callback_url(chosen), flow.verifier, flow.nonce)
        except ProviderError as exc:
            logger.warning("sign-in with %s refused: %s", chosen.name, exc)
            return refuse(exc.code)
        try:
            if flow.user_id is not None:
                await link_identity(chosen, identity, PydanticObjectId(flow.user_id), request)
                linked = app_url("/account/security", linked=chosen.name)
                response = RedirectResponse(linked, status.HTTP_302_FOUND)
            else:
                user = await account_for(chosen, identity, user_manager, request)
                response = RedirectResponse(app_url("/"), status.HTTP_302_FOUND)
                outcome = await method.sign_in.first_step_done(
                    user, request, response, f"provider:{chosen.name}", user_manager
                )
                if not isinstance(outcome, SignedIn):  # no session until the second factor
                    methods = ",".join(outcome.methods)
                    target = token_link(
                        settings.base_url, "/sign-in/mfa", ticket=outcome.ticket, methods=methods
                    )
                    response = RedirectResponse(target, status.HTTP_302_FOUND)
        except SignInRefused as exc:
            return refuse(exc.code)
        cookie.clear(response)
        return response

    async def account_for(
        provider: Provider, identity: Identity, user_manager: UserManager, request: Request
    ) -> User:
        """The account this identity signs in to: linked, linked now, or new."""
        linked = await OAuthAccount.find_one({"provider": provider.name, "subject": identity.subject})
        if linked is not None:
            user = await User.get(linked.user_id)
            if user is None:  # the account went away; its link goes too
                await linked.delete()
            else:
                return usable(user)
        if not identity.email:
            raise SignInRefused("EMAIL_REQUIRED")
        email = normalize_email(identity.email)
        user = await user_manager.user_db.get_by_email(email)
        if user is None:
            user = await new_account(email, identity, user_manager)
            await add_link(user, provider, identity, request, notify=False)
            if not user.is_verified:  # the provider did not vouch for it: ask, as registration does
                await user_manager.request_verify(user, None)
            return usable(user)
        if user.is_verified:
            # Never merged by itself: signed in the way it was so far, it links from the account page.
            raise SignInRefused("LINK_FROM_ACCOUNT_PAGE")
        # Never proved: a provider's word on the address is proof from its inbox, and makes the
        # account its owner's alone; without that word, this is nobody's proof of anything.
        if not identity.email_verified:
            raise SignInRefused("ACCOUNT_EXISTS")
        if not user.is_active:
            raise SignInRefused("ACCOUNT_INACTIVE")
        how = f"by signing in with {provider.label}, which vouches for it"
        if not await method.inbox.claim(user_manager, user, f"provider:{provider.name}", request, how=how):
            raise SignInRefused("LINK_FROM_ACCOUNT_PAGE")  # proved (or deactivated) a moment ago
        user = usable(await user_manager.get(user.id))
        await add_link(user, provider, identity, request, notify=False)  # the mail told of it
        return user

    def usable(user: User) -> User:
        if not user.is_active:
            raise SignInRefused("ACCOUNT_INACTIVE")
        if settings.require_verified_login and not user.is_verified:
            raise SignInRefused("LOGIN_USER_NOT_VERIFIED")
        return user

    async def new_account(email: str, identity: Identity, user_manager: UserManager) -> User:
        # A real argon2 hash of a secret nobody knows: the account has no usable password until
        # its owner sets one through "forgot password".
        hashed = await user_manager.hash_password(secrets.token_urlsafe(32))
        try:
            return await user_manager.user_db.create(
                {
                    "email": email,
                    "hashed_password": hashed,
                    "is_verified": identity.email_verified,
                    "password_set": False,
                }
            )
        except UserAlreadyExists:  # registered a moment ago: treat it as an existing account
            raise SignInRefused("ACCOUNT_EXISTS") from None

    async def add_link(
        user: User, provider: Provider, identity: Identity, request: Request, *, notify: bool
    ) -> None:
        try:
            await OAuthAccount(
                user_id=user.id, provider=provider.name, subject=identity.subject, email=identity.email
            ).insert()
        except DuplicateKeyError:  # the same identity, linked a moment ago (two tabs)
            existing = await OAuthAccount.find_one({"provider": provider.name, "subject": identity.subject})
            if existing is None or existing.user_id != user.id:
                raise SignInRefused("PROVIDER_ACCOUNT_IN_USE") from None
            return
        await security_log.record(user.id, "provider_linked", request, provider=provider.name)
        if notify:
            await letters.send_security_notice(
                user,
                f"{provider.label} was linked to your account",
                f"You can now sign in with {provider.label}.",
            )

    async def link_identity(
        provider: Provider, identity: Identity, user_id: PydanticObjectId, request: Request
    ) -> None:
        user = await User.get(user_id)
        if user is None or not user.is_active:
            raise SignInRefused("ACCOUNT_INACTIVE")
        if not user.is_verified:  # its address became unproved since the link started (rule 1)
            raise SignInRefused("VERIFICATION_REQUIRED")
        linked = await OAuthAccount.find_one({"provider": provider.name, "subject": identity.subject})
        if linked is not None:
            if linked.user_id != user.id:
                raise SignInRefused("PROVIDER_ACCOUNT_IN_USE")
            return  # already linked to this account
        await add_link(user, provider, identity, request, notify=True)

    return router
