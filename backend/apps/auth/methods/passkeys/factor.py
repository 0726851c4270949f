"""Passkeys as a second factor: how they join the sign-in flow's registry (flows/factors.py)."""

from typing import Any

from beanie import PydanticObjectId
from pydantic import Field

from backend.apps.auth.flows.factors import Purpose, has_own_documents
from backend.apps.auth.flows.verification import count_of
from backend.apps.auth.methods.passkeys.models import AuthenticationResponse
from backend.apps.auth.methods.passkeys.service import Passkeys


class PasskeyFactor:
    method = "passkey"
    proof_name = "passkey"
    proof_type = AuthenticationResponse | None
    proof_field = Field(
        None, description="navigator.credentials.get()'s answer to the options of POST /auth/passkeys/options"
    )
    status_fields = {
        "passkeys": (int, Field()),
        "passkeys_available": (bool, Field()),
        "passkeys_unavailable_reason": (str | None, Field(description="why not, when passkeys are off")),
    }
    state_fields: dict[str, Any] = {}  # passkeys keep their own collection (models.py)
    backup = False
    collection = "passkeys"

    def __init__(self, passkeys: Passkeys) -> None:
        self.passkeys = passkeys

    async def enrolled(self, user_id: PydanticObjectId, state: dict[str, Any] | None) -> bool:
        return has_own_documents("passkey", state)  # the state read looked in `passkeys`

    async def status(self, user_id: PydanticObjectId, state: dict[str, Any] | None) -> dict[str, Any]:
        return {
            "passkeys": await self.passkeys.count(user_id),
            "passkeys_available": self.passkeys.available,
            "passkeys_unavailable_reason": self.passkeys.rp.unavailable_reason,
        }

    async def accept(
        self, user_id: PydanticObjectId, value: AuthenticationResponse, purpose: Purpose
    ) -> bool:
        return await self.passkeys.authenticate(value, purpose, user_id) is not None

    async def reset(self, user_id: PydanticObjectId) -> list[str]:
        count = await self.passkeys.count(user_id)
        await self.passkeys.forget_user(user_id)
        return [count_of(count, "passkey")] if count else []
