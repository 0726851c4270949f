"""The sessions module: sessions and their refresh tokens, the cookies and CSRF proofs of browsers,
and the request authenticator every protected route depends on.

It ends an account's sessions when the user app says so (a reset, a deactivation), and hands
the security log's routes who may read it.
"""

from collections.abc import Callable, Sequence
from typing import Annotated, Any

from beanie import PydanticObjectId
from fastapi import APIRouter, Depends, HTTPException, status

from backend.apps.auth.activity.module import ActivityModule
from backend.apps.auth.sessions.authenticator import AppUsers, SessionAuthenticator
from backend.apps.auth.sessions.cookies import AuthCookies
from backend.apps.auth.sessions.csrf import OriginPolicy
from backend.apps.auth.sessions.models import RefreshToken, Session
from backend.apps.auth.sessions.routes import get_session_router
from backend.apps.auth.sessions.service import Sessions
from backend.apps.auth.sessions.starter import SessionStarter
from backend.apps.auth.tokens.module import TokensModule
from backend.apps.user.models import User
from backend.apps.user.module import UserModule
from backend.core.crypto import derive_secret
from backend.core.kit import Kit
from backend.core.modules import Module


class SessionsModule(Module):
    name = "sessions"
    documents = (Session, RefreshToken)

    def __init__(self, kit: Kit, user: UserModule, tokens: TokensModule, activity: ActivityModule) -> None:
        settings = self.settings = kit.settings
        self.limiter = kit.limiter
        self.strategy = tokens.strategy
        self.sessions = Sessions(settings, limited=kit.limiter.enabled)
        self.cookies = AuthCookies(
            secure=settings.cookie_secure, access_max_age=settings.jwt_lifetime_seconds
        )
        self.origins = OriginPolicy(settings.cors_origins)
        # The first secret makes new CSRF tokens; proofs made with a secret still listed for
        # rotation pass too, so rotating JWT_SECRET_KEYS refuses nobody's open tab.
        csrf_keys = [derive_secret(secret, "csrf") for secret in settings.jwt_secrets]
        self.starter = SessionStarter(self.sessions, self.strategy, self.cookies, csrf_keys[0])
        self.authenticator = SessionAuthenticator(self.strategy, csrf_keys, user.get_user_manager)
        self.users = AppUsers(user.get_user_manager, self.authenticator)
        self.maybe_session = self.authenticator.authenticate
        self.current_session = self.authenticator.current_session(active=True)
        self.current_superuser = self.authenticator.current_user(active=True, superuser=True)
        active_user = self.authenticator.current_user(active=True)
        self.current_active_user = (
            verified_only(active_user) if settings.require_verified_login else active_user
        )
        user.hooks.end_sessions = self.sessions.end_all
        activity.readers(self.current_session, self.current_superuser)

    def routers(self) -> Sequence[APIRouter]:
        return [get_session_router(self)]

    async def forget_user(self, user_id: PydanticObjectId) -> None:
        await self.sessions.forget_user(user_id)

    def documented_errors(self) -> dict[Callable[..., Any], list[int]]:
        # With REQUIRE_VERIFIED_LOGIN, the todo routes' user dependency answers 403.
        return {self.current_active_user: [403] if self.settings.require_verified_login else []}


def verified_only(active_user: Callable[..., Any]) -> Callable[..., Any]:
    """The signed-in user when their address is verified; 403 USER_NOT_VERIFIED, with a reason,
    otherwise (REQUIRE_VERIFIED_LOGIN)."""

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

    return verified_user
