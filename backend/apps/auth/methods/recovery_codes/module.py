"""The recovery codes method: the backup second factor, issued with an account's first factor,
spent one at a time, replaced from the account page."""

from collections.abc import Sequence

from fastapi import APIRouter

from backend.apps.auth.flows.module import FlowsModule
from backend.apps.auth.methods.recovery_codes.routes import get_recovery_codes_router
from backend.apps.auth.methods.recovery_codes.service import RecoveryCodeFactor
from backend.core.kit import Kit
from backend.core.modules import Module


class RecoveryCodesMethod(Module):
    name = "recovery_codes"

    def __init__(self, kit: Kit, flows: FlowsModule) -> None:
        self.codes = RecoveryCodeFactor(flows.factors)
        self.flows = flows
        flows.factors.register(self.codes)

    def routers(self) -> Sequence[APIRouter]:
        return [get_recovery_codes_router(self)]
