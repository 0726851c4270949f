"""Account email over real SMTP (aiosmtpd), and the development outbox."""

import asyncio
import logging
from email import policy
from email.message import EmailMessage
from email.parser import BytesParser
from urllib.parse import parse_qs, urlsplit

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword

from backend.apps.user.models import User
from backend.core.embedded_db import free_port
from backend.tests.conftest import Server
from backend.tests.helpers import PASSWORD, bearer, login, outbox, register, superuser_client

NEW_PASSWORD = "quiet harbour lantern 7"


class Inbox:
    """A real SMTP server on loopback that keeps what it receives."""

    def __init__(self, credentials: tuple[str, str] | None = None) -> None:
        self.messages: list[EmailMessage] = []
        self.envelopes: list[tuple[str, list[str]]] = []
        self.logins: list[str] = []
        self.port = free_port()
        kwargs = {}
        if credentials:
            kwargs = {"authenticator": self._authenticate, "auth_require_tls": False, "auth_required": True}
            self.credentials = credentials
        self.controller = Controller(self, hostname="127.0.0.1", port=self.port, **kwargs)

    def _authenticate(self, server, session, envelope, mechanism, auth_data) -> AuthResult:
        ok = (
            isinstance(auth_data, LoginPassword)
            and (
                auth_data.login.decode(),
                auth_data.password.decode(),
            )
            == self.credentials
        )
        if ok:
            self.logins.append(auth_data.login.decode())
        return AuthResult(success=ok)

    async def handle_DATA(self, server, session, envelope) -> str:
        self.envelopes.append((envelope.mail_from, list(envelope.rcpt_tos)))
        self.messages.append(BytesParser(policy=policy.default).parsebytes(envelope.content))
        return "250 Message accepted"

    async def wait_for(self, count: int, to: str | None = None) -> list[EmailMessage]:
        for _ in range(200):
            found = [m for m in self.messages if to is None or m["To"] == to]
            if len(found) >= count:
                return found
            await asyncio.sleep(0.025)
        raise AssertionError(f"expected {count} messages, got {len(self.messages)}")


@pytest.fixture
def inbox():
    server = Inbox()
    server.controller.start()
    yield server
    server.controller.stop()


def smtp_settings(inbox: Inbox, **extra) -> dict:
    return {
        "smtp_host": "127.0.0.1",
        "smtp_port": inbox.port,
        "smtp_security": "none",
        "mail_from": "FARM Auth <auth@farm.test>",
        **extra,
    }


def token_in(message: EmailMessage, path: str) -> str:
    text = message.get_body(("plain",)).get_content()
    link = next(word for word in text.split() if urlsplit(word).path == path)
    return parse_qs(urlsplit(link).query)["token"][0]


async def test_verification_mail_arrives_with_both_parts(make_server, inbox: Inbox) -> None:
    async with make_server(**smtp_settings(inbox)) as server:
        await register(server.client(), "Arrives@Example.com")

        [message] = await inbox.wait_for(1)

        assert message["From"] == "FARM Auth <auth@farm.test>"
        assert message["To"] == "arrives@example.com"
        assert message["Subject"] == "Verify your email address"
        assert message["Date"] and message["Message-ID"].endswith("@farm.test>")
        assert message["Auto-Submitted"] == "auto-generated"
        assert message.get_content_type() == "multipart/alternative"
        text = message.get_body(("plain",)).get_content()
        html = message.get_body(("html",)).get_content()
        token = token_in(message, "/verify")
        assert f"https://farm.test/verify?token={token}" in text
        assert f'href="https://farm.test/verify?token={token}"' in html
        assert inbox.envelopes == [("auth@farm.test", ["arrives@example.com"])]


async def test_register_then_verify_through_the_mailed_link(make_server, inbox: Inbox) -> None:
    async with make_server(**smtp_settings(inbox)) as server:
        client = server.client()
        await register(client, "verifier@example.com")
        mail = (await inbox.wait_for(1))[0]
        token = token_in(mail, "/verify")
        # An account nobody proved yet: the mail says so, and how to refuse it.
        assert "/verify/not-me?token=" in mail.get_body(("plain",)).get_content()

        # Not signed in here: the account's password completes the link.
        response = await client.post("/auth/verify", json={"token": token, "password": PASSWORD})

        assert response.status_code == 200 and response.json()["is_verified"] is True


