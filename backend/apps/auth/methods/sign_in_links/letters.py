"""The sign-in link's mail (templates/sign_in_link.*)."""

from pathlib import Path

from backend.apps.user.models import User
from backend.core.mail.letters import Letters, duration


class SignInLinkLetters(Letters):
    templates = Path(__file__).parent / "templates"

    async def send_sign_in_link(self, user: User, token: str, valid_for_seconds: int) -> None:
        link = self.token_link("/sign-in/link", token)
        await self.send(
            user, "Your sign-in link", "sign_in_link", link=link, valid_for=duration(valid_for_seconds)
        )
