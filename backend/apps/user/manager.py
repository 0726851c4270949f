"""The user manager: FastAPI Users' business logic plus this app's hooks and password policy."""

from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from dataclasses import dataclass
from typing import Annotated, Any

from anyio import to_thread
from beanie import PydanticObjectId
from fastapi import Depends, Request
from fastapi_users import exceptions, schemas
from fastapi_users.password import PasswordHelperProtocol
from fastapi_users_db_beanie import ObjectIDIDMixin
from jwt import PyJWTError

from backend.apps.user.letters import UserLetters
from backend.apps.user.link_tokens import decode_with_any
from backend.apps.user.models import SuperuserCreate, User, UserDatabase
from backend.apps.user.passwords import (
    ThreadedPasswordsMixin,
    argon2_password_helper,
    get_password_helper,
    password_problem,
)
from backend.apps.user.superusers import KeepOneSuperuserMixin
from backend.apps.user.unverified import NEVER_PROVED, UnverifiedPolicy
from backend.config import Settings
from backend.core.crypto import derive_secret
from backend.core.email_address import normalize_email
from backend.core.hashing import HashingPool
from backend.core.ratelimit import client_ip

UserDeletedHook = Callable[[PydanticObjectId], Awaitable[object]]
EndSessions = Callable[..., Awaitable[object]]  # (user_id, reason, request=None)
# (user_id, event type, request, **detail): adds to the account's security log; never raises.
RecordEvent = Callable[..., Awaitable[object]]
# (manager, user, via, request, *, password_kept) -> whether the account was unproved and the
# prover is now the only one in it (the auth app's flows/verification.py).
InboxProved = Callable[..., Awaitable[bool]]


async def _record_nothing(*args: Any, **kwargs: Any) -> None:
    """Until the security log registers (and for the superuser command): nothing to log."""


async def _no_inbox_proof(*args: Any, **kwargs: Any) -> bool:
    """Until the verification flow registers (and for the superuser command): nothing to prove."""
    return False


async def _no_sessions(user_id: PydanticObjectId, reason: str, request: Request | None = None) -> None:
    """Until the sessions register (and for the superuser command: a new user has no sessions)."""


@dataclass
class AccountHooks:
    """What other modules do when an account changes; the user app knows nothing of them. Each
    registers its part when it is built (the user module's `hooks`).

    `end_sessions(user_id, reason, request=...)` signs the user out everywhere (a reset, a
    deactivation), the sessions' part; `on_user_deleted` run, in order, after a user is deleted
    (every module's `forget_user`); `record_event` writes to the account's security log;
    `inbox_proved` makes whoever proved an unproved address by resetting its password the only
    one in the account (the verification flow's).
    """

    end_sessions: EndSessions = _no_sessions
    on_user_deleted: Sequence[UserDeletedHook] = ()
    record_event: RecordEvent = _record_nothing
    inbox_proved: InboxProved = _no_inbox_proof


