"""Account email: what is sent, composed from templates (HTML and plain text).

Links start with `PUBLIC_URL` and point at the frontend's routes (`/verify?token=...`,
`/verify/not-me?token=...`, `/reset-password?token=...`, `/sign-in/link?token=...`,
`/email-change/confirm?token=...` and `/email-change/cancel?token=...`), never at whatever Host a
request named; a link with a token is built by `token_link`, which knows the pages served with
`Referrer-Policy: no-referrer`. Security notices (password changed or reset, address changed,
account deleted) carry no token.
"""

from datetime import datetime
from email.message import EmailMessage
from email.utils import formatdate, make_msgid, parseaddr
from pathlib import Path
from typing import Any

from jinja2 import Environment, FileSystemLoader, select_autoescape

from backend.apps.user.models import User
from backend.config import Settings
from backend.core.clock import utcnow
from backend.core.mail import Letter, OutboxTransport, Postman, SmtpTransport
from backend.core.token_pages import token_link

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

    async def send_verification(
        self,
        user: User,
        token: str,
        valid_for_seconds: int,
        *,
        decline_token: str | None = None,
        deleted_on: datetime | None = None,
        reminder: bool = False,
    ) -> None:
        """The link that proves the address. For an account nobody ever proved, `decline_token`
        makes the "this wasn't me" link and `deleted_on` says when it goes unless proved;
        `reminder`: the last mail before then."""
        subject = "Verify your email address or this account will be deleted" if reminder else None
        self._send(
            user,
            subject or "Verify your email address",
            "verify",
            link=self.token_link("/verify", token),
            decline_link=self.token_link("/verify/not-me", decline_token) if decline_token else None,
            deleted_on=f"{deleted_on:%Y-%m-%d}" if deleted_on else None,
            reminder=reminder,
            hours=valid_for_seconds // 3600,
        )

    async def send_password_reset(self, user: User, token: str, valid_for_seconds: int) -> None:
        link = self.token_link("/reset-password", token)
        self._send(user, "Reset your password", "reset_password", link=link, hours=valid_for_seconds // 3600)

    async def send_sign_in_link(self, user: User, token: str, valid_for_seconds: int) -> None:
        link = self.token_link("/sign-in/link", token)
        self._send(
            user, "Your sign-in link", "sign_in_link", link=link, valid_for=_duration(valid_for_seconds)
        )

    async def send_address_proved(
        self, user: User, via: str, removed: list[str], *, password_cleared: bool
    ) -> None:
        """The owner of the address got in (`via` says how) before it was proved: what was
        removed of whoever held the account until then, and how to set a password."""
        self._send(
            user,
            "Your address is confirmed: only you can sign in now",
            "address_proved",
            via=via,
            removed=removed,
            password_cleared=password_cleared,
            forgot_link=f"{self.base_url}/forgot-password",
        )

    async def send_password_changed(self, user: User) -> None:
        self._send(user, "Your password was changed", "password_changed", how="changed")

    async def send_password_was_reset(self, user: User) -> None:
        self._send(user, "Your password was reset", "password_changed", how="reset")

    async def send_security_notice(self, user: User, subject: str, what: str) -> None:
        """A change to how the account signs in (a provider linked or unlinked, ...)."""
        self._send(user, subject, "security_notice", what=what)

    async def send_new_device_notice(self, user: User, device: str, ip: str) -> None:
        """A sign-in from a device and network the account has not used lately; the link is the
        sessions page, where that session can be ended."""
        link = f"{self.base_url}/sessions"
        self._send(user, "New sign-in to your account", "new_device", link=link, device=device, ip=ip)

    async def send_email_change_link(
        self, user: User, new_email: str, token: str, valid_for_seconds: int
    ) -> None:
        """To the new address: the link that makes it the account's."""
        link = self.token_link("/email-change/confirm", token)
        self._send(
            user,
            "Confirm your new email address",
            "email_change_confirm",
            to=new_email,
            link=link,
            old_email=user.email,
            valid_for=_duration(valid_for_seconds),
        )

    async def send_email_change_requested(self, user: User, new_email: str, cancel_token: str) -> None:
        """To the current address, at once: the change asked for, and the link that cancels it."""
        link = self.token_link("/email-change/cancel", cancel_token)
        self._send(
            user,
            "Your email address is being changed",
            "email_change_requested",
            link=link,
            new_email=new_email,
        )

    async def send_email_changed(
        self, user: User, to: str, old_email: str, *, by_admin: bool = False
    ) -> None:
        """The account's address is now `user.email` (it was `old_email`): a notice to `to`."""
        self._send(
            user,
            "Your email address was changed",
            "email_changed",
            to=to,
            old_email=old_email,
            new_email=user.email,
            by_admin=by_admin,
        )

    async def send_goodbye(self, user: User) -> None:
        self._send(user, "Your account was deleted", "goodbye")

    def token_link(self, page: str, token: str) -> str:
        return token_link(self.base_url, page, token=token)

    def _send(
        self,
        user: User,
        subject: str,
        template: str,
        *,
        to: str | None = None,
        link: str | None = None,
        **context: Any,
    ) -> None:
        """Mail `user`, at their address or at `to`."""
        to = to or user.email
        context |= {
            "subject": subject,
            "email": to,
            "link": link,
            "base_url": self.base_url,
            "when": f"{utcnow():%Y-%m-%d %H:%M}",
        }
        message = EmailMessage()
        message["Subject"] = subject
        message["From"] = self.sender
        message["To"] = to
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
