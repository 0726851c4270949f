"""One-time sign-in links: ask for a link by email, open it, and you are signed in.

`POST /auth/sign-in-link` answers 202 at once for any address, as forgot-password does: the
lookup, the link and the mail all happen after the answer, so known, unknown and inactive
addresses answer alike in content and in time. The mailed link holds a random token that works
once, for `SIGN_IN_LINK_LIFETIME_SECONDS`; only its SHA-256 is stored, and a TTL index removes
links that ran out.

`POST /auth/sign-in-link/consume` claims the link with one atomic `find_one_and_delete`, so two
workers racing on one token start exactly one session, then starts a session exactly as a
password login does. Opening the link proves the address: on an account whose address was not
proved yet, that makes the person with the inbox the only one in it (proofing.py: whoever made
the account keeps nothing). A link is for the address it was mailed to: once the account's email
changes, its older links are refused.
"""

from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Annotated, Any

from beanie import Document, PydanticObjectId
from fastapi import APIRouter, Body, Depends, HTTPException, Request, Response, status
from fastapi_users.authentication.transport.bearer import BearerResponse
from pydantic import EmailStr
from pymongo import IndexModel
from pymongo.asynchronous.collection import AsyncCollection

from backend.apps.auth.backend import Auth
from backend.apps.auth.mfa import MFA_REQUIRED_RESPONSE, SecondFactorRequired, SecondFactors
from backend.apps.user.emails import AccountMailer
from backend.apps.user.manager import UserManager
from backend.apps.user.models import User, UserDatabase
from backend.apps.user.routers import account_action_limits
from backend.config import Settings
from backend.core.clock import utcnow
from backend.core.crypto import new_secret, token_hash
from backend.core.ratelimit import client_ip

if TYPE_CHECKING:  # proofing.py removes sign-in links, so it imports this module
    from backend.apps.auth.proofing import InboxProof

SIGN_IN_LINK_INVALID = "SIGN_IN_LINK_INVALID"


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

    async def forget_user(self, user_id: PydanticObjectId) -> None:
        """A deleted user's pending links go with them."""
        await _links().delete_many({"user_id": user_id})


def _links() -> AsyncCollection[dict[str, Any]]:
    return SignInLink.get_pymongo_collection()


def get_sign_in_link_router(
    auth: Auth, mailer: AccountMailer, links: SignInLinks, factors: SecondFactors, proof: "InboxProof"
) -> APIRouter:
    settings, limiter = auth.settings, auth.limiter
    UserManagerDep = Annotated[UserManager, Depends(auth.get_user_manager)]
    router = APIRouter(prefix="/auth/sign-in-link", tags=["auth"])

    async def mail_link(email: str, users: UserDatabase) -> None:
        user = await users.get_by_email(email)
        if user is None or not user.is_active:
            return
        token = await links.issue(user)
        await mailer.send_sign_in_link(user, token, links.lifetime_seconds)

    @router.post(
        "",
        status_code=status.HTTP_202_ACCEPTED,
        name="auth:sign_in_link.request",
        dependencies=[Depends(account_action_limits(settings, limiter))],
    )
    async def request_sign_in_link(
        email: Annotated[EmailStr, Body(embed=True)], user_manager: UserManagerDep
    ) -> None:
        """Mail a one-time sign-in link if the address has an active account.

        The answer is the same, and as quick, for any address: nothing is looked up before it.
        An unknown or inactive address gets no mail.
        """
        mailer.postman.in_background(mail_link(email, user_manager.user_db))

    @router.post(
        "/consume",
        name="auth:sign_in_link.consume",
        response_model=BearerResponse,
        responses={
            400: {"description": "SIGN_IN_LINK_INVALID: the link is unknown, expired or already used"},
            **MFA_REQUIRED_RESPONSE,
            403: {"description": "ORIGIN_NOT_ALLOWED: the request came from a page of another site"},
            429: {"description": "too many invalid links from this address"},
        },
    )
    async def consume_sign_in_link(
        request: Request,
        response: Response,
        token: Annotated[str, Body(embed=True)],
        user_manager: UserManagerDep,
    ) -> BearerResponse:
        """Sign in with the token of a mailed link: the access token in the body and in cookies,
        as a password login answers. The link works once; the address counts as verified, and on
        an account whose address was not verified until now, everything anyone had set up (the
        password, sessions, passkeys, providers...) is removed and the owner mailed what went.
        An account with a second factor gets 401 MFA_REQUIRED, as from a password login."""
        auth.origins.require(request)
        ip = client_ip(request)
        # Checked before the link is spent: a locked-out address burns nobody's link.
        await limiter.check("sign-in-link-consume:ip", ip, settings.rate_limit_login_ip)
        user = await links.consume(token)
        if user is None:
            await limiter.hit("sign-in-link-consume:ip", ip, settings.rate_limit_login_ip)
            raise HTTPException(status.HTTP_400_BAD_REQUEST, detail=SIGN_IN_LINK_INVALID)
        if await proof.claim(user_manager, user, "sign_in_link", request):
            user = await user_manager.get(user.id)  # proved now, and nobody else's any more
        if challenge := await factors.challenge(user, "sign_in_link"):
            raise SecondFactorRequired(challenge)
        access_token = await auth.sign_in(user, request, response, "sign_in_link")
        await user_manager.on_after_login(user, request, response)
        return BearerResponse(access_token=access_token, token_type="bearer")  # noqa: S106

    return router
