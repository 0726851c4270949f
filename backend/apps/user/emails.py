"""Account email: what is sent, composed from templates (HTML and plain text).

Links start with `PUBLIC_URL` and point at the frontend's routes (`/verify?token=...`,
`/reset-password?token=...`, `/sign-in/link?token=...`), never at whatever Host a request named.
Security notices (password changed or reset) carry no token.
"""

from email.message import EmailMessage
from email.utils import formatdate, make_msgid, parseaddr
from pathlib import Path
from typing import Any
from urllib.parse import quote

from jinja2 import Environment, FileSystemLoader, select_autoescape

from backend.apps.user.models import User
from backend.config import Settings
from backend.core.clock import utcnow
from backend.core.mail import Letter, OutboxTransport, Postman, SmtpTransport

TEMPLATES = Path(__file__).parent / "templates"


class AccountMailer:
    def __init__(self, settings: Settings, postman: Postman) -> None:
        self.base_url = settings.base_url
        self.sender = settings.mail_from
        self.domain = parseaddr(settings.mail_from)[1].rpartition("@")[2] or "localhost"
        self.postman = postman
        self.templates = Environment(
            loader=FileSystemLoader(TEMPLATES),
            autoescape=select_autoescape(["html"]),
            keep_trailing_newline=True,
        )

    async def send_verification(self, user: User, token: str, valid_for_seconds: int) -> None:
        link = f"{self.base_url}/verify?token={quote(token)}"
        self._send(user, "Verify your email address", "verify", link=link, hours=valid_for_seconds // 3600)

    async def send_password_reset(self, user: User, token: str, valid_for_seconds: int) -> None:
        link = f"{self.base_url}/reset-password?token={quote(token)}"
        self._send(user, "Reset your password", "reset_password", link=link, hours=valid_for_seconds // 3600)

    async def send_sign_in_link(self, user: User, token: str, valid_for_seconds: int) -> None:
        link = f"{self.base_url}/sign-in/link?token={quote(token)}"
        self._send(
            user, "Your sign-in link", "sign_in_link", link=link, valid_for=_duration(valid_for_seconds)
        )

    async def send_password_changed(self, user: User) -> None:
        self._send(user, "Your password was changed", "password_changed", how="changed")

    async def send_password_was_reset(self, user: User) -> None:
        self._send(user, "Your password was reset", "password_changed", how="reset")

    async def send_security_notice(self, user: User, subject: str, what: str) -> None:
        """A change to how the account signs in (a provider linked or unlinked, ...)."""
        self._send(user, subject, "security_notice", what=what)

    def _send(
        self, user: User, subject: str, template: str, *, link: str | None = None, **context: Any
    ) -> None:
        context |= {
            "subject": subject,
            "email": user.email,
            "link": link,
            "base_url": self.base_url,
            "when": f"{utcnow():%Y-%m-%d %H:%M}",
        }
        message = EmailMessage()
        message["Subject"] = subject
        message["From"] = self.sender
        message["To"] = user.email
        message["Date"] = formatdate(usegmt=True)
        message["Message-ID"] = make_msgid(domain=self.domain)
        message["Auto-Submitted"] = "auto-generated"
        message.set_content(self.templates.get_template(f"{template}.txt").render(context))
        message.add_alternative(
            self.templates.get_template(f"{template}.html").render(context), subtype="html"
        )
        self.postman.send(Letter(message, str(user.id), link))


def _duration(seconds: int) -> str:
    """'15 minutes', '1 hour', '2 hours': how long a link works, in whole units."""
    count, unit = (seconds // 3600, "hour") if seconds % 3600 == 0 else (seconds // 60, "minute")
    return f"{count} {unit}{'s' if count != 1 else ''}"


def build_mailer(settings: Settings) -> tuple[AccountMailer, OutboxTransport | None]:
    """The mailer the settings ask for, and the outbox when that is where mail goes."""
    outbox = None
    if settings.smtp_host:
        transport: SmtpTransport | OutboxTransport = SmtpTransport(settings)
    else:
        transport = outbox = OutboxTransport(
            settings.data_dir / "outbox", reveal_links=settings.is_development
        )
    postman = Postman(
        transport, attempts=settings.mail_retry_attempts, delay_seconds=settings.mail_retry_delay_seconds
    )
    return AccountMailer(settings, postman), outbox
