"""The authenticator app's routes (`/auth/mfa/totp...`): set it up, turn it on, remove it.

Setting up and turning on need a verified address and a recent sign-in or confirmation; turning
it on ends my other sessions (people turn it on because they fear someone else is in), and so
does removing it. Each change is mailed to the account's address.
"""

from typing import TYPE_CHECKING, Annotated

from fastapi import APIRouter, Depends, Request
from pydantic import BaseModel, ConfigDict, Field

from backend.apps.auth.activity.log import security_log
from backend.apps.auth.flows.factors import MfaStatus, RecoveryCodes
from backend.apps.auth.flows.step_up import CONFIRMATION_RESPONSES
from backend.apps.auth.flows.verification import PROVED_ADDRESS_RESPONSES
from backend.apps.auth.methods.totp.service import TotpSetup
from backend.apps.auth.sessions.authenticator import CurrentSession
from backend.apps.auth.sessions.service import others_signed_out

if TYPE_CHECKING:
    from backend.apps.auth.methods.totp.module import TotpMethod


class TotpConfirm(BaseModel):
    model_config = ConfigDict(extra="forbid")

    code: str = Field(max_length=16, description="a code from the app, for the secret just set up")


def get_totp_router(method: "TotpMethod") -> APIRouter:
    totp, flows = method.totp, method.flows
    sessions, letters = flows.sessions, flows.letters
    ConfirmedSession = Annotated[CurrentSession, Depends(flows.confirmation.confirmed_session)]
    ProvedSession = Annotated[CurrentSession, Depends(flows.proved_and_confirmed)]
    router = APIRouter(prefix="/auth/mfa/totp", tags=["auth"])

    @router.post(
        "/setup",
        response_model=TotpSetup,
        responses={**PROVED_ADDRESS_RESPONSES, 409: {"description": "TOTP_ALREADY_ENABLED"}},
        summary="Start setting up an authenticator app",
    )
    async def setup_totp(current: ProvedSession) -> TotpSetup:
        """A new secret, pending for 10 minutes until confirmed: scan the QR code or type the
        secret into the app."""
        return await totp.start(current.user)

    @router.post(
        "/confirm",
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
        codes = await totp.confirm(current.user.id, body.code)
        await security_log.record(current.user.id, "second_factor_added", request, factor="totp")
        ended = await sessions.end_all(
            current.user.id, "two-step sign-in turned on", keep=current.session_id, request=request
        )
        await letters.send_security_notice(
            current.user,
            "Two-step sign-in was turned on",
            "Signing in now also asks for a code from your authenticator app. " + others_signed_out(ended),
        )
        return RecoveryCodes(recovery_codes=codes, other_sessions_ended=ended)

    @router.delete(
        "",
        response_model=flows.factors.status_model,
        responses={**CONFIRMATION_RESPONSES, 409: {"description": "MFA_NOT_ENABLED"}},
        summary="Remove the authenticator app",
    )
    async def disable_totp(current: ConfirmedSession, request: Request) -> MfaStatus:
        """Remove the authenticator app (and the recovery codes, if no passkey is left); my
        other sessions end."""
        await totp.disable(current.user.id)
        await flows.factor_removed(current.user.id)
        await security_log.record(current.user.id, "second_factor_removed", request, factor="totp")
        await sessions.end_all(
            current.user.id, "second factor removed", keep=current.session_id, request=request
        )
        await letters.send_security_notice(
            current.user,
            "Your authenticator app was removed",
            "Signing in no longer asks for its codes; your other sessions were ended.",
        )
        return await flows.factors.status(current.user.id)

    return router
