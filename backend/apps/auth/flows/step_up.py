"""Step-up confirmation: "confirm it is you" before a change to how an account signs in.

Turning an authenticator app on or off, new recovery codes, adding or removing a passkey need a
session that signed in, or was confirmed, within the last `CONFIRMATION_WINDOW_SECONDS` (OWASP
ASVS 5.0 6.3.x / NIST SP 800-63B 4.1.3: re-authenticate before sensitive changes, so a session
left open on a shared computer cannot add an attacker's factor). Older sessions get 403
CONFIRMATION_REQUIRED with the methods this account can confirm with; `POST /auth/confirm` with
the password, a code, a recovery code or a passkey marks the session confirmed. Accounts with
none of those (signed up through a provider) confirm by signing in again.

Wrong proofs count as failed logins: the login's per-account and per-IP counters, one lockout.
"""

from datetime import datetime, timedelta
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, HTTPException, Request, status
from pydantic import BaseModel, Field

from backend.apps.auth.activity.failures import counted_as_login
from backend.apps.auth.activity.letters import ActivityLetters
from backend.apps.auth.flows.factors import Proof, SecondFactors
from backend.apps.auth.sessions.authenticator import CurrentSession
from backend.apps.auth.sessions.service import Sessions
from backend.apps.user.manager import UserManager
from backend.apps.user.models import User
from backend.config import Settings
from backend.core.clock import utcnow
from backend.core.errors import refusal
from backend.core.ratelimit import RateLimiter

ConfirmMethod = Literal["password", "totp", "passkey", "recovery_code"]
CONFIRMATION_PROOF_DOC = (  # the body's description in the schema
    "Exactly one of: the password, a code from the app, a recovery code, a passkey assertion\n"
    "(for the options of `POST /auth/passkeys/options` with purpose `confirm`)."
)


class Confirmed(BaseModel):
    confirmed_until: datetime


class ConfirmationStatus(BaseModel):
    confirmed_until: datetime | None = Field(description="until when changes need no confirmation")
    methods: list[ConfirmMethod] = Field(description="[]: confirm by signing in again")


class ConfirmationRequired(BaseModel):
    code: Literal["CONFIRMATION_REQUIRED"] = "CONFIRMATION_REQUIRED"
    reason: str
    methods: list[ConfirmMethod]


class ConfirmationRequiredResponse(BaseModel):
    detail: ConfirmationRequired


CONFIRMATION_RESPONSES: dict[int | str, dict[str, Any]] = {
    403: {
        "model": ConfirmationRequiredResponse,
        "description": "CONFIRMATION_REQUIRED: no sign-in or confirmation in the last few minutes; "
        "POST /auth/confirm, then try again",
    }
}

CONFIRMATION_INVALID = refusal(
    status.HTTP_400_BAD_REQUEST, "CONFIRMATION_INVALID", "That was not right. Try again."
)


class Confirmation:
    def __init__(
        self,
        settings: Settings,
        limiter: RateLimiter,
        sessions: Sessions,
        current_session: Any,
        factors: SecondFactors,
        letters: ActivityLetters,
    ) -> None:
        self.settings, self.limiter, self.sessions = settings, limiter, sessions
        self.current_session, self.factors, self.letters = current_session, factors, letters
        self.window = timedelta(seconds=settings.confirmation_window_seconds)
        CurrentSessionDep = Annotated[CurrentSession, Depends(current_session)]

        async def confirmed_session(current: CurrentSessionDep) -> CurrentSession:
            if await self.confirmed_until(current) is None:
                methods = await self.methods(current.user)
                reason = "Confirm it is you first." if methods else "Sign in again to confirm it is you."
                detail = ConfirmationRequired(reason=reason, methods=methods)
                raise HTTPException(status.HTTP_403_FORBIDDEN, detail=detail.model_dump())
            return current

        self.confirmed_session = confirmed_session

    async def confirmed_until(self, current: CurrentSession) -> datetime | None:
        """Until when `current` may make changes without confirming; None: it must confirm now."""
        last = await self.sessions.last_confirmed(current.session_id)
        until = last + self.window if last else None
        return until if until and until > utcnow() else None

    async def methods(self, user: User) -> list[ConfirmMethod]:
        methods: list[ConfirmMethod] = ["password"] if user.password_set else []
        return methods + list(await self.factors.methods(user.id))

    async def prove(self, user: User, proof: Proof, request: Request, manager: UserManager) -> bool:
        """Whether `proof` is right for `user`, counted as a login attempt."""

        async def attempt() -> str | None:
            password = getattr(proof, "current_password", None)
            if password is not None:
                if not user.password_set:
                    return None
                verified, _ = await manager.verify_password(password, user.hashed_password)
                return "password" if verified else None
            return await self.factors.accept(user.id, proof, "confirm")

        settings = self.settings
        method = await counted_as_login(self.limiter, settings, user, request, "confirmation", attempt)
        if method == "recovery_code":  # as after a sign-in with one: the owner should know
            left = (await self.factors.status(user.id)).recovery_codes_left
            what = f"It confirmed a change to your account; {left} unused recovery codes are left."
            await self.letters.send_security_notice(user, "A recovery code was used", what)
        return method is not None

    def router(self, get_user_manager: Any) -> APIRouter:
        CurrentSessionDep = Annotated[CurrentSession, Depends(self.current_session)]
        UserManagerDep = Annotated[UserManager, Depends(get_user_manager)]
        ConfirmationProof = self.factors.proof_model(
            "ConfirmationProof",
            CONFIRMATION_PROOF_DOC,
            other_proofs=("current_password",),
            current_password=(str | None, Field(None, max_length=1024)),
        )
        router = APIRouter(prefix="/auth/confirm", tags=["auth"])

        @router.get("", response_model=ConfirmationStatus, summary="Is my session confirmed?")
        async def confirmation_status(current: CurrentSessionDep) -> ConfirmationStatus:
            until = await self.confirmed_until(current)
            return ConfirmationStatus(confirmed_until=until, methods=await self.methods(current.user))

        @router.post(
            "",
            response_model=Confirmed,
            responses={
                400: {"description": "CONFIRMATION_INVALID (counted as a failed login)"},
                429: {"description": "too many failed logins for this account or from this address"},
            },
            summary="Confirm it is me",
        )
        async def confirm(
            proof: ConfirmationProof,  # type: ignore[valid-type]
            current: CurrentSessionDep,
            request: Request,
            manager: UserManagerDep,
        ) -> Confirmed:
            """The password, a code, a recovery code or a passkey: changes to how I sign in need no
            more confirmation for the next few minutes."""
            if not await self.prove(current.user, proof, request, manager):
                raise CONFIRMATION_INVALID
            await self.sessions.confirm(current.session_id)
            return Confirmed(confirmed_until=utcnow() + self.window)

        return router
