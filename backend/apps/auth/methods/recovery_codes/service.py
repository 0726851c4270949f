"""Recovery codes: 10 one-time codes that come with an account's first second factor, shown once,
and go with its last (the registry's backup factor, flows/factors.py).

Stored as their SHA-256 in the account's second_factors document (codes.py says why a plain hash
is enough); a code is spent by one `$pull` of its hash, so it works once. New codes replace the
whole set.
"""

from typing import Any

from beanie import PydanticObjectId
from pydantic import Field
from pymongo.errors import DuplicateKeyError

from backend.apps.auth.flows.factors import NOT_ENABLED, Purpose, SecondFactors, states
from backend.apps.auth.flows.verification import count_of
from backend.apps.auth.methods.recovery_codes.codes import hashes, new_recovery_codes, recovery_code_hash
from backend.core.clock import utcnow


class RecoveryCodeFactor:
    """The recovery codes of accounts, as the backup factor of the sign-in flow's registry."""

    method = "recovery_code"
    proof_name = "recovery_code"
    proof_type = str | None
    proof_field = Field(None, max_length=64, description="one of the recovery codes")
    status_fields = {"recovery_codes_left": (int, Field())}
    state_fields = {"recovery_codes": []}  # SHA-256 of each unused code
    backup = True
    collection = None  # its state is all in second_factors

    def __init__(self, factors: SecondFactors) -> None:
        self.factors = factors

    async def enrolled(self, user_id: PydanticObjectId, state: dict[str, Any] | None) -> bool:
        return bool(state and state["recovery_codes"])

    async def status(self, user_id: PydanticObjectId, state: dict[str, Any] | None) -> dict[str, Any]:
        return {"recovery_codes_left": len(state["recovery_codes"]) if state else 0}

    async def accept(self, user_id: PydanticObjectId, value: str, purpose: Purpose) -> bool:
        spent = recovery_code_hash(value)
        pulled = await states().update_one(
            {"_id": user_id, "recovery_codes": spent}, {"$pull": {"recovery_codes": spent}}
        )
        return pulled.modified_count == 1

    async def issue(self, user_id: PydanticObjectId) -> list[str]:
        codes = new_recovery_codes()
        try:
            made = await states().update_one(
                {"_id": user_id, "recovery_codes": {"$size": 0}},
                {
                    "$set": {"recovery_codes": hashes(codes), "updated_at": utcnow()},
                    "$setOnInsert": self.factors.new_state_fields("recovery_codes"),
                },
                upsert=True,
            )
        except DuplicateKeyError:  # codes exist: the account had a factor already
            return []
        return codes if made.modified_count or made.upserted_id else []

    async def clear(self, user_id: PydanticObjectId) -> None:
        await states().update_one({"_id": user_id}, {"$set": {"recovery_codes": []}})

    async def regenerate(self, user_id: PydanticObjectId) -> list[str]:
        """Ten new codes in place of the account's; 409 MFA_NOT_ENABLED without a second factor."""
        if not await self.factors.methods(user_id):
            raise NOT_ENABLED
        codes = new_recovery_codes()
        await states().update_one(
            {"_id": user_id},
            {
                "$set": {"recovery_codes": hashes(codes), "updated_at": utcnow()},
                "$setOnInsert": self.factors.new_state_fields("recovery_codes"),
            },
            upsert=True,
        )
        return codes

    async def reset(self, user_id: PydanticObjectId) -> list[str]:
        was = await states().find_one_and_update({"_id": user_id}, {"$set": {"recovery_codes": []}})
        left = len(was["recovery_codes"]) if was else 0
        return [count_of(left, "recovery code")] if left else []