async def test_forgot_reset_and_log_in_with_the_new_password(make_server, inbox: Inbox) -> None:
    async with make_server(**smtp_settings(inbox)) as server:
        client = server.client()
        await register(client, "forgot@example.com")
        await inbox.wait_for(1)
        # Proved, so the reset is only a reset (on an unproved account it also proves the
        # address and removes what was set up before: tests/auth/flows/test_verification.py).
        await User.get_pymongo_collection().update_one(
            {"email": "forgot@example.com"}, {"$set": {"is_verified": True}}
        )

        assert (
            await client.post("/auth/forgot-password", json={"email": "forgot@example.com"})
        ).status_code == 202
        reset_mail = (await inbox.wait_for(2))[1]
        assert reset_mail["Subject"] == "Reset your password"
        token = token_in(reset_mail, "/reset-password")
        reset = await client.post("/auth/reset-password", json={"token": token, "password": NEW_PASSWORD})

        assert reset.status_code == 200
        await login(client, "forgot@example.com", NEW_PASSWORD)
        notice = (await inbox.wait_for(3))[2]
        assert notice["Subject"] == "Your password was reset"
        assert "token" not in notice.get_body(("plain",)).get_content()
        assert "https://farm.test/forgot-password" in notice.get_body(("plain",)).get_content()


async def test_password_change_sends_a_notice_without_a_token(make_server, inbox: Inbox) -> None:
    async with make_server(**smtp_settings(inbox)) as server:
        client = server.client()
        await register(client, "notice@example.com")
        token = await login(client, "notice@example.com")

        response = await client.post(
            "/users/me/password",
            json={"current_password": PASSWORD, "new_password": NEW_PASSWORD},
            headers=bearer(token),
        )

        assert response.status_code == 200
        notice = (await inbox.wait_for(2))[1]
        assert notice["Subject"] == "Your password was changed"
        for part in [notice.get_body(("plain",)), notice.get_body(("html",))]:
            assert "token=" not in part.get_content()


# aiosmtpd warns that AUTH without TLS is unsafe: true, and fine on loopback in a test.
@pytest.mark.filterwarnings("ignore:Requiring AUTH while not requiring TLS")
async def test_smtp_credentials_are_used(make_server) -> None:
    inbox = Inbox(credentials=("mailer", "s3cret-pass"))
    inbox.controller.start()
    try:
        async with make_server(
            **smtp_settings(inbox, smtp_username="mailer", smtp_password="s3cret-pass")
        ) as server:
            await register(server.client(), "authed@example.com")
            await inbox.wait_for(1)
            assert inbox.logins == ["mailer"]
    finally:
        inbox.controller.stop()


async def test_links_ignore_the_host_header(make_server, inbox: Inbox) -> None:
    async with make_server(**smtp_settings(inbox)) as server:
        client = server.client(headers={"Host": "evil.example", "X-Forwarded-Host": "evil.example"})
        await register(client, "hosted@example.com")
        await client.post("/auth/forgot-password", json={"email": "hosted@example.com"})

        for message in await inbox.wait_for(2):
            body = message.get_body(("plain",)).get_content()
            assert "evil.example" not in body
            assert "https://farm.test/" in body


async def test_smtp_down_still_202_and_the_failure_is_logged(make_server, caplog) -> None:
    caplog.set_level(logging.INFO)
    closed_port = free_port()
    async with make_server(
        smtp_host="127.0.0.1", smtp_port=closed_port, smtp_security="none", mail_retry_attempts=3
    ) as server:
        client = server.client()
        await register(client, "unlucky@example.com")

        known = await client.post("/auth/forgot-password", json={"email": "unlucky@example.com"})
        unknown = await client.post("/auth/forgot-password", json={"email": "nobody@example.com"})

        assert known.status_code == unknown.status_code == 202
        assert known.content == unknown.content
        for _ in range(200):
            if caplog.text.count("gave up sending") >= 2:
                break
            await asyncio.sleep(0.025)
        failures = [r.getMessage() for r in caplog.records if "failed (attempt" in r.getMessage()]
        assert len(failures) == 2 * server.settings.mail_retry_attempts
        assert all("Connect" in line or "refused" in line.lower() for line in failures), failures
        assert "Reset your password" in caplog.text
        assert "token" not in " ".join(failures)


