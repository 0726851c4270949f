"""The recovery codes' route: `POST /auth/mfa/recovery-codes` makes a new set (a verified address
and a recent sign-in or confirmation needed; my other sessions end unless asked not to)."""

from typing import TYPE_CHECKING, Annotated

from fastapi import APIRouter, Depends, Request
from pydantic import BaseModel, ConfigDict, Field

from backend.apps.auth.activity.log import security_log
from backend.apps.auth.flows.factors import RecoveryCodes
from backend.apps.auth.flows.verification import PROVED_ADDRESS_RESPONSES
from backend.apps.auth.sessions.authenticator import CurrentSession
from backend.apps.auth.sessions.service import others_signed_out

if TYPE_CHECKING:
    from backend.apps.auth.methods.recovery_codes.module import RecoveryCodesMethod


class NewRecoveryCodes(BaseModel):
    model_config = ConfigDict(extra="forbid")

    end_other_sessions: bool = Field(True, description="sign out my other sessions too")


def get_recovery_codes_router(method: "RecoveryCodesMethod") -> APIRouter:
    codes, flows = method.codes, method.flows
    ProvedSession = Annotated[CurrentSession, Depends(flows.proved_and_confirmed)]
    router = APIRouter(prefix="/auth/mfa", tags=["auth"])

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
        new = await codes.regenerate(current.user.id)
        await security_log.record(current.user.id, "recovery_codes_regenerated", request)
        ended = 0
        if body is None or body.end_other_sessions:
            ended = await flows.sessions.end_all(
                current.user.id, "new recovery codes", keep=current.session_id, request=request
            )
        await flows.letters.send_security_notice(
            current.user,
            "New recovery codes were made",
            "Your previous recovery codes no longer work. " + others_signed_out(ended),
        )
        return RecoveryCodes(recovery_codes=new, other_sessions_ended=ended)

    return router
