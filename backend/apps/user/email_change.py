"""Changing the account's email address: confirmed from the new address before it happens.

`PATCH /users/me` with `{"email"}` needs a session that signed in, or confirmed it is you, within
the last few minutes (the password or a second factor; the route is in routes.py). It changes
nothing yet: the account stays at its address and signs in with it; the new address gets a link
that makes the change (`PUBLIC_URL/email-change/confirm?token=...`, 24 hours, once), and the
current one is told at once, with a link of its own that cancels it
(`PUBLIC_URL/email-change/cancel?token=...`). A new request replaces the pending one, whose
links stop working.

Storage (`email_changes`, one document per account, `_id` = the user's id): each link's token is
256 random bits, kept only as SHA-256; a TTL index removes changes that ran out.

`POST /auth/email-change/confirm` completes only for the holder of the account (the auth app's
flows/verification.py): a request signed in to it, or one that brings its password (the link may open in
another browser). Whoever holds the new inbox but not the account cannot move an account that
is not theirs to their address, nor be made the owner of one they never chose. It then
claims the change with one `find_one_and_delete`, so a link works once, then moves the account
with one conditional update that holds only while the account is active and still at the address
the change was asked from. The unique index on users.email decides whether the new address is
free at that moment: one taken meanwhile is refused (409 EMAIL_TAKEN) with no window between a
check and the write, across workers. The new address counts as verified (opening the link proved
it), and the old one is told.
"""

from collections.abc import Awaitable, Callable
from datetime import datetime, timedelta
from typing import Annotated, Any, NoReturn

from beanie import Document, PydanticObjectId
from fastapi import APIRouter, Depends, Request, status
from fastapi_users import FastAPIUsers
from pydantic import BaseModel, ConfigDict, EmailStr, Field
from pymongo import IndexModel, ReturnDocument
from pymongo.asynchronous.collection import AsyncCollection
from pymongo.errors import DuplicateKeyError

from backend.apps.user.letters import UserLetters
from backend.apps.user.manager import RecordEvent, UserManager
from backend.apps.user.models import NoPassword, User, UserRead, verified_now
from backend.config import Settings
from backend.core.clock import utcnow
from backend.core.crypto import new_secret, token_hash
from backend.core.email_address import normalize_email
from backend.core.errors import refusal
from backend.core.ratelimit import RateLimiter, client_ip

LIFETIME_SECONDS = 24 * 3600
BAD_LINK_RULE = "email-change-token:ip"  # bad confirm and cancel tokens, per address, as bad sign-in links


EMAIL_TAKEN = refusal(status.HTTP_400_BAD_REQUEST, "EMAIL_TAKEN", "Another account uses this address.")
EMAIL_UNCHANGED = refusal(status.HTTP_400_BAD_REQUEST, "EMAIL_UNCHANGED", "This is your address already.")
EMAIL_TAKEN_MEANWHILE = refusal(
    status.HTTP_409_CONFLICT,
    "EMAIL_TAKEN",
    "Another account started using this address meanwhile: your address did not change.",
)
EMAIL_CHANGE_INVALID = refusal(
    status.HTTP_400_BAD_REQUEST,
    "EMAIL_CHANGE_INVALID",
    "This link is unknown, expired, already used or cancelled: nothing changed.",
)


class EmailChange(Document):
    id: PydanticObjectId  # type: ignore[assignment]  # the user's: one pending change per account
    old_email: str  # the address it was asked from: the change holds only while the account has it
    new_email: str
    confirm_hash: str  # SHA-256 of the token mailed to the new address; the token is never stored
    cancel_hash: str  # SHA-256 of the token mailed to the old address
    requested_at: datetime
    expires_at: datetime

    class Settings:
        name = "email_changes"
        indexes = [
            IndexModel("expires_at", expireAfterSeconds=0, name="expiry"),
            IndexModel("confirm_hash", unique=True, name="confirm"),
            IndexModel("cancel_hash", unique=True, name="cancel"),
        ]


class EmailChangeRequest(NoPassword):
    """PATCH /users/me: the address to move my account to (nothing else is changed here)."""

    model_config = ConfigDict(extra="forbid")

    email: EmailStr


class EmailChangeAccepted(BaseModel):
    new_email: str = Field(description="the address the link was mailed to")
    expires_at: datetime = Field(description="until when the link works")


class PendingEmailChange(EmailChangeAccepted):
    requested_at: datetime


class EmailChangeStatus(BaseModel):
    pending: PendingEmailChange | None = Field(description="null: no change is waiting for confirmation")