class UserManager(ObjectIDIDMixin, KeepOneSuperuserMixin, ThreadedPasswordsMixin[User, PydanticObjectId]):
    verification_token_lifetime_seconds = 24 * 3600
    reset_password_token_lifetime_seconds = 3600

    def __init__(
        self,
        user_db: UserDatabase,
        password_helper: PasswordHelperProtocol,
        *,
        settings: Settings,
        letters: UserLetters,
        hooks: AccountHooks,
        hashing: HashingPool,
        client: str | None = None,
    ) -> None:
        super().__init__(user_db, password_helper)
        self.hashing = hashing
        self.client = client
        # Links are made with the key of the first JWT secret and opened with any (link_tokens.py).
        self.reset_password_token_secrets = [derive_secret(s, "reset-password") for s in settings.jwt_secrets]
        self.verification_token_secrets = [derive_secret(s, "verify") for s in settings.jwt_secrets]
        self.reset_password_token_secret = self.reset_password_token_secrets[0]
        self.verification_token_secret = self.verification_token_secrets[0]
        self.letters = letters
        self.hooks = hooks
        self.unverified = UnverifiedPolicy(settings)

    async def validate_password(self, password: str, user: schemas.UC | User) -> None:
        problem = await to_thread.run_sync(password_problem, password, user.email)
        if problem:
            raise exceptions.InvalidPasswordException(problem)

    async def change_password(self, user: User, current: str, new: str) -> User | None:
        """Set a new password if `current` is right (and tell the owner); None when it is wrong."""
        verified, _ = await self.verify_password(current, user.hashed_password)
        if not verified:
            return None
        user = await self._update(user, {"password": new})
        await self.letters.send_password_changed(user)
        return user

    def forgot_password_later(self, email: str, request: Request | None = None) -> None:
        """Forgot-password for an address, known or not, all of it after the answer.

        Known, unknown and inactive addresses then answer alike in content and in time. It
        costs no password hashing (the reset link's fingerprint is an HMAC, passwords.py), so
        it takes no place in the hashing pool: a flood of it never makes a login answer 503.
        """
        self.letters.postman.in_background(self._forgot_password(email, request))

    async def _forgot_password(self, email: str, request: Request | None) -> None:
        user = await self.user_db.get_by_email(email)
        if user is not None and user.is_active:
            await self.forgot_password(user, request)

    def request_verify_later(self, email: str, request: Request | None = None) -> None:
        """Request-verify-token for an address, known or not, after the answer.

        It takes no place in the hashing pool: a verification token is a signed JWT, no argon2.
        """
        self.letters.postman.in_background(self._request_verify(email, request))

    async def _request_verify(self, email: str, request: Request | None) -> None:
        user = await self.user_db.get_by_email(email)
        if user is not None and user.is_active and not user.is_verified:
            await self.request_verify(user, request)

    async def _update(self, user: User, update_dict: dict[str, Any]) -> User:
        if update_dict.get("email") is not None:
            update_dict = {**update_dict, "email": normalize_email(update_dict["email"])}
        if "password" in update_dict:  # reset or change: from now on the account has a password
            update_dict = {**update_dict, "password_set": True}
        return await super()._update(user, update_dict)

    async def on_after_register(self, user: User, request: Request | None = None) -> None:
        if not user.is_verified:
            await self.request_verify(user, request)

    async def on_after_request_verify(self, user: User, token: str, request: Request | None = None) -> None:
        # An account nobody ever proved may be someone else's doing: its owner can refuse it,
        # and is told when it goes by itself (unverified.py).
        never = user.never_verified
        await self.letters.send_verification(
            user,
            token,
            self.verification_token_lifetime_seconds,
            decline_token=self.unverified.decline_token(user) if never else None,
            deleted_on=self.unverified.deletion_date(user) if never else None,
            reminder=never and user.verify_reminded_at is not None,
        )

    def verification_claims(self, token: str) -> tuple[PydanticObjectId, str] | None:
        """The account id and address a verification token names, if it is one of ours."""
        try:
            claims, _ = decode_with_any(
                token, self.verification_token_secrets, [self.verification_token_audience]
            )
            return self.parse_id(claims["sub"]), str(claims["email"])
        except (PyJWTError, KeyError, TypeError, exceptions.InvalidID):
            return None

    async def verification_subject(self, token: str) -> User:
        """The account a verification token names, checked as `verify` checks it (signature,
        audience, expiry, the address it was mailed to), without verifying anything yet.

        Raises InvalidVerifyToken, or UserAlreadyVerified.
        """
        named = self.verification_claims(token)
        user = await self.user_db.get(named[0]) if named else None
        if named is None or user is None or user.email != named[1]:
            raise exceptions.InvalidVerifyToken()
        if user.is_verified:
            raise exceptions.UserAlreadyVerified()
        return user

    async def verify(self, token: str, request: Request | None = None) -> User:
        """FastAPI Users' verify, with the token checked against every configured secret.

        The library's `verify` decodes with `verification_token_secret` alone and offers no seam
        for several keys, so its three steps are taken here: the checks `verification_subject`
        makes (the library's: signature, audience, expiry, the id and address the link names,
        not yet verified), then its own `_update` and `on_after_verify`."""
        user = await self.verification_subject(token)
        verified = await self._update(user, {"is_verified": True})
        await self.on_after_verify(verified, request)
        return verified

    async def on_after_verify(self, user: User, request: Request | None = None) -> None:
        await self.hooks.record_event(user.id, "address_verified", request, via="verification_link")

    async def decline(self, token: str, request: Request | None = None) -> bool:
        """ "This wasn't me": delete at once the account that `token` (from the mail's decline link,
        or its verification link: both went to the inbox) names, if its address was never proved
        and it is not a superuser's. False when there is no such account (any more)."""
        named = self.unverified.declined(token) or self.verification_claims(token)
        if named is None:
            return False
        user_id, email = named
        document = await User.get_pymongo_collection().find_one_and_delete(
            {"_id": user_id, "email": email, **NEVER_PROVED}
        )
        if document is None:
            return False
        await self.on_after_delete(User.model_validate(document), request)
        return True

    async def on_after_forgot_password(self, user: User, token: str, request: Request | None = None) -> None:
        await self.letters.send_password_reset(user, token, self.reset_password_token_lifetime_seconds)

    async def on_after_reset_password(self, user: User, request: Request | None = None) -> None:
        # A reset proves the inbox. On an account whose address was unproved until now, whoever
        # held it before is removed, sessions and all, and the owner told (the auth app's
        # flows/verification.py).
        if await self.hooks.inbox_proved(self, user, "password_reset", request, password_kept=True):
            return
        # `user` as it was before the reset (reset_password passes that one): an account made
        # through a provider had no password until now.
        event = "password_reset" if user.password_set else "password_set"
        await self.hooks.record_event(user.id, event, request)
        # Whoever had the old password may hold a session: a reset ends them all.
        await self.hooks.end_sessions(user.id, "password reset", request=request)
        await self.letters.send_password_was_reset(user)

    async def update(
        self, user_update: schemas.UU, user: User, safe: bool = False, request: Request | None = None
    ) -> User:
        """FastAPI Users' update: a superuser's PATCH /users/{id}, which may set a new address
        directly (users ask for theirs with PATCH /users/me, see email_change.py). The owner is
        told of a new address at both the old and the new one."""
        old_email = user.email
        updated = await super().update(user_update, user, safe, request)
        if updated.email != old_email:
            for address in (old_email, updated.email):
                await self.letters.send_email_changed(updated, address, old_email, by_admin=True)
            await self.hooks.record_event(
                updated.id, "email_changed_by_admin", request, old_email=old_email, new_email=updated.email
            )
        return updated

    async def on_after_update(
        self, user: User, update_dict: dict[str, Any], request: Request | None = None
    ) -> None:
        if update_dict.get("is_active") is False:
            await self.hooks.end_sessions(user.id, "account deactivated", request=request)
        if "email" in update_dict and user.is_active and not user.is_verified:
            await self.request_verify(user, request)  # the new address proves itself

    async def on_after_delete(self, user: User, request: Request | None = None) -> None:
        # After, not before: if a cleanup fails, what is left is unreachable data of a deleted
        # user, never a user whose data is gone.
        for hook in self.hooks.on_user_deleted:
            await hook(user.id)


