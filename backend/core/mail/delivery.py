"""Mail delivery: where messages go, and sending them without slowing or breaking requests.

Two transports, chosen by settings: SMTP (aiosmtplib) when `SMTP_HOST` is set, otherwise the
development mailbox (dev_mailbox.py), which keeps each message as an .eml file in
`DATA_DIR/outbox`. `Postman` queues each letter in MongoDB (queue.py) and every instance's
delivery loop sends what is due, with a bounded number of retries, logging failures with their
reason, never with the message (links hold tokens). What a message says is its feature's
business (letters.py renders each feature's templates).
"""

import asyncio
import contextlib
import logging
import random
import uuid
from collections.abc import Awaitable, Callable, Coroutine, Sequence
from dataclasses import dataclass
from datetime import timedelta
from email.message import EmailMessage
from typing import Any, Protocol

import aiosmtplib
from cryptography.fernet import InvalidToken, MultiFernet
from pymongo import ASCENDING, ReturnDocument

from backend.config import Settings
from backend.core.clock import utcnow
from backend.core.mail.queue import QueuedMail, seal, unseal
from backend.core.modules import Module

logger = logging.getLogger(__name__)

DRAIN_TIMEOUT_SECONDS = 10
SEND_CONCURRENCY = 8  # letters one instance sends at once
POLL_SECONDS = 30  # how often an idle instance looks for what others left
MAX_DELAY_SECONDS = 3600  # the longest wait between two attempts


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
            "timeout": settings.mail_send_timeout_seconds,
        }

    async def deliver(self, letter: Letter) -> None:
        await aiosmtplib.send(letter.message, **self.options)


