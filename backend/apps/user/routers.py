"""The account routes, FastAPI Users' own mounted at the tutorial's paths behind rate limits.

Register, reset-password and the superusers' user CRUD are FastAPI Users' routers;
forgot-password and request-verify-token are this app's (they answer before any lookup), and so
are the superusers' user list and my account: reading it, asking to change its address
(email_change.py) and deleting it. Signing in and out, and verifying an address (which asks
who holds the account: the auth app's proofing.py), are the auth app's.
"""

import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Annotated, Any, Protocol

import jwt
from beanie import PydanticObjectId
from fastapi import APIRouter, Body, Depends, FastAPI, Query, Request, Response, status
from fastapi.responses import JSONResponse
from fastapi_users import FastAPIUsers, exceptions
from pydantic import BaseModel, EmailStr

from backend.apps.user.email_change import EmailChangeAccepted, EmailChangeRequest, EmailChanges
from backend.apps.user.manager import UserManager
from backend.apps.user.models import User, UserCreate, UserRead, UserUpdate
from backend.apps.user.superusers import LAST_SUPERUSER
from backend.config import Settings
from backend.core.email_address import normalize_email
from backend.core.ratelimit import RateLimiter, client_ip

Users = FastAPIUsers[User, PydanticObjectId]
LAST_SUPERUSER_RESPONSE: dict[int | str, dict[str, Any]] = {
    status.HTTP_409_CONFLICT: {
        "description": f"{LAST_SUPERUSER['code']}: the last active superuser cannot demote, deactivate or "
        "delete itself"
    }
}


class SignedIn(Protocol):
    @property
    def user(self) -> User: ...


@dataclass(frozen=True)
class AccountAccess:
    """What changing or deleting my account needs from the auth app, which main hands in (the
    user app imports no other app).

    `confirmed`: a dependency giving the session (anything with `.user`) when it signed in, or
    confirmed it is me, within the last few minutes, else 403 CONFIRMATION_REQUIRED, which
    `confirmation_responses` documents. `clear_cookies` signs a browser out.
    """

    confirmed: Callable[..., Any]
    confirmation_responses: dict[int | str, dict[str, Any]]
    clear_cookies: Callable[[Response], None]


def get_users_router(
    users: Users, settings: Settings, limiter: RateLimiter, access: AccountAccess, changes: EmailChanges
) -> APIRouter:
    account_limits = [Depends(account_action_limits(settings, limiter))]
    router = APIRouter()
    router.include_router(
        users.get_register_router(UserRead, UserCreate),
        prefix="/auth",
        tags=["auth"],
        dependencies=account_limits,
    )
    # Forgot-password and request-verify-token are this app's own (below): FastAPI Users' look
    # the address up and hash before answering, which times known addresses apart.
    router.include_router(
        get_mail_request_router(users), prefix="/auth", tags=["auth"], dependencies=account_limits
    )
    router.include_router(
        without(users.get_reset_password_router(), "/forgot-password"),
        prefix="/auth",
        tags=["auth"],
        dependencies=account_limits,
    )
    router.include_router(get_user_admin_router(users), prefix="/users", tags=["users"])
    me = get_me_router(users, settings, limiter, access, changes)
    router.include_router(me, prefix="/users", tags=["users"])
    # Before FastAPI Users' /{id}, which would take "me" for an id; its own /me routes go.
    stock = without(users.get_users_router(UserRead, UserUpdate), "/me")
    router.include_router(with_last_superuser_conflict(stock), prefix="/users", tags=["users"])
    return router


def with_last_superuser_conflict(router: APIRouter) -> APIRouter:
    """FastAPI Users' user routes, documenting the 409 that superusers.py adds to them."""
    for route in router.routes:
        if getattr(route, "name", None) in ("users:patch_user", "users:delete_user"):
            route.responses.update(LAST_SUPERUSER_RESPONSE)  # type: ignore[attr-defined]
    return router


