"""The authentication routes: login, refresh, logout and sessions, and the password change.

FastAPI Users has no refresh tokens and its JWT logout revokes nothing, so these are this app's
own; register, reset and verify stay FastAPI Users' (see the user app).
"""

from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Cookie, Depends, HTTPException, Request, Response, status
from fastapi.responses import JSONResponse
from fastapi.security import OAuth2PasswordRequestForm
from fastapi_users.authentication.transport.bearer import BearerResponse
from fastapi_users.exceptions import InvalidPasswordException
from fastapi_users.router.common import ErrorCode
from pydantic import BaseModel

from backend.apps.auth.activity import LOGIN_ACCOUNT_RULE, count_failed_login, security_log
from backend.apps.auth.backend import Auth, CurrentSession
from backend.apps.auth.cookies import REFRESH_COOKIE
from backend.apps.auth.mfa import MFA_REQUIRED_RESPONSE, SecondFactorRequired, SecondFactors
from backend.apps.auth.sessions import RefreshRefused, Session
from backend.apps.user.manager import UserManager
from backend.apps.user.models import PasswordChange, User, UserRead
from backend.core.email_address import normalize_email
from backend.core.ratelimit import client_ip


class SessionRead(BaseModel):
    id: str
    created_at: datetime
    last_used_at: datetime
    expires_at: datetime
    user_agent: str
    ip: str
    current: bool


def get_auth_router(auth: Auth, factors: SecondFactors) -> APIRouter:
    router = APIRouter()
    router.include_router(get_session_router(auth, factors), tags=["auth"])
    router.include_router(get_password_router(auth), prefix="/users", tags=["users"])
    return router


def get_session_router(auth: Auth, factors: SecondFactors) -> APIRouter:
    settings, limiter, sessions = auth.settings, auth.limiter, auth.sessions
    CurrentSessionDep = Annotated[CurrentSession, Depends(auth.current_session)]
    UserManagerDep = Annotated[UserManager, Depends(auth.get_user_manager)]
    router = APIRouter()

    def session_response(user: User, session: Session, refresh_token: str | None) -> JSONResponse:
        access_token = auth.strategy.issue(user, session.id)
        body = BearerResponse(access_token=access_token, token_type="bearer")  # noqa: S106
        response = JSONResponse(body.model_dump())
        auth.set_session_cookies(response, session, access_token, refresh_token)
        return response

    def refused(detail: str) -> JSONResponse:
        response = JSONResponse({"detail": detail}, status_code=status.HTTP_401_UNAUTHORIZED)
        auth.cookies.clear(response)
        return response

    def signed_out() -> Response:
        response = Response(status_code=status.HTTP_204_NO_CONTENT)
        auth.cookies.clear(response)
        return response

    @router.post(
        "/auth/jwt/login",
        name="auth:jwt.login",
        response_model=BearerResponse,
        responses={
            400: {
                "description": "LOGIN_BAD_CREDENTIALS, or LOGIN_USER_NOT_VERIFIED with REQUIRE_VERIFIED_LOGIN"
            },
            **MFA_REQUIRED_RESPONSE,
            403: {"description": "ORIGIN_NOT_ALLOWED: the request came from a page of another site"},
            429: {"description": "too many failures"},
        },
    )
    async def login(
        request: Request,
        response: Response,
        credentials: Annotated[OAuth2PasswordRequestForm, Depends()],
        user_manager: UserManagerDep,
    ) -> BearerResponse:
        """Log in with `username` (the email) and `password`: the token in the body and in cookies.

        An account with a second factor gets no session yet: 401 MFA_REQUIRED with a ticket for
        POST /auth/mfa/verify."""
        auth.origins.require(request)
        account, ip = normalize_email(credentials.username), client_ip(request)
        # Checked before the password: while locked, even the right password is not tried.
        await limiter.check(LOGIN_ACCOUNT_RULE, account, settings.rate_limit_login_account)
        await limiter.check("login:ip", ip, settings.rate_limit_login_ip)
        user = await user_manager.authenticate(credentials)
        if user is None or not user.is_active:
            # An existing account's log counts the failure: one more read for any failed login,
            # known address or not, and (known only) one write beside an argon2 verify.
            target = user or await user_manager.user_db.get_by_email(account)
            await count_failed_login(
                limiter,
                [
                    (LOGIN_ACCOUNT_RULE, account, settings.rate_limit_login_account),
                    ("login:ip", ip, settings.rate_limit_login_ip),
                ],
                target.id if target else None,
                request,
                "password",
            )
            raise HTTPException(status.HTTP_400_BAD_REQUEST, detail=ErrorCode.LOGIN_BAD_CREDENTIALS)
        if settings.require_verified_login and not user.is_verified:
            raise HTTPException(status.HTTP_400_BAD_REQUEST, detail=ErrorCode.LOGIN_USER_NOT_VERIFIED)
        if challenge := await factors.challenge(user, "password"):
            raise SecondFactorRequired(challenge)
        access_token = await auth.sign_in(user, request, response, "password")
        await user_manager.on_after_login(user, request, response)
        return BearerResponse(access_token=access_token, token_type="bearer")  # noqa: S106

    @router.post(
        "/auth/jwt/refresh",
        name="auth:jwt.refresh",
        response_model=BearerResponse,
        responses={
            401: {"description": "REFRESH_TOKEN_INVALID, REFRESH_TOKEN_REUSED or SESSION_ENDED"},
            403: {"description": "ORIGIN_NOT_ALLOWED: the request came from a page of another site"},
        },
    )
    async def refresh(
        request: Request, refresh_token: Annotated[str | None, Cookie(alias=REFRESH_COOKIE)] = None
    ) -> JSONResponse:
        """Exchange the refresh cookie for a new access token and a new refresh token."""
        auth.origins.require(request)
        ip = client_ip(request)
        await limiter.hit("refresh:ip", ip, settings.rate_limit_refresh_ip)
        token = await sessions.find_token(refresh_token) if refresh_token else None
        if token is None:
            return refused("REFRESH_TOKEN_INVALID")
        await limiter.hit("refresh:account", str(token.user_id), settings.rate_limit_refresh_account)
        try:
            refreshed = await sessions.refresh(token, request.headers.get("user-agent", ""), ip, request)
        except RefreshRefused as exc:
            return refused(exc.code)
        return session_response(refreshed.user, refreshed.session, refreshed.refresh_token)

    @router.post("/auth/jwt/logout", name="auth:jwt.logout", status_code=status.HTTP_204_NO_CONTENT)
    async def logout(current: CurrentSessionDep, request: Request) -> Response:
        """End this session: its access and refresh tokens stop working at once."""
        await sessions.end(current.user.id, current.session_id, "logout", event="sign_out", request=request)
        return signed_out()

    @router.post("/auth/logout-all", status_code=status.HTTP_204_NO_CONTENT)
    async def logout_all(current: CurrentSessionDep, request: Request) -> Response:
        """End every session of mine, this one included."""
        await sessions.end_all(current.user.id, "logged out everywhere", event="sign_out", request=request)
        return signed_out()

    @router.post("/auth/logout-others", status_code=status.HTTP_204_NO_CONTENT)
    async def logout_others(current: CurrentSessionDep, request: Request) -> None:
        """End every session of mine except this one."""
        await sessions.end_all(
            current.user.id, "ended from another session", keep=current.session_id, request=request
        )

    @router.get("/auth/sessions", response_model=list[SessionRead])
    async def list_sessions(current: CurrentSessionDep) -> list[SessionRead]:
        """My live sessions, most recently used first; `current` marks the one asking."""
        return [
            SessionRead(
                **s.model_dump(include=set(SessionRead.model_fields)), current=s.id == current.session_id
            )
            for s in await sessions.live(current.user)
        ]

    @router.delete("/auth/sessions/{session_id}", status_code=status.HTTP_204_NO_CONTENT)
    async def end_session(session_id: str, current: CurrentSessionDep, request: Request) -> Response:
        """End one of my sessions (someone else's id answers 404)."""
        if not await sessions.end(current.user.id, session_id, "ended from another session", request=request):
            raise HTTPException(status.HTTP_404_NOT_FOUND, detail="Session not found")
        return signed_out() if session_id == current.session_id else Response(status_code=204)

    return router


