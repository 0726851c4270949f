"""The providers method: signing in with Google, GitHub or any OpenID Connect provider, and the
provider identities linked to accounts. With no provider configured, only `GET /auth/providers`
(answering `[]`) exists."""

from collections.abc import Sequence

from beanie import PydanticObjectId
from fastapi import APIRouter

from backend.apps.auth.activity.module import ActivityModule
from backend.apps.auth.flows.module import FlowsModule
from backend.apps.auth.methods.providers.clients import build_providers
from backend.apps.auth.methods.providers.linked import (
    OAuthAccount,
    delete_oauth_accounts_of,
    get_linked_accounts_router,
)
from backend.apps.auth.methods.providers.routes import get_oauth_router, get_providers_router
from backend.apps.auth.sessions.module import SessionsModule
from backend.apps.user.module import UserModule
from backend.core.kit import Kit
from backend.core.modules import Module


class ProvidersMethod(Module):
    name = "providers"
    documents = (OAuthAccount,)

    def __init__(
        self,
        kit: Kit,
        user: UserModule,
        sessions: SessionsModule,
        flows: FlowsModule,
        activity: ActivityModule,
    ) -> None:
        self.settings = kit.settings
        self.providers = build_providers(kit.settings)
        self.letters = activity.letters
        self.get_user_manager = user.get_user_manager
        self.current_active_user = sessions.current_active_user
        self.proved_and_confirmed = flows.proved_and_confirmed
        self.sign_in = flows.sign_in
        self.inbox = flows.inbox

    def label(self, name: str) -> str:
        return self.providers[name].label if name in self.providers else name

    def routers(self) -> Sequence[APIRouter]:
        routers = [get_providers_router(self.providers)]
        if self.providers:  # nothing configured: no provider routes at all
            routers += [
                get_oauth_router(self),
                get_linked_accounts_router(self.current_active_user, self.providers, self.letters),
            ]
        return routers

    async def forget_user(self, user_id: PydanticObjectId) -> None:
        await delete_oauth_accounts_of(user_id)

    async def remove_ways_in(self, user_id: PydanticObjectId) -> list[str]:
        linked = await OAuthAccount.find({"user_id": user_id}).to_list()
        await delete_oauth_accounts_of(user_id)
        return [f"sign-in with {self.label(link.provider)}" for link in linked]
