"""Sessions that can really be ended.

Every login starts a session (stored in `sessions`) and hands out a refresh token. Refresh
tokens are random, stored only as SHA-256 hashes (`refresh_tokens`), and single-use: each
refresh claims the presented token atomically and issues its successor, so two workers racing
on one token produce exactly one rotation. A rotation that fails half-way (a failover) leaves
the old token able to finish it, so a retry gets a working cookie (`refresh`). Presenting a token
whose successor was handed out revokes the whole session (reuse detection), except the
immediately previous token, its successor unused, within the grace window: a second tab racing
the first, or a retry whose answer was lost, which gets that same successor again.

Revocation is immediate and cheap to check: the user document lists the ids of its live sessions
(`session_ids`), access tokens carry their session id (`sid`), and the one read that loads the
user for a request also tells whether the session is still live.
"""

from contextlib import suppress
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from beanie import PydanticObjectId
from fastapi import Request
from pymongo import ReturnDocument
from pymongo.asynchronous.collection import AsyncCollection
from pymongo.errors import DuplicateKeyError

from backend.apps.auth.activity.log import EventType, security_log
from backend.apps.auth.sessions.models import RefreshToken, Session
from backend.apps.user.models import User
from backend.config import Settings
from backend.core.clock import utcnow
from backend.core.crypto import new_secret, seal, token_hash, unseal

MAX_SESSIONS_PER_USER = 50  # the oldest drop out of `session_ids` beyond this
USER_AGENT_MAX_LENGTH = 256


class RefreshRefused(Exception):
    """Why a refresh token buys nothing; `code` is the API's `detail`."""

    def __init__(self, code: str) -> None:
        super().__init__(code)
        self.code = code


@dataclass(frozen=True)
class Refreshed:
    session: Session
    user: User
    refresh_token: str | None  # None only for a racing tab on a token claimed before successors were sealed


class Sessions:
    def __init__(self, settings: Settings) -> None:
        self.idle = timedelta(seconds=settings.session_idle_timeout_seconds)
        self.absolute = timedelta(seconds=settings.session_absolute_lifetime_seconds)
        self.grace = timedelta(seconds=settings.refresh_grace_seconds)

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
        refresh_token = await self._issue(session)
        await _users().update_one(
            {"_id": user.id},
            {"$push": {"session_ids": {"$each": [session.id], "$slice": -MAX_SESSIONS_PER_USER}}},
        )
        return session, refresh_token

    async def find_token(self, presented: str) -> RefreshToken | None:
        return await RefreshToken.get(token_hash(presented))

    async def refresh(
        self, presented: str, token: RefreshToken, user_agent: str, ip: str, request: Request | None = None
    ) -> Refreshed:
        """Exchange the refresh token `presented` (its document found with `find_token`) for a
        session's next tokens. `request`, when given, is where a reuse is logged from.

        The claim is the one atomic step: it marks the old token used and records its successor
        (the hash, and the successor sealed under the old token). The successor is stored last,
        so until it is, the old token can finish the rotation it started, however late; once it is,
        the old token gets that same successor again within the grace window (a racing tab, an
        answer lost on the way) and is a reuse after it, or as soon as the successor was used."""
        now = utcnow()
        successor = new_secret()
        claimed = await _tokens().find_one_and_update(
            {"_id": token.id, "used_at": None},
            {
                "$set": {
                    "used_at": now,
                    "replaced_by": token_hash(successor),
                    "successor_sealed": seal(successor, presented),
                }
            },
        )
        if claimed is None:
            return await self._replayed(presented, token, now, user_agent, ip, request)
        return await self._rotate(token, successor, now, user_agent, ip)

    async def _rotate(
        self,
        token: RefreshToken,
        successor: str | None,
        now: datetime,
        user_agent: str,
        ip: str,
        *,
        store: bool = True,
    ) -> Refreshed:
        """Finish the rotation of the claimed `token`: the session, its user, then the successor.
        Without `store`, the rotation is known to be complete (its successor stored, the session
        moved on): the session is only read, and the same successor answered again."""
        live_session = {"_id": token.session_id, "revoked_at": None, "expires_at": {"$gt": now}}
        if not store:
            session = await _sessions().find_one(live_session)
        else:
            session = await _sessions().find_one_and_update(
                live_session,
                {
                    "$set": {
                        "last_used_at": now,
                        "user_agent": user_agent[:USER_AGENT_MAX_LENGTH],
                        "ip": ip,
                        # A token expires with its session's absolute deadline.
                        "expires_at": min(now + self.idle, token.expires_at),
                    }
                },
                return_document=ReturnDocument.AFTER,
            )
        if session is None:
            raise RefreshRefused("SESSION_ENDED")
        live = Session.model_validate(session)
        user = await self._live_user(live)
        if successor is not None and store:
            # DuplicateKeyError: another request with the same old token stored this successor first.
            with suppress(DuplicateKeyError):
                await self._issue(live, successor)
        return Refreshed(live, user, successor)

    async def _replayed(
        self,
        presented: str,
        token: RefreshToken,
        now: datetime,
        user_agent: str,
        ip: str,
        request: Request | None,
    ) -> Refreshed:
        current = token if token.used_at else await RefreshToken.get(token.id)
        if current is None or current.used_at is None or current.replaced_by is None:
            raise RefreshRefused("SESSION_ENDED")
        successor = unseal(current.successor_sealed, presented) if current.successor_sealed else None
        if successor is not None and token_hash(successor) != current.replaced_by:
            successor = None
        stored = await RefreshToken.get(current.replaced_by)
        # "Never stored" relies on a used successor outliving its predecessor: every token of a
        # session expires at the session's absolute deadline, together. Whatever deletes used
        # tokens earlier must keep that (or a deleted successor would read as never stored).
        never_stored = stored is None and successor is not None
        racing = now - current.used_at <= self.grace and (stored is None or stored.used_at is None)
        if never_stored or racing:
            # Without a sealed successor (a token claimed before they were sealed), a racing tab
            # gets an access token only: its cookie was already replaced by the first answer.
            return await self._rotate(current, successor, now, user_agent, ip, store=stored is None)
        session = await Session.get(token.session_id)
        if session is None or session.revoked_at or session.expires_at <= now:
            raise RefreshRefused("SESSION_ENDED")
        await self.end(
            session.user_id,
            session.id,
            "refresh token reuse",
            event="refresh_token_reused",
            request=request,
        )
        raise RefreshRefused("REFRESH_TOKEN_REUSED")

    async def _live_user(self, session: Session) -> User:
        user = await User.get(session.user_id)
        if user is None or not user.is_active or session.id not in user.session_ids:
            raise RefreshRefused("SESSION_ENDED")
        return user

    async def _issue(self, session: Session, token: str | None = None) -> str:
        token = token or new_secret()
        await RefreshToken(
            id=token_hash(token),
            session_id=session.id,
            user_id=session.user_id,
            expires_at=session.absolute_expires_at,
        ).insert()
        return token

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
        await _sessions().update_one(
            {"_id": session_id, "user_id": user_id, "revoked_at": None},
            {"$set": {"revoked_at": utcnow(), "revoked_reason": reason}},
        )
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
        query: dict[str, object] = {"user_id": user_id, "revoked_at": None}
        if keep:
            query["_id"] = {"$ne": keep}
        ended = await _sessions().update_many(
            query, {"$set": {"revoked_at": utcnow(), "revoked_reason": reason}}
        )
        if ended.modified_count:
            await security_log.record(user_id, event, request, reason=reason, sessions=ended.modified_count)
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
        # The tokens by their sessions (refresh_tokens is indexed by session, not by user).
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
