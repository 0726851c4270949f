"""The two-step sign-in routes (`/auth/mfa/...`); what they do with factors is in mfa.py.

`POST /auth/mfa/verify` finishes a sign-in that answered MFA_REQUIRED: the ticket and a code (or
a recovery code) start the session a login starts. Wrong codes are failed logins: they count on
the login's per-account and per-IP counters, toward the same lockout.

Changes need fresh proof in the same request: confirming TOTP asks for the password (accounts
without one have only their session); turning TOTP off and new recovery codes ask for the
password, a current code or a recovery code. A wrong proof is a failed login too. Each change is
mailed to the account's address; turning TOTP off ends the account's other sessions.
"""

from collections.abc import Awaitable, Callable
from typing import Annotated, Any, ClassVar, TypeVar

from fastapi import APIRouter, Depends, Request, Response, status
from fastapi_users.authentication.transport.bearer import BearerResponse
from pydantic import BaseModel, ConfigDict, Field

from backend.apps.auth.backend import Auth, CurrentSession
from backend.apps.auth.mfa import (
    CODE_INVALID,
    TICKET_MAX_FAILURES,
    MfaStatus,
    SecondFactorCode,
    SecondFactors,
    TotpSetup,
    refusal,
)
from backend.apps.user.emails import AccountMailer
from backend.apps.user.manager import UserManager
from backend.apps.user.models import User
from backend.config import Rate, Settings
from backend.core.ratelimit import RateLimiter, client_ip

T = TypeVar("T")


class MfaVerify(SecondFactorCode):
    ticket: str = Field(max_length=128)


class FactorChangeProof(SecondFactorCode):
    """Fresh proof for changing factors: the password, a current code or a recovery code."""

    proofs: ClassVar[tuple[str, ...]] = ("current_password", "code", "recovery_code")

    current_password: str | None = Field(None, max_length=1024)


class TotpConfirm(BaseModel):
    model_config = ConfigDict(extra="forbid")

    code: str = Field(max_length=16, description="a code from the app, for the secret just set up")
    current_password: str | None = Field(
        None, max_length=1024, description="required when the account has a password"
    )


class RecoveryCodes(BaseModel):
    recovery_codes: list[str] = Field(description="shown this once; each works once")


TICKET_INVALID = refusal(
    status.HTTP_400_BAD_REQUEST, "MFA_TICKET_INVALID", "This sign-in has expired: sign in again."
)
PROOF_INVALID = refusal(
    status.HTTP_400_BAD_REQUEST,
    "MFA_PROOF_INVALID",
    "Confirm it is you: your current password, or a code from your authenticator app.",
)


async def counted_as_login(
    limiter: RateLimiter, settings: Settings, account: str, ip: str, attempt: Callable[[], Awaitable[T]]
) -> T:
    """Run `attempt` unless the account or the IP is locked out; a falsy result is a failed login.

    The counters are the password login's, so wrong codes and wrong passwords share one lockout.
    """
    limits: list[tuple[str, str, Rate]] = [
        ("login:account", account, settings.rate_limit_login_account),
        ("login:ip", ip, settings.rate_limit_login_ip),
    ]
    for rule, subject, rate in limits:
        await limiter.check(rule, subject, rate)
    result = await attempt()
    if not result:
        for rule, subject, rate in limits:
            await limiter.hit(rule, subject, rate)
    return result


