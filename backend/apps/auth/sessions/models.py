"""The stored halves of sessions: the session documents and their refresh tokens (service.py)."""

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
    expires_at: datetime  # idle deadline, capped by the absolute one; a TTL index removes the document
    absolute_expires_at: datetime
    user_agent: str = ""
    ip: str = ""
    revoked_at: datetime | None = None
    revoked_reason: str | None = None
    confirmed_at: datetime | None = None  # the last "confirm it is you" (flows/step_up.py)

    class Settings:
        name = "sessions"
        indexes = [
            IndexModel("expires_at", expireAfterSeconds=0, name="expiry"),
            IndexModel([("user_id", ASCENDING), ("last_used_at", ASCENDING)], name="user_sessions"),
        ]


class RefreshToken(Document):
    id: str  # type: ignore[assignment]  # SHA-256 of the token; the token itself is never stored
    session_id: str
    user_id: PydanticObjectId
    expires_at: datetime
    used_at: datetime | None = None
    replaced_by: str | None = None  # the successor's hash, set by the claim
    successor_sealed: str | None = None  # the successor encrypted under this token (core/crypto.seal)

    class Settings:
        name = "refresh_tokens"
        indexes = [
            IndexModel("expires_at", expireAfterSeconds=0, name="expiry"),
            IndexModel("session_id", name="session"),
        ]
