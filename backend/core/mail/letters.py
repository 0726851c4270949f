"""Letters: a feature's account mail, composed from its own templates (HTML and plain text).

Each feature that mails people subclasses `Letters` with its `templates` folder beside it; the
frame every HTML letter extends (`base.html`) is here. Links start with `PUBLIC_URL`, never with
whatever Host a request named, and a link that carries a token is built by `token_link`, which
knows the pages served with `Referrer-Policy: no-referrer`.
"""

from email.message import EmailMessage
from email.utils import formatdate, make_msgid, parseaddr
from pathlib import Path
from typing import Any, ClassVar, Protocol

from jinja2 import ChoiceLoader, Environment, FileSystemLoader, select_autoescape

from backend.config import Settings
from backend.core.clock import utcnow
from backend.core.mail.delivery import Letter, Postman
from backend.core.token_pages import token_link

FRAME = Path(__file__).parent / "templates"


class Recipient(Protocol):
    """Whom a letter is for: an account's id (for log lines) and its address."""

    @property
    def id(self) -> Any: ...

    @property
    def email(self) -> str: ...


class Letters:
    """Renders `templates/<name>.{txt,html}` of a feature and hands the message to the postman."""

    templates: ClassVar[Path]  # the feature's folder

    def __init__(self, settings: Settings, postman: Postman) -> None:
        self.base_url = settings.base_url
        self.sender = settings.mail_from
        self.domain = parseaddr(settings.mail_from)[1].rpartition("@")[2] or "localhost"
        self.postman = postman
        self.environment = Environment(
            loader=ChoiceLoader([FileSystemLoader(self.templates), FileSystemLoader(FRAME)]),
            autoescape=select_autoescape(["html"]),
            keep_trailing_newline=True,
        )

    def token_link(self, page: str, token: str) -> str:
        return token_link(self.base_url, page, token=token)

    async def send(
        self,
        user: Recipient,
        subject: str,
        template: str,
        *,
        to: str | None = None,
        link: str | None = None,
        **context: Any,
    ) -> None:
        """Mail `user`, at their address or at `to`: queued before this returns."""
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
        message.set_content(self.environment.get_template(f"{template}.txt").render(context))
        message.add_alternative(
            self.environment.get_template(f"{template}.html").render(context), subtype="html"
        )
        await self.postman.send(Letter(message, str(user.id), link))


def duration(seconds: int) -> str:
    """'15 minutes', '1 hour', '2 hours': how long a link works, in whole units."""
    count, unit = (seconds // 3600, "hour") if seconds % 3600 == 0 else (seconds // 60, "minute")
    return f"{count} {unit}{'s' if count != 1 else ''}"
