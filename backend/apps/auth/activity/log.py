"""The security activity log: what happened to an account, when, and from where.

Each account keeps its security events (`security_events`): sign-ins with their method, failed
attempts (summarised), sign-outs and ended sessions, password and email changes, second factors,
passkeys and providers added or removed, refresh-token reuse, lockouts. Each event keeps the
client's IP, its user agent and the device as the sessions page names it ("Firefox on Linux").
Entries expire after `SECURITY_LOG_RETENTION_DAYS` through a TTL index. Writing an entry never
fails the request it describes: a failed write is logged and forgotten (OWASP ASVS 5.0 16.x:
security logging must not become a way to deny service).

Repeated routine events are summarised, so an account's log grows with what happens to it, not
with how often its owner signs in. Sign-ins: one `sign_in` event per account, device and network
(new_device.py), its `count` incremented, `at` the latest sign-in (so it expires
SECURITY_LOG_RETENTION_DAYS after the last one) and `detail.first_at` the first. Failed attempts:
one `sign_in_failed` event per account per hour, so a password-guessing run costs one document,
not one per guess. Both meet concurrent writers on a deterministic `_id` (`count_on_summary`).
Everything else (a password changed, a factor removed, a token reused, a sign-out) is one event
each. The moment the account's login limit starts refusing is one `locked_out` event.

And each account keeps at most `MAX_EVENTS_PER_ACCOUNT` events: whenever its log gains a summary
(a sign-in from a new device or network, the first failure of an hour) the oldest beyond the cap
are dropped (`SecurityLog.trim`), so a known device's sign-in costs nothing more.

What else this package does: counting failed sign-ins toward the lockout (failures.py), the
mail about a sign-in from a new device (new_device.py), the security notices (letters.py), and
the routes that read the log (routes.py).
"""

import hashlib
import logging
from datetime import datetime
from typing import Any, Literal

from beanie import Document, PydanticObjectId
from bson import ObjectId
from fastapi import Request
from pydantic import Field
from pymongo import ASCENDING, DESCENDING, IndexModel
from pymongo.asynchronous.collection import AsyncCollection
from pymongo.errors import DuplicateKeyError

from backend.apps.auth.activity.device import describe_device, ip_network
from backend.config import Settings
from backend.core.clock import utcnow
from backend.core.ratelimit import client_ip

logger = logging.getLogger(__name__)

EventType = Literal[
    "sign_in",
    "sign_in_failed",
    "sign_out",
    "session_ended",
    "password_set",
    "password_changed",
    "password_change_refused",
    "password_reset",
    "email_change_requested",
    "email_change_confirmed",
    "email_change_cancelled",
    "email_changed_by_admin",
    "second_factor_added",
    "second_factor_removed",
    "second_factors_reset",
    "recovery_codes_regenerated",
    "passkey_added",
    "passkey_removed",
    "provider_linked",
    "provider_unlinked",
    "refresh_token_reused",
    "locked_out",
    "address_verified",
]
# What a failed attempt was: a password at login, a second-factor code, a "confirm it is you"
# proof, the password that completes a verification or email-change link opened without a
# session. (A wrong current password in a password change is no sign-in: the one asking is
# signed in. It is `password_change_refused`, counted toward the same lockout.)
FailureKind = Literal["password", "second_factor", "confirmation", "link_password"]

USER_AGENT_MAX = 256
EXPIRY_INDEX = "expiry"
FAILURE_WINDOW_SECONDS = 3600  # one sign_in_failed event per account per hour
# The most events an account keeps: 90 days of a busy account's deliberate acts (sign-outs,
# changes) and summaries fit many times over; what is older beyond it is dropped.
MAX_EVENTS_PER_ACCOUNT = 1000


class SecurityEvent(Document):
    user_id: PydanticObjectId
    at: datetime = Field(default_factory=utcnow)
    type: EventType
    ip: str = ""
    user_agent: str = ""
    device: str = ""  # "Firefox on Linux", as the sessions page says; "" when no request caused it
    network: str = ""  # the IP's /24 (IPv4) or /64 (IPv6): where sign-ins come from; not shown
    detail: dict[str, Any] = Field(default_factory=dict)  # method, provider, session id, count, ...

    class Settings:
        name = "security_events"
        # The expiry index is SecurityLog.expiry_index(): its lifetime is a setting.
        indexes = [
            # The activity pages, the cap's trim, a deleted user's log: all by account, newest first.
            # ("Has this account signed in from here before?" reads the summary by its `_id`.)
            IndexModel([("user_id", ASCENDING), ("at", DESCENDING), ("_id", DESCENDING)], name="user_at"),
        ]


def origin_of(request: Request | None) -> dict[str, str]:
    """Where a request came from, as an event keeps it."""
    if request is None:
        return {"ip": "", "user_agent": "", "device": "", "network": ""}
    ip = client_ip(request)
    user_agent = request.headers.get("user-agent", "")[:USER_AGENT_MAX]
    return {
        "ip": ip,
        "user_agent": user_agent,
        "device": describe_device(user_agent),
        "network": ip_network(ip),
    }


