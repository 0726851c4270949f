"""The password method: registering with a password, logging in with it, forgetting and
resetting it, changing it. Its rules (length, strength, hashing in a bounded pool) are the user
app's (apps/user/passwords.py); this package is how people use it."""

from collections.abc import Sequence

from fastapi import APIRouter

from backend.apps.auth.flows.module import FlowsModule
from backend.apps.auth.methods.password.routes import get_password_router
from backend.apps.auth.sessions.module import SessionsModule
from backend.apps.user.module import UserModule
from backend.core.hashing import HashingPool
from backend.core.kit import Kit
from backend.core.modules import Module

# The strength check judges in a pool of its own, beside the argon2 one (a meter must not take a
# login's place, nor a login the meter's): one low-priority thread, a short queue, 503 beyond it,
# so checks sent at once neither stall the event loop nor pile up (OWASP ASVS V13 resource limits).
JUDGING_THREADS = 1
JUDGING_QUEUE = 16


class PasswordMethod(Module):
    name = "password"

    def __init__(self, kit: Kit, user: UserModule, sessions: SessionsModule, flows: FlowsModule) -> None:
        self.settings, self.limiter = kit.settings, kit.limiter
        self.judging = HashingPool(JUDGING_THREADS, JUDGING_QUEUE)
        self.users = sessions.users
        self.get_user_manager = user.get_user_manager
        self.current_session = sessions.current_session
        self.origins = sessions.origins
        self.sessions = sessions.sessions
        self.sign_in = flows.sign_in

    def routers(self) -> Sequence[APIRouter]:
        return [get_password_router(self)]
