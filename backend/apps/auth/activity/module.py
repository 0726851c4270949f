"""The activity module: each account's security log (what happened, when, from where), the
lockout's counting of failed sign-ins, the mail about a sign-in from a new device, and the
security notices other modules send through it."""

from collections.abc import Callable, Sequence
from typing import Any

from beanie import Document, PydanticObjectId
from fastapi import APIRouter
from pymongo import IndexModel

from backend.apps.auth.activity.letters import ActivityLetters
from backend.apps.auth.activity.log import SecurityEvent, security_log
from backend.apps.auth.activity.new_device import SignInLog
from backend.apps.auth.activity.routes import get_activity_router
from backend.apps.user.module import UserModule
from backend.core.kit import Kit
from backend.core.modules import Module


class ActivityModule(Module):
    name = "activity"
    documents = (SecurityEvent,)

    def __init__(self, kit: Kit, user: UserModule) -> None:
        self.settings = kit.settings
        self.log = security_log
        self.letters = ActivityLetters(kit.settings, kit.postman)
        self.sign_ins = SignInLog(kit.settings, self.letters)
        self.current_session: Callable[..., Any] | None = None
        self.current_superuser: Callable[..., Any] | None = None
        user.hooks.record_event = security_log.record

    def readers(self, current_session: Callable[..., Any], current_superuser: Callable[..., Any]) -> None:
        """Who reads the log: the sessions' dependencies, handed in once the sessions are built
        (they build on this module: the log records how sessions end)."""
        self.current_session, self.current_superuser = current_session, current_superuser

    def routers(self) -> Sequence[APIRouter]:
        assert self.current_session is not None and self.current_superuser is not None
        return [get_activity_router(self.current_session, self.current_superuser)]

    async def forget_user(self, user_id: PydanticObjectId) -> None:
        await security_log.forget_user(user_id)

    def indexes(self) -> Sequence[tuple[type[Document], IndexModel]]:
        return [(SecurityEvent, security_log.expiry_index(self.settings))]  # its lifetime is a setting