async def get_user_db() -> AsyncIterator[UserDatabase]:
    yield UserDatabase(User)


def user_manager_dependency(
    settings: Settings,
    letters: UserLetters,
    hooks: AccountHooks,
    hashing: HashingPool,
) -> Callable[..., AsyncIterator[UserManager]]:
    settings_helper = argon2_password_helper(settings)

    async def get_user_manager(
        request: Request,
        user_db: Annotated[UserDatabase, Depends(get_user_db)],
        password_helper: Annotated[PasswordHelperProtocol | None, Depends(get_password_helper)],
    ) -> AsyncIterator[UserManager]:
        yield UserManager(
            user_db,
            password_helper or settings_helper,
            settings=settings,
            letters=letters,
            hooks=hooks,
            hashing=hashing,
            # Every hash this request asks for counts toward its client's share of the pool.
            client=client_ip(request),
        )

    return get_user_manager


def background_user_manager(
    settings: Settings, letters: UserLetters, hooks: AccountHooks, hashing: HashingPool
) -> Callable[[], UserManager]:
    """Managers for work outside requests (the sweep of unverified accounts): the same hooks."""
    helper = argon2_password_helper(settings)

    def make() -> UserManager:
        return UserManager(
            UserDatabase(User), helper, settings=settings, letters=letters, hooks=hooks, hashing=hashing
        )

    return make


async def ensure_superuser(
    settings: Settings,
    letters: UserLetters,
    email: str,
    password: str,
    *,
    hashing: HashingPool | None = None,
) -> bool:
    """Create a verified superuser unless the address is taken; True when one was created.

    Hashes in `hashing`, the app's pool, or (for a command run on its own) in a pool of its own.
    Raises InvalidPasswordException when the password breaks the policy.
    """
    pool = hashing or HashingPool.from_settings(settings)
    manager = UserManager(
        UserDatabase(User),
        argon2_password_helper(settings),
        settings=settings,
        letters=letters,
        hooks=AccountHooks(),
        hashing=pool,
    )
    try:
        if await manager.user_db.get_by_email(email) is not None:
            return False
        await manager.create(
            SuperuserCreate(email=email, password=password, is_superuser=True, is_verified=True)
        )
    except exceptions.UserAlreadyExists:  # another worker created it a moment ago
        return False
    finally:
        if hashing is None:
            await pool.close()
    return True
