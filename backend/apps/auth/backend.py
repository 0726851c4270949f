"""Authentication: the Realm-structured access token and how requests present it.

Access tokens follow MongoDB Realm's "Custom JWT" contract (HS256; `aud` = Realm app id as a
string; `sub` = user id; `iat`; `exp`) plus `jti`, `user_data` for Realm's metadata mapping, and
`sid`, the session the token belongs to. Protected routes accept the token as
`Authorization: Bearer` or in the `FARM_auth` cookie; with the cookie, unsafe methods also need
the CSRF header (see csrf.py).

One credential decides: a request that sends `Authorization: Bearer` is judged by that token
alone, and a bad one is a 401 with `WWW-Authenticate: Bearer error="invalid_token"` (RFC 6750
section 3.1) even when a valid cookie rides along. FastAPI Users' own authenticator falls back
to the next backend, so a stale token of one account could act as whoever the browser's cookie
belongs to; `SessionAuthenticator` is this app's replacement, plugged in through
`FastAPIUsers.authenticator`, which FastAPI Users' routers read their dependencies from.

The check costs one database read and no threadpool hop: the dependencies are `async`, the
user document is read once (it also lists the live sessions) and built without re-validation.
"""

import secrets
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Annotated, Any

import jwt
from beanie import PydanticObjectId
from bson import ObjectId
from bson.errors import InvalidId
from fastapi import Depends, HTTPException, Request, Response, status
from fastapi.security import APIKeyCookie, OAuth2PasswordBearer
from fastapi_users import FastAPIUsers
from fastapi_users.authentication import Authenticator

from backend.apps.auth.activity import SignInLog
from backend.apps.auth.cookies import ACCESS_COOKIE, AuthCookies
from backend.apps.auth.csrf import OriginPolicy, csrf_proof_is_valid, csrf_token_for
from backend.apps.auth.keys import KeyRing, load_keyring_or_exit
from backend.apps.auth.sessions import Session, Sessions
from backend.apps.user.emails import AccountMailer
from backend.apps.user.models import User
from backend.config import Settings
from backend.core.clock import utcnow
from backend.core.crypto import derive_secret
from backend.core.ratelimit import RateLimiter, client_ip

REQUIRED_CLAIMS = ["iss", "aud", "sub", "iat", "exp", "sid"]
LEEWAY_SECONDS = 10  # tolerated clock skew between issuer and verifier
MAX_TOKEN_LENGTH = 8192  # ours are ~450 bytes; anything huge is refused before parsing
TOKEN_URL = "auth/jwt/login"  # noqa: S105 - a path; relative, as Swagger UI resolves it against /docs
AUTHORIZE_DESCRIPTION = (
    "Log in with your email as `username` and your password. An account with two-step sign-in "
    "cannot finish here: its login answers 401 `MFA_REQUIRED` with a `ticket`. Instead, run "
    "`POST /auth/jwt/login` and then `POST /auth/mfa/verify` with the ticket and a code under "
    '"Try it out": the session cookies it sets sign these docs in.'
)


class RealmJWTStrategy:
    """Issues and verifies the access tokens.

    Not a FastAPI Users `Strategy`: its `read_token` takes the user manager, whose dependency
    chain costs a threadpool hop per request, and its `write_token` knows nothing of sessions.
    """

    def __init__(self, *, keys: KeyRing, app_id: str, issuer: str, lifetime_seconds: int) -> None:
        self.keys = keys
        self.app_id = app_id
        self.issuer = issuer
        self.lifetime_seconds = lifetime_seconds

    def issue(self, user: User, session_id: str) -> str:
        now = int(time.time())
        claims = {
            "iss": self.issuer,
            "aud": self.app_id,
            "sub": str(user.id),
            "iat": now,
            "exp": now + self.lifetime_seconds,
            "jti": secrets.token_urlsafe(16),
            "sid": session_id,
            "user_data": {"email": user.email},
        }
        # With one HS256 secret the header is exactly {"alg": "HS256", "typ": "JWT"}; otherwise
        # it also names the signing key (`kid`).
        return self.keys.sign(claims)

    def decode(self, token: str) -> dict[str, Any] | None:
        """The verified claims, or None for anything that is not a valid token of ours."""
        if len(token) > MAX_TOKEN_LENGTH:
            return None
        try:
            # The key ring pins the algorithm (RFC 8725 section 3.1) and picks the key by `kid`;
            # issuer and audience are checked exactly (sections 3.8, 3.9).
            claims = self.keys.verify(
                token,
                audience=self.app_id,
                issuer=self.issuer,
                leeway=LEEWAY_SECONDS,
                options={"require": REQUIRED_CLAIMS, "strict_aud": True},
            )
        except (jwt.PyJWTError, ValueError):
            return None
        return claims if isinstance(claims.get("sid"), str) and isinstance(claims["sub"], str) else None


