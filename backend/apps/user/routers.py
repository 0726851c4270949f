"""The account routes.

FastAPI Users supplies register, forgot/reset password, verify and user CRUD, mounted at the
tutorial's paths behind rate limits. Login, refresh, logout and session management are this
app's own (FastAPI Users has no refresh tokens and its JWT logout revokes nothing).
"""

import re
from datetime import datetime
from email.utils import parsedate_to_datetime
from typing import Annotated, Any

import jwt
from anyio import to_thread
from fastapi import APIRouter, Body, Cookie, Depends, HTTPException, Query, Request, Response, status
from fastapi.responses import JSONResponse
from fastapi.security import OAuth2PasswordRequestForm
from fastapi_users.authentication.transport.bearer import BearerResponse
from fastapi_users.exceptions import InvalidPasswordException
from fastapi_users.router.common import ErrorCode
from pydantic import BaseModel, EmailStr

from backend.apps.user.auth import Auth, CurrentSession
from backend.apps.user.cookies import REFRESH_COOKIE
from backend.apps.user.mail import OutboxTransport
from backend.apps.user.manager import UserManager
from backend.apps.user.models import (
    PasswordChange,
    User,
    UserCreate,
    UserRead,
    UserUpdate,
    normalize_email,
    utcnow,
)
from backend.apps.user.ratelimit import client_ip
from backend.apps.user.sessions import RefreshRefused, Session

LINK = re.compile(r"https?://\S+")


class SessionRead(BaseModel):
    id: str
    created_at: datetime
    last_used_at: datetime
    expires_at: datetime
    user_agent: str
    ip: str
    current: bool


def get_users_router(auth: Auth) -> APIRouter:
    users = auth.fastapi_users
    account_limits = [Depends(account_action_limits(auth))]
    router = APIRouter()
    router.include_router(get_session_router(auth), tags=["auth"])
    router.include_router(
        users.get_register_router(UserRead, UserCreate),
        prefix="/auth",
        tags=["auth"],
        dependencies=account_limits,
    )
    # Forgot-password and request-verify-token are this app's own (below): FastAPI Users' look
    # the address up and hash before answering, which times known addresses apart.
    router.include_router(
        get_mail_request_router(auth), prefix="/auth", tags=["auth"], dependencies=account_limits
    )
    router.include_router(
        without(users.get_reset_password_router(), "/forgot-password"),
        prefix="/auth",
        tags=["auth"],
        dependencies=account_limits,
    )
    router.include_router(
        without(users.get_verify_router(UserRead), "/request-verify-token"),
        prefix="/auth",
        tags=["auth"],
        dependencies=account_limits,
    )
    router.include_router(get_password_router(auth), prefix="/users", tags=["users"])
    router.include_router(get_user_admin_router(auth), prefix="/users", tags=["users"])
    router.include_router(users.get_users_router(UserRead, UserUpdate), prefix="/users", tags=["users"])
    return router


def without(router: APIRouter, path: str) -> APIRouter:
    """`router` minus its route at `path` (replaced by one of this app's)."""
    router.routes = [route for route in router.routes if getattr(route, "path", None) != path]
    return router


def get_mail_request_router(auth: Auth) -> APIRouter:
    UserManagerDep = Annotated[UserManager, Depends(auth.get_user_manager)]
    EmailBody = Annotated[EmailStr, Body(embed=True)]
    router = APIRouter()

    @router.post("/forgot-password", status_code=status.HTTP_202_ACCEPTED, name="reset:forgot_password")
    async def forgot_password(request: Request, email: EmailBody, user_manager: UserManagerDep) -> None:
        """Mail a reset link if the address has an active account; the answer is the same either way."""
        user_manager.forgot_password_later(email, request)

    @router.post("/request-verify-token", status_code=status.HTTP_202_ACCEPTED, name="verify:request-token")
    async def request_verify_token(request: Request, email: EmailBody, user_manager: UserManagerDep) -> None:
        """Mail a verification link if the address has an unverified account; the same answer either way."""
        user_manager.request_verify_later(email, request)

    return router


