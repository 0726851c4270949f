"""Authentication: the Realm-structured access token and how requests present it.

Access tokens follow MongoDB Realm's "Custom JWT" contract (HS256; `aud` = Realm app id as a
string; `sub` = user id; `iat`; `exp`) plus `jti`, `user_data` for Realm's metadata mapping, and
`sid`, the session the token belongs to. Protected routes accept the token as
`Authorization: Bearer` or in the `FARM_auth` cookie; with the cookie, unsafe methods also need
the CSRF header (see csrf.py).
"""

import secrets
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Annotated, Any

import jwt
from beanie import PydanticObjectId
from fastapi import Depends, HTTPException, Request, status
from fastapi_users import FastAPIUsers, exceptions
from fastapi_users.authentication import AuthenticationBackend, BearerTransport, CookieTransport, Strategy
from fastapi_users.manager import BaseUserManager

from backend.apps.auth.cookies import ACCESS_COOKIE, AuthCookies
from backend.apps.auth.csrf import OriginPolicy, csrf_proof_is_valid, csrf_token_for
from backend.apps.auth.sessions import Sessions
from backend.apps.user.models import User
from backend.config import Settings
from backend.core.crypto import derive_secret
from backend.core.ratelimit import RateLimiter

ALGORITHM = "HS256"
REQUIRED_CLAIMS = ["aud", "sub", "iat", "exp", "sid"]
LEEWAY_SECONDS = 10  # tolerated clock skew between issuer and verifier
MAX_TOKEN_LENGTH = 8192  # ours are ~450 bytes; anything huge is refused before parsing
TOKEN_URL = "auth/jwt/login"  # noqa: S105 - a path; relative, as Swagger UI resolves it against /docs


class RealmJWTStrategy(Strategy[User, PydanticObjectId]):
    def __init__(self, *, secret: str, app_id: str, lifetime_seconds: int) -> None:
        self.secret = secret
        self.app_id = app_id
        self.lifetime_seconds = lifetime_seconds

    def issue(self, user: User, session_id: str) -> str:
        now = int(time.time())
        claims = {
            "aud": self.app_id,
            "sub": str(user.id),
            "iat": now,
            "exp": now + self.lifetime_seconds,
            "jti": secrets.token_urlsafe(16),
            "sid": session_id,
            "user_data": {"email": user.email},
        }
        # PyJWT's header for HS256 is exactly {"alg": "HS256", "typ": "JWT"}.
        return jwt.encode(claims, self.secret, algorithm=ALGORITHM)

    def decode(self, token: str) -> dict[str, Any] | None:
        """The verified claims, or None for anything that is not a valid token of ours."""
        if len(token) > MAX_TOKEN_LENGTH:
            return None
        try:
            claims = jwt.decode(
                token,
                self.secret,
                algorithms=[ALGORITHM],
                audience=self.app_id,
                leeway=LEEWAY_SECONDS,
                options={"require": REQUIRED_CLAIMS, "strict_aud": True},
            )
        except (jwt.PyJWTError, ValueError):
            return None
        return claims if isinstance(claims.get("sid"), str) else None

    async def read_token(
        self, token: str | None, user_manager: BaseUserManager[User, PydanticObjectId]
    ) -> User | None:
        claims = self.decode(token) if token else None
        return await self.user_of(claims, user_manager) if claims else None

    async def user_of(
        self, claims: dict[str, Any], user_manager: BaseUserManager[User, PydanticObjectId]
    ) -> User | None:
        """The user, if their session is still live: the one database read a request costs."""
        try:
            user = await user_manager.get(user_manager.parse_id(claims["sub"]))
        except (exceptions.UserNotExists, exceptions.InvalidID):
            return None
        return user if claims["sid"] in user.session_ids else None


class CookieStrategy(RealmJWTStrategy):
    """The same tokens read from the cookie, for one request: unsafe methods need CSRF proof."""

    def __init__(self, base: RealmJWTStrategy, csrf_key: str, request: Request) -> None:
        super().__init__(secret=base.secret, app_id=base.app_id, lifetime_seconds=base.lifetime_seconds)
        self.csrf_key = csrf_key
        self.request = request

    async def read_token(
        self, token: str | None, user_manager: BaseUserManager[User, PydanticObjectId]
    ) -> User | None:
        claims = self.decode(token) if token else None
        user = await self.user_of(claims, user_manager) if claims else None
        # Only a live session gets as far as the CSRF check: an ended one is a plain 401.
        if user is None or claims is None:
            return None
        if not csrf_proof_is_valid(self.request, self.csrf_key, claims["sid"]):
            raise HTTPException(
                status.HTTP_403_FORBIDDEN,
                detail={
                    "code": "CSRF_TOKEN_INVALID",
                    "reason": "Cookie-authenticated changes need the X-CSRF-Token header "
                    "(the value of the FARM_csrf cookie), or use a Bearer token.",
                },
            )
        return user


@dataclass(frozen=True)
class CurrentSession:
    user: User
    session_id: str


@dataclass(frozen=True)
class Auth:
    """Everything routers need from authentication, built once per app from its settings."""

    settings: Settings
    fastapi_users: FastAPIUsers[User, PydanticObjectId]
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

    def csrf_token(self, session_id: str) -> str:
        return csrf_token_for(self.csrf_key, session_id)


def build_auth(
    settings: Settings, sessions: Sessions, limiter: RateLimiter, get_user_manager: Callable[..., Any]
) -> Auth:
    """Authentication for an app: `get_user_manager` is the user app's manager dependency."""
    strategy = RealmJWTStrategy(
        secret=settings.jwt_secret, app_id=settings.app_id, lifetime_seconds=settings.jwt_lifetime_seconds
    )
    csrf_key = derive_secret(settings.jwt_secret, "csrf")

    def get_bearer_strategy() -> RealmJWTStrategy:
        return strategy

    def get_cookie_strategy(request: Request) -> CookieStrategy:
        return CookieStrategy(strategy, csrf_key, request)

    # Reading only: login, refresh and logout are this app's own routes (routers.py).
    bearer = AuthenticationBackend("jwt", BearerTransport(TOKEN_URL), get_bearer_strategy)
    cookie = AuthenticationBackend("cookie", CookieTransport(cookie_name=ACCESS_COOKIE), get_cookie_strategy)
    fastapi_users = FastAPIUsers[User, PydanticObjectId](get_user_manager, [bearer, cookie])
    current_user_token = fastapi_users.authenticator.current_user_token(active=True)

    active_user = fastapi_users.current_user(active=True)

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

    async def current_session(
        user_token: Annotated[tuple[User, str], Depends(current_user_token)],
    ) -> CurrentSession:
        user, token = user_token
        claims = strategy.decode(token)
        assert claims is not None  # it just authenticated this request
        return CurrentSession(user, claims["sid"])

    return Auth(
        settings=settings,
        fastapi_users=fastapi_users,
        strategy=strategy,
        sessions=sessions,
        cookies=AuthCookies(secure=settings.cookie_secure, access_max_age=settings.jwt_lifetime_seconds),
        limiter=limiter,
        origins=OriginPolicy(settings.cors_origins),
        csrf_key=csrf_key,
        get_user_manager=get_user_manager,
        current_active_user=verified_user if settings.require_verified_login else active_user,
        current_superuser=fastapi_users.current_user(active=True, superuser=True),
        current_session=current_session,
    )