class EmailChangeToken(BaseModel):
    model_config = ConfigDict(extra="forbid")

    token: str = Field(max_length=256, description="from the mailed link")


class EmailChangeConfirm(EmailChangeToken):
    password: str | None = Field(
        None, max_length=1024, description="the account's, when the request is not signed in to it"
    )


# (user, the request's session or None, a password or None, request, manager) -> how the request
# showed it holds the account; raises a refusal otherwise (the auth app's HolderProof.require).
HolderCheck = Callable[..., Awaitable[str]]


class EmailChanges:
    """Pending address changes: asked for, confirmed, cancelled, forgotten with their user."""

    lifetime_seconds = LIFETIME_SECONDS

    def __init__(self, letters: UserLetters, record_event: RecordEvent) -> None:
        self.letters = letters
        self.record_event = record_event

    async def request(self, user: User, email: str, request: Request) -> EmailChangeAccepted:
        """Mail the links for moving `user` to `email`; the account stays where it is.

        Raises EMAIL_UNCHANGED for the account's own address, EMAIL_TAKEN for another's.
        """
        new_email = normalize_email(email)
        if new_email == user.email:
            raise EMAIL_UNCHANGED
        # With the collation of the one email index, or MongoDB scans every account for it.
        taken = await _users().find_one(
            {"email": new_email}, projection={"_id": 1}, collation=User.Settings.email_collation
        )
        if taken is not None:
            raise EMAIL_TAKEN
        confirm_token, cancel_token, now = new_secret(), new_secret(), utcnow()
        expires_at = now + timedelta(seconds=self.lifetime_seconds)
        # One document per account: a new request replaces the pending one, and its hashes.
        await _changes().replace_one(
            {"_id": user.id},
            {
                "old_email": user.email,
                "new_email": new_email,
                "confirm_hash": token_hash(confirm_token),
                "cancel_hash": token_hash(cancel_token),
                "requested_at": now,
                "expires_at": expires_at,
            },
            upsert=True,
        )
        await self.letters.send_email_change_link(user, new_email, confirm_token, self.lifetime_seconds)
        await self.letters.send_email_change_requested(user, new_email, cancel_token)
        await self.record_event(
            user.id, "email_change_requested", request, old_email=user.email, new_email=new_email
        )
        return EmailChangeAccepted(new_email=new_email, expires_at=expires_at)

    async def requester(self, token: str) -> User | None:
        """The account that asked for the change `token` confirms, if the token is live (nothing
        is spent)."""
        change = await _changes().find_one(
            {"confirm_hash": token_hash(token), "expires_at": {"$gt": utcnow()}}, projection={"_id": 1}
        )
        return await User.get(change["_id"]) if change else None

    async def pending(self, user: User) -> PendingEmailChange | None:
        found = await _changes().find_one(
            {"_id": user.id, "old_email": user.email, "expires_at": {"$gt": utcnow()}}
        )
        return PendingEmailChange.model_validate(found) if found else None

    async def confirm(self, token: str, request: Request) -> User | None:
        """The user, now at the new address; None for a bad, expired, used or cancelled token, or
        an account that is gone, inactive or no longer at the address the change was asked from.

        The token is spent whatever follows. Raises EMAIL_TAKEN_MEANWHILE (409) when another
        account has the new address by now.
        """
        change = await _changes().find_one_and_delete(
            {"confirm_hash": token_hash(token), "expires_at": {"$gt": utcnow()}}
        )
        if change is None:
            return None
        old_email, new_email = change["old_email"], change["new_email"]
        try:
            document = await _users().find_one_and_update(
                {"_id": change["_id"], "email": old_email, "is_active": True},
                {"$set": {"email": new_email, **verified_now()}},
                return_document=ReturnDocument.AFTER,
            )
        except DuplicateKeyError:  # the unique email index: someone else's address by now
            raise EMAIL_TAKEN_MEANWHILE from None
        if document is None:
            return None
        user = User.model_validate(document)
        await self.letters.send_email_changed(user, old_email, old_email)
        await self.record_event(
            user.id, "email_change_confirmed", request, old_email=old_email, new_email=new_email
        )
        return user

    async def cancel(self, user_id: PydanticObjectId, request: Request) -> None:
        """Cancel `user_id`'s pending change, if there is one."""
        found = await _changes().find_one_and_delete({"_id": user_id})
        if found is not None:
            await self._cancelled(found, request)

    async def cancel_by_token(self, token: str, request: Request) -> bool:
        """Cancel the change the old address's link names; False when there is none (any more)."""
        found = await _changes().find_one_and_delete(
            {"cancel_hash": token_hash(token), "expires_at": {"$gt": utcnow()}}
        )
        if found is not None:
            await self._cancelled(found, request)
        return found is not None

    async def _cancelled(self, change: dict[str, Any], request: Request) -> None:
        await self.record_event(
            change["_id"],
            "email_change_cancelled",
            request,
            old_email=change["old_email"],
            new_email=change["new_email"],
        )

    async def forget_user(self, user_id: PydanticObjectId) -> None:
        """A deleted user's pending change goes with them."""
        await _changes().delete_one({"_id": user_id})


