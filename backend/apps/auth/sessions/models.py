"""The stored half of sessions: the session documents (service.py). A refresh token is not stored:
it names its session and generation under a MAC, and the session holds the current generation.

`refresh_tokens` holds the refresh tokens of the version before (SHA-256 hashes, one document per
rotation) only until they expire, for the one-time bridge in service.py; nothing new is written
to it but the claim of an old token.
"""

import secrets
from datetime import datetime

from beanie import Document, PydanticObjectId
from pydantic import Field
from pymongo import ASCENDING, IndexModel

from backend.core.clock import utcnow


class Session(Document):
    id: str = Field(default_factory=lambda: secrets.token_urlsafe(16))  # type: ignore[assignment]
    user_id: PydanticObjectId
    created_at: datetime = Field(default_factory=utcnow)
    last_used_at: datetime = Field(default_factory=utcnow)
    # The idle deadline, capped by the absolute one; a TTL index removes the document. An ended
    # session's is moved to a few minutes after it ended (service.ENDED_SESSION_SECONDS).
    expires_at: datetime
    absolute_expires_at: datetime
    user_agent: str = ""
    ip: str = ""
    revoked_at: datetime | None = None
    revoked_reason: str | None = None
    confirmed_at: datetime | None = None  # the last "confirm it is you" (flows/step_up.py)
    generation: int = 0  # the refresh token of this generation is the one that rotates
    rotated_at: datetime | None = None  # when `generation` last moved on (the grace window's start)
    # Refreshes of this session in the rate-limit window `refresh_window` (its number), counted by
    # the rotation's own update (RATE_LIMIT_REFRESH_ACCOUNT).
    refresh_window: int = 0
    refresh_hits: int = 0

    class Settings:
        name = "sessions"
        indexes = [
            IndexModel("expires_at", expireAfterSeconds=0, name="expiry"),
            IndexModel([("user_id", ASCENDING), ("last_used_at", ASCENDING)], name="user_sessions"),
        ]


class RefreshToken(Document):
    """A refresh token of the version before generations (read by the bridge only, until the last
    expires: at most SESSION_ABSOLUTE_LIFETIME_SECONDS after the upgrade)."""

    id: str  # type: ignore[assignment]  # SHA-256 of the token; the token itself was never stored
    session_id: str
    user_id: PydanticObjectId
    expires_at: datetime
    used_at: datetime | None = None
    replaced_by: str | None = None
    successor_sealed: str | None = None

    class Settings:
        name = "refresh_tokens"
        indexes = [
            IndexModel("expires_at", expireAfterSeconds=0, name="expiry"),
            IndexModel("session_id", name="session"),
        ]
