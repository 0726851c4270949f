"""The sign-in flow, written once for every method: first step, then a second one if the account
has a second factor, then the session.

`SignInFlow.first_step_done` is what every first-step method calls once it knows who is signing
in (a password, a sign-in link, a provider): when the account has a second factor, no session
starts; the answer is MFA_REQUIRED with a ticket for the second step instead. A ticket is 256
random bits, stored only as SHA-256, bound to the user, valid `TICKET_SECONDS`, spent by the one
success, refused after `TICKET_MAX_FAILURES` wrong codes. `POST /auth/mfa/verify` (routes.py)
takes the ticket and a proof of a second factor (factors.py).

`SignInFlow.finish` starts the session exactly as a password login does: the session document,
the refresh token and the cookies on the response, the `sign_in` event in the account's log and
the new-device mail (activity/), FastAPI Users' `on_after_login`. Every sign-in comes through it.
"""

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Literal

from beanie import Document, PydanticObjectId
from fastapi import HTTPException, Request, Response, status
from pydantic import BaseModel, Field
from pymongo import IndexModel
from pymongo.asynchronous.collection import AsyncCollection

from backend.apps.auth.activity.new_device import SignInLog
from backend.apps.auth.flows.factors import Method, SecondFactors
from backend.apps.auth.sessions.service import Sessions
from backend.apps.auth.sessions.starter import SessionStarter
from backend.apps.user.manager import UserManager
from backend.apps.user.models import User
from backend.core.clock import utcnow
from backend.core.crypto import new_secret, token_hash
from backend.core.errors import refusal

TICKET_SECONDS = 300
TICKET_MAX_FAILURES = 5


class MfaTicket(Document):
    id: str  # type: ignore[assignment]  # SHA-256 of the ticket; the ticket itself is never stored
    user_id: PydanticObjectId
    expires_at: datetime
    failures: int = 0
    method: str = "password"  # the first step's, for the sign-in's log entry (activity/)

    class Settings:
        name = "mfa_tickets"
        indexes = [
            IndexModel("expires_at", expireAfterSeconds=0, name="expiry"),
            IndexModel("user_id", name="user"),
        ]


class MfaChallenge(BaseModel):
    code: Literal["MFA_REQUIRED"] = "MFA_REQUIRED"
    reason: str = "Confirm it is you with your second factor."
    ticket: str = Field(description="for POST /auth/mfa/verify; works once, for 5 minutes")
    methods: list[Method]


class MfaRequired(BaseModel):
    """401 from a sign-in whose account has a second factor: no session yet."""

    detail: MfaChallenge


class SecondFactorRequired(HTTPException):
    def __init__(self, challenge: MfaChallenge) -> None:
        super().__init__(status.HTTP_401_UNAUTHORIZED, detail=challenge.model_dump())


MFA_REQUIRED_RESPONSE: dict[int | str, dict[str, Any]] = {
    401: {
        "model": MfaRequired,
        "description": "MFA_REQUIRED: the account has a second factor; no session was started. "
        "POST the `ticket` with a code to /auth/mfa/verify.",
    }
}
TICKET_INVALID = refusal(
    status.HTTP_400_BAD_REQUEST, "MFA_TICKET_INVALID", "This sign-in has expired: sign in again."
)


@dataclass(frozen=True)
class SignedIn:
    """A first step that started the session (no second factor): its access token."""

    access_token: str


class SignInFlow:
    def __init__(
        self, sessions: Sessions, starter: SessionStarter, factors: SecondFactors, log: SignInLog
    ) -> None:
        self.sessions = sessions
        self.starter = starter
        self.factors = factors
        self.log = log

    async def first_step_done(
        self, user: User, request: Request, response: Response, method: str, manager: UserManager
    ) -> SignedIn | MfaChallenge:
        """`user` passed a first step (`method`: `password`, `sign_in_link`, `provider:<name>`):
        the second step's challenge when the account has a second factor, else the session,
        started on `response`."""
        if challenge := await self.challenge(user, method):
            return challenge
        return SignedIn(await self.finish(user, request, response, method, manager))

    async def finish(
        self,
        user: User,
        request: Request,
        response: Response,
        method: str,
        manager: UserManager,
        second_factor: str | None = None,
    ) -> str:
        """Start a session for `user` exactly as a password login does; the access token.

        `method` is how the first step was made (`password`, `passkey`, `sign_in_link`,
        `provider:<name>`), `second_factor` the second step's (`totp`, `recovery_code`,
        `passkey`) when there was one: both go to the account's log, and a sign-in from a new
        device and network is mailed to the owner; neither can fail the sign-in."""
        session, access_token = await self.starter.start(user, request, response)
        await self.log.signed_in(user, request, session.id, method, second_factor)
        await manager.on_after_login(user, request, response)
        return access_token

    async def challenge(self, user: User, method: str) -> MfaChallenge | None:
        """None when `user` has no second factor; else a new ticket for the second step of a
        sign-in whose first step was `method`."""
        methods = await self.factors.methods(user.id)
        if not methods:
            return None
        ticket = new_secret()
        await MfaTicket(
            id=token_hash(ticket),
            user_id=user.id,
            expires_at=utcnow() + timedelta(seconds=TICKET_SECONDS),
            method=method,
        ).insert()
        return MfaChallenge(ticket=ticket, methods=methods)

    async def open_ticket(self, ticket: str) -> MfaTicket | None:
        found = await tickets().find_one(
            {
                "_id": token_hash(ticket),
                "expires_at": {"$gt": utcnow()},
                "failures": {"$lt": TICKET_MAX_FAILURES},
            }
        )
        return MfaTicket.model_validate(found) if found else None

    async def ticket_failed(self, ticket: MfaTicket) -> None:
        """One more wrong code on `ticket`; at `TICKET_MAX_FAILURES` it opens no more."""
        await tickets().update_one({"_id": ticket.id}, {"$inc": {"failures": 1}})

    async def spend_ticket(self, ticket: MfaTicket) -> bool:
        """Claim `ticket` for the one session it starts: False when another request did."""
        return (
            await tickets().find_one_and_delete({"_id": ticket.id, "expires_at": {"$gt": utcnow()}})
            is not None
        )

    async def forget_tickets(self, user_id: PydanticObjectId) -> None:
        """Pending second steps of `user_id` end (a factor went, the account was reset or deleted)."""
        await tickets().delete_many({"user_id": user_id})


def tickets() -> AsyncCollection[dict[str, Any]]:
    return MfaTicket.get_pymongo_collection()