async def live_user(claims: dict[str, Any]) -> User | None:
    """The token's user, if the token's session is still live: the one read a request costs."""
    try:
        user_id = ObjectId(claims["sub"])
    except (InvalidId, TypeError):
        return None
    document = await User.get_pymongo_collection().find_one({"_id": user_id})
    if document is None or claims["sid"] not in document.get("session_ids", ()):
        return None
    # Our own document, just read: building it again through validation (EmailStr and all)
    # would cost more than the read.
    return User.model_construct(**document)


@dataclass(frozen=True)
class CurrentSession:
    user: User
    session_id: str
    token: str


def unauthorized(error: str | None = None) -> HTTPException:
    challenge = f'Bearer error="{error}"' if error else "Bearer"
    return HTTPException(
        status.HTTP_401_UNAUTHORIZED, detail="Unauthorized", headers={"WWW-Authenticate": challenge}
    )


CSRF_REFUSED = HTTPException(
    status.HTTP_403_FORBIDDEN,
    detail={
        "code": "CSRF_TOKEN_INVALID",
        "reason": "Cookie-authenticated changes need the X-CSRF-Token header "
        "(the value of the FARM_csrf cookie), or use a Bearer token.",
    },
)


class SessionAuthenticator(Authenticator[User, PydanticObjectId]):
    """Who is asking: a Bearer token alone when one is sent, else the access cookie (+ CSRF)."""

    def __init__(self, strategy: RealmJWTStrategy, csrf_keys: list[str], get_user_manager: Any) -> None:
        super().__init__([], get_user_manager)
        self.strategy = strategy
        self.csrf_keys = csrf_keys
        # The same schemes FastAPI Users' BearerTransport and CookieTransport declare, so the
        # OpenAPI document (and Swagger's Authorize) is unchanged.
        bearer_scheme = OAuth2PasswordBearer(
            tokenUrl=TOKEN_URL, auto_error=False, description=AUTHORIZE_DESCRIPTION
        )
        cookie_scheme = APIKeyCookie(name=ACCESS_COOKIE, auto_error=False)

        async def authenticate(
            request: Request,
            bearer: Annotated[str | None, Depends(bearer_scheme)],
            cookie: Annotated[str | None, Depends(cookie_scheme)],
        ) -> CurrentSession | None:
            if bearer is not None:
                return await self._from_bearer(bearer)
            if cookie:
                return await self._from_cookie(cookie, request)
            return None

        self.authenticate = authenticate

    async def _from_bearer(self, token: str) -> CurrentSession:
        claims = self.strategy.decode(token) if token else None
        user = await live_user(claims) if claims else None
        if user is None or claims is None:
            raise unauthorized("invalid_token")
        return CurrentSession(user, claims["sid"], token)

    async def _from_cookie(self, token: str, request: Request) -> CurrentSession | None:
        claims = self.strategy.decode(token)
        user = await live_user(claims) if claims else None
        if user is None or claims is None:
            return None
        # Only a live session gets as far as the CSRF check: an ended one is a plain 401.
        if not csrf_proof_is_valid(request, self.csrf_keys, claims["sid"]):
            raise CSRF_REFUSED
        return CurrentSession(user, claims["sid"], token)

    def current_session(
        self, *, active: bool = True, verified: bool = False, superuser: bool = False
    ) -> Callable[..., Any]:
        """A dependency: the CurrentSession that passes the checks, or 401 / 403."""

        async def current_session(
            current: Annotated[CurrentSession | None, Depends(self.authenticate)],
        ) -> CurrentSession:
            if current is None or (active and not current.user.is_active):
                raise unauthorized()
            if (verified and not current.user.is_verified) or (superuser and not current.user.is_superuser):
                raise HTTPException(status.HTTP_403_FORBIDDEN, detail="Forbidden")
            return current

        return current_session

    # FastAPI Users' routers ask for these two; `optional` and enabled backends are not used here.
    def current_user(  # type: ignore[override]
        self,
        optional: bool = False,
        active: bool = False,
        verified: bool = False,
        superuser: bool = False,
        **_: Any,
    ) -> Callable[..., Any]:
        return self._session_part(lambda current: current.user, optional, active, verified, superuser)

    def current_user_token(  # type: ignore[override]
        self,
        optional: bool = False,
        active: bool = False,
        verified: bool = False,
        superuser: bool = False,
        **_: Any,
    ) -> Callable[..., Any]:
        return self._session_part(
            lambda current: (current.user, current.token), optional, active, verified, superuser
        )

    def _session_part(
        self,
        part: Callable[[CurrentSession], Any],
        optional: bool,
        active: bool,
        verified: bool,
        superuser: bool,
    ) -> Callable[..., Any]:
        """A dependency giving `part` of the CurrentSession that passes the checks."""
        assert not optional, "every protected route of this app needs a user"
        session = self.current_session(active=active, verified=verified, superuser=superuser)

        async def session_part(current: Annotated[CurrentSession, Depends(session)]) -> Any:
            return part(current)

        return session_part


