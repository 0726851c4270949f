"""The tokens module: the signing keys, the Realm-structured access token, and the keys published
for other services (`/.well-known/jwks.json`, `/.well-known/openid-configuration`)."""

from collections.abc import Sequence

from fastapi import APIRouter

from backend.apps.auth.tokens.keys import load_keyring_or_exit
from backend.apps.auth.tokens.realm_jwt import RealmJWTStrategy
from backend.apps.auth.tokens.routes import get_keys_router
from backend.core.kit import Kit
from backend.core.modules import Module


class TokensModule(Module):
    name = "tokens"

    def __init__(self, kit: Kit) -> None:
        settings = self.settings = kit.settings
        self.keys = load_keyring_or_exit(settings)
        self.strategy = RealmJWTStrategy(
            keys=self.keys,
            app_id=settings.app_id,
            issuer=settings.issuer,
            lifetime_seconds=settings.jwt_lifetime_seconds,
        )

    def routers(self) -> Sequence[APIRouter]:
        return [get_keys_router(self.keys, self.settings.issuer, self.settings.base_url)]
