"""The mail queue: letters wait in MongoDB (`mail_queue`) until one instance has sent them.

Sending a letter inserts it (majority write, before the request answers), sealed: its contents
hold live links, so what is stored is a Fernet token (MultiFernet: sealed with a key derived from
the first of `JWT_SECRET_KEYS`, opened with any of them, so a rotation never strands a message).
Only the recipient's id, the times and the attempt count are in the clear.

Every instance runs the delivery loop (delivery.py): it claims a due message with one
`find_one_and_update` that moves its `due_at` a lease ahead (twice `MAIL_SEND_TIMEOUT_SECONDS`)
and stamps a lease id, so two instances never hold one message at once; it sends, then deletes
it. A failed attempt sets `due_at` to the next try (exponential back-off with jitter); after
`MAIL_RETRY_ATTEMPTS` the message loses its `due_at` (no claim matches it again) and keeps its
last error. An instance that dies mid-send stops renewing nothing: its lease is just a `due_at`
in the near future, and the next instance to look claims the message then. Every document
expires `MAIL_QUEUE_RETENTION_HOURS` after it was queued (TTL index), sent or not.
"""

import base64
import json
from datetime import datetime
from email import policy
from email.message import EmailMessage
from email.parser import BytesParser

from beanie import Document
from cryptography.fernet import Fernet, MultiFernet
from pymongo import IndexModel

from backend.config import Settings
from backend.core.crypto import derive_secret


class QueuedMail(Document):
    recipient_id: str  # for log lines: an id, not an address
    sealed: bytes  # the message and its link, as a Fernet token (mail_sealer)
    queued_at: datetime
    due_at: datetime | None  # when it may be claimed; absent once it failed for good
    lease: str | None = None  # who holds it while sending
    attempts: int = 0
    error: str = ""  # the last failure's reason (never the message)
    expires_at: datetime  # TTL

    class Settings:
        name = "mail_queue"
        indexes = [
            IndexModel("due_at", name="due"),  # the claim: the oldest due message
            IndexModel("expires_at", expireAfterSeconds=0, name="expiry"),
        ]


def mail_sealer(settings: Settings) -> MultiFernet:
    """Seals with a key derived from the first secret; opens with a key from any of them."""
    keys = [
        Fernet(base64.urlsafe_b64encode(bytes.fromhex(derive_secret(secret, "mail"))))
        for secret in settings.jwt_secrets
    ]
    return MultiFernet(keys)


def seal(sealer: MultiFernet, message: EmailMessage, link: str | None) -> bytes:
    contents = {"message": base64.b64encode(message.as_bytes()).decode(), "link": link}
    return sealer.encrypt(json.dumps(contents).encode())


def unseal(sealer: MultiFernet, sealed: bytes) -> tuple[EmailMessage, str | None]:
    """The message and its link; raises cryptography's InvalidToken when no secret opens it."""
    contents = json.loads(sealer.decrypt(sealed))
    message = BytesParser(policy=policy.default).parsebytes(base64.b64decode(contents["message"]))
    return message, contents["link"]  # type: ignore[return-value]
