"""The mail of the security log: a notice of each change to how an account signs in, and of a
sign-in from a new device. Neither carries a token."""

from pathlib import Path

from backend.apps.user.models import User
from backend.core.mail.letters import Letters


class ActivityLetters(Letters):
    templates = Path(__file__).parent / "templates"

    async def send_security_notice(self, user: User, subject: str, what: str) -> None:
        """A change to how the account signs in (a provider linked or unlinked, a factor, ...)."""
        await self.send(user, subject, "security_notice", what=what)

    async def send_new_device_notice(self, user: User, device: str, ip: str) -> None:
        """A sign-in from a device and network the account has not used lately; the link is the
        sessions page, where that session can be ended."""
        link = f"{self.base_url}/account/sessions"
        await self.send(user, "New sign-in to your account", "new_device", link=link, device=device, ip=ip)
