"""Mail waits in MongoDB until it is sent: sealed at rest, claimed by one instance at a time,
retried with back-off, kept a while with its error when it keeps failing, and not lost when the
process that answered dies (a real process, SIGKILLed)."""

import asyncio
import logging
import os
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta
from email.message import EmailMessage
from pathlib import Path
from typing import Any

import httpx
import pytest
from aiosmtpd.controller import Controller
from cryptography.fernet import InvalidToken
from pymongo import MongoClient

from backend.config import REPO_ROOT, Settings
from backend.core.clock import utcnow
from backend.core.embedded_db import free_port
from backend.core.mail.delivery import Letter, Postman
from backend.core.mail.queue import QueuedMail, mail_sealer, seal, unseal
from backend.tests.conftest import TEST_SECRET, Server, ServerFactory
from backend.tests.helpers import PASSWORD, register
from backend.tests.user.test_mail import Inbox, smtp_settings

OTHER_SECRET = "another-secret-0123456789-abcdefghijklmnopqrstuv"


@pytest.fixture
def inbox() -> Iterator[Inbox]:
    server = Inbox()
    server.controller.start()
    yield server
    server.controller.stop()


def postman_of(server: Server) -> Postman:
    return server.app.state.modules["mail_queue"].postman


def queue() -> Any:
    return QueuedMail.get_pymongo_collection()


async def queued(count: int, until: Any = lambda doc: True) -> list[dict[str, Any]]:
    for _ in range(400):
        docs = [doc async for doc in queue().find({})]
        if len([doc for doc in docs if until(doc)]) >= count:
            return docs
        await asyncio.sleep(0.025)
    raise AssertionError(f"the queue holds {docs}")


def letter(number: int) -> Letter:
    message = EmailMessage()
    message["Subject"] = f"letter {number}"
    message["From"] = "auth@farm.test"
    message["To"] = f"person{number}@example.com"
    message["Message-ID"] = f"<{number}.{uuid.uuid4().hex}@farm.test>"
    message.set_content(f"https://farm.test/reset-password?token=secret-{number}")
    return Letter(message, f"user-{number}", f"https://farm.test/reset-password?token=secret-{number}")


async def test_a_queued_letter_is_sealed_and_opens_with_any_configured_secret(
    make_server: ServerFactory,
) -> None:
    closed = free_port()  # nothing listens: the letter stays queued
    async with make_server(
        smtp_host="127.0.0.1", smtp_port=closed, smtp_security="none", mail_retry_delay_seconds=60
    ) as server:
        await register(server.client(), "sealed@example.com")  # its verification mail is queued
        [doc] = await queued(1, lambda doc: doc["error"])
        assert set(doc) <= {
            "_id",
            "recipient_id",
            "sealed",
            "queued_at",
            "due_at",
            "attempts",
            "error",
            "expires_at",
        }
        assert b"sealed@example.com" not in doc["sealed"] and b"token" not in doc["sealed"]
        assert doc["expires_at"] - doc["queued_at"] == timedelta(hours=72)
        assert doc["attempts"] == 1 and "Connect" in doc["error"]
        assert doc["due_at"] > utcnow() + timedelta(seconds=25)  # 60 s, jittered

        message, link = unseal(mail_sealer(server.settings), doc["sealed"])
        assert message["Subject"] == "Verify your email address" and message["To"] == "sealed@example.com"
        assert link and "token=" in link
        # Rotation: a new first secret seals, the old one still opens what was sealed before.
        rotated = Settings(environment="development", jwt_secret_keys=[OTHER_SECRET, TEST_SECRET])
        assert unseal(mail_sealer(rotated), doc["sealed"])[0]["Subject"] == "Verify your email address"
        with pytest.raises(InvalidToken):
            unseal(
                mail_sealer(Settings(environment="development", jwt_secret_keys=[OTHER_SECRET])),
                doc["sealed"],
            )


