"""The second-factor routes (`/auth/mfa/...`, and the administrators' reset); what they do with
factors is in mfa.py.

`POST /auth/mfa/verify` finishes a sign-in that answered MFA_REQUIRED: the ticket and a code (or
a recovery code, or a passkey assertion) start the session a login starts. Wrong codes are failed
logins: they count on the login's per-account and per-IP counters, toward the same lockout.

Changes need a recent sign-in or confirmation (confirmation.py), and adding a factor a verified
address (proofing.py). Each change is mailed to the account's address. Turning the authenticator
app on ends the account's other sessions (people turn it on because they fear someone else is
in), and so does removing a factor; new recovery codes end them unless asked not to.
"""

from typing import Annotated

from beanie import PydanticObjectId
from fastapi import APIRouter, Depends, HTTPException, Request, Response, status
from fastapi_users.authentication.transport.bearer import BearerResponse
from pydantic import BaseModel, ConfigDict, Field

from backend.apps.auth.activity import security_log
from backend.apps.auth.backend import Auth, CurrentSession
from backend.apps.auth.confirmation import CONFIRMATION_RESPONSES, Confirmation, counted_as_login
from backend.apps.auth.mfa import (
    CODE_INVALID,
    TICKET_INVALID,
    TICKET_MAX_FAILURES,
    MfaStatus,
    SecondFactorProof,
    SecondFactors,
    TotpSetup,
)
from backend.apps.auth.proofing import PROVED_ADDRESS_RESPONSES, proved_address
from backend.apps.user.emails import AccountMailer
from backend.apps.user.manager import UserManager
from backend.apps.user.models import User
from backend.core.ratelimit import client_ip


class MfaVerify(SecondFactorProof):
    ticket: str = Field(max_length=128)


class TotpConfirm(BaseModel):
    model_config = ConfigDict(extra="forbid")

    code: str = Field(max_length=16, description="a code from the app, for the secret just set up")


class RecoveryCodes(BaseModel):
    recovery_codes: list[str] = Field(
        description="shown this once; each works once. [] when the account's codes are unchanged"
    )
    other_sessions_ended: int = Field(0, description="how many of my other sessions were signed out")


class NewRecoveryCodes(BaseModel):
    model_config = ConfigDict(extra="forbid")

    end_other_sessions: bool = Field(True, description="sign out my other sessions too")


NOT_FOUND = HTTPException(status.HTTP_404_NOT_FOUND)  # as FastAPI Users answers for /users/{id}


