"""The password method's routes: register, log in, forgot and reset, change my password, and
the strength check a new-password field asks while it is typed in.

Register and reset are FastAPI Users' routers, behind per-account and per-IP limits;
forgot-password is this app's (it answers before any lookup: FastAPI Users' looks the address up
and hashes first, which times known addresses apart). Logging in ends in the sign-in flow
(flows/sign_in.py), like every first step: an account with a second factor gets MFA_REQUIRED.
The strength check is the policy's own judgement (apps/user/passwords.py: `judge_password`, what
register, reset and change refuse with), so the meter and the server never disagree.
"""

from typing import TYPE_CHECKING, Annotated

from fastapi import APIRouter, Body, Depends, HTTPException, Request, Response, status
from fastapi.security import OAuth2PasswordRequestForm
from fastapi_users.authentication.transport.bearer import BearerResponse
from fastapi_users.exceptions import InvalidPasswordException, InvalidResetPasswordToken, UserInactive
from fastapi_users.router.common import ErrorCode
from pydantic import BaseModel, ConfigDict, EmailStr, Field, TypeAdapter, ValidationError

from backend.apps.auth.activity.failures import (
    LOGIN_ACCOUNT_RULE,
    LOGIN_IP_RULE,
    count_failed_login,
    count_toward_lockout,
)
from backend.apps.auth.activity.log import security_log
from backend.apps.auth.flows.sign_in import MFA_REQUIRED_RESPONSE, SecondFactorRequired, SignedIn
from backend.apps.auth.sessions.authenticator import CurrentSession
from backend.apps.user.manager import UserManager
from backend.apps.user.models import PasswordChange, UserCreate, UserRead
from backend.apps.user.passwords import PASSWORD_MIN_SCORE, judge_password
from backend.core.email_address import normalize_email
from backend.core.ratelimit import account_action_limits, client_ip
from backend.core.routers import without

if TYPE_CHECKING:
    from backend.apps.auth.methods.password.module import PasswordMethod


def get_password_router(method: "PasswordMethod") -> APIRouter:
    settings, limiter, users = method.settings, method.limiter, method.users
    account_limits = [Depends(account_action_limits(settings, limiter))]
    router = APIRouter()
    router.include_router(
        users.get_register_router(UserRead, UserCreate),
        prefix="/auth",
        tags=["auth"],
        dependencies=account_limits,
    )
    router.include_router(
        get_forgot_router(method), prefix="/auth", tags=["auth"], dependencies=account_limits
    )
    router.include_router(
        without(users.get_reset_password_router(), "/forgot-password"),
        prefix="/auth",
        tags=["auth"],
        dependencies=account_limits,
    )
    router.include_router(
        get_reset_check_router(method), prefix="/auth", tags=["auth"], dependencies=account_limits
    )
    router.include_router(get_login_router(method), tags=["auth"])
    router.include_router(get_change_router(method), prefix="/users", tags=["users"])
    router.include_router(get_strength_router(method), prefix="/auth", tags=["auth"])
    return router


def get_forgot_router(method: "PasswordMethod") -> APIRouter:
    UserManagerDep = Annotated[UserManager, Depends(method.get_user_manager)]
    router = APIRouter()

    @router.post("/forgot-password", status_code=status.HTTP_202_ACCEPTED, name="reset:forgot_password")
    async def forgot_password(
        request: Request, email: Annotated[EmailStr, Body(embed=True)], user_manager: UserManagerDep
    ) -> None:
        """Mail a reset link if the address has an active account; the answer is the same either way."""
        user_manager.forgot_password_later(email, request)

    return router


