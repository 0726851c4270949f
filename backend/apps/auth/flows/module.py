"""The flows module: signing in (first step, then a second if the account has one, then the
session), the registry of second factors the factor methods join, step-up confirmation, and
the verification of an address (who may complete it, and what an owner's proof removes).

Methods build on it: a first-step method ends in `sign_in.first_step_done`, a factor registers
with `factors`. It hands the user app the dependencies its routes need (`UserModule.access`),
and takes back an unproved account whose password a reset set (`UserModule.hooks`).
"""

from collections.abc import Sequence

from beanie import PydanticObjectId
from fastapi import APIRouter

from backend.apps.auth.activity.module import ActivityModule
from backend.apps.auth.flows.factors import SecondFactors, SecondFactorState
from backend.apps.auth.flows.routes import get_factors_admin_router, get_second_step_router
from backend.apps.auth.flows.sign_in import MfaTicket, SignInFlow
from backend.apps.auth.flows.step_up import CONFIRMATION_RESPONSES, Confirmation
from backend.apps.auth.flows.verification import (
    HolderProof,
    InboxProof,
    VerificationLetters,
    get_verification_router,
    proved_address,
)
from backend.apps.auth.sessions.module import SessionsModule
from backend.apps.user.access import AccountAccess
from backend.apps.user.module import UserModule
from backend.core.kit import Kit
from backend.core.modules import Module


class FlowsModule(Module):
    name = "flows"
    documents = (SecondFactorState, MfaTicket)

    def __init__(
        self, kit: Kit, user: UserModule, sessions: SessionsModule, activity: ActivityModule
    ) -> None:
        settings = self.settings = kit.settings
        self.limiter = kit.limiter
        self.sessions = sessions.sessions
        self.origins = sessions.origins
        self.current_session = sessions.current_session
        self.current_superuser = sessions.current_superuser
        self.get_user_manager = user.get_user_manager
        self.letters = activity.letters
        self.factors = SecondFactors()
        self.sign_in = SignInFlow(sessions.sessions, sessions.starter, self.factors, activity.sign_ins)
        self.confirmation = Confirmation(
            settings, kit.limiter, sessions.sessions, sessions.current_session, self.factors, activity.letters
        )
        self.holders = HolderProof(settings, kit.limiter)
        self.inbox = InboxProof(sessions.sessions, VerificationLetters(settings, kit.postman))
        self.maybe_session = sessions.maybe_session
        # Adding a way in: a proved address first, then a fresh confirmation (or, for the second
        # half of a registration whose options were confirmed, the proved address alone).
        self.proved_and_confirmed = proved_address(
            self.confirmation.confirmed_session, sessions.current_session
        )
        self.proved = proved_address(sessions.current_session, sessions.current_session)
        user.hooks.inbox_proved = self.inbox.claim
        user.access = AccountAccess(
            users=sessions.users,
            confirmed=self.confirmation.confirmed_session,
            confirmation_responses=CONFIRMATION_RESPONSES,
            clear_cookies=sessions.cookies.clear,
            maybe_session=sessions.maybe_session,
            prove_holder=self.holders.require,
        )

    def joined(self, modules: Sequence[Module]) -> None:
        # The owner of an unproved address takes the account back from every module at once.
        self.inbox.ways_in = [module.remove_ways_in for module in reversed(modules)]

    def routers(self) -> Sequence[APIRouter]:
        return [
            self.confirmation.router(self.get_user_manager),
            get_second_step_router(self),
            get_factors_admin_router(self),
            get_verification_router(
                self.settings, self.limiter, self.holders, self.maybe_session, self.get_user_manager
            ),
        ]

    async def factor_removed(self, user_id: PydanticObjectId) -> None:
        """A factor went: with none left, the recovery codes go too; pending second steps end."""
        await self.factors.removed(user_id)
        await self.sign_in.forget_tickets(user_id)

    async def reset_factors(self, user_id: PydanticObjectId) -> list[str]:
        """Every second factor of the account, and its pending second steps: an administrator's
        reset, a deleted user, an owner taking the account back. What went, in words."""
        removed = await self.factors.reset(user_id)
        await self.sign_in.forget_tickets(user_id)
        return removed

    async def forget_user(self, user_id: PydanticObjectId) -> None:
        await self.reset_factors(user_id)

    async def remove_ways_in(self, user_id: PydanticObjectId) -> list[str]:
        return await self.reset_factors(user_id)