def get_mfa_router(
    auth: Auth, factors: SecondFactors, confirmation: Confirmation, mailer: AccountMailer
) -> APIRouter:
    settings, limiter = auth.settings, auth.limiter
    CurrentSessionDep = Annotated[CurrentSession, Depends(auth.current_session)]
    ConfirmedSession = Annotated[CurrentSession, Depends(confirmation.confirmed_session)]
    # Adding a way in: a proved address first, then a fresh confirmation.
    ProvedSession = Annotated[
        CurrentSession, Depends(proved_address(confirmation.confirmed_session, auth.current_session))
    ]
    UserManagerDep = Annotated[UserManager, Depends(auth.get_user_manager)]
    router = APIRouter(prefix="/auth/mfa", tags=["auth"])

    @router.get("", response_model=MfaStatus, summary="My second factors")
    async def mfa_status(current: CurrentSessionDep) -> MfaStatus:
        return await factors.status(current.user.id)

    @router.post(
        "/totp/setup",
        response_model=TotpSetup,
        responses={**PROVED_ADDRESS_RESPONSES, 409: {"description": "TOTP_ALREADY_ENABLED"}},
        summary="Start setting up an authenticator app",
    )
    async def setup_totp(current: ProvedSession) -> TotpSetup:
        """A new secret, pending for 10 minutes until confirmed: scan the QR code or type the
        secret into the app."""
        return await factors.start_totp(current.user)

    @router.post(
        "/totp/confirm",
        response_model=RecoveryCodes,
        responses={
            **PROVED_ADDRESS_RESPONSES,
            400: {"description": "MFA_CODE_INVALID"},
            409: {"description": "TOTP_SETUP_NOT_STARTED: none pending, or it expired"},
        },
        summary="Turn on two-step sign-in with the authenticator app",
    )
    async def confirm_totp(body: TotpConfirm, current: ProvedSession, request: Request) -> RecoveryCodes:
        """Switch TOTP on with a code from the app; when it is the account's first second factor,
        the answer holds the recovery codes, once. Every other session of mine ends."""
        codes = await factors.confirm_totp(current.user.id, body.code)
        await security_log.record(current.user.id, "second_factor_added", request, factor="totp")
        ended = await end_others(current, "two-step sign-in turned on", request)
        await mailer.send_security_notice(
            current.user,
            "Two-step sign-in was turned on",
            "Signing in now also asks for a code from your authenticator app. " + signed_out(ended),
        )
        return RecoveryCodes(recovery_codes=codes, other_sessions_ended=ended)

    @router.delete(
        "/totp",
        response_model=MfaStatus,
        responses={**CONFIRMATION_RESPONSES, 409: {"description": "MFA_NOT_ENABLED"}},
        summary="Remove the authenticator app",
    )
    async def disable_totp(current: ConfirmedSession, request: Request) -> MfaStatus:
        """Remove the authenticator app (and the recovery codes, if no passkey is left); my
        other sessions end."""
        await factors.disable_totp(current.user.id)
        await security_log.record(current.user.id, "second_factor_removed", request, factor="totp")
        await auth.sessions.end_all(
            current.user.id, "second factor removed", keep=current.session_id, request=request
        )
        await mailer.send_security_notice(
            current.user,
            "Your authenticator app was removed",
            "Signing in no longer asks for its codes; your other sessions were ended.",
        )
        return await factors.status(current.user.id)

    @router.post(
        "/recovery-codes",
        response_model=RecoveryCodes,
        responses={**PROVED_ADDRESS_RESPONSES, 409: {"description": "MFA_NOT_ENABLED"}},
        summary="New recovery codes",
    )
    async def regenerate_recovery_codes(
        current: ProvedSession, request: Request, body: NewRecoveryCodes | None = None
    ) -> RecoveryCodes:
        """Ten new recovery codes, shown this once; the old ones stop working. My other sessions
        end too, unless `end_other_sessions` is false."""
        codes = await factors.regenerate_recovery_codes(current.user.id)
        await security_log.record(current.user.id, "recovery_codes_regenerated", request)
        ended = 0
        if body is None or body.end_other_sessions:
            ended = await end_others(current, "new recovery codes", request)
        await mailer.send_security_notice(
            current.user,
            "New recovery codes were made",
            "Your previous recovery codes no longer work. " + signed_out(ended),
        )
        return RecoveryCodes(recovery_codes=codes, other_sessions_ended=ended)

    @router.post(
        "/verify",
        name="auth:mfa.verify",
        response_model=BearerResponse,
        responses={
            400: {
                "description": "MFA_CODE_INVALID (counted as a failed login), or MFA_TICKET_INVALID: "
                f"unknown, expired, used, or {TICKET_MAX_FAILURES} wrong codes given"
            },
            403: {"description": "ORIGIN_NOT_ALLOWED: the request came from a page of another site"},
            429: {"description": "too many failed logins for this account or from this address"},
        },
        summary="Finish signing in with a second factor",
    )
    async def verify(
        request: Request, response: Response, body: MfaVerify, user_manager: UserManagerDep
    ) -> BearerResponse:
        """The ticket of an MFA_REQUIRED answer and a code, a recovery code or a passkey (for the
        options of `POST /auth/passkeys/options` with purpose `second_factor` and this ticket):
        the session starts as after a login, with the token in the body and in cookies."""
        auth.origins.require(request)
        ip = client_ip(request)
        await limiter.check("login:ip", ip, settings.rate_limit_login_ip)
        ticket = await factors.open_ticket(body.ticket)
        user = await User.get(ticket.user_id) if ticket else None
        if ticket is None or user is None or not user.is_active:
            await limiter.hit("login:ip", ip, settings.rate_limit_login_ip)
            raise TICKET_INVALID
        method = await counted_as_login(
            limiter, settings, user, request, "second_factor", lambda: factors.accept(user.id, body)
        )
        if method is None:
            await factors.ticket_failed(ticket)
            raise CODE_INVALID
        if not await factors.spend_ticket(ticket):
            raise TICKET_INVALID
        access_token = await auth.sign_in(user, request, response, ticket.method, second_factor=method)
        await user_manager.on_after_login(user, request, response)
        if method == "recovery_code":
            left = (await factors.status(user.id)).recovery_codes_left
            await mailer.send_security_notice(
                user, "A recovery code was used to sign in", f"{left} unused recovery codes are left."
            )
        return BearerResponse(access_token=access_token, token_type="bearer")  # noqa: S106

    async def end_others(current: CurrentSession, reason: str, request: Request) -> int:
        return await auth.sessions.end_all(current.user.id, reason, keep=current.session_id, request=request)

    return router


def signed_out(sessions: int) -> str:
    """The notice mail's words for the other sessions a change ended."""
    if not sessions:
        return "You had no other session signed in."
    return f"Your {sessions} other session{'s were' if sessions != 1 else ' was'} signed out."


def get_mfa_admin_router(auth: Auth, factors: SecondFactors, mailer: AccountMailer) -> APIRouter:
    """Superusers see whether a user has a second factor, and reset it for a locked-out person."""
    router = APIRouter(prefix="/users", tags=["users"], dependencies=[Depends(auth.current_superuser)])

    @router.get(
        "/{id}/second-factors",
        response_model=MfaStatus,
        responses={404: {"description": "no such user"}},
        summary="A user's second factors",
    )
    async def user_factors(id: PydanticObjectId) -> MfaStatus:
        if await User.get(id) is None:
            raise NOT_FOUND
        return await factors.status(id)

    @router.delete(
        "/{id}/second-factors",
        status_code=status.HTTP_204_NO_CONTENT,
        responses={404: {"description": "no such user"}},
        summary="Reset a user's second factors",
    )
    async def reset_factors(
        id: PydanticObjectId, request: Request, admin: Annotated[User, Depends(auth.current_superuser)]
    ) -> Response:
        """Remove the user's authenticator app, passkeys and recovery codes (for someone who lost
        them all); their sessions end and they are told by email."""
        user = await User.get(id)
        if user is None:
            raise NOT_FOUND
        await factors.forget_user(user.id)
        await security_log.record(user.id, "second_factors_reset", request, by=admin.id)
        await auth.sessions.end_all(user.id, "second factors reset by an administrator", request=request)
        await mailer.send_security_notice(
            user,
            "Your two-step sign-in was reset",
            "An administrator removed your authenticator app, passkeys and recovery codes, and "
            "ended your sessions. Sign in with your password and set them up again.",
        )
        return Response(status_code=status.HTTP_204_NO_CONTENT)

    return router