async def test_two_instances_claiming_at_once_deliver_one_copy_each(
    make_server: ServerFactory, inbox: Inbox
) -> None:
    async with (
        make_server(**smtp_settings(inbox)) as first,
        make_server(share_with=first, **smtp_settings(inbox)) as second,
    ):
        sealer, now = mail_sealer(first.settings), utcnow()
        await queue().insert_many(
            [
                {
                    "recipient_id": f"user-{n}",
                    "sealed": seal(sealer, letter(n).message, letter(n).link),
                    "queued_at": now,
                    "due_at": now,
                    "attempts": 0,
                    "error": "",
                    "expires_at": now + timedelta(hours=1),
                }
                for n in range(40)
            ]
        )
        postman_of(first).wake.set()  # both at once, on the same letters
        postman_of(second).wake.set()
        await inbox.wait_for(40)
        await asyncio.sleep(0.5)  # a second copy would arrive by now
        ids = [message["Message-ID"] for message in inbox.messages]
        assert len(ids) == 40 and len(set(ids)) == 40
        assert await queue().count_documents({}) == 0


async def test_a_letter_held_by_an_instance_that_died_is_sent_by_another_once_its_lease_is_over(
    make_server: ServerFactory, inbox: Inbox
) -> None:
    # A claim lasts twice the send timeout: 2 s here.
    settings = smtp_settings(inbox, mail_send_timeout_seconds=1)
    async with make_server(**settings) as dying, make_server(share_with=dying, **settings) as survivor:
        sealer, now = mail_sealer(dying.settings), utcnow()
        await queue().insert_one(
            {
                "recipient_id": "user-1",
                "sealed": seal(sealer, letter(1).message, letter(1).link),
                "queued_at": now,
                "due_at": now,
                "attempts": 0,
                "error": "",
                "expires_at": now + timedelta(hours=1),
            }
        )
        held = await postman_of(dying).claim()  # and then it dies: never sends, never lets go
        assert held is not None and held["attempts"] == 1
        assert await postman_of(survivor).claim() is None  # held: nobody else may take it
        postman_of(survivor).wake.set()
        await asyncio.sleep(0.5)
        assert inbox.messages == []
        [message] = await inbox.wait_for(1)  # the survivor looks again when the lease runs out
        assert message["Subject"] == "letter 1"
        assert await queue().count_documents({}) == 0


async def test_a_letter_that_keeps_failing_is_kept_a_while_with_its_error_and_never_claimed_again(
    make_server: ServerFactory, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO)
    closed = free_port()
    async with make_server(
        smtp_host="127.0.0.1", smtp_port=closed, smtp_security="none", mail_retry_attempts=3
    ) as server:
        await register(server.client(), "unlucky@example.com")
        [doc] = await queued(1, lambda doc: "failed_at" in doc)
        assert "due_at" not in doc and "lease" not in doc  # no claim matches it again
        assert doc["attempts"] == 3 and "Connect" in doc["error"]
        assert doc["expires_at"] > utcnow() + timedelta(hours=71)  # then the TTL index removes it
        assert await postman_of(server).claim() is None
        assert "gave up sending 'Verify your email address'" in caplog.text
        sending = [r.getMessage() for r in caplog.records if r.name == "backend.core.mail.delivery"]
        assert len(sending) == 4 and not any("token" in line or "unlucky" in line for line in sending)
        index = (await queue().index_information())["expiry"]
        assert index["expireAfterSeconds"] == 0


async def test_retries_back_off_exponentially_with_jitter() -> None:
    postman = Postman(
        None,  # type: ignore[arg-type]
        sealer=mail_sealer(Settings(environment="development", jwt_secret_key=TEST_SECRET)),
        attempts=20,
        delay_seconds=2,
        lease_seconds=60,
        keep=timedelta(hours=1),
    )
    for attempt, base in [(1, 2), (2, 4), (3, 8), (12, 3600), (19, 3600)]:
        waits = [postman.backoff(attempt) for _ in range(200)]
        assert all(0.5 * base <= wait < 1.5 * base for wait in waits), (attempt, min(waits), max(waits))
        assert max(waits) - min(waits) > 0.5 * base  # jittered, not one fixed delay


