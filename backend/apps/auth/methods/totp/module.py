"""The authenticator-app method (TOTP): a second factor of the sign-in flow (service.py's
`TotpFactor` registers with it), set up and removed from the account page."""

from collections.abc import Sequence

from fastapi import APIRouter

from backend.apps.auth.flows.module import FlowsModule
from backend.apps.auth.methods.totp.routes import get_totp_router
from backend.apps.auth.methods.totp.service import Totp, TotpFactor
from backend.core.kit import Kit
from backend.core.modules import Module


class TotpMethod(Module):
    name = "totp"

    def __init__(self, kit: Kit, flows: FlowsModule) -> None:
        self.totp = Totp(kit.settings, flows.factors)
        self.flows = flows
        flows.factors.register(TotpFactor(self.totp))

    def routers(self) -> Sequence[APIRouter]:
        return [get_totp_router(self)]
