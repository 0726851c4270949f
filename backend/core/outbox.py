"""Development only: GET /dev/outbox lists the messages the app would have mailed."""

import re
from datetime import datetime
from email.utils import parsedate_to_datetime

from anyio import to_thread
from fastapi import APIRouter
from pydantic import BaseModel

from backend.core.email_address import normalize_email
from backend.core.mail import OutboxTransport
from backend.core.openapi import NO_DATABASE

LINK = re.compile(r"https?://\S+")


class OutboxMessage(BaseModel):
    id: str
    to: str
    subject: str
    date: datetime
    text: str
    html: str
    links: list[str]


def get_outbox_router(outbox: OutboxTransport) -> APIRouter:
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
