"""Sign-ins in the log, summarised, and the mail about one from a device and network not seen lately.

An account's sign-ins from one device (the sessions page's label, device.py) on one IP network
(IPv4 /24, IPv6 /64) are one `sign_in` event: its `count` and `detail.methods` say how many and
how, `at` is the latest (so the TTL index expires it SECURITY_LOG_RETENTION_DAYS after the last
sign-in from there) and `detail.first_at` the first; the latest sign-in's origin, method, second
factor and session id are shown. Its `_id` is made from (account, device, network), so concurrent
sign-ins meet on it (log.count_on_summary).

A sign-in from a device and network that this account has not signed in from within the retention
window (no such summary: this sign-in inserted it) is mailed to its owner, with a link to the
sessions page. Neither the log nor the mail can fail the sign-in.

The cost per sign-in, in database commands: from a known device and network one (the summary's
update); from a new one two (the update that inserts it, and one read of the account's newest
events, which both tells whether the account has signed in at all lately and enforces the
account's cap, log.SecurityLog.trim), three when that first sign-in is the account's first in the
window (the summary is corrected to "not a new device") or the log is over its cap (the delete).
"""

import hashlib
import logging
from datetime import timedelta
from typing import Any

from beanie import PydanticObjectId
from bson import ObjectId
from fastapi import Request

from backend.apps.auth.activity import log
from backend.apps.auth.activity.letters import ActivityLetters
from backend.apps.auth.activity.log import count_on_summary, events, origin_of, security_log
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
        """A session started: counted on the account's summary of sign-ins from this device and
        network, and the new-device notice. Never raises."""
        origin = origin_of(request)
        summary_id = place_id(user.id, origin["device"], origin["network"])
        new_device = False
        try:
            now = log.utcnow()
            how = f"{method}+{second_factor}" if second_factor else method
            update: dict[str, Any] = {
                # New until proved otherwise: `_is_new` corrects it for an account's first sign-in.
                "$setOnInsert": {
                    "user_id": user.id,
                    "type": "sign_in",
                    "device": origin["device"],
                    "network": origin["network"],
                    "detail.first_at": now,
                    "detail.new_device": True,
                },
                "$set": {
                    "at": now,
                    "ip": origin["ip"],
                    "user_agent": origin["user_agent"],
                    "detail.method": method,
                    "detail.session_id": session_id,
                },
                "$inc": {"detail.count": 1, f"detail.methods.{_field(how)}": 1},
            }
            if second_factor:
                update["$set"]["detail.second_factor"] = second_factor
            else:
                update["$unset"] = {"detail.second_factor": ""}
            if await count_on_summary(summary_id, update):
                new_device = await self._is_new(user.id, summary_id)
        except Exception:
            logger.warning("could not record the security event sign_in", exc_info=True)
        if new_device:
            try:
                await self.letters.send_new_device_notice(user, origin["device"], origin["ip"])
            except Exception:
                logger.warning("could not mail a new-device notice", exc_info=True)

    async def _is_new(self, user_id: PydanticObjectId, summary_id: ObjectId) -> bool:
        """The sign-in that just made `summary_id` (no sign-in of this account from its device
        and network within the retention window) is from a new device: unless the account has
        no other sign-in in the window, which the summary is then corrected to say.

        An account with no sign-in at all in the window (a new account's first login after
        registering, or one back after a long absence) has nothing to compare with: not new,
        no mail. A notice for every first sign-in would teach people to ignore them.
        """
        try:
            newest = await security_log.trim(user_id)  # the cap, checked as the log grows
            since = log.utcnow() - self.retention
            if any(e["type"] == "sign_in" and e["_id"] != summary_id and e["at"] > since for e in newest):
                return True
        except Exception:
            logger.warning("could not tell whether a sign-in comes from a new device", exc_info=True)
        await events().update_one({"_id": summary_id}, {"$set": {"detail.new_device": False}})
        return False


def place_id(user_id: PydanticObjectId, device: str, network: str) -> ObjectId:
    """The `_id` of an account's summary of sign-ins from `device` on `network`."""
    return ObjectId(hashlib.sha256(f"sign_in:{user_id}:{device}:{network}".encode()).digest()[:12])


def _field(name: str) -> str:
    """`name` as a field name of `detail.methods`: no dots, no leading `$`."""
    return name.replace(".", "_").lstrip("$") or "unknown"
