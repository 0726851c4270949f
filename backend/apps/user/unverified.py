"""Accounts nobody has proved: their address's owner may refuse them, and they expire.

Anyone can make an account with an address they do not own (registering, or signing in with a
provider that does not vouch for the address). Until someone proves the address, its owner can
refuse the account: every verification mail of an account never proved carries a "this wasn't
me" link (`/verify/not-me?token=...`, `POST /auth/verify/not-me`) that deletes it at once, with
everything in it. And such an account does not wait forever: `UNVERIFIED_ACCOUNT_DAYS` after it
was made it is deleted, and `lead` days before that (3, or half the period when it is shorter)
the last verification mail goes out as a reminder, saying when. An account never gets deleted
sooner than `lead` after its reminder, so accounts older than the period on the day this
arrives get their reminder first.

Only accounts never proved count (`User.never_verified`): an account whose address a superuser
changed is unverified again but belongs to someone, so it is never refused nor expired. Nor are
superusers or deactivated accounts (an administrator decided about those).

Each step is one conditional write (`find_one_and_update`, `find_one_and_delete` on "still never
proved, still this old"), so instances sweeping at once mail one reminder and delete once, and an
account proved a moment before is never touched. Deleting runs the user manager's clean-up
(`on_after_delete`), as any deletion does.
"""

import asyncio
import logging
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

import jwt
from beanie import PydanticObjectId
from fastapi_users.jwt import generate_jwt
from pymongo import ReturnDocument

from backend.apps.user.models import User
from backend.config import Settings
from backend.core.clock import utcnow
from backend.core.crypto import derive_secret

if TYPE_CHECKING:
    from backend.apps.user.manager import UserManager

logger = logging.getLogger(__name__)

DECLINE_AUDIENCE = "farm-auth:decline-account"
DECLINE_SECONDS_WHEN_KEPT = 30 * 86400  # the link's lifetime when unverified accounts never expire
SWEEP_SECONDS = 3600
FIRST_SWEEP_SECONDS = 60
SWEEP_BATCH = 500  # accounts one sweep reminds, and deletes, at most: the next sweep does the rest

# An account never proved, as the sweeps and "this wasn't me" find it.
NEVER_PROVED: dict[str, Any] = {
    "is_verified": False,
    "verified_at": None,
    "is_active": True,
    "is_superuser": False,
}


class UnverifiedPolicy:
    """When accounts never proved are reminded and deleted, and their "this wasn't me" tokens."""

    def __init__(self, settings: Settings) -> None:
        self.days = settings.unverified_account_days
        self.period = timedelta(days=self.days)
        self.lead = min(timedelta(days=3), self.period / 2)
        self.decline_key = derive_secret(settings.jwt_secret, "decline-account")
        self.decline_keys = [derive_secret(secret, "decline-account") for secret in settings.jwt_secrets]

    @property
    def expires(self) -> bool:
        return self.days > 0

    def deletion_date(self, user: User) -> datetime | None:
        """When `user`, never proved, goes unless proved; None when such accounts are kept."""
        if not self.expires:
            return None
        due = user.created_at + self.period
        if user.verify_reminded_at is not None:
            due = max(due, user.verify_reminded_at + self.lead)
        return due

    def decline_token(self, user: User) -> str:
        lifetime = int(self.period.total_seconds()) if self.expires else DECLINE_SECONDS_WHEN_KEPT
        claims = {"sub": str(user.id), "email": user.email, "aud": DECLINE_AUDIENCE}
        return generate_jwt(claims, self.decline_key, lifetime)

    def declined(self, token: str) -> tuple[PydanticObjectId, str] | None:
        """The account and address a "this wasn't me" token names; None for anything else."""
        for key in self.decline_keys:
            try:
                claims = jwt.decode(token, key, algorithms=["HS256"], audience=DECLINE_AUDIENCE)
                return PydanticObjectId(claims["sub"]), str(claims["email"])
            except (jwt.PyJWTError, KeyError, TypeError, ValueError):
                continue
        return None


class UnverifiedAccounts:
    """The sweeps: remind accounts never proved, then delete them (see the module's text)."""

    def __init__(self, policy: UnverifiedPolicy, manager: Callable[[], "UserManager"]) -> None:
        self.policy = policy
        self.manager = manager

    async def sweep(self, now: datetime | None = None) -> tuple[int, int]:
        """One sweep at `now`: how many accounts were reminded, and how many deleted."""
        if not self.policy.expires:
            return 0, 0
        now = now or utcnow()
        manager = self.manager()
        users = User.get_pymongo_collection()
        reminded = deleted = 0
        remind_made_before = now - (self.policy.period - self.policy.lead)
        while reminded < SWEEP_BATCH:
            document = await users.find_one_and_update(
                {**NEVER_PROVED, "created_at": {"$lte": remind_made_before}, "verify_reminded_at": None},
                {"$set": {"verify_reminded_at": now}},
                return_document=ReturnDocument.AFTER,
            )
            if document is None:
                break
            await manager.request_verify(User.model_validate(document))  # the reminder says when
            reminded += 1
        while deleted < SWEEP_BATCH:
            document = await users.find_one_and_delete(
                {
                    **NEVER_PROVED,
                    "created_at": {"$lte": now - self.policy.period},
                    "verify_reminded_at": {"$lte": now - self.policy.lead},
                }
            )
            if document is None:
                break
            await manager.on_after_delete(User.model_validate(document))
            deleted += 1
        if reminded or deleted:
            logger.info("unverified accounts: %d reminded, %d deleted", reminded, deleted)
        return reminded, deleted

    async def run(self) -> None:
        """Sweep every hour (the first a minute after start), until cancelled."""
        delay = FIRST_SWEEP_SECONDS
        while True:
            await asyncio.sleep(delay)
            delay = SWEEP_SECONDS
            try:
                await self.sweep()
            except Exception:  # the database away, say: the next sweep tries again
                logger.exception("the sweep of unverified accounts failed")