def get_reset_check_router(method: "PasswordMethod") -> APIRouter:
    UserManagerDep = Annotated[UserManager, Depends(method.get_user_manager)]
    router = APIRouter()

    @router.post(
        "/reset-password/check",
        status_code=status.HTTP_204_NO_CONTENT,
        name="reset:check",
        responses={400: {"description": "RESET_PASSWORD_BAD_TOKEN: unknown, expired or used"}},
        summary="Whether a reset link still works",
    )
    async def check_reset_link(
        token: Annotated[str, Body(embed=True, max_length=2048)], user_manager: UserManagerDep
    ) -> None:
        """204 when the link's token can still reset its account's password, else 400 as
        `POST /auth/reset-password` would answer it: the reset page asks before it shows a form."""
        try:
            await user_manager.reset_token_user(token)
        except (InvalidResetPasswordToken, UserInactive):
            bad = ErrorCode.RESET_PASSWORD_BAD_TOKEN
            raise HTTPException(status.HTTP_400_BAD_REQUEST, detail=bad) from None

    return router


def get_login_router(method: "PasswordMethod") -> APIRouter:
    settings, limiter, flow = method.settings, method.limiter, method.sign_in
    UserManagerDep = Annotated[UserManager, Depends(method.get_user_manager)]
    router = APIRouter()

    @router.post(
        "/auth/jwt/login",
        name="auth:jwt.login",
        response_model=BearerResponse,
        responses={
            400: {
                "description": "LOGIN_BAD_CREDENTIALS, or LOGIN_USER_NOT_VERIFIED with REQUIRE_VERIFIED_LOGIN"
            },
            **MFA_REQUIRED_RESPONSE,
            403: {"description": "ORIGIN_NOT_ALLOWED: the request came from a page of another site"},
            429: {"description": "too many failures"},
        },
    )
    async def login(
        request: Request,
        response: Response,
        credentials: Annotated[OAuth2PasswordRequestForm, Depends()],
        user_manager: UserManagerDep,
    ) -> BearerResponse:
        """Log in with `username` (the email) and `password`: the token in the body and in cookies.

        An account with a second factor gets no session yet: 401 MFA_REQUIRED with a ticket for
        POST /auth/mfa/verify."""
        method.origins.require(request)
        account, ip = normalize_email(credentials.username), client_ip(request)
        # Checked before the password, both in one read: while locked, even the right password
        # is not tried.
        await limiter.check_all(
            [
                (LOGIN_ACCOUNT_RULE, account, settings.rate_limit_login_account),
                (LOGIN_IP_RULE, ip, settings.rate_limit_login_ip),
            ]
        )
        user = await user_manager.authenticate(credentials)
        if user is None or not user.is_active:
            # An existing account's log counts the failure: one more read for any failed login,
            # known address or not, and (known only) one write beside an argon2 verify.
            target = user or await user_manager.user_db.get_by_email(account)
            await count_failed_login(
                limiter,
                [
                    (LOGIN_ACCOUNT_RULE, account, settings.rate_limit_login_account),
                    (LOGIN_IP_RULE, ip, settings.rate_limit_login_ip),
                ],
                target.id if target else None,
                request,
                "password",
            )
            raise HTTPException(status.HTTP_400_BAD_REQUEST, detail=ErrorCode.LOGIN_BAD_CREDENTIALS)
        if settings.require_verified_login and not user.is_verified:
            raise HTTPException(status.HTTP_400_BAD_REQUEST, detail=ErrorCode.LOGIN_USER_NOT_VERIFIED)
        outcome = await flow.first_step_done(user, request, response, "password", user_manager)
        if not isinstance(outcome, SignedIn):
            raise SecondFactorRequired(outcome)
        return BearerResponse(access_token=outcome.access_token, token_type="bearer")  # noqa: S106

    return router