def _plain(value: Any) -> Any:
    """`value` as the log stores and the API shows it: ids as strings, nothing unserialisable."""
    if isinstance(value, dict):
        return {str(key): _plain(item) for key, item in value.items()}
    if isinstance(value, list | tuple | set):
        return [_plain(item) for item in value]
    if value is None or isinstance(value, bool | int | float | str | datetime):
        return value
    return str(value)


class SecurityLog:
    """Records security events. Stateless: one (`security_log`) for every app."""

    async def record(
        self,
        user_id: PydanticObjectId,
        type: EventType,
        request: Request | None = None,
        **detail: Any,
    ) -> None:
        """Add an event for `user_id`; never raises (a failed write is logged, not surfaced)."""
        try:
            event = SecurityEvent(user_id=user_id, type=type, **origin_of(request), detail=_plain(detail))
            await events().insert_one(event.model_dump(by_alias=True, exclude={"id"}))
        except Exception:
            logger.warning("could not record the security event %s", type, exc_info=True)

    async def sign_in_failed(self, user_id: PydanticObjectId, request: Request, kind: FailureKind) -> None:
        """Count a failed attempt on `user_id`'s summary of this hour; never raises.

        The summary's `_id` is made from the account and the hour, so concurrent failures meet
        on one document (the unique `_id`) and `$inc` its count: `at` is the first failure of
        the hour, `detail.last_at` and the origin fields the latest."""
        now = utcnow()
        window = int(now.timestamp()) // FAILURE_WINDOW_SECONDS
        summary_id = _summary_id(user_id, window)
        update = {
            "$setOnInsert": {"user_id": user_id, "type": "sign_in_failed", "at": now},
            "$set": {**origin_of(request), "detail.last_at": now},
            "$inc": {"detail.count": 1, f"detail.kinds.{kind}": 1},
        }
        try:
            if await count_on_summary(summary_id, update):
                await self.trim(user_id)
        except Exception:
            logger.warning("could not record a failed sign-in", exc_info=True)

    async def trim(self, user_id: PydanticObjectId) -> list[dict[str, Any]]:
        """Drop `user_id`'s events beyond the newest MAX_EVENTS_PER_ACCOUNT; the newest (their
        `_id`, `type` and `at`, newest first), read in the same command. Raises on failure.

        One range read of the (user_id, at, _id) index; a delete only when over the cap."""
        newest = events().find({"user_id": user_id}, projection={"type": 1, "at": 1})
        newest = newest.sort([("at", DESCENDING), ("_id", DESCENDING)]).limit(MAX_EVENTS_PER_ACCOUNT + 1)
        kept = await newest.batch_size(MAX_EVENTS_PER_ACCOUNT + 1).to_list()
        if len(kept) > MAX_EVENTS_PER_ACCOUNT:
            # The oldest kept and anything at the same moment go too: a tie costs a few events,
            # not an `$or` on (at, _id) that the index range could not serve.
            cut = kept[MAX_EVENTS_PER_ACCOUNT]["at"]
            await events().delete_many({"user_id": user_id, "at": {"$lte": cut}})
            kept = [event for event in kept if event["at"] > cut]
        return kept

    def expiry_index(self, settings: Settings) -> IndexModel:
        """The TTL index that expires events after SECURITY_LOG_RETENTION_DAYS; `manage migrate`
        makes it, and gives an index left by another setting the new lifetime (collMod)."""
        seconds = settings.security_log_retention_days * 86400
        return IndexModel("at", expireAfterSeconds=seconds, name=EXPIRY_INDEX)

    async def forget_user(self, user_id: PydanticObjectId) -> None:
        """A deleted user's log goes with them."""
        await events().delete_many({"user_id": user_id})


security_log = SecurityLog()


async def count_on_summary(summary_id: ObjectId, update: dict[str, Any]) -> bool:
    """Apply `update` (its `$inc`, `$set`, `$setOnInsert`) to the summary `summary_id`, inserting
    it if there is none; True when this call inserted it (exactly one of racing first writers).
    Raises on failure.

    An `update` with upsert, read by its `upserted_id`: a concurrent first writer's insert makes
    mongod answer the other with a duplicate key (then retried as an update), and SecantusDB
    answers racing findAndModify upserts with no document (several would each take themselves
    for the first), but both name the one upsert that inserted."""
    for _ in range(2):
        try:
            result = await events().update_one({"_id": summary_id}, update, upsert=True)
            return result.upserted_id is not None
        except DuplicateKeyError:  # a concurrent first writer inserted it: now an update
            continue
    raise RuntimeError("the summary could not be updated")


def _summary_id(user_id: PydanticObjectId, window: int) -> ObjectId:
    """The `_id` of an account's failure summary for one window: the window's start as the
    ObjectId's time (it sorts with the others) and 8 bytes of a hash of (account, window)."""
    start = (window * FAILURE_WINDOW_SECONDS).to_bytes(4, "big")
    return ObjectId(start + hashlib.sha256(f"{user_id}:{window}".encode()).digest()[:8])


def events() -> AsyncCollection[dict[str, Any]]:
    """The log's collection, raw: for the atomic writes Beanie has no shorthand for."""
    return SecurityEvent.get_pymongo_collection()
