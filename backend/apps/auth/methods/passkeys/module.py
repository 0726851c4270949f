"""The passkeys method: passkeys (WebAuthn) that sign in on their own, serve as a second step and
confirm it is you. It registers with the sign-in flow as a second factor (factor.py)."""

import logging
from collections.abc import Sequence

from fastapi import APIRouter

from backend.apps.auth.flows.module import FlowsModule
from backend.apps.auth.methods.passkeys.factor import PasskeyFactor
from backend.apps.auth.methods.passkeys.models import Passkey, PasskeyChallenge
from backend.apps.auth.methods.passkeys.routes import get_passkey_router
from backend.apps.auth.methods.passkeys.service import Passkeys
from backend.core.kit import Kit
from backend.core.modules import Module

logger = logging.getLogger(__name__)


class PasskeysMethod(Module):
    name = "passkeys"
    documents = (Passkey, PasskeyChallenge)

    def __init__(self, kit: Kit, flows: FlowsModule) -> None:
        self.settings, self.limiter = kit.settings, kit.limiter
        self.passkeys = Passkeys(kit.settings)
        self.flows = flows
        flows.factors.register(PasskeyFactor(self.passkeys))

    def routers(self) -> Sequence[APIRouter]:
        return [get_passkey_router(self)]

    async def startup(self) -> None:
        if reason := self.passkeys.rp.unavailable_reason:
            logger.warning("passkeys are off: %s", reason)
