"""Passwords: the policy, and hashing kept off the event loop.

FastAPI Users calls its (synchronous) password helper from async code: one argon2 verify
(~170 ms with the default m=64 MiB, t=3, p=4) would stall every other request on the worker.
`ThreadedPasswordsMixin` overrides the few manager methods that hash or verify so that the
work runs in a worker thread; everything else stays FastAPI Users' own code.
"""

from typing import Any

from anyio import to_thread
from fastapi import Request
from fastapi.security import OAuth2PasswordRequestForm
from fastapi_users import exceptions, models
from fastapi_users.jwt import decode_jwt, generate_jwt
from fastapi_users.manager import BaseUserManager
from fastapi_users.password import PasswordHelper, PasswordHelperProtocol
from jwt import PyJWTError
from zxcvbn import zxcvbn

PASSWORD_MIN_LENGTH = 8
PASSWORD_MAX_LENGTH = 1024  # argon2 takes any length without truncating; the cap bounds the work
PASSWORD_MIN_SCORE = 3  # zxcvbn: "safely unguessable", about 10^8 guesses or more
ZXCVBN_MAX_LENGTH = 72  # zxcvbn's own limit; what follows can only add strength


def password_problem(password: str, email: str) -> str | None:
    """Why `password` may not be used by the owner of `email`, in words a person can act on."""
    if len(password) < PASSWORD_MIN_LENGTH:
        return f"Password should be at least {PASSWORD_MIN_LENGTH} characters."
    if len(password) > PASSWORD_MAX_LENGTH:
        return f"Password should be at most {PASSWORD_MAX_LENGTH} characters."
    local_part = email.split("@", 1)[0].lower()
    if email.lower() in password.lower() or (len(local_part) >= 3 and local_part in password.lower()):
        return "Password must not contain your email address."
    result = zxcvbn(password[:ZXCVBN_MAX_LENGTH], user_inputs=[email, local_part])
    if result["score"] < PASSWORD_MIN_SCORE:
        advice = " ".join(filter(None, [result["feedback"]["warning"], *result["feedback"]["suggestions"]]))
        return f"Password is too easy to guess. {advice or 'Use a longer passphrase.'}".strip()
    return None


def get_password_helper() -> PasswordHelperProtocol:
    """Dependency: FastAPI Users' default hasher (argon2id, verifies legacy bcrypt)."""
    return PasswordHelper()


class ThreadedPasswordsMixin(BaseUserManager[models.UP, models.ID]):
    async def hash_password(self, password: str) -> str:
        return await to_thread.run_sync(self.password_helper.hash, password)

    async def verify_password(self, password: str, hashed: str) -> tuple[bool, str | None]:
        return await to_thread.run_sync(self.password_helper.verify_and_update, password, hashed)

    async def create(self, user_create: Any, safe: bool = False, request: Request | None = None) -> models.UP:
        await self.validate_password(user_create.password, user_create)
        if await self.user_db.get_by_email(user_create.email) is not None:
            raise exceptions.UserAlreadyExists()
        user_dict = user_create.create_update_dict() if safe else user_create.create_update_dict_superuser()
        user_dict["hashed_password"] = await self.hash_password(user_dict.pop("password"))
        created_user = await self.user_db.create(user_dict)
        await self.on_after_register(created_user, request)
        return created_user

    async def authenticate(self, credentials: OAuth2PasswordRequestForm) -> models.UP | None:
        user = await self.user_db.get_by_email(credentials.username)
        if user is None:
            # Hash anyway so an unknown email costs what a wrong password costs.
            await self.hash_password(credentials.password)
            return None
        verified, new_hash = await self.verify_password(credentials.password, user.hashed_password)
        if not verified:
            return None
        if new_hash is not None:  # parameters or algorithm changed: upgrade the stored hash
            user = await self.user_db.update(user, {"hashed_password": new_hash})
        return user

    async def forgot_password(self, user: models.UP, request: Request | None = None) -> None:
        if not user.is_active:
            raise exceptions.UserInactive()
        token = generate_jwt(
            {
                "sub": str(user.id),
                "password_fgpt": await self.hash_password(user.hashed_password),
                "aud": self.reset_password_token_audience,
            },
            self.reset_password_token_secret,
            self.reset_password_token_lifetime_seconds,
        )
        await self.on_after_forgot_password(user, token, request)

    async def reset_password(self, token: str, password: str, request: Request | None = None) -> models.UP:
        try:
            data = decode_jwt(token, self.reset_password_token_secret, [self.reset_password_token_audience])
            user = await self.get(self.parse_id(data["sub"]))
            fingerprint = data["password_fgpt"]
        except (PyJWTError, KeyError, TypeError, exceptions.InvalidID):
            raise exceptions.InvalidResetPasswordToken() from None
        # The token carries a hash of the password hash: it dies once the password changes.
        valid, _ = await self.verify_password(user.hashed_password, fingerprint)
        if not valid:
            raise exceptions.InvalidResetPasswordToken()
        if not user.is_active:
            raise exceptions.UserInactive()
        updated_user = await self._update(user, {"password": password})
        await self.on_after_reset_password(user, request)
        return updated_user

    async def _update(self, user: models.UP, update_dict: dict[str, Any]) -> models.UP:
        update_dict = dict(update_dict)
        password = update_dict.pop("password", None)
        if password is not None:
            await self.validate_password(password, user)
            update_dict["hashed_password"] = await self.hash_password(password)
        return await super()._update(user, update_dict)