def _changes() -> AsyncCollection[dict[str, Any]]:
    return EmailChange.get_pymongo_collection()


def _users() -> AsyncCollection[dict[str, Any]]:
    return User.get_pymongo_collection()


def get_email_change_router(
    users: FastAPIUsers[User, PydanticObjectId],
    changes: EmailChanges,
    settings: Settings,
    limiter: RateLimiter,
    maybe_session: Callable[..., Any],
    prove_holder: HolderCheck,
) -> APIRouter:
    """My pending change, and the routes of the two mailed links. (PATCH /users/me, which asks
    for a change, is in routes.py.) `maybe_session` is a dependency giving the request's session
    (anything with `.user`) or None; `prove_holder` decides whether the request holds an account."""
    CurrentUser = Annotated[User, Depends(users.current_user(active=True))]
    MaybeSession = Annotated[Any, Depends(maybe_session)]
    UserManagerDep = Annotated[UserManager, Depends(users.get_user_manager)]
    router = APIRouter()
    invalid_or_limited: dict[int | str, dict[str, Any]] = {
        400: {"description": "EMAIL_CHANGE_INVALID: the link is unknown, expired, used or cancelled"},
        429: {"description": "too many invalid links from this address"},
    }

    async def refuse(ip: str) -> NoReturn:
        await limiter.hit(BAD_LINK_RULE, ip, settings.rate_limit_login_ip)
        raise EMAIL_CHANGE_INVALID

    @router.get("/users/me/email-change", response_model=EmailChangeStatus, tags=["users"])
    async def my_email_change(user: CurrentUser) -> EmailChangeStatus:
        """My change of address waiting for its link to be opened, if any."""
        return EmailChangeStatus(pending=await changes.pending(user))

    @router.delete("/users/me/email-change", status_code=status.HTTP_204_NO_CONTENT, tags=["users"])
    async def cancel_my_email_change(user: CurrentUser, request: Request) -> None:
        """Cancel my pending change of address (if there is none, nothing happens): its links stop
        working."""
        await changes.cancel(user.id, request)

    @router.post(
        "/auth/email-change/confirm",
        response_model=UserRead,
        responses={
            **invalid_or_limited,
            400: {
                "description": "EMAIL_CHANGE_INVALID: the link is unknown, expired, used or cancelled; "
                "ACCOUNT_PROOF_INVALID: a wrong password (counted as a failed login)"
            },
            403: {
                "description": "ACCOUNT_PROOF_REQUIRED: not signed in to the account, and no `password` "
                '(the detail\'s `methods`: `["password"]`, or `[]`: sign in first)'
            },
            409: {"description": "EMAIL_TAKEN: another account took the address meanwhile"},
        },
        tags=["auth"],
    )
    async def confirm_email_change(
        body: EmailChangeConfirm, current: MaybeSession, request: Request, manager: UserManagerDep
    ) -> UserRead:
        """Open the link mailed to the new address: the account moves there, verified. Works once,
        within 24 hours, signed in to the account or with its `password`."""
        ip = client_ip(request)
        # Checked before the link is spent: a locked-out address burns nobody's link.
        await limiter.check(BAD_LINK_RULE, ip, settings.rate_limit_login_ip)
        requester = await changes.requester(body.token)
        if requester is None:
            await refuse(ip)
        await prove_holder(requester, current, body.password, request, manager)
        user = await changes.confirm(body.token, request)
        if user is None:
            await refuse(ip)
        return UserRead.model_validate(user)

    @router.post(
        "/auth/email-change/cancel",
        status_code=status.HTTP_204_NO_CONTENT,
        responses=invalid_or_limited,
        tags=["auth"],
    )
    async def cancel_email_change(body: EmailChangeToken, request: Request) -> None:
        """Open the link mailed to the old address: the pending change is dropped, and its link to
        the new address stops working. Needs no session."""
        ip = client_ip(request)
        await limiter.check(BAD_LINK_RULE, ip, settings.rate_limit_login_ip)
        if not await changes.cancel_by_token(body.token, request):
            await refuse(ip)

    return router
