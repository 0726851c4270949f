"""Who may be in an account before and after its address is proved: no pre-account hijacking.

Anyone can make an account with an address that is not theirs, and wait for its owner (Sudhodanan
& Paverd, "Pre-hijacked accounts", USENIX Security 2022). The rules here make sure that whoever
made it keeps no way in once the owner of the address arrives (OWASP ASVS 5.0: a factor is bound
only to a proved identity; recovery leaves no other party's factor behind):

1. **Binding needs a proved address.** An unverified account cannot add a passkey, set up an
   authenticator app, make recovery codes or link a provider: 403 VERIFICATION_REQUIRED, with the
   address and a way to resend (`proved_address`). Changing the address stays open: that is how
   a typo is mended, and the new address proves itself.
2. **The password holder proves the inbox** (`HolderProof`): a verification link, or the link
   that moves an account to a new address, completes only for a request signed in to that
   account, or with the account's password (counted as a login attempt). Everything bound before
   stays: it was the same person. Someone with the inbox but not the password cannot complete it,
   and for an account never proved may answer "this wasn't me" instead (unverified.py).
3. **The inbox holder gets in without the password** — a password reset, a sign-in link, a
   provider that vouches for the address — while the address is unproved (`InboxProof.claim`):
   the address becomes proved and everything bound before by whoever held the account is
   removed: its sessions and refresh tokens, the password (a reset's new one replaces it),
   passkeys, the authenticator app, recovery codes, provider links, a pending change of address,
   unused sign-in links and second-step tickets. The owner is told by mail what went and how to
   set a password. One conditional update claims the account (still unverified, still at that
   address), so of two proofs at once one removes and the other finds a proved account.

The routes of rule 2 (`POST /auth/verify`, with the "this wasn't me" one and the request for a
new link beside it) are here; the reset, the sign-in link and the provider sign-in call
`InboxProof.claim`, and each module removes its own ways in (`Module.remove_ways_in`,
core/modules.py).
"""

from collections.abc import Awaitable, Callable, Sequence
from pathlib import Path
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Body, Depends, HTTPException, Request, Response, status
from fastapi_users import exceptions
from fastapi_users.router.common import ErrorCode
from pydantic import BaseModel, ConfigDict, EmailStr, Field

from backend.apps.auth.activity.failures import counted_as_login
from backend.apps.auth.activity.log import security_log
from backend.apps.auth.flows.step_up import ConfirmationRequired
from backend.apps.auth.sessions.authenticator import CurrentSession
from backend.apps.auth.sessions.service import Sessions
from backend.apps.user.manager import UserManager
from backend.apps.user.models import User, UserRead, verified_now
from backend.config import Settings
from backend.core.crypto import new_secret
from backend.core.errors import refusal
from backend.core.mail.letters import Letters
from backend.core.ratelimit import RateLimiter, account_action_limits, client_ip

DECLINE_BAD_LINK_RULE = "decline-token:ip"  # bad "this wasn't me" tokens, per address


def verification_required(user: User) -> HTTPException:
    reason = (
        f"Confirm your address first: we sent a link to {user.email}. No mail? "
        "Ask for a new link (POST /auth/request-verify-token)."
    )
    detail = VerificationRequired(reason=reason, email=user.email)
    return HTTPException(status.HTTP_403_FORBIDDEN, detail=detail.model_dump())


class VerificationRequired(BaseModel):
    code: Literal["VERIFICATION_REQUIRED"] = "VERIFICATION_REQUIRED"
    reason: str
    email: str = Field(description="where the verification link went")


class ProvedAddressRefusal(BaseModel):
    detail: VerificationRequired | ConfirmationRequired


PROVED_ADDRESS_RESPONSES: dict[int | str, dict[str, Any]] = {
    403: {
        "model": ProvedAddressRefusal,
        "description": "VERIFICATION_REQUIRED: the account's address is not verified yet (the reason says "
        "where the link went); CONFIRMATION_REQUIRED: no sign-in or confirmation in the last few minutes, "
        "POST /auth/confirm, then try again",
    }
}


def proved_address(session: Any, signed_in: Any) -> Any:
    """`session` (a dependency giving a CurrentSession, such as a confirmed one) for accounts whose
    address is proved; 403 VERIFICATION_REQUIRED before anything else for the others (rule 1).
    `signed_in` is the plain session dependency the check reads the account from."""

    async def check(current: Annotated[CurrentSession, Depends(signed_in)]) -> None:
        if not current.user.is_verified:
            raise verification_required(current.user)

    # FastAPI solves a dependency's parameters in order: the address first, so an unverified
    # account is never asked to confirm it is itself for something it may not do anyway.
    async def proved(
        _: Annotated[None, Depends(check)], current: Annotated[CurrentSession, Depends(session)]
    ) -> CurrentSession:
        return current

    return proved


