"""Sessions that can really be ended.

Every login starts a session (stored in `sessions`) and hands out a refresh token. Nothing per
token is stored: a refresh token names its user, its session and the session's generation, under
a MAC (`RefreshTokens`), and the session document holds its current `generation`. A refresh moves
the generation on by one with one atomic update that matches only the generation presented, so
two workers racing on one token rotate it exactly once, and a token whose MAC fails (forged,
garbled) is refused as unknown without a database command. The successor is recomputable from
the session (generation + 1): the token of the generation before, presented within the grace
window of the rotation, gets that same successor again (a second tab racing the first, a retry
whose answer was lost). Any older token, or the one before after the grace window, is a reuse:
the whole session ends (reuse detection, `refresh_token_reused`). The rotation is the refresh's
last write, after the user check: a refresh that fails before it leaves the old token as it was,
however late the retry.

Revocation is immediate and cheap to check: the user document lists the ids of its live sessions
(`session_ids`), access tokens carry their session id (`sid`), and the one read that loads the
user for a request also tells whether the session is still live. An ended session's document
expires `ENDED_SESSION_SECONDS` after it ended: long enough for a racing request to read "ended",
not the 14 days of an idle one.
"""

import base64
import hashlib
import hmac
import math
import re
import time
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, NoReturn

from beanie import PydanticObjectId
from bson import ObjectId
from fastapi import Request
from pymongo import ReturnDocument
from pymongo.asynchronous.collection import AsyncCollection

from backend.apps.auth.activity.log import EventType, security_log
from backend.apps.auth.sessions.models import RefreshToken, Session
from backend.apps.user.models import User
from backend.config import Settings
from backend.core.clock import utcnow
from backend.core.crypto import derive_secret, token_hash
from backend.core.ratelimit import TooManyRequests

MAX_SESSIONS_PER_USER = 50  # the oldest drop out of `session_ids` beyond this
USER_AGENT_MAX_LENGTH = 256
ENDED_SESSION_SECONDS = 300  # how long an ended session's document stays, reading "ended"
REFRESH_TOKEN_MAX_LENGTH = 160  # an ObjectId, a session id, a generation and a MAC, with room
LEGACY_TOKEN = re.compile(r"[A-Za-z0-9_-]{43}")  # a refresh token of the version before (new_secret())


class RefreshRefused(Exception):
    """Why a refresh token buys nothing; `code` is the API's `detail`."""

    def __init__(self, code: str) -> None:
        super().__init__(code)
        self.code = code


@dataclass(frozen=True)
class Refreshed:
    session: Session
    user: User
    refresh_token: str


@dataclass(frozen=True)
class Presented:
    """What a refresh token with a good MAC says: whose session, and which generation of it."""

    user_id: PydanticObjectId
    session_id: str
    generation: int


class RefreshTokens:
    """`<user id>.<session id>.<generation>.<MAC>`, the MAC an HMAC-SHA256 of the rest under a key
    derived from each of the app's secrets: made with the first, checked against every one, so a
    secret being rotated in or out (JWT_SECRET_KEYS, both phases) refuses nobody's session."""

    def __init__(self, secrets: list[str]) -> None:
        self.keys = [derive_secret(secret, "refresh").encode() for secret in secrets]

    def make(self, session: Session) -> str:
        body = f"{session.user_id}.{session.id}.{session.generation}"
        return f"{body}.{_mac(self.keys[0], body)}"

    def read(self, token: str) -> Presented | None:
        """What `token` names, or None unless one of the keys made its MAC."""
        if len(token) > REFRESH_TOKEN_MAX_LENGTH or token.count(".") != 3:
            return None
        body, _, mac = token.rpartition(".")
        user_id, session_id, generation = body.split(".")
        if not (ObjectId.is_valid(user_id) and generation.isascii() and generation.isdigit() and session_id):
            return None
        # Bytes: compare_digest refuses str that is not ASCII (a cookie may be anything).
        if not any(hmac.compare_digest(mac.encode(), _mac(key, body).encode()) for key in self.keys):
            return None
        return Presented(PydanticObjectId(user_id), session_id, int(generation))


