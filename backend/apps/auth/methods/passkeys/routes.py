"""The passkey routes (`/auth/passkeys/...`); what they check is in service.py.

Signing in with a passkey alone (`/sign-in`) needs no password and no second step: a passkey with
user verification is two factors in itself (something held, and a PIN or biometric). Adding a
passkey needs a verified address (flows/verification.py) and a recent sign-in or confirmation
(flows/step_up.py) when the options are asked for; the challenge they carry binds the
registration to that user for 5 minutes. The account's first passkey ends its other sessions;
a later one does too unless asked not to. Removing one needs a recent confirmation, ends the
account's other sessions, and each change is mailed to the account's address.
"""

from typing import TYPE_CHECKING, Annotated, Literal

from fastapi import APIRouter, Depends, HTTPException, Request, Response, status
from fastapi_users.authentication.transport.bearer import BearerResponse
from fastapi_users.router.common import ErrorCode
from pydantic import BaseModel, ConfigDict, Field

from backend.apps.auth.activity.failures import LOGIN_IP_RULE
from backend.apps.auth.activity.log import security_log
from backend.apps.auth.flows.sign_in import TICKET_INVALID
from backend.apps.auth.flows.step_up import CONFIRMATION_RESPONSES
from backend.apps.auth.flows.verification import PROVED_ADDRESS_RESPONSES
from backend.apps.auth.methods.passkeys.models import (
    AuthenticationResponse,
    Passkey,
    PasskeyRead,
    RegistrationResponse,
)
from backend.apps.auth.methods.passkeys.service import PASSKEY_INVALID
from backend.apps.auth.sessions.authenticator import CurrentSession, unauthorized
from backend.apps.auth.sessions.service import others_signed_out
from backend.apps.user.manager import UserManager
from backend.apps.user.models import User
from backend.config import Rate
from backend.core.ratelimit import client_ip

if TYPE_CHECKING:
    from backend.apps.auth.methods.passkeys.module import PasskeysMethod

Name = Annotated[str, Field(min_length=1, max_length=64, pattern=r"^[^\x00-\x1f\x7f]+$")]


class OptionsRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    purpose: Literal["sign_in", "second_factor", "confirm"] = Field(
        description="sign_in: anyone, any passkey; second_factor: with the `ticket` of an MFA_REQUIRED "
        "answer; confirm: signed in, for POST /auth/confirm"
    )
    ticket: str | None = Field(None, max_length=128)


class PasskeySignIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    credential: AuthenticationResponse


