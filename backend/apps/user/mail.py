"""Account email: the interface the user manager hands tokens to.

`LogMailSender` is the development stand-in: it logs the link (development mode only) so the
flows can be followed without an SMTP server.
"""

import logging
from typing import Protocol

from backend.apps.user.models import User

logger = logging.getLogger(__name__)


class MailSender(Protocol):
    async def send_verification(self, user: User, token: str) -> None: ...

    async def send_password_reset(self, user: User, token: str) -> None: ...


class LogMailSender:
    def __init__(self, *, reveal_tokens: bool) -> None:
        self.reveal_tokens = reveal_tokens

    async def send_verification(self, user: User, token: str) -> None:
        self._log("verify your address", user, "/verify", token)

    async def send_password_reset(self, user: User, token: str) -> None:
        self._log("reset your password", user, "/reset-password", token)

    def _log(self, subject: str, user: User, path: str, token: str) -> None:
        if self.reveal_tokens:
            logger.info("mail to %s (%s): %s?token=%s", user.email, subject, path, token)
        else:
            logger.warning("mail to user %s (%s) not sent: no mail delivery configured", user.id, subject)
