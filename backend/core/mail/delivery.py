"""Mail delivery: where messages go, and sending them without slowing or breaking requests.

Two transports, chosen by settings: SMTP (aiosmtplib) when `SMTP_HOST` is set, otherwise the
development mailbox (dev_mailbox.py), which keeps each message as an .eml file in
`DATA_DIR/outbox`. `Postman` sends in the background with a bounded number of retries and logs
failures with their reason, never with the message (links hold tokens). What a message says is
its feature's business (letters.py renders each feature's templates).
"""

import asyncio
import logging
from collections.abc import Coroutine
from dataclasses import dataclass
from email.message import EmailMessage
from typing import Any, Protocol

import aiosmtplib

from backend.config import Settings

logger = logging.getLogger(__name__)

SMTP_TIMEOUT_SECONDS = 30
DRAIN_TIMEOUT_SECONDS = 10


@dataclass(frozen=True)
class Letter:
    message: EmailMessage
    recipient_id: str  # for log lines: an id, not an address
    link: str | None = None  # the action link, for the development outbox's log line only


class MailTransport(Protocol):
    async def deliver(self, letter: Letter) -> None: ...


class SmtpTransport:
    def __init__(self, settings: Settings) -> None:
        assert settings.smtp_host is not None
        self.options: dict[str, Any] = {
            "hostname": settings.smtp_host,
            "port": settings.smtp_port_or_default,
            "username": settings.smtp_username,
            "password": settings.smtp_password.get_secret_value() if settings.smtp_password else None,
            "use_tls": settings.smtp_security == "tls",
            "start_tls": settings.smtp_security == "starttls",
            "timeout": SMTP_TIMEOUT_SECONDS,
        }

    async def deliver(self, letter: Letter) -> None:
        await aiosmtplib.send(letter.message, **self.options)


class Postman:
    """Sends in the background: requests answer at once, the same whether sending works or not."""

    def __init__(self, transport: MailTransport, *, attempts: int, delay_seconds: float) -> None:
        self.transport = transport
        self.attempts = attempts
        self.delay_seconds = delay_seconds
        self.pending: set[asyncio.Task[None]] = set()

    def send(self, letter: Letter) -> None:
        self.in_background(self._deliver(letter))

    def in_background(self, job: Coroutine[Any, Any, None]) -> None:
        """Run `job` after the answer has gone, keeping a reference until it ends."""
        task = asyncio.create_task(self._logged(job))
        self.pending.add(task)
        task.add_done_callback(self.pending.discard)

    @staticmethod
    async def _logged(job: Coroutine[Any, Any, None]) -> None:
        try:
            await job
        except Exception:  # a background failure has no request to answer: log it
            logger.exception("account email: background work failed")

    async def _deliver(self, letter: Letter) -> None:
        subject, recipient_id = letter.message["Subject"], letter.recipient_id
        for attempt in range(1, self.attempts + 1):
            try:
                await self.transport.deliver(letter)
                return
            except Exception as exc:  # every failure is logged and retried, none reaches a request
                reason = f"{type(exc).__name__}: {exc}"
                logger.warning(
                    "sending %r to user %s failed (attempt %d of %d): %s",
                    subject,
                    recipient_id,
                    attempt,
                    self.attempts,
                    reason,
                )
            if attempt < self.attempts:
                await asyncio.sleep(self.delay_seconds * 2 ** (attempt - 1))
        logger.error("gave up sending %r to user %s after %d attempts", subject, recipient_id, self.attempts)

    async def drain(self) -> None:
        """At shutdown: let sends in flight finish, for a while."""
        if self.pending:
            await asyncio.wait(list(self.pending), timeout=DRAIN_TIMEOUT_SECONDS)