class HolderProof:
    """Rule 2: a link that proves an address completes only for the holder of the account."""

    def __init__(self, settings: Settings, limiter: RateLimiter) -> None:
        self.settings, self.limiter = settings, limiter

    async def require(
        self,
        user: User,
        current: CurrentSession | None,
        password: str | None,
        request: Request,
        manager: UserManager,
    ) -> str:
        """How the request showed it holds `user`: "session" or "password"; else a refusal (403
        ACCOUNT_PROOF_REQUIRED, or 400 ACCOUNT_PROOF_INVALID for a wrong password, counted as a
        failed login)."""
        if current is not None and current.user.id == user.id:
            return "session"
        if password is None:
            raise proof_required(user)

        async def attempt() -> bool:
            if not user.password_set:
                return False
            verified, _ = await manager.verify_password(password, user.hashed_password)
            return verified

        if not await counted_as_login(self.limiter, self.settings, user, request, "link_password", attempt):
            raise PROOF_INVALID
        return "password"


def proof_required(user: User) -> HTTPException:
    if user.password_set:
        reason = (
            f"Enter the password of the account {user.email} to finish, or open the link in the "
            "browser where you are signed in to it."
        )
    else:
        reason = (
            f"Sign in to the account {user.email} first (the way you signed up), then open the link again."
        )
    return HTTPException(
        status.HTTP_403_FORBIDDEN,
        detail={
            "code": "ACCOUNT_PROOF_REQUIRED",
            "reason": reason,
            "email": user.email,
            "methods": ["password"] if user.password_set else [],
            "can_decline": user.never_verified,
        },
    )


PROOF_INVALID = refusal(
    status.HTTP_400_BAD_REQUEST, "ACCOUNT_PROOF_INVALID", "That is not the password of this account."
)
HOLDER_PROOF_RESPONSES: dict[int | str, dict[str, Any]] = {
    400: {"description": "ACCOUNT_PROOF_INVALID: a wrong password (counted as a failed login)"},
    403: {
        "description": "ACCOUNT_PROOF_REQUIRED: not signed in to the account, and no `password`: the "
        'detail has `methods` (`["password"]`, or `[]`: sign in first) and `can_decline`'
    },
    429: {"description": "too many failed logins for this account or from this address"},
}


# A module's ways into an account, removed when the address's owner takes it back; in words.
RemoveWaysIn = Callable[[Any], Awaitable[list[str]]]


class VerificationLetters(Letters):
    templates = Path(__file__).parent / "templates"

    async def send_address_proved(
        self, user: User, via: str, removed: list[str], *, password_cleared: bool
    ) -> None:
        """The owner of the address got in (`via` says how) before it was proved: what was
        removed of whoever held the account until then, and how to set a password."""
        await self.send(
            user,
            "Your address is confirmed: only you can sign in now",
            "address_proved",
            via=via,
            removed=removed,
            password_cleared=password_cleared,
            forgot_link=f"{self.base_url}/forgot-password",
        )


class InboxProof:
    """Rule 3: the owner of an unproved address got in by its inbox; nobody else stays in."""

    def __init__(self, sessions: Sessions, letters: VerificationLetters) -> None:
        self.sessions = sessions
        self.letters = letters
        # Every module's `remove_ways_in`, handed in once all are built (core/modules.py).
        self.ways_in: Sequence[RemoveWaysIn] = ()

    async def claim(
        self,
        manager: UserManager,
        user: User,
        via: str,
        request: Request | None,
        *,
        password_kept: bool = False,
        how: str | None = None,
    ) -> bool:
        """`user`'s address is proved by its inbox, `via` a password reset, a sign-in link or a
        provider (`password_reset`, `sign_in_link`, `provider:<name>`; `how` says it in the mail's
        words). False when it was proved already (nothing to do); True when it was not: the
        address is now proved, and what anyone had bound to the account is gone — all of it, the
        password too unless `password_kept` (a reset's new one)."""
        if user.is_verified:
            return False
        fields: dict[str, Any] = {**verified_now(), "session_ids": []}
        if not password_kept:
            # A real hash of a secret nobody knows: logins still cost one verify, and fail.
            fields |= {"hashed_password": await manager.hash_password(new_secret()), "password_set": False}
        before = await User.get_pymongo_collection().find_one_and_update(
            {"_id": user.id, "email": user.email, "is_verified": False, "is_active": True}, {"$set": fields}
        )
        if before is None:  # proved a moment ago, moved, or deactivated: not this proof's to make
            return False
        removed: list[str] = []
        if sessions := len(await self.sessions.live(User.model_validate(before))):
            removed.append(count_of(sessions, "session", "signed out"))
        await self.sessions.end_all(user.id, "address proved by its owner", request=request)
        if user.password_set:  # as the caller saw it: a reset's, before its new one
            replaced = " (your new one replaced it)" if password_kept else ""
            removed.append(f"the password set before{replaced}")
        for remove in self.ways_in:
            removed += await remove(user.id)
        await security_log.record(user.id, "address_verified", request, via=via, removed=removed)
        await self.letters.send_address_proved(
            user, how or HOW.get(via, via), removed, password_cleared=not password_kept
        )
        return True


