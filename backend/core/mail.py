"""Mail delivery: where messages go, and sending them without slowing or breaking requests.

Two transports, chosen by settings: SMTP (aiosmtplib) when `SMTP_HOST` is set, otherwise the
development outbox, which keeps each message as an .eml file in `DATA_DIR/outbox`. `Postman`
sends in the background with a bounded number of retries and logs failures with their reason,
never with the message (links hold tokens).
"""

import asyncio
import logging
import secrets
from collections.abc import Coroutine
from dataclasses import dataclass
from datetime import UTC, datetime
from email import policy
from email.message import EmailMessage
from email.parser import BytesParser
from pathlib import Path
from typing import Any, Protocol

import aiosmtplib
from anyio import to_thread

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


class OutboxTransport:
    """Keeps messages as .eml files; development mode lists them at GET /dev/outbox."""

    def __init__(self, folder: Path, *, reveal_links: bool) -> None:
        self.folder = folder
        self.reveal_links = reveal_links

    async def deliver(self, letter: Letter) -> None:
        name = f"{datetime.now(UTC):%Y%m%dT%H%M%S%f}-{secrets.token_hex(4)}.eml"
        await to_thread.run_sync(self._write, self.folder / name, letter.message.as_bytes())
        if self.reveal_links:
            pointer = letter.link or name
            logger.info(
                "mail to %s (%s) is in the outbox: %s",
                letter.message["To"],
                letter.message["Subject"],
                pointer,
            )
        else:
            logger.info(
                "mail to user %s (%s) is in the outbox: %s",
                letter.recipient_id,
                letter.message["Subject"],
                name,
            )

    @staticmethod
    def _write(path: Path, data: bytes) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)

    def messages(self) -> list[tuple[str, EmailMessage]]:
        """(id, message) for every stored message, newest first."""
        parser = BytesParser(policy=policy.default)
        return [
            (path.stem, parser.parsebytes(path.read_bytes()))  # type: ignore[misc]
            for path in sorted(self.folder.glob("*.eml"), reverse=True)
        ]


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
