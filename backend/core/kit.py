"""The kit every module is built with: the settings, and the services all share."""

from dataclasses import dataclass

from backend.config import Settings
from backend.core.hashing import HashingPool
from backend.core.mail import build_postman
from backend.core.mail.delivery import Postman
from backend.core.mail.dev_mailbox import DevMailbox
from backend.core.migrations import Schema
from backend.core.proxies import ProxyNotice, TrustedProxies
from backend.core.ratelimit import RateLimiter


@dataclass(frozen=True)
class Kit:
    """What every module is built with."""

    settings: Settings
    postman: Postman
    mailbox: DevMailbox | None  # where mail goes without SMTP
    limiter: RateLimiter
    hashing: HashingPool
    proxies: ProxyNotice  # who is trusted to say the client's address, and who was not
    schema: Schema  # the indexes and data migrations the modules need (filled in by main.py)

    @classmethod
    def from_settings(cls, settings: Settings) -> "Kit":
        postman, mailbox = build_postman(settings)
        return cls(
            settings=settings,
            postman=postman,
            mailbox=mailbox,
            limiter=RateLimiter(settings.rate_limit_enabled),
            hashing=HashingPool.from_settings(settings),
            proxies=ProxyNotice(
                TrustedProxies(settings.trusted_proxies), production=not settings.is_development
            ),
            schema=Schema(declared={}),
        )
