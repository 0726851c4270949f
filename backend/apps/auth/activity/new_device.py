"""Sign-ins in the log, and the mail about one from a device and network not seen lately.

A sign-in from a device (the sessions page's label, device.py) on an IP network (IPv4 /24, IPv6
/64) that this account has not signed in from within `SECURITY_LOG_RETENTION_DAYS` is mailed to
its owner, with a link to the sessions page. Neither the log nor the mail can fail the sign-in.
"""

import logging
from datetime import UTC, datetime, timedelta
from typing import Any

from beanie import PydanticObjectId
from fastapi import Request

from backend.apps.auth.activity.letters import ActivityLetters
from backend.apps.auth.activity.log import events, origin_of, security_log
from backend.apps.user.models import User
from backend.config import Settings

logger = logging.getLogger(__name__)


class SignInLog:
    """Records sign-ins, and mails the owner about one from a new device and network."""

    def __init__(self, settings: Settings, letters: ActivityLetters) -> None:
        self.retention = timedelta(days=settings.security_log_retention_days)
        self.letters = letters

    async def signed_in(
        self,
        user: User,
        request: Request,
        session_id: str,
        method: str,
        second_factor: str | None = None,
    ) -> None:
        """A session started: the `sign_in` event, and the new-device notice. Never raises."""
        origin = origin_of(request)
        try:
            new_device = await self._is_new(user.id, origin["device"], origin["network"])
        except Exception:
            logger.warning("could not tell whether a sign-in comes from a new device", exc_info=True)
            new_device = False
        detail: dict[str, Any] = {"method": method, "session_id": session_id, "new_device": new_device}
        if second_factor:
            detail["second_factor"] = second_factor
        await security_log.record(user.id, "sign_in", request, **detail)
        if new_device:
            try:
                await self.letters.send_new_device_notice(user, origin["device"], origin["ip"])
            except Exception:
                logger.warning("could not mail a new-device notice", exc_info=True)

    async def _is_new(self, user_id: PydanticObjectId, device: str, network: str) -> bool:
        """No sign-in of this account from `device` on `network` within the retention window.

        An account with no sign-in at all in the window (a new account's first login after
        registering, or one back after a long absence) has nothing to compare with: not new,
        no mail. A notice for every first sign-in would teach people to ignore them.
        """
        since = datetime.now(UTC) - self.retention
        earlier: dict[str, Any] = {"user_id": user_id, "type": "sign_in", "at": {"$gt": since}}
        if await events().find_one(earlier, projection={"_id": 1}) is None:
            return False
        seen = earlier | {"device": device, "network": network}
        return await events().find_one(seen, projection={"_id": 1}) is None