class AppUsers(FastAPIUsers[User, PydanticObjectId]):
    """FastAPI Users, its routers authenticating through `SessionAuthenticator`."""

    def __init__(self, get_user_manager: Any, authenticator: SessionAuthenticator) -> None:
        super().__init__(get_user_manager, [])
        self.authenticator = authenticator
        self.current_user = authenticator.current_user


@dataclass(frozen=True)
class Auth:
    """Everything routers need from authentication, built once per app from its settings."""

    settings: Settings
    fastapi_users: AppUsers
    strategy: RealmJWTStrategy
    sessions: Sessions
    cookies: AuthCookies
    limiter: RateLimiter
    origins: OriginPolicy
    csrf_key: str
    get_user_manager: Callable[..., Any]
    current_active_user: Callable[..., Any]
    current_superuser: Callable[..., Any]
    current_session: Callable[..., Any]
    sign_ins: SignInLog

    def csrf_token(self, session_id: str) -> str:
        return csrf_token_for(self.csrf_key, session_id)

    def set_session_cookies(
        self, response: Response, session: Session, access_token: str, refresh: str | None
    ) -> None:
        """Put a session's cookies on `response`: access token, CSRF token, refresh token."""
        self.cookies.set_session(
            response,
            access_token=access_token,
            csrf_token=self.csrf_token(session.id),
            refresh_token=refresh,
            max_age=max(0, int((session.expires_at - utcnow()).total_seconds())),
        )

    async def sign_in(
        self,
        user: User,
        request: Request,
        response: Response,
        method: str,
        second_factor: str | None = None,
    ) -> str:
        """Start a session for `user` exactly as a password login does: the session document,
        the refresh token and the cookies on `response`. Returns the access token.

        Every sign-in comes through here, so here it is logged: `method` is how the first step
        was made (`password`, `passkey`, `sign_in_link`, `provider:<name>`), `second_factor`
        the second step's (`totp`, `recovery_code`, `passkey`) when there was one. A sign-in
        from a new device and network is mailed to the owner (activity.py); neither the log
        nor the mail can fail the sign-in."""
        user_agent, ip = request.headers.get("user-agent", ""), client_ip(request)
        session, refresh = await self.sessions.start(user, user_agent, ip)
        access_token = self.strategy.issue(user, session.id)
        self.set_session_cookies(response, session, access_token, refresh)
        await self.sign_ins.signed_in(user, request, session.id, method, second_factor)
        return access_token


def build_auth(
    settings: Settings,
    sessions: Sessions,
    limiter: RateLimiter,
    get_user_manager: Callable[..., Any],
    mailer: AccountMailer,
) -> Auth:
    """Authentication for an app: `get_user_manager` is the user app's manager dependency;
    `mailer` tells owners of sign-ins from new devices."""
    strategy = RealmJWTStrategy(
        keys=load_keyring_or_exit(settings),
        app_id=settings.app_id,
        issuer=settings.issuer,
        lifetime_seconds=settings.jwt_lifetime_seconds,
    )
    # The first secret makes new CSRF tokens; proofs made with a secret still listed for
    # rotation pass too, so rotating JWT_SECRET_KEYS refuses nobody's open tab.
    csrf_keys = [derive_secret(secret, "csrf") for secret in settings.jwt_secrets]
    authenticator = SessionAuthenticator(strategy, csrf_keys, get_user_manager)
    active_user = authenticator.current_user(active=True)

    async def verified_user(user: Annotated[User, Depends(active_user)]) -> User:
        if not user.is_verified:
            raise HTTPException(
                status.HTTP_403_FORBIDDEN,
                detail={
                    "code": "USER_NOT_VERIFIED",
                    "reason": "Verify your email address first: open the link we sent, or ask for a new one.",
                },
            )
        return user

    return Auth(
        settings=settings,
        fastapi_users=AppUsers(get_user_manager, authenticator),
        strategy=strategy,
        sessions=sessions,
        cookies=AuthCookies(secure=settings.cookie_secure, access_max_age=settings.jwt_lifetime_seconds),
        limiter=limiter,
        origins=OriginPolicy(settings.cors_origins),
        csrf_key=csrf_keys[0],
        get_user_manager=get_user_manager,
        current_active_user=verified_user if settings.require_verified_login else active_user,
        current_superuser=authenticator.current_user(active=True, superuser=True),
        current_session=authenticator.current_session(active=True),
        sign_ins=SignInLog(settings, mailer),
    )
