"""The flows' routes: the second step of a sign-in (`POST /auth/mfa/verify`), my second factors
(`GET /auth/mfa`), and the administrators' view and reset of someone's
(`/users/{id}/second-factors`). Step-up (`/auth/confirm`) and verification (`/auth/verify`) have
their routes beside their flow (step_up.py, verification.py).

`POST /auth/mfa/verify` finishes a sign-in that answered MFA_REQUIRED: the ticket and a code (or
a recovery code, or a passkey assertion) start the session a login starts. Wrong codes are failed
logins: they count on the login's per-account and per-IP counters, toward the same lockout.
"""

from typing import TYPE_CHECKING, Annotated

from beanie import PydanticObjectId
from fastapi import APIRouter, Depends, HTTPException, Request, Response, status
from fastapi_users.authentication.transport.bearer import BearerResponse
from pydantic import Field

from backend.apps.auth.activity.failures import LOGIN_IP_RULE, counted_as_login
from backend.apps.auth.activity.log import security_log
from backend.apps.auth.flows.factors import MfaStatus
from backend.apps.auth.flows.sign_in import TICKET_INVALID, TICKET_MAX_FAILURES
from backend.apps.auth.sessions.authenticator import CurrentSession
from backend.apps.user.manager import UserManager
from backend.apps.user.models import User
from backend.core.errors import refusal
from backend.core.ratelimit import client_ip

if TYPE_CHECKING:
    from backend.apps.auth.flows.module import FlowsModule

CODE_INVALID = refusal(
    status.HTTP_400_BAD_REQUEST, "MFA_CODE_INVALID", "That code is wrong or was used already."
)
NOT_FOUND = HTTPException(status.HTTP_404_NOT_FOUND)  # as FastAPI Users answers for /users/{id}


def get_second_step_router(flows: "FlowsModule") -> APIRouter:
    settings, limiter, factors, sign_in = flows.settings, flows.limiter, flows.factors, flows.sign_in
    CurrentSessionDep = Annotated[CurrentSession, Depends(flows.current_session)]
    UserManagerDep = Annotated[UserManager, Depends(flows.get_user_manager)]
    MfaVerify = factors.proof_model("MfaVerify", None, ticket=(str, Field(max_length=128)))
    router = APIRouter(prefix="/auth/mfa", tags=["auth"])

    @router.get("", response_model=factors.status_model, summary="My second factors")
    async def mfa_status(current: CurrentSessionDep) -> MfaStatus:
        return await factors.status(current.user.id)

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
        request: Request,
        response: Response,
        body: MfaVerify,  # type: ignore[valid-type]
        user_manager: UserManagerDep,
    ) -> BearerResponse:
        """The ticket of an MFA_REQUIRED answer and a code, a recovery code or a passkey (for the
        options of `POST /auth/passkeys/options` with purpose `second_factor` and this ticket):
        the session starts as after a login, with the token in the body and in cookies."""
        flows.origins.require(request)
        ip = client_ip(request)
        await limiter.check(LOGIN_IP_RULE, ip, settings.rate_limit_login_ip)
        ticket = await sign_in.open_ticket(body.ticket)
        user = await User.get(ticket.user_id) if ticket else None
        if ticket is None or user is None or not user.is_active:
            await limiter.hit(LOGIN_IP_RULE, ip, settings.rate_limit_login_ip)
            raise TICKET_INVALID
        method = await counted_as_login(
            limiter,
            settings,
            user,
            request,
            "second_factor",
            lambda: factors.accept(user.id, body, "second_factor"),
        )
        if method is None:
            await sign_in.ticket_failed(ticket)
            raise CODE_INVALID
        if not await sign_in.spend_ticket(ticket):
            raise TICKET_INVALID
        access_token = await sign_in.finish(
            user, request, response, ticket.method, user_manager, second_factor=method
        )
        if method == "recovery_code":
            left = (await factors.status(user.id)).recovery_codes_left
            await flows.letters.send_security_notice(
                user, "A recovery code was used to sign in", f"{left} unused recovery codes are left."
            )
        return BearerResponse(access_token=access_token, token_type="bearer")  # noqa: S106

    return router


def get_factors_admin_router(flows: "FlowsModule") -> APIRouter:
    """Superusers see whether a user has a second factor, and reset it for a locked-out person."""
    factors = flows.factors
    router = APIRouter(prefix="/users", tags=["users"], dependencies=[Depends(flows.current_superuser)])

    @router.get(
        "/{id}/second-factors",
        response_model=factors.status_model,
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
        id: PydanticObjectId, request: Request, admin: Annotated[User, Depends(flows.current_superuser)]
    ) -> Response:
        """Remove the user's authenticator app, passkeys and recovery codes (for someone who lost
        them all); their sessions end and they are told by email."""
        user = await User.get(id)
        if user is None:
            raise NOT_FOUND
        await flows.reset_factors(user.id)
        await security_log.record(user.id, "second_factors_reset", request, by=admin.id)
        await flows.sessions.end_all(user.id, "second factors reset by an administrator", request=request)
        await flows.letters.send_security_notice(
            user,
            "Your two-step sign-in was reset",
            "An administrator removed your authenticator app, passkeys and recovery codes, and "
            "ended your sessions. Sign in with your password and set them up again.",
        )
        return Response(status_code=status.HTTP_204_NO_CONTENT)

    return router