def add_user_error_handlers(app: FastAPI) -> None:
    @app.exception_handler(exceptions.UserNotExists)
    async def user_vanished(request: Request, exc: exceptions.UserNotExists) -> JSONResponse:
        # A user deleted while a request was changing them (the adapter's atomic update found
        # nothing): the same answer as a user that was never there.
        return JSONResponse({"detail": "Not Found"}, status_code=status.HTTP_404_NOT_FOUND)


def without(router: APIRouter, path: str) -> APIRouter:
    """`router` minus its routes at `path`, replaced by this app's."""
    router.routes = [route for route in router.routes if getattr(route, "path", None) != path]
    return router


def get_me_router(
    users: Users, settings: Settings, limiter: RateLimiter, access: AccountAccess, changes: EmailChanges
) -> APIRouter:
    """My account: read it, ask to change its address, delete it.

    GET /users/me, the most frequent authenticated request, is serialised once: FastAPI Users'
    own validates the user into UserRead (EmailStr and all) and FastAPI checks it again as the
    response model, twice the work for a document this request has just read.
    """
    router = APIRouter()
    CurrentUser = Annotated[User, Depends(users.current_user(active=True))]
    Confirmed = Annotated[SignedIn, Depends(access.confirmed)]
    UserManagerDep = Annotated[UserManager, Depends(users.get_user_manager)]

    @router.get("/me", response_model=UserRead, name="users:current_user")
    async def me(user: CurrentUser) -> Response:
        """My account."""
        fields = {name: getattr(user, name) for name in UserRead.model_fields}
        return Response(UserRead.model_construct(**fields).model_dump_json(), media_type="application/json")

    @router.patch(
        "/me",
        status_code=status.HTTP_202_ACCEPTED,
        response_model=EmailChangeAccepted,
        responses={
            **access.confirmation_responses,
            400: {"description": "EMAIL_TAKEN: another account uses it; EMAIL_UNCHANGED: it is mine"},
            429: {"description": "too many requests for this account or from this address"},
        },
        name="users:patch_current_user",
    )
    async def change_my_email(
        body: EmailChangeRequest, current: Confirmed, request: Request
    ) -> EmailChangeAccepted:
        """Ask to move my account to another address. Nothing changes yet: the new address gets
        a link that makes the change (24 hours, once), my current one is told at once, with a
        link that cancels it. A new request replaces a pending one."""
        await limiter.hit("email-change:ip", client_ip(request), settings.rate_limit_ip)
        await limiter.hit("email-change:account", str(current.user.id), settings.rate_limit_account)
        return await changes.request(current.user, body.email, request)

    @router.delete(
        "/me",
        status_code=status.HTTP_204_NO_CONTENT,
        responses={**access.confirmation_responses, **LAST_SUPERUSER_RESPONSE},
        name="users:delete_current_user",
    )
    async def delete_me(current: Confirmed, request: Request, user_manager: UserManagerDep) -> Response:
        """Delete my account and everything of mine: tasks, sessions, second factors, passkeys,
        linked providers. This browser is signed out; a goodbye is mailed."""
        user = await user_manager.get(current.user.id)
        # FastAPI Users' delete, as the superusers' DELETE /users/{id}: the last active
        # superuser is refused (409), and every clean-up hook runs.
        await user_manager.delete(user, request=request)
        await user_manager.mailer.send_goodbye(user)
        response = Response(status_code=status.HTTP_204_NO_CONTENT)
        access.clear_cookies(response)
        return response

    return router


def get_mail_request_router(users: Users) -> APIRouter:
    UserManagerDep = Annotated[UserManager, Depends(users.get_user_manager)]
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


def account_action_limits(settings: Settings, limiter: RateLimiter) -> Any:
    """Per IP and per account (the email in the body, or the user a token names), per route."""

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


class UserPage(BaseModel):
    items: list[UserRead]
    total: int


def get_user_admin_router(users: Users) -> APIRouter:
    router = APIRouter(dependencies=[Depends(users.current_user(active=True, superuser=True))])

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