def _mac(key: bytes, body: str) -> str:
    digest = hmac.new(key, body.encode(), hashlib.sha256).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode()


class Sessions:
    def __init__(self, settings: Settings, *, limited: bool = True) -> None:
        self.idle = timedelta(seconds=settings.session_idle_timeout_seconds)
        self.absolute = timedelta(seconds=settings.session_absolute_lifetime_seconds)
        self.grace = timedelta(seconds=settings.refresh_grace_seconds)
        self.tokens = RefreshTokens(settings.jwt_secrets)
        # RATE_LIMIT_REFRESH_ACCOUNT, counted per session in the session document by the rotation
        # itself, so a refresh writes twice at most (this and the per-IP counter). Per session, not
        # per account: only the holder of a session's current token can refresh it, and an
        # account has at most MAX_SESSIONS_PER_USER, each bought with a login (limited too).
        self.limit = settings.rate_limit_refresh_account if limited else None

    async def start(self, user: User, user_agent: str, ip: str) -> tuple[Session, str]:
        now = utcnow()
        absolute = now + self.absolute
        session = Session(
            user_id=user.id,
            created_at=now,
            last_used_at=now,
            expires_at=min(now + self.idle, absolute),
            absolute_expires_at=absolute,
            user_agent=user_agent[:USER_AGENT_MAX_LENGTH],
            ip=ip,
        )
        await session.insert()
        await _users().update_one(
            {"_id": user.id},
            {"$push": {"session_ids": {"$each": [session.id], "$slice": -MAX_SESSIONS_PER_USER}}},
        )
        if len(user.session_ids) >= MAX_SESSIONS_PER_USER:
            # The oldest dropped out of `session_ids`, so they are over: their documents go soon
            # too (one more write, only at the cap).
            dropped = user.session_ids[: len(user.session_ids) - MAX_SESSIONS_PER_USER + 1]
            await self._expire_soon({"_id": {"$in": dropped}, "user_id": user.id}, "too many sessions")
        return session, self.tokens.make(session)

    async def refresh(
        self, presented: str, user_agent: str, ip: str, request: Request | None = None
    ) -> Refreshed:
        """Exchange the refresh token `presented` for the session's next tokens. `request`, when
        given, is where a reuse is logged from. Raises RefreshRefused, or TooManyRequests when the
        session refreshed RATE_LIMIT_REFRESH_ACCOUNT times in this window.

        A steady refresh is two commands: the user (active, the session still theirs), then the
        rotation, one atomic update of the session (the generation presented → the next, the idle
        deadline, the refresh count of this window)."""
        token = self.tokens.read(presented)
        if token is None:
            if LEGACY_TOKEN.fullmatch(presented):
                return await self._bridge(presented, user_agent, ip, request)
            raise RefreshRefused("REFRESH_TOKEN_INVALID")
        return await self._refresh(token, user_agent, ip, request)

    async def _refresh(
        self, token: Presented, user_agent: str, ip: str, request: Request | None
    ) -> Refreshed:
        user = await User.get(token.user_id)
        if user is None:  # a deleted account's: as unknown as its stored tokens were, deleted with it
            raise RefreshRefused("REFRESH_TOKEN_INVALID")
        if not user.is_active or token.session_id not in user.session_ids:
            raise RefreshRefused("SESSION_ENDED")
        now = utcnow()
        window = self._window()
        rotatable: dict[str, Any] = {
            "_id": token.session_id,
            "user_id": token.user_id,
            # A session stored before generations has none: it is at its first.
            "generation": token.generation or {"$in": [0, None]},
            "revoked_at": None,
            "expires_at": {"$gt": now},
        }
        if self.limit is not None:  # per session, counted by this same update (ASVS 5.0 2.4.1)
            rotatable["$or"] = [
                {"refresh_window": {"$ne": window}},
                {"refresh_hits": {"$lt": self.limit.count}},
            ]
        rotated = await _sessions().find_one_and_update(
            rotatable,
            # A pipeline, to cap the idle deadline by the absolute one and count the window in the
            # one write; strings from the request are $literal so none reads as a field path.
            [
                {
                    "$set": {
                        "generation": {"$add": [{"$ifNull": ["$generation", 0]}, 1]},
                        "rotated_at": now,
                        "last_used_at": now,
                        "user_agent": {"$literal": user_agent[:USER_AGENT_MAX_LENGTH]},
                        "ip": {"$literal": ip},
                        "expires_at": {"$min": [now + self.idle, "$absolute_expires_at"]},
                        "refresh_hits": {
                            "$cond": [{"$eq": ["$refresh_window", window]}, {"$add": ["$refresh_hits", 1]}, 1]
                        },
                        "refresh_window": window,
                    }
                }
            ],
            return_document=ReturnDocument.AFTER,
        )
        if rotated is not None:
            session = Session.model_validate(rotated)
            return Refreshed(session, user, self.tokens.make(session))
        return await self._not_rotated(token, user, now, window, request)

    async def _not_rotated(
        self, token: Presented, user: User, now: datetime, window: int, request: Request | None
    ) -> Refreshed:
        """Why the rotation matched nothing: the session ended, its limit is reached, or the
        generation presented is not the current one (a racing tab, a lost answer, a reuse)."""
        found = await _sessions().find_one({"_id": token.session_id, "user_id": token.user_id})
        session = Session.model_validate(found) if found else None
        if session is None or session.revoked_at or session.expires_at <= now:
            raise RefreshRefused("SESSION_ENDED")
        if session.generation == token.generation:
            if self.limit is not None and session.refresh_window == window:
                raise TooManyRequests(max(1, math.ceil((window + 1) * self.limit.seconds - time.time())))
            raise RefreshRefused("SESSION_ENDED")
        if session.generation < token.generation:
            # Made with our key, never reached: only a rolled-back write. Nothing to revoke for it.
            raise RefreshRefused("REFRESH_TOKEN_INVALID")
        racing = (
            session.generation == token.generation + 1
            and session.rotated_at is not None
            and now - session.rotated_at <= self.grace
        )
        if racing:  # the one successor, unused yet (else the generation would be further on)
            return Refreshed(session, user, self.tokens.make(session))
        await self._reused(session, request)

    async def _reused(self, session: Session, request: Request | None) -> NoReturn:
        """A token whose successor was handed out came back: the session ends, and so does the refresh."""
        await self.end(
            session.user_id,
            session.id,
            "refresh token reuse",
            event="refresh_token_reused",
            request=request,
        )
        raise RefreshRefused("REFRESH_TOKEN_REUSED")

    async def _bridge(self, presented: str, user_agent: str, ip: str, request: Request | None) -> Refreshed:
        """A refresh token of the version before generations (stored hashed in `refresh_tokens`,
        single-use): claimed once, and answered with a token of its session's generation, rotated
        as any. The loser of a race to claim it, within the grace window, gets the same successor;
        a used one presented later is a reuse, as it was. Kept until the last of them expires:
        SESSION_ABSOLUTE_LIFETIME_SECONDS after the upgrade."""
        now, key = utcnow(), token_hash(presented)
        found = await _tokens().find_one_and_update({"_id": key, "used_at": None}, {"$set": {"used_at": now}})
        claimed = found is not None
        found = found or await _tokens().find_one({"_id": key})
        if found is None:
            raise RefreshRefused("REFRESH_TOKEN_INVALID")
        old = RefreshToken.model_validate(found)
        session = await Session.get(old.session_id)
        if session is None or session.revoked_at or session.expires_at <= now:
            raise RefreshRefused("SESSION_ENDED")
        generation = session.generation
        if not claimed:
            if old.used_at is None or now - old.used_at > self.grace:
                await self._reused(session, request)
            # Used moments ago: by the claim of a racing request, whose successor it gets; or by
            # a rotation of the version before, or a claim that failed before rotating (the
            # session still at its first generation), and it rotates now.
            generation = max(0, generation - 1)
        return await self._refresh(
            Presented(old.user_id, old.session_id, generation), user_agent, ip, request
        )

    def _window(self) -> int:
        return int(time.time() // self.limit.seconds) if self.limit is not None else 0

    async def live(self, user: User) -> list[Session]:
        """The live sessions of `user`, most recently used first."""
        return (
            await Session.find(
                {
                    "user_id": user.id,
                    "_id": {"$in": user.session_ids},
                    "revoked_at": None,
                    "expires_at": {"$gt": utcnow()},
                }
            )
            .sort([("last_used_at", -1)])
            .to_list()
        )

    async def end(
        self,
        user_id: PydanticObjectId,
        session_id: str,
        reason: str,
        *,
        event: EventType = "session_ended",
        request: Request | None = None,
    ) -> bool:
        """End one session of `user_id`; False when it is not theirs or already gone. An ended
        session is an `event` in the account's security log, from `request`."""
        result = await _users().update_one({"_id": user_id}, {"$pull": {"session_ids": session_id}})
        await self._expire_soon({"_id": session_id, "user_id": user_id}, reason)
        ended = result.modified_count == 1
        if ended:
            await security_log.record(user_id, event, request, session_id=session_id, reason=reason)
        return ended

    async def end_all(
        self,
        user_id: PydanticObjectId,
        reason: str,
        keep: str | None = None,
        *,
        event: EventType = "session_ended",
        request: Request | None = None,
    ) -> int:
        """End every session of `user_id`, except `keep` when given; when that ended any, one
        `event` in the account's security log, from `request`, says how many. How many ended."""
        await _users().update_one({"_id": user_id}, {"$set": {"session_ids": [keep] if keep else []}})
        query: dict[str, object] = {"user_id": user_id}
        if keep:
            query["_id"] = {"$ne": keep}
        ended = await self._expire_soon(query, reason)
        if ended:
            await security_log.record(user_id, event, request, reason=reason, sessions=ended)
        return ended

    async def _expire_soon(self, query: dict[str, Any], reason: str) -> int:
        """Mark the live sessions `query` matches ended, their documents to go in a few minutes
        (the TTL index): a request racing the end still reads "ended", and no ended session
        keeps an idle session's life. How many it ended."""
        now = utcnow()
        ended = await _sessions().update_many(
            query | {"revoked_at": None},
            {
                "$set": {
                    "revoked_at": now,
                    "revoked_reason": reason,
                    "expires_at": now + timedelta(seconds=ENDED_SESSION_SECONDS),
                }
            },
        )
        return ended.modified_count

    async def confirm(self, session_id: str) -> None:
        await _sessions().update_one({"_id": session_id}, {"$set": {"confirmed_at": utcnow()}})

    async def last_confirmed(self, session_id: str) -> datetime | None:
        """When the live session `session_id` signed in or was last confirmed."""
        found = await _sessions().find_one(
            {"_id": session_id, "revoked_at": None}, projection={"created_at": 1, "confirmed_at": 1}
        )
        if found is None:
            return None
        return max(found["created_at"], found.get("confirmed_at") or found["created_at"])

    async def forget_user(self, user_id: PydanticObjectId) -> None:
        """Delete every trace of a deleted user's sessions."""
        # Refresh tokens of the version before, by their sessions (indexed by session, not user).
        session_ids = await _sessions().distinct("_id", {"user_id": user_id})
        await _tokens().delete_many({"session_id": {"$in": session_ids}})
        await _sessions().delete_many({"user_id": user_id})


# Raw collections for the atomic operations Beanie has no shorthand for.
def _users() -> AsyncCollection[dict[str, Any]]:
    return User.get_pymongo_collection()


def _sessions() -> AsyncCollection[dict[str, Any]]:
    return Session.get_pymongo_collection()


def _tokens() -> AsyncCollection[dict[str, Any]]:
    return RefreshToken.get_pymongo_collection()


def others_signed_out(sessions: int) -> str:
    """The notice mail's words for the other sessions a change ended."""
    if not sessions:
        return "You had no other session signed in."
    return f"Your {sessions} other session{'s were' if sessions != 1 else ' was'} signed out."
