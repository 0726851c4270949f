"""The development mailbox: without SMTP, mail is kept here; in development GET /dev/outbox lists it.

Each message is an .eml file in `DATA_DIR/outbox` (open it in any mail program). The log gets one
line per message: in development with the link, ready to click; otherwise only the user's id.
"""

import logging
import re
import secrets
from collections.abc import Sequence
from datetime import UTC, datetime
from email import policy
from email.message import EmailMessage
from email.parser import BytesParser
from email.utils import parsedate_to_datetime
from pathlib import Path

from anyio import to_thread
from fastapi import APIRouter
from pydantic import BaseModel

from backend.config import Settings
from backend.core.email_address import normalize_email
from backend.core.mail.delivery import Letter
from backend.core.modules import Module
from backend.core.openapi import NO_DATABASE

logger = logging.getLogger(__name__)

LINK = re.compile(r"https?://\S+")


class DevMailbox:
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


class OutboxMessage(BaseModel):
    id: str
    to: str
    subject: str
    date: datetime
    text: str
    html: str
    links: list[str]


def get_dev_mailbox_router(outbox: DevMailbox) -> APIRouter:
    """Development only: the messages the app would have mailed."""
    router = APIRouter(prefix="/dev", tags=["development"])

    @router.get("/outbox", response_model=list[OutboxMessage], openapi_extra=NO_DATABASE)
    async def list_outbox(to: str | None = None) -> list[OutboxMessage]:
        """Stored messages, newest first; `to` filters by recipient."""
        messages = []
        for message_id, message in await to_thread.run_sync(outbox.messages):
            if to and normalize_email(to) != normalize_email(str(message["To"] or "")):
                continue
            text = message.get_body(("plain",)).get_content()  # type: ignore[union-attr]
            messages.append(
                OutboxMessage(
                    id=message_id,
                    to=message["To"],
                    subject=message["Subject"],
                    date=parsedate_to_datetime(message["Date"]),
                    text=text,
                    html=message.get_body(("html",)).get_content(),  # type: ignore[union-attr]
                    links=LINK.findall(text),
                )
            )
        return messages

    return router


class DevMailboxModule(Module):
    """`GET /dev/outbox`, in development, while mail stays in the mailbox (no SMTP)."""

    name = "dev_mailbox"

    def __init__(self, mailbox: DevMailbox | None, settings: Settings) -> None:
        self.mailbox = mailbox
        self.development = settings.is_development

    def routers(self) -> Sequence[APIRouter]:
        return [get_dev_mailbox_router(self.mailbox)] if self.mailbox and self.development else []

    async def startup(self) -> None:
        if self.mailbox is not None and not self.development:
            logger.warning(
                "SMTP_HOST is not set: account email stays in %s, undelivered", self.mailbox.folder
            )
