"""The security activity routes: my account's log, and for superusers anyone's.

Newest first, a page at a time: keyset pagination as for tasks (backend/core/keyset.py), the
cursor being the (at, _id) of the last event of a page and the next page named in a
`Link: <...>; rel="next"` header. Each page is one range scan of the (user_id, at, _id) index.
"""

from collections.abc import Callable
from datetime import datetime
from typing import Annotated, Any, Protocol

from beanie import PydanticObjectId
from fastapi import APIRouter, Depends, HTTPException, Query, Request, Response, status
from pydantic import BaseModel, Field, TypeAdapter
from pymongo import DESCENDING

from backend.apps.auth.activity.log import EventType, SecurityEvent
from backend.apps.user.models import User
from backend.core.keyset import NEXT_PAGE, after_cursor, encode_cursor, next_link


class SecurityEventRead(BaseModel):
    id: str
    at: datetime
    type: EventType
    ip: str = Field(description="the client's address; empty when no request caused it")
    user_agent: str
    device: str = Field(description='"Firefox on Linux", as the sessions page names it')
    detail: dict[str, Any] = Field(
        description="by type: `method`, `second_factor`, `session_id` (the latest), `new_device` "
        "(the first), `count`, `methods`, `first_at` (sign_in: a summary of the sign-ins from one "
        "device and network, `at` the latest); `count`, `kinds`, `last_at` (sign_in_failed); "
        "`reason`, `session_id` or `sessions` (sign_out, session_ended); `factor`, `name`, "
        "`passkey_id`, `provider`, `by`, ..."
    )


PAGE_OF_EVENTS = TypeAdapter(list[SecurityEventRead])
NOT_FOUND = HTTPException(status.HTTP_404_NOT_FOUND)  # as FastAPI Users answers for /users/{id}
Limit = Annotated[int, Query(ge=1, le=100)]
Cursor = Annotated[
    str | None, Query(max_length=200, description="from the `Link` header of the previous page")
]


async def page_of_events(
    request: Request, user_id: PydanticObjectId, limit: int, cursor: str | None
) -> Response:
    """`limit` events of `user_id`, newest first, after `cursor`; the next page in `Link`."""
    query: dict[str, Any] = {"user_id": user_id}
    if cursor:
        query |= after_cursor(cursor, "at", descending=True)
    found = SecurityEvent.get_pymongo_collection().find(query)
    found = found.sort([("at", DESCENDING), ("_id", DESCENDING)]).limit(limit + 1)
    events = await found.to_list(length=limit + 1)
    headers = {}
    if len(events) > limit:  # one more than asked for: there is a next page
        events = events[:limit]
        last = {"limit": limit, "cursor": encode_cursor(events[-1]["at"], events[-1]["_id"])}
        headers["Link"] = next_link(request.url.path, last)
    body = PAGE_OF_EVENTS.dump_json(
        [
            SecurityEventRead.model_construct(
                id=str(event["_id"]),
                at=event["at"],
                type=event["type"],
                ip=event.get("ip", ""),
                user_agent=event.get("user_agent", ""),
                device=event.get("device", ""),
                detail=event.get("detail", {}),
            )
            for event in events
        ]
    )
    return Response(body, media_type="application/json", headers=headers)


class SignedIn(Protocol):
    @property
    def user(self) -> User: ...


def get_activity_router(
    current_session: Callable[..., Any], current_superuser: Callable[..., Any]
) -> APIRouter:
    """`current_session`, `current_superuser`: the sessions' dependencies (which build on this
    package: the log records how sessions end)."""
    CurrentSessionDep = Annotated[SignedIn, Depends(current_session)]
    router = APIRouter(prefix="/users", tags=["users"])

    @router.get(
        "/me/activity",
        response_model=list[SecurityEventRead],
        responses={200: {"headers": NEXT_PAGE}},
        summary="My security activity",
    )
    async def my_activity(
        request: Request, current: CurrentSessionDep, limit: Limit = 20, cursor: Cursor = None
    ) -> Response:
        """Sign-ins, failed attempts, sign-outs, changes to my password, address, second factors,
        passkeys and providers: newest first, `limit` at a time; `Link: <...>; rel="next"` names
        the next page. Entries go after SECURITY_LOG_RETENTION_DAYS."""
        return await page_of_events(request, current.user.id, limit, cursor)

    @router.get(
        "/{id}/activity",
        response_model=list[SecurityEventRead],
        responses={200: {"headers": NEXT_PAGE}, 404: {"description": "no such user"}},
        dependencies=[Depends(current_superuser)],
        summary="A user's security activity",
    )
    async def user_activity(
        id: PydanticObjectId, request: Request, limit: Limit = 20, cursor: Cursor = None
    ) -> Response:
        """That user's `GET /users/me/activity`."""
        if await User.get(id) is None:
            raise NOT_FOUND
        return await page_of_events(request, id, limit, cursor)

    return router