class Postman:
    """Queues letters durably and delivers them from the queue (queue.py), in every instance.

    Requests answer at once, the same whether sending works or not: `send` only inserts the
    sealed letter (the request waits for that write, so a crash after the answer loses nothing)
    and wakes this instance's delivery loop (`run`). `in_background` runs work after the answer
    (the lookups of forgot-password and sign-in links, so every address answers alike in time);
    that work ends in `send`.
    """

    def __init__(
        self,
        transport: MailTransport,
        *,
        sealer: MultiFernet,
        attempts: int,
        delay_seconds: float,
        lease_seconds: float,
        keep: timedelta,
    ) -> None:
        self.transport = transport
        self.sealer = sealer
        self.attempts = attempts
        self.delay_seconds = delay_seconds
        self.lease = timedelta(seconds=lease_seconds)
        self.keep = keep
        self.pending: set[asyncio.Task[None]] = set()  # work after an answer
        self.sending: set[asyncio.Task[None]] = set()  # deliveries of claimed letters
        self.wake = asyncio.Event()

    async def send(self, letter: Letter) -> None:
        """Queue `letter` (sealed; majority write, the client's write concern: db.py)."""
        now = utcnow()
        await QueuedMail.get_pymongo_collection().insert_one(
            {
                "recipient_id": letter.recipient_id,
                "sealed": seal(self.sealer, letter.message, letter.link),
                "queued_at": now,
                "due_at": now,
                "attempts": 0,
                "error": "",
                "expires_at": now + self.keep,
            }
        )
        self.wake.set()

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

    async def run(self) -> None:
        """The delivery loop: claim what is due, send up to SEND_CONCURRENCY at once, then wait to
        be woken (a letter queued here, a retry of this instance falling due), or until the next
        letter is due (what other instances left: their retries, the lease of one that died), or
        POLL_SECONDS (letters other instances queue meanwhile are theirs to send, unless they die)."""
        slots = asyncio.Semaphore(SEND_CONCURRENCY)
        try:
            while True:
                self.wake.clear()
                try:
                    while True:
                        await slots.acquire()
                        claimed = await self.claim()
                        if claimed is None:
                            slots.release()
                            break
                        task = asyncio.create_task(self._logged(self._deliver(claimed)))
                        self.sending.add(task)
                        task.add_done_callback(lambda done: (self.sending.discard(done), slots.release()))
                except Exception as exc:  # the database is away: try again later
                    slots.release()
                    logger.warning("mail queue: could not claim a message: %s", type(exc).__name__)
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self.wake.wait(), await self._idle_seconds())
        finally:  # shutting down: let sends in flight finish, for a while; the rest stays queued
            if self.sending:
                await asyncio.wait(list(self.sending), timeout=DRAIN_TIMEOUT_SECONDS)
            for task in self.sending:
                task.cancel()  # its lease runs out and another instance sends it

    async def _idle_seconds(self) -> float:
        """Until the next letter falls due (another instance's retry, a lease running out), at most
        POLL_SECONDS (what is queued meanwhile by another instance)."""
        now = utcnow()
        try:
            upcoming = await QueuedMail.get_pymongo_collection().find_one(
                {"due_at": {"$gt": now}}, {"due_at": 1}, sort=[("due_at", ASCENDING)]
            )
        except Exception:  # the database is away: look again later
            return POLL_SECONDS
        if upcoming is None:
            return POLL_SECONDS
        return min(max((upcoming["due_at"] - now).total_seconds(), 0.0) + 0.01, POLL_SECONDS)

    async def claim(self) -> dict[str, Any] | None:
        """The oldest due letter, now held by this instance for a lease (one atomic update: two
        instances never both hold it)."""
        now = utcnow()
        return await QueuedMail.get_pymongo_collection().find_one_and_update(
            {"due_at": {"$lte": now}},
            {"$set": {"due_at": now + self.lease, "lease": uuid.uuid4().hex}, "$inc": {"attempts": 1}},
            sort=[("due_at", ASCENDING)],
            return_document=ReturnDocument.AFTER,
        )

    async def _deliver(self, claimed: dict[str, Any]) -> None:
        collection = QueuedMail.get_pymongo_collection()
        recipient_id, attempt = claimed["recipient_id"], claimed["attempts"]
        held = {"_id": claimed["_id"], "lease": claimed["lease"]}
        try:
            message, link = unseal(self.sealer, claimed["sealed"])
        except InvalidToken:  # sealed with a secret no longer in JWT_SECRET_KEYS: it never will open
            await self._give_up(held, "sealed with a secret that is no longer configured")
            logger.error("mail to user %s cannot be opened: its secret was removed; dropped", recipient_id)
            return
        subject = message["Subject"]
        try:
            await self.transport.deliver(Letter(message, recipient_id, link))
        except Exception as exc:  # every failure is logged and retried, none reaches a request
            reason = f"{type(exc).__name__}: {exc}"[:500]
            logger.warning(
                "sending %r to user %s failed (attempt %d of %d): %s",
                subject,
                recipient_id,
                attempt,
                self.attempts,
                reason,
            )
            if attempt >= self.attempts:
                await self._give_up(held, reason)
                logger.error(
                    "gave up sending %r to user %s after %d attempts", subject, recipient_id, attempt
                )
                return
            delay = self.backoff(attempt)
            await collection.update_one(
                held,
                {
                    "$set": {"due_at": utcnow() + timedelta(seconds=delay), "error": reason},
                    "$unset": {"lease": ""},
                },
            )
            asyncio.get_running_loop().call_later(delay, self.wake.set)
            return
        await collection.delete_one({"_id": claimed["_id"]})  # sent: whoever holds it now need not

    def backoff(self, attempt: int) -> float:
        """The wait after failed attempt `attempt`: doubled each time, at most MAX_DELAY_SECONDS,
        times a random factor in [0.5, 1.5) so instances that failed together retry apart."""
        base = min(self.delay_seconds * 2 ** (attempt - 1), MAX_DELAY_SECONDS)
        return base * (0.5 + random.random())  # noqa: S311 (jitter, not a secret)

    @staticmethod
    async def _give_up(held: dict[str, Any], reason: str) -> None:
        """Kept, with its error, until its TTL; no claim matches a letter without `due_at`."""
        await QueuedMail.get_pymongo_collection().update_one(
            held, {"$set": {"error": reason, "failed_at": utcnow()}, "$unset": {"due_at": "", "lease": ""}}
        )

    async def drain(self) -> None:
        """At shutdown: let work after answers finish (it queues its letters), for a while."""
        if self.pending:
            await asyncio.wait(list(self.pending), timeout=DRAIN_TIMEOUT_SECONDS)


class MailQueueModule(Module):
    """The queue's collection (queue.py), and the delivery loop every instance runs."""

    name = "mail_queue"
    documents = (QueuedMail,)

    def __init__(self, postman: Postman) -> None:
        self.postman = postman

    def background(self) -> Sequence[Callable[[], Awaitable[None]]]:
        return (self.postman.run,)