def get_password_router(auth: Auth) -> APIRouter:
    settings, limiter = auth.settings, auth.limiter
    CurrentSessionDep = Annotated[CurrentSession, Depends(auth.current_session)]
    router = APIRouter()

    @router.post(
        "/me/password",
        response_model=UserRead,
        responses={400: {"description": "CHANGE_PASSWORD_BAD_CURRENT or CHANGE_PASSWORD_INVALID_PASSWORD"}},
    )
    async def change_password(
        body: PasswordChange,
        current: CurrentSessionDep,
        request: Request,
        user_manager: Annotated[UserManager, Depends(auth.get_user_manager)],
    ) -> UserRead:
        """Change my password; my other sessions end."""
        account = current.user.email
        # A wrong current password is a failed login: same counter, same limit.
        await limiter.check(LOGIN_ACCOUNT_RULE, account, settings.rate_limit_login_account)
        try:
            user = await user_manager.change_password(current.user, body.current_password, body.new_password)
        except InvalidPasswordException as exc:
            raise HTTPException(
                status.HTTP_400_BAD_REQUEST,
                detail={"code": "CHANGE_PASSWORD_INVALID_PASSWORD", "reason": exc.reason},
            ) from None
        if user is None:
            limits = [(LOGIN_ACCOUNT_RULE, account, settings.rate_limit_login_account)]
            await count_failed_login(limiter, limits, current.user.id, request, "current_password")
            raise HTTPException(
                status.HTTP_400_BAD_REQUEST,
                detail={"code": "CHANGE_PASSWORD_BAD_CURRENT", "reason": "The current password is wrong."},
            )
        await security_log.record(user.id, "password_changed", request)
        await auth.sessions.end_all(user.id, "password changed", keep=current.session_id, request=request)
        return UserRead.model_validate(user)

    return router