def account_action_limits(auth: Auth) -> Any:
    """Per IP and per account (the email in the body, or the user a token names), per route."""
    settings, limiter = auth.settings, auth.limiter

    async def limit(request: Request) -> None:
        action = request.url.path.rsplit("/", 1)[-1]
        await limiter.hit(f"{action}:ip", client_ip(request), settings.rate_limit_ip)
        if account := await _account_named_by(request):
            await limiter.hit(f"{action}:account", account, settings.rate_limit_account)

    return limit


async def _account_named_by(request: Request) -> str | None:
    try:
        body = await request.json()
    except (ValueError, RecursionError):  # FastAPI answers for the body itself
        return None
    if not isinstance(body, dict):
        return None
    if isinstance(email := body.get("email"), str):
        return normalize_email(email)
    if isinstance(token := body.get("token"), str):
        try:  # only a key for counting: the signature is checked by the route itself
            subject = jwt.decode(token, options={"verify_signature": False}).get("sub")
        except jwt.PyJWTError:
            return None
        return subject if isinstance(subject, str) else None
    return None


def get_session_router(auth: Auth) -> APIRouter:
    settings, limiter, sessions = auth.settings, auth.limiter, auth.sessions
    CurrentSessionDep = Annotated[CurrentSession, Depends(auth.current_session)]
    UserManagerDep = Annotated[UserManager, Depends(auth.get_user_manager)]
    router = APIRouter()

    def session_response(user: User, session: Session, refresh_token: str | None) -> JSONResponse:
        access_token = auth.strategy.issue(user, session.id)
        body = BearerResponse(access_token=access_token, token_type="bearer")  # noqa: S106
        response = JSONResponse(body.model_dump())
        auth.cookies.set_session(
            response,
            access_token=access_token,
            csrf_token=auth.csrf_token(session.id),
            refresh_token=refresh_token,
            max_age=max(0, int((session.expires_at - utcnow()).total_seconds())),
        )
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
            429: {"description": "too many failures"},
        },
    )
    async def login(
        request: Request,
        credentials: Annotated[OAuth2PasswordRequestForm, Depends()],
        user_manager: UserManagerDep,
    ) -> JSONResponse:
        """Log in with `username` (the email) and `password`: the token in the body and in cookies."""
        auth.origins.require(request)
        account, ip = normalize_email(credentials.username), client_ip(request)
        # Checked before the password: while locked, even the right password is not tried.
        await limiter.check("login:account", account, settings.rate_limit_login_account)
        await limiter.check("login:ip", ip, settings.rate_limit_login_ip)
        user = await user_manager.authenticate(credentials)
        if user is None or not user.is_active:
            await limiter.hit("login:account", account, settings.rate_limit_login_account)
            await limiter.hit("login:ip", ip, settings.rate_limit_login_ip)
            raise HTTPException(status.HTTP_400_BAD_REQUEST, detail=ErrorCode.LOGIN_BAD_CREDENTIALS)
        if settings.require_verified_login and not user.is_verified:
            raise HTTPException(status.HTTP_400_BAD_REQUEST, detail=ErrorCode.LOGIN_USER_NOT_VERIFIED)
        session, refresh_token = await sessions.start(user, request.headers.get("user-agent", ""), ip)
        response = session_response(user, session, refresh_token)
        await user_manager.on_after_login(user, request, response)
        return response

    @router.post(
        "/auth/jwt/refresh",
        name="auth:jwt.refresh",
        response_model=BearerResponse,
        responses={401: {"description": "REFRESH_TOKEN_INVALID, REFRESH_TOKEN_REUSED or SESSION_ENDED"}},
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
            refreshed = await sessions.refresh(token, request.headers.get("user-agent", ""), ip)
        except RefreshRefused as exc:
            return refused(exc.code)
        return session_response(refreshed.user, refreshed.session, refreshed.refresh_token)

    @router.post("/auth/jwt/logout", name="auth:jwt.logout", status_code=status.HTTP_204_NO_CONTENT)
    async def logout(current: CurrentSessionDep) -> Response:
        """End this session: its access and refresh tokens stop working at once."""
        await sessions.end(current.user.id, current.session_id, "logout")
        return signed_out()

    @router.post("/auth/logout-all", status_code=status.HTTP_204_NO_CONTENT)
    async def logout_all(current: CurrentSessionDep) -> Response:
        """End every session of mine, this one included."""
        await sessions.end_all(current.user.id, "logged out everywhere")
        return signed_out()

    @router.post("/auth/logout-others", status_code=status.HTTP_204_NO_CONTENT)
    async def logout_others(current: CurrentSessionDep) -> None:
        """End every session of mine except this one."""
        await sessions.end_all(current.user.id, "ended from another session", keep=current.session_id)

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
    async def end_session(session_id: str, current: CurrentSessionDep) -> Response:
        """End one of my sessions (someone else's id answers 404)."""
        if not await sessions.end(current.user.id, session_id, "ended from another session"):
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
        user_manager: Annotated[UserManager, Depends(auth.get_user_manager)],
    ) -> UserRead:
        """Change my password; my other sessions end."""
        account = current.user.email
        # A wrong current password is a failed login: same counter, same limit.
        await limiter.check("login:account", account, settings.rate_limit_login_account)
        try:
            user = await user_manager.change_password(current.user, body.current_password, body.new_password)
        except InvalidPasswordException as exc:
            raise HTTPException(
                status.HTTP_400_BAD_REQUEST,
                detail={"code": "CHANGE_PASSWORD_INVALID_PASSWORD", "reason": exc.reason},
            ) from None
        if user is None:
            await limiter.hit("login:account", account, settings.rate_limit_login_account)
            raise HTTPException(
                status.HTTP_400_BAD_REQUEST,
                detail={"code": "CHANGE_PASSWORD_BAD_CURRENT", "reason": "The current password is wrong."},
            )
        await auth.sessions.end_all(user.id, "password changed", keep=current.session_id)
        return UserRead.model_validate(user)

    return router