async def test_outbox_keeps_messages_and_lists_them_in_development(server: Server) -> None:
    client = server.client()
    await register(client, "outboxed@example.com")
    await client.post("/auth/forgot-password", json={"email": "outboxed@example.com"})

    for _ in range(200):
        messages = await outbox(client, "outboxed@example.com")
        if len(messages) == 2:
            break
        await asyncio.sleep(0.025)

    assert [m["subject"] for m in messages] == ["Reset your password", "Verify your email address"]
    assert messages[0]["links"][0].startswith("https://farm.test/reset-password?token=")
    assert "<html" in messages[0]["html"]
    assert len(list((server.settings.data_dir / "outbox").glob("*.eml"))) == 2
    everything = (await client.get("/dev/outbox")).json()
    assert {m["to"] for m in everything} == {"outboxed@example.com"}


PRODUCTION = {"environment": "production", "realm_app_id": "application-0-abcde"}


async def test_production_keeps_tokens_out_of_logs_and_hides_the_outbox(make_server, caplog) -> None:
    caplog.set_level(logging.DEBUG)
    async with make_server(**PRODUCTION) as server:
        client = server.client()
        await register(client, "private@example.com")
        await client.post("/auth/forgot-password", json={"email": "private@example.com"})
        folder = server.settings.data_dir / "outbox"
        for _ in range(200):
            if len(list(folder.glob("*.eml"))) == 2:
                break
            await asyncio.sleep(0.025)

        assert (await client.get("/dev/outbox")).status_code == 404
        stored = [p.read_text() for p in folder.glob("*.eml")]
        tokens = [
            parse_qs(urlsplit(word).query)["token"][0]
            for text in stored
            for word in text.split()
            if "token=" in word
        ]
        assert tokens
        assert all(token not in caplog.text for token in tokens)
        assert "SMTP_HOST is not set" in caplog.text


async def test_required_verification_blocks_login_and_todos_until_verified(make_server, inbox: Inbox) -> None:
    async with (
        make_server(**smtp_settings(inbox)) as open_door,
        make_server(share_with=open_door, require_verified_login=True, **smtp_settings(inbox)) as strict,
    ):
        client = strict.client()
        await register(client, "unverified@example.com")

        refused = await client.post(
            "/auth/jwt/login", data={"username": "unverified@example.com", "password": PASSWORD}
        )
        assert refused.status_code == 400 and refused.json() == {"detail": "LOGIN_USER_NOT_VERIFIED"}
        # A session from before the rule cannot use the todo API either, and is told why.
        token = await login(open_door.client(), "unverified@example.com")
        blocked = await strict.client().get("/task/", headers=bearer(token))
        assert blocked.status_code == 403
        assert blocked.json()["detail"]["code"] == "USER_NOT_VERIFIED"
        assert "Verify your email address" in blocked.json()["detail"]["reason"]

        verify_token = token_in((await inbox.wait_for(1))[0], "/verify")
        verified = await client.post("/auth/verify", json={"token": verify_token, "password": PASSWORD})
        assert verified.status_code == 200
        token = await login(client, "unverified@example.com")
        assert (await client.get("/task/", headers=bearer(token))).status_code == 200


async def test_a_superusers_change_of_address_is_mailed_to_both(make_server, inbox: Inbox) -> None:
    async with make_server(**smtp_settings(inbox)) as server:
        await register(server.client(), "before@example.com")
        user = await User.find_one(User.email == "before@example.com")
        await user.set({User.is_verified: True})
        admin = await superuser_client(server)

        response = await admin.patch(f"/users/{user.id}", json={"email": "after@example.com"})

        assert response.status_code == 200 and response.json()["is_verified"] is False
        to_new = {m["Subject"] for m in await inbox.wait_for(2, to="after@example.com")}
        assert to_new == {"Verify your email address", "Your email address was changed"}
        [to_old] = [m for m in await inbox.wait_for(2, to="before@example.com") if "changed" in m["Subject"]]
        text = to_old.get_body(("plain",)).get_content()
        assert "from before@example.com to after@example.com by an administrator" in text