HOW = {"password_reset": "by resetting its password", "sign_in_link": "with a sign-in link mailed to it"}


def count_of(count: int, thing: str, what: str = "") -> str:
    """ "2 passkeys", "1 session (signed out)": what a removal took, for the owner's mail."""
    return f"{count} {thing}{'s' if count != 1 else ''}" + (f" ({what})" if what else "")


class VerifyRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    token: str = Field(max_length=2048, description="from the mailed link")
    password: str | None = Field(
        None, max_length=1024, description="the account's, when the request is not signed in to it"
    )


class DeclineRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    token: str = Field(
        max_length=2048, description="from the mail's “this wasn't me” link, or its verification link"
    )


DECLINE_INVALID = refusal(
    status.HTTP_400_BAD_REQUEST,
    "DECLINE_INVALID",
    "This link is unknown or expired, or the account's address was confirmed: nothing was deleted.",
)


def get_verification_router(
    settings: Settings,
    limiter: RateLimiter,
    holders: HolderProof,
    maybe_session: Callable[..., Any],
    get_user_manager: Callable[..., Any],
) -> APIRouter:
    """`POST /auth/request-verify-token`, `POST /auth/verify` (rule 2), `POST /auth/verify/not-me`."""
    MaybeSession = Annotated[CurrentSession | None, Depends(maybe_session)]
    UserManagerDep = Annotated[UserManager, Depends(get_user_manager)]
    limits = [Depends(account_action_limits(settings, limiter))]
    router = APIRouter(prefix="/auth", tags=["auth"], dependencies=limits)

    @router.post("/request-verify-token", status_code=status.HTTP_202_ACCEPTED, name="verify:request-token")
    async def request_verify_token(
        request: Request, email: Annotated[EmailStr, Body(embed=True)], user_manager: UserManagerDep
    ) -> None:
        """Mail a verification link if the address has an unverified account; the same answer either way."""
        user_manager.request_verify_later(email, request)

    @router.post(
        "/verify",
        response_model=UserRead,
        name="verify:verify",
        responses={
            **HOLDER_PROOF_RESPONSES,
            400: {
                "description": "VERIFY_USER_BAD_TOKEN, VERIFY_USER_ALREADY_VERIFIED, or "
                "ACCOUNT_PROOF_INVALID: a wrong password (counted as a failed login)"
            },
        },
    )
    async def verify(
        body: VerifyRequest, current: MaybeSession, request: Request, manager: UserManagerDep
    ) -> UserRead:
        """Prove the account's address with the mailed link: signed in to that account, or with its
        `password`. Anything the account holds stays."""
        try:
            user = await manager.verification_subject(body.token)
            await holders.require(user, current, body.password, request, manager)
            return UserRead.model_validate(await manager.verify(body.token, request))
        except (exceptions.InvalidVerifyToken, exceptions.UserNotExists):
            raise HTTPException(status.HTTP_400_BAD_REQUEST, detail=ErrorCode.VERIFY_USER_BAD_TOKEN) from None
        except exceptions.UserAlreadyVerified:
            raise HTTPException(
                status.HTTP_400_BAD_REQUEST, detail=ErrorCode.VERIFY_USER_ALREADY_VERIFIED
            ) from None

    @router.post(
        "/verify/not-me",
        status_code=status.HTTP_204_NO_CONTENT,
        responses={
            400: {"description": "DECLINE_INVALID: unknown or expired, or the address was proved meanwhile"},
            429: {"description": "too many invalid links from this address"},
        },
    )
    async def decline(body: DeclineRequest, request: Request, manager: UserManagerDep) -> Response:
        """ "This wasn't me": the account made with my address, never proved, is deleted at once with
        everything in it. Needs no session; nobody else is told."""
        ip = client_ip(request)
        await limiter.check(DECLINE_BAD_LINK_RULE, ip, settings.rate_limit_login_ip)
        if not await manager.decline(body.token, request):
            await limiter.hit(DECLINE_BAD_LINK_RULE, ip, settings.rate_limit_login_ip)
            raise DECLINE_INVALID
        return Response(status_code=status.HTTP_204_NO_CONTENT)

    return router
