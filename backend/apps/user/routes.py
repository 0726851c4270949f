"""The account routes under /users: my account (reading it, asking to change its address, deleting
it), the superusers' user list, and FastAPI Users' user CRUD for superusers.

Registering, signing in and out, resetting a password and verifying an address are the auth
app's (apps/auth/methods/password, apps/auth/flows/verification.py).
"""

import re
from typing import Annotated, Any, Protocol

from beanie import PydanticObjectId
from fastapi import APIRouter, Depends, Query, Request, Response, status
from fastapi.responses import JSONResponse
from fastapi_users import FastAPIUsers, exceptions
from pydantic import BaseModel

from backend.apps.user.access import AccountAccess
from backend.apps.user.email_change import EmailChangeAccepted, EmailChangeRequest, EmailChanges
from backend.apps.user.manager import UserManager
from backend.apps.user.models import User, UserRead, UserUpdate
from backend.apps.user.superusers import LAST_SUPERUSER
from backend.config import Settings
from backend.core.ratelimit import RateLimiter, client_ip
from backend.core.routers import without

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


def get_users_router(
    users: Users, settings: Settings, limiter: RateLimiter, access: AccountAccess, changes: EmailChanges
) -> APIRouter:
    router = APIRouter()
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


async def user_vanished(request: Request, exc: exceptions.UserNotExists) -> JSONResponse:
    """A user deleted while a request was changing them (the adapter's atomic update found
    nothing): the same answer as a user that was never there."""
    return JSONResponse({"detail": "Not Found"}, status_code=status.HTTP_404_NOT_FOUND)


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
        await user_manager.letters.send_goodbye(user)
        response = Response(status_code=status.HTTP_204_NO_CONTENT)
        access.clear_cookies(response)
        return response

    return router


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
