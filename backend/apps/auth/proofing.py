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

The routes of rule 2 (`POST /auth/verify`, with the "this wasn't me" one beside it) are here;
the reset, the sign-in link and the provider sign-in call `InboxProof.claim`.
"""

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, HTTPException, Request, Response, status
from fastapi_users import exceptions
from fastapi_users.router.common import ErrorCode
from pydantic import BaseModel, ConfigDict, Field

from backend.apps.auth.activity import security_log
from backend.apps.auth.backend import Auth, CurrentSession
from backend.apps.auth.confirmation import ConfirmationRequired, counted_as_login
from backend.apps.auth.linked_accounts import OAuthAccount, delete_oauth_accounts_of
from backend.apps.auth.mfa import SecondFactors, SecondFactorState
from backend.apps.auth.passkeys import Passkey
from backend.apps.auth.sessions import Sessions
from backend.apps.auth.sign_in_links import SignInLink, SignInLinks
from backend.apps.user.email_change import EmailChange, EmailChanges
from backend.apps.user.emails import AccountMailer
from backend.apps.user.manager import UserManager
from backend.apps.user.models import User, UserRead, verified_now
from backend.apps.user.routers import account_action_limits
from backend.core.crypto import new_secret
from backend.core.errors import refusal
from backend.core.ratelimit import client_ip

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

    def __init__(self, auth: Auth) -> None:
        self.auth = auth

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

        auth = self.auth
        if not await counted_as_login(auth.limiter, auth.settings, user, request, "link_password", attempt):
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


class InboxProof:
    """Rule 3: the owner of an unproved address got in by its inbox; nobody else stays in."""

    def __init__(
        self,
        sessions: Sessions,
        factors: SecondFactors,
        sign_in_links: SignInLinks,
        email_changes: EmailChanges,
        mailer: AccountMailer,
        provider_labels: dict[str, str],
    ) -> None:
        self.sessions = sessions
        self.labels = provider_labels
        self.factors = factors
        self.sign_in_links = sign_in_links
        self.email_changes = email_changes
        self.mailer = mailer

    async def claim(
        self,
        manager: UserManager,
        user: User,
        via: str,
        request: Request | None,
        *,
        password_kept: bool = False,
    ) -> bool:
        """`user`'s address is proved by its inbox, `via` a password reset, a sign-in link or a
        provider. False when it was proved already (nothing to do); True when it was not: the
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
        # The password as the caller saw it (a reset's, before its new one).
        removed = await self._remove_holder(
            User.model_validate(before), user.password_set, password_kept, request
        )
        await security_log.record(user.id, "address_verified", request, via=via, removed=removed)
        await self.mailer.send_address_proved(
            user, self._via(via), removed, password_cleared=not password_kept
        )
        return True

    async def _remove_holder(
        self, before: User, had_password: bool, password_kept: bool, request: Request | None
    ) -> list[str]:
        """Remove every way in that `before` (the account as it was) had; what went, in words."""
        user_id = before.id
        removed: list[str] = []
        if sessions := len(await self.sessions.live(before)):
            removed.append(_count(sessions, "session", "signed out"))
        await self.sessions.end_all(user_id, "address proved by its owner", request=request)
        if had_password:
            removed.append(
                "the password set before" + (" (your new one replaced it)" if password_kept else "")
            )
        if passkeys := await Passkey.find({"user_id": user_id}).count():
            removed.append(_count(passkeys, "passkey"))
        state = await SecondFactorState.get(user_id)
        if state is not None and state.totp_enabled:
            removed.append("the authenticator app")
        if state is not None and state.recovery_codes:
            removed.append(_count(len(state.recovery_codes), "recovery code"))
        await self.factors.forget_user(user_id)  # the app, codes, passkeys, second-step tickets
        for link in await OAuthAccount.find({"user_id": user_id}).to_list():
            removed.append(f"sign-in with {self.labels.get(link.provider, link.provider)}")
        await delete_oauth_accounts_of(user_id)
        if (change := await EmailChange.get(user_id)) is not None:
            removed.append(f"the pending change of address to {change.new_email}")
        await self.email_changes.forget_user(user_id)
        if links := await SignInLink.find({"user_id": user_id}).count():
            removed.append(_count(links, "unused sign-in link"))
        await self.sign_in_links.forget_user(user_id)
        return removed

    def _via(self, via: str) -> str:
        if via.startswith("provider:"):
            name = via.removeprefix("provider:")
            return f"by signing in with {self.labels.get(name, name)}, which vouches for it"
        return {"password_reset": "by resetting its password"}.get(via, "with a sign-in link mailed to it")


def _count(count: int, thing: str, what: str = "") -> str:
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


def get_proofing_router(auth: Auth, holders: HolderProof) -> APIRouter:
    """`POST /auth/verify` (rule 2) and `POST /auth/verify/not-me`."""
    settings, limiter = auth.settings, auth.limiter
    MaybeSession = Annotated[CurrentSession | None, Depends(auth.fastapi_users.authenticator.authenticate)]
    UserManagerDep = Annotated[UserManager, Depends(auth.get_user_manager)]
    limits = [Depends(account_action_limits(settings, limiter))]
    router = APIRouter(prefix="/auth/verify", tags=["auth"], dependencies=limits)

    @router.post(
        "",
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
        "/not-me",
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