class NewPasskey(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: Name
    credential: RegistrationResponse
    end_other_sessions: bool = Field(
        True, description="sign out my other sessions too (always, for the account's first passkey)"
    )


class PasskeyRename(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: Name


class PasskeyAdded(BaseModel):
    passkey: PasskeyRead
    recovery_codes: list[str] = Field(
        description="when this is the account's first second factor: its recovery codes, shown once"
    )
    other_sessions_ended: int = Field(description="how many of my other sessions were signed out")


# Each options request stores a challenge: bound how many one address can make.
OPTIONS_RATE = Rate(60, 60)
UNAVAILABLE = {
    409: {"description": "PASSKEYS_UNAVAILABLE: PUBLIC_URL is an IP address; the reason says what to do"}
}


def read(passkey: Passkey) -> PasskeyRead:
    return PasskeyRead.model_validate(passkey, from_attributes=True)


def get_passkey_router(method: "PasskeysMethod") -> APIRouter:
    settings, limiter, passkeys, flows = method.settings, method.limiter, method.passkeys, method.flows
    sessions, letters = flows.sessions, flows.letters
    CurrentSessionDep = Annotated[CurrentSession, Depends(flows.current_session)]
    MaybeSession = Annotated[CurrentSession | None, Depends(flows.maybe_session)]
    ConfirmedSession = Annotated[CurrentSession, Depends(flows.confirmation.confirmed_session)]
    ProvedConfirmed = Annotated[CurrentSession, Depends(flows.proved_and_confirmed)]
    ProvedSession = Annotated[CurrentSession, Depends(flows.proved)]
    UserManagerDep = Annotated[UserManager, Depends(flows.get_user_manager)]
    router = APIRouter(prefix="/auth/passkeys", tags=["auth"])

    @router.post(
        "/options",
        responses={
            400: {"description": "MFA_TICKET_INVALID"},
            401: {"description": "purpose confirm without a session"},
            **UNAVAILABLE,
            429: {"description": "too many options asked for from this address"},
        },
        summary="Options for navigator.credentials.get()",
    )
    async def authentication_options(body: OptionsRequest, request: Request, current: MaybeSession) -> dict:
        """PublicKeyCredentialRequestOptionsJSON with a new challenge (5 minutes, works once):
        give them to `startAuthentication()` of @simplewebauthn/browser."""
        passkeys.require_available()
        await limiter.hit("passkey-options:ip", client_ip(request), OPTIONS_RATE)
        if body.purpose == "sign_in":
            return await passkeys.authentication_options("sign_in", None)
        if body.purpose == "second_factor":
            ticket = await flows.sign_in.open_ticket(body.ticket or "")
            if ticket is None:
                raise TICKET_INVALID
            return await passkeys.authentication_options("second_factor", ticket.user_id)
        if current is None:
            raise unauthorized()
        return await passkeys.authentication_options("confirm", current.user.id)

    @router.post(
        "/sign-in",
        name="auth:passkeys.sign_in",
        response_model=BearerResponse,
        responses={
            400: {"description": "PASSKEY_INVALID (counted as a failed login from this address)"},
            403: {"description": "ORIGIN_NOT_ALLOWED: the request came from a page of another site"},
            **UNAVAILABLE,
            429: {"description": "too many failed logins from this address"},
        },
        summary="Sign in with a passkey",
    )
    async def sign_in(
        request: Request, response: Response, body: PasskeySignIn, user_manager: UserManagerDep
    ) -> BearerResponse:
        """A passkey's answer to the options of `POST /auth/passkeys/options` (purpose `sign_in`):
        the session starts as after a login, with no second step."""
        flows.origins.require(request)
        passkeys.require_available()
        ip = client_ip(request)
        await limiter.check(LOGIN_IP_RULE, ip, settings.rate_limit_login_ip)
        passkey = await passkeys.authenticate(body.credential, "sign_in", None)
        user = await User.get(passkey.user_id) if passkey else None
        if user is None or not user.is_active:
            await limiter.hit(LOGIN_IP_RULE, ip, settings.rate_limit_login_ip)
            raise PASSKEY_INVALID
        if settings.require_verified_login and not user.is_verified:
            raise HTTPException(status.HTTP_400_BAD_REQUEST, detail=ErrorCode.LOGIN_USER_NOT_VERIFIED)
        access_token = await flows.sign_in.finish(user, request, response, "passkey", user_manager)
        return BearerResponse(access_token=access_token, token_type="bearer")  # noqa: S106

    @router.get("", response_model=list[PasskeyRead], summary="My passkeys")
    async def list_passkeys(current: CurrentSessionDep) -> list[PasskeyRead]:
        return [read(p) for p in await passkeys.list(current.user.id)]

    @router.post(
        "/registration-options",
        responses={
            **PROVED_ADDRESS_RESPONSES,
            409: {"description": "PASSKEYS_UNAVAILABLE or TOO_MANY_PASSKEYS"},
        },
        summary="Options for navigator.credentials.create()",
    )
    async def registration_options(current: ProvedConfirmed) -> dict:
        """PublicKeyCredentialCreationOptionsJSON for a new passkey of mine (the challenge works
        once, for 5 minutes): give them to `startRegistration()` of @simplewebauthn/browser."""
        return await passkeys.registration_options(current.user)

    @router.post(
        "",
        response_model=PasskeyAdded,
        status_code=status.HTTP_201_CREATED,
        responses={
            400: {"description": "PASSKEY_INVALID"},
            403: {"description": "VERIFICATION_REQUIRED: the account's address is not verified yet"},
            **UNAVAILABLE,
        },
        summary="Add a passkey",
    )
    async def add_passkey(body: NewPasskey, current: ProvedSession, request: Request) -> PasskeyAdded:
        """`startRegistration()`'s answer to the options of `/registration-options`, and a name.
        My other sessions end: always with my first passkey, else unless `end_other_sessions`
        is false."""
        passkey = await passkeys.register(current.user, body.name, body.credential)
        first = await passkeys.count(current.user.id) == 1
        codes = await flows.factors.added(current.user.id, "passkey", first_of_its_kind=first)
        await security_log.record(
            current.user.id, "passkey_added", request, passkey_id=passkey.id, name=passkey.name
        )
        ended = 0
        if body.end_other_sessions or first:
            ended = await sessions.end_all(
                current.user.id, "passkey added", keep=current.session_id, request=request
            )
        await letters.send_security_notice(
            current.user,
            "A passkey was added",
            f"The passkey \u201c{passkey.name}\u201d can now sign in to your account. "
            + others_signed_out(ended),
        )
        return PasskeyAdded(passkey=read(passkey), recovery_codes=codes, other_sessions_ended=ended)

    @router.patch(
        "/{passkey_id}",
        response_model=PasskeyRead,
        responses={404: {"description": "no passkey of mine has this id"}},
        summary="Rename a passkey",
    )
    async def rename_passkey(passkey_id: str, body: PasskeyRename, current: CurrentSessionDep) -> PasskeyRead:
        passkey = await passkeys.rename(current.user.id, passkey_id, body.name)
        if passkey is None:
            raise HTTPException(status.HTTP_404_NOT_FOUND)
        return read(passkey)

    @router.delete(
        "/{passkey_id}",
        status_code=status.HTTP_204_NO_CONTENT,
        responses={**CONFIRMATION_RESPONSES, 404: {"description": "no passkey of mine has this id"}},
        summary="Remove a passkey",
    )
    async def remove_passkey(passkey_id: str, current: ConfirmedSession, request: Request) -> Response:
        """The passkey stops working at once; my other sessions end."""
        removed = await passkeys.remove(current.user.id, passkey_id)
        if removed is None:
            raise HTTPException(status.HTTP_404_NOT_FOUND)
        await flows.factor_removed(current.user.id)
        await security_log.record(
            current.user.id, "passkey_removed", request, passkey_id=removed.id, name=removed.name
        )
        await sessions.end_all(current.user.id, "passkey removed", keep=current.session_id, request=request)
        await letters.send_security_notice(
            current.user, "A passkey was removed", "It no longer signs in; your other sessions were ended."
        )
        return Response(status_code=status.HTTP_204_NO_CONTENT)

    return router