class OutboxMessage(BaseModel):
    id: str
    to: str
    subject: str
    date: datetime
    text: str
    html: str
    links: list[str]


def get_outbox_router(outbox: OutboxTransport) -> APIRouter:
    """Development only: the messages the app would have mailed."""
    router = APIRouter(prefix="/dev", tags=["development"])

    @router.get("/outbox", response_model=list[OutboxMessage])
    async def list_outbox(to: str | None = None) -> list[OutboxMessage]:
        """Stored messages, newest first; `to` filters by recipient."""
        messages = []
        for message_id, message in await to_thread.run_sync(outbox.messages):
            if to and normalize_email(to) != message["To"]:
                continue
            text = message.get_body(("plain",)).get_content()  # type: ignore[union-attr]
            messages.append(
                OutboxMessage(
                    id=message_id,
                    to=message["To"],
                    subject=message["Subject"],
                    date=parsedate_to_datetime(message["Date"]),
                    text=text,
                    html=message.get_body(("html",)).get_content(),  # type: ignore[union-attr]
                    links=LINK.findall(text),
                )
            )
        return messages

    return router


class UserPage(BaseModel):
    items: list[UserRead]
    total: int


def get_user_admin_router(auth: Auth) -> APIRouter:
    router = APIRouter(dependencies=[Depends(auth.current_superuser)])

    @router.get("", response_model=UserPage, name="users:list")
    async def list_users(
        q: Annotated[str, Query(max_length=320, description="part of the email address")] = "",
        skip: Annotated[int, Query(ge=0, le=1_000_000)] = 0,
        limit: Annotated[int, Query(ge=1, le=100)] = 20,
    ) -> UserPage:
        """Superusers: every account, oldest first, optionally only those whose email contains `q`."""
        query = {"email": {"$regex": re.escape(q.strip().lower())}} if q.strip() else {}
        users = await User.find(query).sort([("created_at", 1), ("_id", 1)]).skip(skip).limit(limit).to_list()
        return UserPage(
            items=[UserRead.model_validate(u) for u in users], total=await User.find(query).count()
        )

    return router
