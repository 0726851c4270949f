"""The security activity log: what happened to an account, when, and from where.

Each account keeps its security events (`security_events`): sign-ins with their method, failed
attempts (summarised), sign-outs and ended sessions, password and email changes, second factors,
passkeys and providers added or removed, refresh-token reuse, lockouts. Entries expire after
`SECURITY_LOG_RETENTION_DAYS` through a TTL index. Writing an entry never fails the request it
describes: a failed write is logged and forgotten (OWASP ASVS 5.0 16.x: security logging must
not become a way to deny service).
"""

import logging
from datetime import datetime
from typing import Any, Literal

from beanie import Document, PydanticObjectId
from fastapi import Request
from pydantic import Field
from pymongo import ASCENDING, DESCENDING, IndexModel
from pymongo.asynchronous.collection import AsyncCollection

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
]

USER_AGENT_MAX = 256


class SecurityEvent(Document):
    user_id: PydanticObjectId
    at: datetime = Field(default_factory=utcnow)
    type: EventType
    ip: str = ""
    user_agent: str = ""
    detail: dict[str, Any] = Field(default_factory=dict)  # method, provider, session id, count, ...

    class Settings:
        name = "security_events"
        # The expiry index is made by SecurityLog.ensure_indexes(): its lifetime is a setting.
        indexes = [
            IndexModel([("user_id", ASCENDING), ("at", DESCENDING), ("_id", DESCENDING)], name="user_at")
        ]


class SecurityLog:
    """Records security events; one per app, built from its settings."""

    async def record(
        self,
        user_id: PydanticObjectId,
        type: EventType,
        request: Request | None = None,
        **detail: Any,
    ) -> None:
        """Add an event for `user_id`; never raises (a failed write is logged, not surfaced)."""
        try:
            event = SecurityEvent(
                user_id=user_id,
                type=type,
                ip=client_ip(request) if request else "",
                user_agent=(request.headers.get("user-agent", "") if request else "")[:USER_AGENT_MAX],
                detail=detail,
            )
            await _events().insert_one(event.model_dump(by_alias=True, exclude={"id"}) | {"at": event.at})
        except Exception:  # noqa: BLE001 - the log must never fail the request it describes
            logger.warning("could not record the security event %s", type, exc_info=True)


security_log = SecurityLog()  # stateless: one for every app


def _events() -> AsyncCollection[dict[str, Any]]:
    return SecurityEvent.get_pymongo_collection()
