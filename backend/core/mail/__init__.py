"""Account mail: delivery (delivery.py) from a queue in MongoDB (queue.py), the development
mailbox (dev_mailbox.py), and letters rendered from each feature's own templates (letters.py)."""

from datetime import timedelta

from backend.config import Settings
from backend.core.mail.delivery import MailTransport, Postman, SmtpTransport
from backend.core.mail.dev_mailbox import DevMailbox
from backend.core.mail.queue import mail_sealer


def build_postman(settings: Settings) -> tuple[Postman, DevMailbox | None]:
    """The postman the settings ask for, and the development mailbox when that is where mail goes."""
    mailbox = None
    if settings.smtp_host:
        transport: MailTransport = SmtpTransport(settings)
    else:
        transport = mailbox = DevMailbox(settings.data_dir / "outbox", reveal_links=settings.is_development)
    postman = Postman(
        transport,
        sealer=mail_sealer(settings),
        attempts=settings.mail_retry_attempts,
        delay_seconds=settings.mail_retry_delay_seconds,
        # A claim outlasts the longest send, so no other instance takes a letter still being sent.
        lease_seconds=2 * settings.mail_send_timeout_seconds,
        keep=timedelta(hours=settings.mail_queue_retention_hours),
    )
    return postman, mailbox
