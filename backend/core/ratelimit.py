"""Rate limits kept in MongoDB, so they hold across workers and restarts.

Fixed-window counters: one document per (rule, subject, window), incremented atomically with an
upserting `$inc`, removed by a TTL index when its window is over. Subjects (email addresses, IP
addresses) are stored hashed. No maintained limiter speaks PyMongo's async API (`limits` needs
Motor), hence these few lines.
"""

import hashlib
import logging
import math
import time
from datetime import UTC, datetime
from typing import Any

import jwt
from beanie import Document
from fastapi import HTTPException, Request, status
from pymongo import IndexModel, ReturnDocument
from pymongo.errors import DuplicateKeyError

from backend.config import Rate, Settings
from backend.core.email_address import normalize_email

logger = logging.getLogger(__name__)


class RateLimitCounter(Document):
    id: str  # type: ignore[assignment]
    hits: int = 0
    expires_at: datetime

    class Settings:
        name = "rate_limits"
        indexes = [IndexModel("expires_at", expireAfterSeconds=0, name="expiry")]


class TooManyRequests(HTTPException):
    def __init__(self, retry_after: int) -> None:
        minutes = math.ceil(retry_after / 60)
        wait = f"{retry_after} seconds" if retry_after < 120 else f"{minutes} minutes"
        super().__init__(
            status.HTTP_429_TOO_MANY_REQUESTS,
            detail={"code": "TOO_MANY_REQUESTS", "reason": f"Too many attempts. Try again in {wait}."},
            headers={"Retry-After": str(retry_after)},
        )


class RateLimiter:
    def __init__(self, enabled: bool) -> None:
        self.enabled = enabled

    async def hit(self, rule: str, subject: str, rate: Rate) -> int | None:
        """Count one event; raise 429 when it is over the limit. The count so far in this window
        (None while limits are off): the one request whose hit makes it `rate.count` is the one
        after which `check` refuses."""
        if not self.enabled:
            return None
        key, window_end = _key(rule, subject, rate)
        count = await _increment(key, window_end)
        if count > rate.count:
            raise TooManyRequests(_seconds_until(window_end))
        return count

    async def check(self, rule: str, subject: str, rate: Rate) -> None:
        """Raise 429 when the limit is already reached, without counting."""
        await self.check_all([(rule, subject, rate)])

    async def check_all(self, limits: list[tuple[str, str, Rate]]) -> None:
        """`check` for each (rule, subject, rate) of `limits`, in one read; the 429 waits for the
        last of those reached."""
        if not self.enabled or not limits:
            return
        windows: dict[str, tuple[float, int]] = {}  # key -> (its window's end, the limit)
        for rule, subject, rate in limits:
            key, window_end = _key(rule, subject, rate)
            windows[key] = (window_end, rate.count)
        found = RateLimitCounter.get_pymongo_collection().find({"_id": {"$in": list(windows)}})
        reached = [windows[c["_id"]][0] async for c in found if c["hits"] >= windows[c["_id"]][1]]
        if reached:
            raise TooManyRequests(_seconds_until(max(reached)))


def _key(rule: str, subject: str, rate: Rate) -> tuple[str, float]:
    window = int(time.time() // rate.seconds)
    digest = hashlib.sha256(subject.encode()).hexdigest()[:32]
    return f"{rule}:{rate}:{digest}:{window}", (window + 1) * rate.seconds


def _seconds_until(window_end: float) -> int:
    return max(1, math.ceil(window_end - time.time()))


async def _increment(key: str, window_end: float) -> int:
    """One more hit on `key`'s counter, and the count it makes, exactly, however many race.

    The counter is `$inc`ed where it exists and inserted where it does not, never upserted: a
    racing upsert is answered with no document by SecantusDB (though applied), and reading the
    count afterwards gives a later one, refusing more than the limit says. An insert that loses
    the race (duplicate key) becomes an increment of the winner's counter."""
    collection = RateLimitCounter.get_pymongo_collection()
    for _ in range(3):
        counter = await collection.find_one_and_update(
            {"_id": key}, {"$inc": {"hits": 1}}, return_document=ReturnDocument.AFTER
        )
        if counter is not None:
            return int(counter["hits"])
        try:
            await collection.insert_one(
                {"_id": key, "hits": 1, "expires_at": datetime.fromtimestamp(window_end, UTC)}
            )
        except DuplicateKeyError:  # a concurrent first hit inserted it: count on it
            continue
        return 1
    raise RuntimeError("rate-limit counter could not be updated")


def client_ip(request: Request) -> str:
    """The peer address (rewritten from Forwarded or X-Forwarded-For only behind a trusted proxy:
    core/proxies.py)."""
    return request.client.host if request.client else "unknown"


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