def get_mfa_router(auth: Auth, factors: SecondFactors, mailer: AccountMailer) -> APIRouter:
    settings, limiter = auth.settings, auth.limiter
    CurrentSessionDep = Annotated[CurrentSession, Depends(auth.current_session)]
    UserManagerDep = Annotated[UserManager, Depends(auth.get_user_manager)]
    router = APIRouter(prefix="/auth/mfa", tags=["auth"])

    async def proven_session(
        proof: FactorChangeProof, current: CurrentSessionDep, request: Request, user_manager: UserManagerDep
    ) -> CurrentSession:
        """The signed-in session, once `proof` (password, code or recovery code) is right."""
        user = current.user

        async def attempt() -> bool:
            if proof.current_password is not None:
                verified, _ = await user_manager.verify_password(proof.current_password, user.hashed_password)
                return verified
            return await factors.accept(user.id, proof) is not None

        if not await counted_as_login(limiter, settings, user.email, client_ip(request), attempt):
            raise PROOF_INVALID
        return current

    ProvenSession = Annotated[CurrentSession, Depends(proven_session)]
    proof_refusals: dict[int | str, dict[str, Any]] = {
        400: {"description": "MFA_PROOF_INVALID: the password or code is wrong (counted as a failed login)"},
        409: {"description": "MFA_NOT_ENABLED"},
    }

    @router.get("", response_model=MfaStatus, summary="My second factors")
    async def mfa_status(current: CurrentSessionDep) -> MfaStatus:
        return await factors.status(current.user.id)

    @router.post(
        "/totp/setup",
        response_model=TotpSetup,
        responses={409: {"description": "TOTP_ALREADY_ENABLED"}},
        summary="Start setting up an authenticator app",
    )
    async def setup_totp(current: CurrentSessionDep) -> TotpSetup:
        """A new secret, pending until confirmed: scan the QR code or type the secret into the app."""
        return await factors.start_totp(current.user)

    @router.post(
        "/totp/confirm",
        response_model=RecoveryCodes,
        responses={
            400: {"description": "MFA_CODE_INVALID, or MFA_PROOF_INVALID: the password is wrong"},
            409: {"description": "TOTP_SETUP_NOT_STARTED"},
        },
        summary="Turn on two-step sign-in",
    )
    async def confirm_totp(
        body: TotpConfirm, current: CurrentSessionDep, request: Request, user_manager: UserManagerDep
    ) -> RecoveryCodes:
        """Switch TOTP on with a code from the app; the answer holds the recovery codes, once."""
        user = current.user
        if user.password_set:

            async def attempt() -> bool:
                if body.current_password is None:
                    return False
                verified, _ = await user_manager.verify_password(body.current_password, user.hashed_password)
                return verified

            if not await counted_as_login(limiter, settings, user.email, client_ip(request), attempt):
                raise PROOF_INVALID
        codes = await factors.confirm_totp(user.id, body.code)
        await mailer.send_security_notice(
            user,
            "Two-step sign-in was turned on",
            "Signing in now also asks for a code from your authenticator app.",
        )
        return RecoveryCodes(recovery_codes=codes)

    @router.post(
        "/totp/disable",
        response_model=MfaStatus,
        responses=proof_refusals,
        summary="Turn off two-step sign-in",
    )
    async def disable_totp(current: ProvenSession) -> MfaStatus:
        """Remove the authenticator app and the recovery codes; my other sessions end."""
        await factors.disable(current.user.id)
        await auth.sessions.end_all(current.user.id, "second factor removed", keep=current.session_id)
        await mailer.send_security_notice(
            current.user,
            "Two-step sign-in was turned off",
            "Signing in no longer asks for a code; your other sessions were ended.",
        )
        return await factors.status(current.user.id)

    @router.post(
        "/recovery-codes",
        response_model=RecoveryCodes,
        responses=proof_refusals,
        summary="New recovery codes",
    )
    async def regenerate_recovery_codes(current: ProvenSession) -> RecoveryCodes:
        """Ten new recovery codes, shown this once; the old ones stop working."""
        codes = await factors.regenerate_recovery_codes(current.user.id)
        await mailer.send_security_notice(
            current.user, "New recovery codes were made", "Your previous recovery codes no longer work."
        )
        return RecoveryCodes(recovery_codes=codes)

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
        """The ticket of an MFA_REQUIRED answer and a code (or a recovery code): the session
        starts as after a login, with the token in the body and in cookies."""
        auth.origins.require(request)
        ip = client_ip(request)
        await limiter.check("login:ip", ip, settings.rate_limit_login_ip)
        ticket = await factors.open_ticket(body.ticket)
        user = await User.get(ticket.user_id) if ticket else None
        if ticket is None or user is None or not user.is_active:
            await limiter.hit("login:ip", ip, settings.rate_limit_login_ip)
            raise TICKET_INVALID
        method = await counted_as_login(
            limiter, settings, user.email, ip, lambda: factors.accept(user.id, body)
        )
        if method is None:
            await factors.ticket_failed(ticket)
            raise CODE_INVALID
        if not await factors.spend_ticket(ticket):
            raise TICKET_INVALID
        access_token = await auth.sign_in(user, request, response)
        await user_manager.on_after_login(user, request, response)
        if method == "recovery_code":
            left = (await factors.status(user.id)).recovery_codes_left
            await mailer.send_security_notice(
                user, "A recovery code was used to sign in", f"{left} unused recovery codes are left."
            )
        return BearerResponse(access_token=access_token, token_type="bearer")  # noqa: S106

    return router
