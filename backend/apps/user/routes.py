"""The account routes under /users: my account (reading it, asking to change its address, deleting
it), the superusers' user list, and FastAPI Users' user CRUD for superusers.

Registering, signing in and out, resetting a password and verifying an address are the auth
app's (apps/auth/methods/password, apps/auth/flows/verification.py).
"""

from typing import Annotated, Any, Protocol

from beanie import PydanticObjectId
from bson import ObjectId
from bson.errors import InvalidId
from fastapi import APIRouter, Depends, Query, Request, Response, status
from fastapi.responses import JSONResponse
from fastapi_users import FastAPIUsers, exceptions
from pydantic import TypeAdapter
from pymongo import ASCENDING

from backend.apps.user.access import AccountAccess
from backend.apps.user.email_change import EmailChangeAccepted, EmailChangeRequest, EmailChanges
from backend.apps.user.manager import UserManager
from backend.apps.user.models import User, UserRead, UserUpdate
from backend.apps.user.superusers import LAST_SUPERUSER
from backend.config import Settings
from backend.core.email_address import normalize_email
from backend.core.keyset import NEXT_PAGE, decode_key, encode_key, next_link, not_a_cursor
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


PAGE_OF_USERS = TypeAdapter(list[UserRead])


def get_user_admin_router(users: Users) -> APIRouter:
    router = APIRouter(dependencies=[Depends(users.current_user(active=True, superuser=True))])

    @router.get(
        "",
        response_model=list[UserRead],
        name="users:list",
        responses={200: {"headers": NEXT_PAGE}},
    )
    async def list_users(
        request: Request,
        q: Annotated[
            str, Query(max_length=320, description="the start of the email address, or all of it")
        ] = "",
        cursor: Annotated[
            str | None, Query(max_length=1000, description="from the `Link` header of the previous page")
        ] = None,
        limit: Annotated[int, Query(ge=1, le=100)] = 20,
    ) -> Response:
        """Superusers: every account, oldest first; with `q`, those whose address starts with it,
        in address order. `limit` at a time, the next page in `Link` (RFC 8288).

        Each page is one range scan of an index whatever its depth: `_id` (creation order), or
        the unique email index for a prefix, as the range [prefix, prefix + U+FFFF) under that
        index's collation (a pattern cannot run on a collated index; U+FFFF sorts after every
        character in the Unicode root collation, CLDR, which is there for such bounds)."""
        prefix = normalize_email(q) if q.strip() else ""
        after = decode_key(cursor) if cursor else None
        options: dict[str, Any] = {}
        if prefix:
            key = "email"
            condition: dict[str, Any] = {"$gte": prefix, "$lt": prefix + "\uffff"}
            if after is not None:
                condition["$gt"] = after
            query: dict[str, Any] = {"email": condition}
            options["collation"] = User.Settings.email_collation
        else:
            key = "_id"
            query = {}
            if after is not None:
                try:
                    query = {"_id": {"$gt": ObjectId(after)}}
                except InvalidId:
                    raise not_a_cursor() from None
        found = User.get_pymongo_collection().find(query, **options).sort([(key, ASCENDING)]).limit(limit + 1)
        rows = await found.to_list(length=limit + 1)
        headers = {}
        if len(rows) > limit:  # one more than asked for: there is a next page
            rows = rows[:limit]
            last = {"limit": limit, "cursor": encode_key(str(rows[-1][key]))}
            if prefix:
                last["q"] = q
            headers["Link"] = next_link(request.url.path, last)
        body = PAGE_OF_USERS.dump_json([UserRead.model_validate(User.model_validate(row)) for row in rows])
        return Response(body, media_type="application/json", headers=headers)

    return router