# The kill test: real processes on the wire database, SIGKILLed between the answer and the send.


@contextmanager
def app_process(env: dict[str, str]) -> Iterator[tuple[subprocess.Popen[str], httpx.Client]]:
    port = free_port()
    process = subprocess.Popen(
        [sys.executable, "-m", "backend.serve"],
        cwd=REPO_ROOT,
        env={**env, "PORT": str(port)},
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    client = httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=30)
    try:
        deadline = time.monotonic() + 90
        while True:
            assert process.poll() is None, process.stdout.read()  # type: ignore[union-attr]
            try:
                if client.get("/health/ready").status_code == 200:
                    break
            except httpx.TransportError:
                pass
            assert time.monotonic() < deadline, "the app did not come up"
            time.sleep(0.1)
        yield process, client
    finally:
        client.close()
        if process.poll() is None:
            process.send_signal(signal.SIGINT)
            try:
                process.communicate(timeout=30)
            except subprocess.TimeoutExpired:
                process.kill()
                process.communicate()


def test_mail_survives_a_process_killed_after_answering(wire_url: str, tmp_path: Path) -> None:
    smtp_port, database = free_port(), f"test_kill_{uuid.uuid4().hex[:8]}"
    env = {key: value for key, value in os.environ.items() if key in ("PATH", "HOME", "LANG")}
    env |= {
        "ENVIRONMENT": "development",
        "DATA_DIR": str(tmp_path),
        "MONGODB_URL": wire_url,
        "MONGODB_DB": database,
        "JWT_SECRET_KEY": TEST_SECRET,  # both instances: what one sealed the other opens
        "PUBLIC_URL": "https://farm.test",
        "SMTP_HOST": "127.0.0.1",
        "SMTP_PORT": str(smtp_port),  # nothing listens there yet
        "SMTP_SECURITY": "none",
        "MAIL_RETRY_DELAY_SECONDS": "0.5",
        "RATE_LIMIT_ENABLED": "false",
    }
    mongo: MongoClient[dict[str, Any]] = MongoClient(wire_url)
    waiting = mongo[database]["mail_queue"]
    smtp = Inbox()
    smtp.port = smtp_port
    smtp.controller = Controller(smtp, hostname="127.0.0.1", port=smtp_port)
    started = False
    try:
        with app_process(env) as (first, client):
            # Registering queues the verification mail before answering: kill at once.
            response = client.post(
                "/auth/register", json={"email": "killed@example.com", "password": PASSWORD}
            )
            assert response.status_code == 201, response.text
            first.send_signal(signal.SIGKILL)
            first.wait()
        assert waiting.count_documents({}) == 1

        with app_process(env) as (first, client):
            # Forgot-password answers first and queues after the lookup: kill once it tried to send.
            assert (
                client.post("/auth/forgot-password", json={"email": "killed@example.com"}).status_code == 202
            )
            deadline = time.monotonic() + 30
            while waiting.count_documents({"attempts": {"$gte": 1}}) < 2:
                assert time.monotonic() < deadline, list(waiting.find({}, {"sealed": 0}))
                time.sleep(0.05)
            first.send_signal(signal.SIGKILL)
            first.wait()
        assert waiting.count_documents({}) == 2

        smtp.controller.start()
        started = True
        with app_process(env):
            deadline = time.monotonic() + 60
            while len(smtp.messages) < 2 or waiting.count_documents({}):
                assert time.monotonic() < deadline, (smtp.messages, list(waiting.find({}, {"sealed": 0})))
                time.sleep(0.1)
            time.sleep(1.5)  # a second copy (a retry of a letter already sent) would be here by now
        subjects = sorted(str(message["Subject"]) for message in smtp.messages)
        assert subjects == ["Reset your password", "Verify your email address"]  # each once
    finally:
        if started:
            smtp.controller.stop()
        mongo.drop_database(database)
        mongo.close()
