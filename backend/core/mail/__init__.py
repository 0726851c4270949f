"""Account mail: delivery (delivery.py), the development mailbox (dev_mailbox.py), and letters
rendered from each feature's own templates (letters.py)."""

from backend.config import Settings
from backend.core.mail.delivery import MailTransport, Postman, SmtpTransport
from backend.core.mail.dev_mailbox import DevMailbox


def build_postman(settings: Settings) -> tuple[Postman, DevMailbox | None]:
    """The postman the settings ask for, and the development mailbox when that is where mail goes."""
    mailbox = None
    if settings.smtp_host:
        transport: MailTransport = SmtpTransport(settings)
    else:
        transport = mailbox = DevMailbox(settings.data_dir / "outbox", reveal_links=settings.is_development)
    postman = Postman(
        transport, attempts=settings.mail_retry_attempts, delay_seconds=settings.mail_retry_delay_seconds
    )
    return postman, mailbox
