"""The user module: accounts (FastAPI Users on Beanie), their address changes, their mail, and
the expiry of accounts nobody proved.

What it needs of the auth app comes in through `hooks` (sessions end on a reset, the security
log records, the verification flow takes an unproved account back) and `access` (the
authenticated dependencies its routes use): each auth module registers its part when it is
built. The user app imports no other app.
"""

import logging
from collections.abc import Awaitable, Callable, Sequence
from typing import Any

from beanie import PydanticObjectId
from fastapi import APIRouter
from fastapi_users import exceptions
from fastapi_users.exceptions import InvalidPasswordException

from backend.apps.user.access import AccountAccess
from backend.apps.user.email_change import EmailChange, EmailChanges, get_email_change_router
from backend.apps.user.letters import UserLetters
from backend.apps.user.manager import (
    AccountHooks,
    background_user_manager,
    ensure_superuser,
    user_manager_dependency,
)
from backend.apps.user.models import User
from backend.apps.user.routes import get_users_router, user_vanished
from backend.apps.user.unverified import UnverifiedAccounts, UnverifiedPolicy
from backend.core.kit import Kit
from backend.core.modules import Module

logger = logging.getLogger(__name__)


class UserModule(Module):
    name = "user"
    documents = (User, EmailChange)

    def __init__(self, kit: Kit) -> None:
        self.kit = kit
        settings = kit.settings
        self.letters = UserLetters(settings, kit.postman)
        self.hooks = AccountHooks()
        self.email_changes = EmailChanges(self.letters, self._record_event)
        self.get_user_manager = user_manager_dependency(settings, self.letters, self.hooks, kit.hashing)
        self.unverified = UnverifiedAccounts(
            UnverifiedPolicy(settings),
            background_user_manager(settings, self.letters, self.hooks, kit.hashing),
        )
        self.access: AccountAccess | None = None  # the auth app's, once it is built

    async def _record_event(self, *args: object, **detail: object) -> None:
        await self.hooks.record_event(*args, **detail)

    def routers(self) -> Sequence[APIRouter]:
        assert self.access is not None, "the auth app hands the account routes their dependencies"
        settings, limiter, access = self.kit.settings, self.kit.limiter, self.access
        return [
            get_users_router(access.users, settings, limiter, access, self.email_changes),
            get_email_change_router(
                access.users, self.email_changes, settings, limiter, access.maybe_session, access.prove_holder
            ),
        ]

    def joined(self, modules: Sequence[Module]) -> None:
        # Deleting a user deletes what every module keeps of them: what builds on others first,
        # the foundations (the security log, this module's pending address changes) last.
        self.hooks.on_user_deleted = [module.forget_user for module in reversed(modules)]

    async def forget_user(self, user_id: PydanticObjectId) -> None:
        await self.email_changes.forget_user(user_id)

    def exception_handlers(self) -> dict[type[Exception], Callable[..., Awaitable[Any]]]:
        return {exceptions.UserNotExists: user_vanished}

    async def remove_ways_in(self, user_id: PydanticObjectId) -> list[str]:
        change = await EmailChange.get(user_id)
        await self.email_changes.forget_user(user_id)
        return [f"the pending change of address to {change.new_email}"] if change else []

    async def startup(self) -> None:
        """The first superuser, when FIRST_SUPERUSER_EMAIL and _PASSWORD ask for one."""
        settings = self.kit.settings
        email, password = settings.first_superuser_email, settings.first_superuser_password
        if not (email and password):
            return
        try:
            created = await ensure_superuser(
                settings, self.letters, email, password.get_secret_value(), hashing=self.kit.hashing
            )
        except InvalidPasswordException as exc:
            logger.error("FIRST_SUPERUSER_PASSWORD refused: %s", exc.reason)
            return
        if created:
            logger.info("created the first superuser %s", email)

    def background(self) -> Sequence[Callable[[], Awaitable[None]]]:
        return (self.unverified.run,)
