"""Authentication: the Realm-structured access token and how it travels.

Tokens follow MongoDB Realm's "Custom JWT" contract (HS256; `aud` = Realm app id as a string;
`sub` = user id; `iat`; `exp`; plus `jti` and `user_data` for Realm's metadata mapping).
Login answers with the OAuth2 body (Swagger's Authorize button, API clients) and sets the
same token in the HttpOnly `FARM_auth` cookie (browsers). Protected routes accept either.
"""

import secrets
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import jwt
from beanie import PydanticObjectId
from fastapi import Response
from fastapi_users import FastAPIUsers, exceptions
from fastapi_users.authentication import (
    AuthenticationBackend,
    BearerTransport,
    CookieTransport,
    Strategy,
)
from fastapi_users.authentication.strategy import StrategyDestroyNotSupportedError
from fastapi_users.manager import BaseUserManager
from fastapi_users.openapi import OpenAPIResponseType

from backend.apps.user.mail import MailSender
from backend.apps.user.manager import UserDeletedHook, user_manager_dependency
from backend.apps.user.models import User
from backend.config import Settings

ACCESS_COOKIE_NAME = "FARM_auth"
ALGORITHM = "HS256"
REQUIRED_CLAIMS = ["aud", "sub", "iat", "exp"]
LEEWAY_SECONDS = 10  # tolerated clock skew between issuer and verifier
MAX_TOKEN_LENGTH = 8192  # ours are ~400 bytes; anything huge is refused before parsing


class RealmJWTStrategy(Strategy[User, PydanticObjectId]):
    def __init__(self, *, secret: str, app_id: str, lifetime_seconds: int) -> None:
        self.secret = secret
        self.app_id = app_id
        self.lifetime_seconds = lifetime_seconds

    def claims_for(self, user: User) -> dict[str, Any]:
        now = int(time.time())
        return {
            "aud": self.app_id,
            "sub": str(user.id),
            "iat": now,
            "exp": now + self.lifetime_seconds,
            "jti": secrets.token_urlsafe(16),
            "user_data": {"email": user.email},
        }

    async def write_token(self, user: User) -> str:
        # PyJWT's header for HS256 is exactly {"alg": "HS256", "typ": "JWT"}.
        return jwt.encode(self.claims_for(user), self.secret, algorithm=ALGORITHM)

    def decode(self, token: str) -> dict[str, Any] | None:
        """The verified claims, or None for anything that is not a valid token of ours."""
        if len(token) > MAX_TOKEN_LENGTH:
            return None
        try:
            return jwt.decode(
                token,
                self.secret,
                algorithms=[ALGORITHM],
                audience=self.app_id,
                leeway=LEEWAY_SECONDS,
                options={"require": REQUIRED_CLAIMS, "strict_aud": True},
            )
        except (jwt.PyJWTError, ValueError):
            return None

    async def read_token(
        self, token: str | None, user_manager: BaseUserManager[User, PydanticObjectId]
    ) -> User | None:
        claims = self.decode(token) if token else None
        if claims is None:
            return None
        try:
            return await user_manager.get(user_manager.parse_id(claims["sub"]))
        except (exceptions.UserNotExists, exceptions.InvalidID):
            return None

    async def destroy_token(self, token: str, user: User) -> None:
        raise StrategyDestroyNotSupportedError()


class BearerCookieTransport(BearerTransport):
    """Reads `Authorization: Bearer`; login also sets the cookie, logout clears it."""

    def __init__(self, token_url: str, cookie: CookieTransport) -> None:
        super().__init__(token_url)
        self.cookie = cookie

    async def get_login_response(self, token: str) -> Response:
        response = await super().get_login_response(token)
        return _with_cookies_of(response, await self.cookie.get_login_response(token))

    async def get_logout_response(self) -> Response:
        return await self.cookie.get_logout_response()

    @staticmethod
    def get_openapi_logout_responses_success() -> OpenAPIResponseType:
        return CookieTransport.get_openapi_logout_responses_success()


def _with_cookies_of(response: Response, source: Response) -> Response:
    for value in source.headers.getlist("set-cookie"):
        response.headers.append("set-cookie", value)
    return response


@dataclass(frozen=True)
class Auth:
    """Everything routers need from authentication, built once per app from its settings."""

    fastapi_users: FastAPIUsers[User, PydanticObjectId]
    backend: AuthenticationBackend[User, PydanticObjectId]
    get_user_manager: Callable[..., Any]
    current_active_user: Callable[..., Any]
    current_superuser: Callable[..., Any]


def build_auth(
    settings: Settings, mailer: MailSender, on_user_deleted: tuple[UserDeletedHook, ...] = ()
) -> Auth:
    strategy = RealmJWTStrategy(
        secret=settings.jwt_secret,
        app_id=settings.app_id,
        lifetime_seconds=settings.jwt_lifetime_seconds,
    )
    cookie = CookieTransport(
        cookie_name=ACCESS_COOKIE_NAME,
        cookie_max_age=settings.jwt_lifetime_seconds,
        cookie_secure=settings.cookie_secure,
        cookie_httponly=True,
        cookie_samesite="lax",
    )

    def get_strategy() -> RealmJWTStrategy:
        return strategy

    backend = AuthenticationBackend("jwt", BearerCookieTransport("auth/jwt/login", cookie), get_strategy)
    cookie_backend = AuthenticationBackend("cookie", cookie, get_strategy)
    get_user_manager = user_manager_dependency(settings, mailer, on_user_deleted)
    fastapi_users = FastAPIUsers[User, PydanticObjectId](get_user_manager, [backend, cookie_backend])
    return Auth(
        fastapi_users=fastapi_users,
        backend=backend,
        get_user_manager=get_user_manager,
        current_active_user=fastapi_users.current_user(active=True),
        current_superuser=fastapi_users.current_user(active=True, superuser=True),
    )