def get_change_router(method: "PasswordMethod") -> APIRouter:
    settings, limiter = method.settings, method.limiter
    CurrentSessionDep = Annotated[CurrentSession, Depends(method.current_session)]
    router = APIRouter()

    @router.post(
        "/me/password",
        response_model=UserRead,
        responses={400: {"description": "CHANGE_PASSWORD_BAD_CURRENT or CHANGE_PASSWORD_INVALID_PASSWORD"}},
    )
    async def change_password(
        body: PasswordChange,
        current: CurrentSessionDep,
        request: Request,
        user_manager: Annotated[UserManager, Depends(method.get_user_manager)],
    ) -> UserRead:
        """Change my password; my other sessions end."""
        account = current.user.email
        # A wrong current password counts as a failed login does, on the same counter toward the
        # same lockout: guessing it from a stolen session is throttled too (ASVS 5.0 6.3.1).
        await limiter.check(LOGIN_ACCOUNT_RULE, account, settings.rate_limit_login_account)
        try:
            user = await user_manager.change_password(current.user, body.current_password, body.new_password)
        except InvalidPasswordException as exc:
            raise HTTPException(
                status.HTTP_400_BAD_REQUEST,
                detail={"code": "CHANGE_PASSWORD_INVALID_PASSWORD", "reason": exc.reason},
            ) from None
        if user is None:
            # Logged as what it is, not as a failed sign-in: the one asking is signed in, and
            # the session it asked from is named, so the owner can end it.
            await security_log.record(
                current.user.id, "password_change_refused", request, session_id=current.session_id
            )
            limits = [(LOGIN_ACCOUNT_RULE, account, settings.rate_limit_login_account)]
            await count_toward_lockout(limiter, limits, current.user.id, request)
            raise HTTPException(
                status.HTTP_400_BAD_REQUEST,
                detail={"code": "CHANGE_PASSWORD_BAD_CURRENT", "reason": "The current password is wrong."},
            )
        await security_log.record(user.id, "password_changed", request)
        await method.sessions.end_all(user.id, "password changed", keep=current.session_id, request=request)
        return UserRead.model_validate(user)

    return router


STRENGTH_IP_RULE = "password-strength:ip"
NO_STORE_HEADER = {
    "description": "`no-store`: the answer is about a password",
    "required": True,
    "schema": {"type": "string"},
}
ADDRESS = TypeAdapter(EmailStr)


class PasswordCheck(BaseModel):
    model_config = ConfigDict(extra="forbid")

    password: str = Field(description="the new password as typed so far; judged, never kept or logged")
    email: str | None = Field(
        None,
        max_length=320,
        description="the address the account has or will have: the password may not contain it",
    )


class PasswordStrength(BaseModel):
    acceptable: bool = Field(description="register, reset and change would take this password")
    score: int = Field(
        ge=0,
        le=4,
        description=f"zxcvbn's estimate, 0 (guessable) to 4; {PASSWORD_MIN_SCORE} or more when acceptable",
    )
    reason: str | None = Field(description="why not: the sentence register, reset and change refuse it with")
    warning: str | None = Field(description="zxcvbn's warning, if any")
    suggestions: list[str] = Field(description="zxcvbn's suggestions")


def register_spelling(email: str | None) -> str | None:
    """The address as register judges the password against it (EmailStr's spelling: the domain
    in Unicode), or as typed while it is not an address yet; None when there is none."""
    if not email:
        return None
    try:
        return ADDRESS.validate_python(email)
    except ValidationError:
        return email


def get_strength_router(method: "PasswordMethod") -> APIRouter:
    settings, limiter = method.settings, method.limiter

    async def limit_per_ip(request: Request) -> None:
        # Per IP only, the address unread: what it answers depends on no account.
        await limiter.hit(STRENGTH_IP_RULE, client_ip(request), settings.rate_limit_password_check_ip)

    router = APIRouter()

    @router.post(
        "/password-strength",
        dependencies=[Depends(limit_per_ip)],
        responses={200: {"headers": {"Cache-Control": NO_STORE_HEADER}}},
    )
    async def password_strength(body: PasswordCheck, response: Response) -> PasswordStrength:
        """How register, reset and change would judge this password, for a meter beside the field.

        Looks nothing up, so it says the same whether the address has an account or not."""
        judgement = await method.judging.run(judge_password, body.password, register_spelling(body.email))
        response.headers["Cache-Control"] = "no-store"
        return PasswordStrength(
            acceptable=judgement.problem is None,
            score=judgement.score,
            reason=judgement.problem,
            warning=judgement.warning,
            suggestions=list(judgement.suggestions),
        )

    return router
