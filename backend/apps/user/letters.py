"""The account's mail: verifying the address, resetting the password, changing the address,
deleting the account (templates/, in HTML and plain text).

Links point at the frontend's routes (`/verify?token=...`, `/verify/not-me?token=...`,
`/reset-password?token=...`, `/email-change/confirm?token=...`, `/email-change/cancel?token=...`).
Notices (password changed or reset, address changed, account deleted) carry no token.
"""

from datetime import datetime
from pathlib import Path

from backend.apps.user.models import User
from backend.core.mail.letters import Letters, duration


class UserLetters(Letters):
    templates = Path(__file__).parent / "templates"

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
        await self.send(
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
        await self.send(
            user, "Reset your password", "reset_password", link=link, hours=valid_for_seconds // 3600
        )

    async def send_password_changed(self, user: User) -> None:
        await self.send(user, "Your password was changed", "password_changed", how="changed")

    async def send_password_was_reset(self, user: User) -> None:
        await self.send(user, "Your password was reset", "password_changed", how="reset")

    async def send_email_change_link(
        self, user: User, new_email: str, token: str, valid_for_seconds: int
    ) -> None:
        """To the new address: the link that makes it the account's."""
        link = self.token_link("/email-change/confirm", token)
        await self.send(
            user,
            "Confirm your new email address",
            "email_change_confirm",
            to=new_email,
            link=link,
            old_email=user.email,
            valid_for=duration(valid_for_seconds),
        )

    async def send_email_change_requested(self, user: User, new_email: str, cancel_token: str) -> None:
        """To the current address, at once: the change asked for, and the link that cancels it."""
        link = self.token_link("/email-change/cancel", cancel_token)
        await self.send(
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
        await self.send(
            user,
            "Your email address was changed",
            "email_changed",
            to=to,
            old_email=old_email,
            new_email=user.email,
            by_admin=by_admin,
        )

    async def send_goodbye(self, user: User) -> None:
        await self.send(user, "Your account was deleted", "goodbye")
