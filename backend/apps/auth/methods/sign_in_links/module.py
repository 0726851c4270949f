"""The sign-in links method: one-time links by email that sign in without a password. Opening one
proves the address, so on an account whose address was never proved it takes the account back for
its owner (flows/verification.py). `SIGN_IN_LINKS_ENABLED=false` leaves its routes out."""

from collections.abc import Sequence

from beanie import PydanticObjectId
from fastapi import APIRouter

from backend.apps.auth.flows.module import FlowsModule
from backend.apps.auth.flows.verification import count_of
from backend.apps.auth.methods.sign_in_links.letters import SignInLinkLetters
from backend.apps.auth.methods.sign_in_links.routes import get_sign_in_link_router
from backend.apps.auth.methods.sign_in_links.service import SignInLink, SignInLinks
from backend.apps.auth.sessions.module import SessionsModule
from backend.apps.user.module import UserModule
from backend.core.kit import Kit
from backend.core.modules import Module


class SignInLinksMethod(Module):
    name = "sign_in_links"
    documents = (SignInLink,)

    def __init__(self, kit: Kit, user: UserModule, sessions: SessionsModule, flows: FlowsModule) -> None:
        self.settings, self.limiter = kit.settings, kit.limiter
        self.links = SignInLinks(kit.settings)
        self.letters = SignInLinkLetters(kit.settings, kit.postman)
        self.get_user_manager = user.get_user_manager
        self.origins = sessions.origins
        self.sign_in = flows.sign_in
        self.inbox = flows.inbox

    def routers(self) -> Sequence[APIRouter]:
        return [get_sign_in_link_router(self)] if self.settings.sign_in_links_enabled else []

    async def forget_user(self, user_id: PydanticObjectId) -> None:
        await self.links.forget_user(user_id)

    async def remove_ways_in(self, user_id: PydanticObjectId) -> list[str]:
        pending = await self.links.pending(user_id)
        await self.links.forget_user(user_id)
        return [count_of(pending, "unused sign-in link")] if pending else []
