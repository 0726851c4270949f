"""The session routes: refresh, logout, "log out everywhere" and the list of my sessions.

FastAPI Users has no refresh tokens and its JWT logout revokes nothing, so these are this app's
own. Signing in is each method's (methods/), through the sign-in flow (flows/sign_in.py).
"""

from datetime import datetime
from typing import TYPE_CHECKING, Annotated

from fastapi import APIRouter, Cookie, Depends, HTTPException, Request, Response, status
from fastapi.responses import JSONResponse
from fastapi_users.authentication.transport.bearer import BearerResponse
from pydantic import BaseModel

from backend.apps.auth.sessions.authenticator import CurrentSession
from backend.apps.auth.sessions.cookies import REFRESH_COOKIE
from backend.apps.auth.sessions.models import Session
from backend.apps.auth.sessions.service import RefreshRefused
from backend.apps.user.models import User
from backend.core.ratelimit import client_ip

if TYPE_CHECKING:
    from backend.apps.auth.sessions.module import SessionsModule


class SessionRead(BaseModel):
    id: str
    created_at: datetime
    last_used_at: datetime
    expires_at: datetime
    user_agent: str
    ip: str
    current: bool


def get_session_router(module: "SessionsModule") -> APIRouter:
    settings, limiter, sessions = module.settings, module.limiter, module.sessions
    CurrentSessionDep = Annotated[CurrentSession, Depends(module.current_session)]
    router = APIRouter(tags=["auth"])

    def session_response(user: User, session: Session, refresh_token: str) -> JSONResponse:
        access_token = module.strategy.issue(user, session.id)
        body = BearerResponse(access_token=access_token, token_type="bearer")  # noqa: S106
        response = JSONResponse(body.model_dump())
        module.starter.set_cookies(response, session, access_token, refresh_token)
        return response

    def refused(detail: str) -> JSONResponse:
        response = JSONResponse({"detail": detail}, status_code=status.HTTP_401_UNAUTHORIZED)
        module.cookies.clear(response)
        return response

    def signed_out() -> Response:
        response = Response(status_code=status.HTTP_204_NO_CONTENT)
        module.cookies.clear(response)
        return response

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
        """Exchange the refresh cookie for a new access token and a new refresh token.

        Safe to retry: after a 503 (the database failing over mid-rotation) or a lost answer, send
        the same cookie again after `Retry-After`; the answer sets a refresh cookie that works."""
        module.origins.require(request)
        ip = client_ip(request)
        # Per IP, before anything is read. The per-session limit (RATE_LIMIT_REFRESH_ACCOUNT) is
        # counted by the rotation's own write (service.py): a refresh writes twice at most.
        await limiter.hit("refresh:ip", ip, settings.rate_limit_refresh_ip)
        if not refresh_token:
            return refused("REFRESH_TOKEN_INVALID")
        try:
            refreshed = await sessions.refresh(
                refresh_token, request.headers.get("user-agent", ""), ip, request
            )
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
