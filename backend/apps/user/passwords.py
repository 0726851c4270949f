"""Password hashing kept off the event loop.

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
