"""One-time sign-in links: ask for a link by email, open it, and you are signed in.

`POST /auth/sign-in-link` answers 202 at once for any address, as forgot-password does: the
lookup, the link and the mail all happen after the answer, so known, unknown and inactive
addresses answer alike in content and in time. The mailed link holds a random token that works
once, for `SIGN_IN_LINK_LIFETIME_SECONDS`; only its SHA-256 is stored, and a TTL index removes
links that ran out.

`POST /auth/sign-in-link/consume` claims the link with one atomic `find_one_and_delete`, so two
workers racing on one token start exactly one session, then starts a session exactly as a
password login does. Opening the link proves the address: on an account whose address was not
proved yet, that makes the person with the inbox the only one in it (flows/verification.py: whoever made
the account keeps nothing). A link is for the address it was mailed to: once the account's email
changes, its older links are refused.
"""

from datetime import datetime, timedelta
from typing import Any

from beanie import Document, PydanticObjectId
from pymongo import IndexModel
from pymongo.asynchronous.collection import AsyncCollection

from backend.apps.user.models import User
from backend.config import Settings
from backend.core.clock import utcnow
from backend.core.crypto import new_secret, token_hash


class SignInLink(Document):
    id: str  # type: ignore[assignment]  # SHA-256 of the token; the token itself is never stored
    user_id: PydanticObjectId
    email: str  # the address it was mailed to: the one it proves
    created_at: datetime
    expires_at: datetime

    class Settings:
        name = "sign_in_links"
        indexes = [
            IndexModel("expires_at", expireAfterSeconds=0, name="expiry"),
            IndexModel("user_id", name="user"),
        ]


class SignInLinks:
    def __init__(self, settings: Settings) -> None:
        self.lifetime_seconds = settings.sign_in_link_lifetime_seconds

    async def issue(self, user: User) -> str:
        """A new link's token for `user`; only its hash is kept."""
        token, now = new_secret(), utcnow()
        await SignInLink(
            id=token_hash(token),
            user_id=user.id,
            email=user.email,
            created_at=now,
            expires_at=now + timedelta(seconds=self.lifetime_seconds),
        ).insert()
        return token

    async def consume(self, token: str) -> User | None:
        """The user `token` signs in; None for a bad, expired or used token, or an account that is
        gone, inactive or no longer at the mailed address.

        The token is spent whatever follows: one atomic delete decides which request had it.
        """
        link = await _links().find_one_and_delete({"_id": token_hash(token), "expires_at": {"$gt": utcnow()}})
        if link is None:
            return None
        owner = await User.get_pymongo_collection().find_one(
            {"_id": link["user_id"], "email": link["email"], "is_active": True}
        )
        return User.model_validate(owner) if owner is not None else None

    async def pending(self, user_id: PydanticObjectId) -> int:
        return await _links().count_documents({"user_id": user_id})

    async def forget_user(self, user_id: PydanticObjectId) -> None:
        """A deleted user's pending links go with them."""
        await _links().delete_many({"user_id": user_id})


def _links() -> AsyncCollection[dict[str, Any]]:
    return SignInLink.get_pymongo_collection()
