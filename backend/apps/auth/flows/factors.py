"""Second factors: the registry the factor methods join, and what an account has of them.

Each factor is a method package (methods/totp, methods/passkeys, methods/recovery_codes) that
registers here with the `Factor` protocol: the name sign-ins offer it by, the field of a proof
that carries it (the flows' request bodies are made from these, so a new factor adds its own
field), whether the account has it, how a proof of it is accepted, and how it is reset. The
registry knows no factor by name.

Recovery codes are the `backup` factor: offered only beside another one, they come with the
account's first factor (10, shown once) and go with its last.

Storage: one document per account in `second_factors` (`_id` = the user's id) holds the small
state of the factors that need one, each factor's own fields (`Factor.state_fields`: TOTP's
encrypted secret and last step, the recovery codes' hashes). A factor that keeps documents of its
own (passkeys) names its collection (`Factor.collection`), and the same read asks whether the
account has one there (`$unionWith`): one database command tells a sign-in which second steps an
account has. Deleting a user, or an administrator's reset, removes all of it.
"""

from datetime import datetime
from typing import Any, ClassVar, Literal, Protocol

from beanie import Document, PydanticObjectId
from fastapi import status
from pydantic import BaseModel, ConfigDict, Field, create_model, model_validator
from pydantic.fields import FieldInfo
from pymongo.asynchronous.collection import AsyncCollection

from backend.core.clock import utcnow
from backend.core.errors import refusal

Method = Literal["totp", "passkey", "recovery_code"]
Purpose = Literal["second_factor", "confirm"]  # what a proof is for: a sign-in's second step, step-up


class SecondFactorState(Document):
    """An account's document; beside these fields, each factor's (`Factor.state_fields`)."""

    model_config = ConfigDict(extra="allow")

    id: PydanticObjectId  # type: ignore[assignment]  # the user's id
    updated_at: datetime = Field(default_factory=utcnow)

    class Settings:
        name = "second_factors"


def states() -> AsyncCollection[dict[str, Any]]:
    return SecondFactorState.get_pymongo_collection()


class Factor(Protocol):
    """A second factor, as a method package registers it."""

    method: Method
    # The proof's field in request bodies: its name, type and pydantic `Field`.
    proof_name: str
    proof_type: Any
    proof_field: FieldInfo
    # Its fields of `MfaStatus` (GET /auth/mfa): name -> (type, pydantic `Field`).
    status_fields: dict[str, tuple[Any, FieldInfo]]
    # Its fields of the account's second_factors document, with their values while it has none.
    state_fields: dict[str, Any]
    backup: bool  # offered only beside another factor (recovery codes)
    # The collection of its own documents (with the account's `user_id`), if it keeps any: the
    # state read then says whether the account has one (`has_own_documents`).
    collection: str | None

    async def enrolled(self, user_id: PydanticObjectId, state: dict[str, Any] | None) -> bool:
        """Whether the account has this factor (`state`: its second_factors document)."""
        ...

    async def status(self, user_id: PydanticObjectId, state: dict[str, Any] | None) -> dict[str, Any]:
        """This factor's fields of `MfaStatus` (`status_fields`), for the account."""
        ...

    async def accept(self, user_id: PydanticObjectId, value: Any, purpose: Purpose) -> bool:
        """Spend `value` (this factor's field of a proof) if it is good."""
        ...

    async def reset(self, user_id: PydanticObjectId) -> list[str]:
        """Remove the factor from the account (an administrator's reset, or the address's owner
        taking the account back): what went, in words ([] for nothing)."""
        ...


class BackupFactor(Factor, Protocol):
    async def issue(self, user_id: PydanticObjectId) -> list[str]:
        """New codes if the account has none: the account's first factor came. [] otherwise."""
        ...

    async def clear(self, user_id: PydanticObjectId) -> None:
        """The account's last factor went: so do the codes."""
        ...


class MfaStatus(BaseModel):
    """What an account has of the second factors (GET /auth/mfa): the base of the model the
    registry makes, with each factor's `status_fields` (`SecondFactors.status_model`)."""

    methods: list[Method] = Field(description="what a sign-in's second step offers; [] = no second factor")


class RecoveryCodes(BaseModel):
    # What adding a first factor answers (and what new recovery codes do): the codes, shown once.

    recovery_codes: list[str] = Field(
        description="shown this once; each works once. [] when the account's codes are unchanged"
    )
    other_sessions_ended: int = Field(0, description="how many of my other sessions were signed out")


class Proof(BaseModel):
    """Exactly one of the fields in `proofs`: the base of the request bodies made from the factors."""

    model_config = ConfigDict(extra="forbid")
    proofs: ClassVar[tuple[str, ...]] = ()

    @model_validator(mode="after")
    def _exactly_one_proof(self) -> "Proof":
        if sum(getattr(self, name) is not None for name in self.proofs) != 1:
            raise ValueError(f"send exactly one of: {', '.join(self.proofs)}")
        return self


NOT_ENABLED = refusal(status.HTTP_409_CONFLICT, "MFA_NOT_ENABLED", "Two-step sign-in is not on.")


OWN_DOCUMENTS = "_own_documents"  # the state's key for them; no factor's field is named so


def has_own_documents(method: Method, state: dict[str, Any] | None) -> bool:
    """Whether `state` (`SecondFactors.state`) found a document of `method` in its collection."""
    return state is not None and method in state.get(OWN_DOCUMENTS, ())


class SecondFactors:
    """The registered factors, and what an account has of them."""

    def __init__(self) -> None:
        self.factors: list[Factor] = []
        self.backup: BackupFactor | None = None
        self._status_model: type[MfaStatus] | None = None

    def register(self, factor: Factor) -> None:
        """Join the registry. The order of registration is the order of the proofs' fields."""
        if self._status_model is not None:
            raise RuntimeError("factors register while the modules are built, before any route is")
        self.factors.append(factor)
        if factor.backup:
            self.backup = factor  # type: ignore[assignment]

    def proof_model(
        self, name: str, doc: str | None, *, other_proofs: tuple[str, ...] = (), **extra: Any
    ) -> type[Proof]:
        """A request body with a field per factor's proof, then the `extra` fields; exactly one
        proof given: a factor's, or one of the `other_proofs` among the extra fields (named first
        when the body is refused)."""
        fields: dict[str, Any] = {f.proof_name: (f.proof_type, f.proof_field) for f in self.factors}
        model = create_model(name, __base__=Proof, __doc__=doc, **fields, **extra)
        model.proofs = (*other_proofs, *fields)
        return model

    @property
    def status_model(self) -> type[MfaStatus]:
        """`MfaStatus` with every registered factor's fields, made once the routes ask for it."""
        if self._status_model is None:
            fields: dict[str, Any] = {}
            for factor in self.factors:
                fields |= factor.status_fields
            self._status_model = create_model("MfaStatus", __base__=MfaStatus, __doc__=None, **fields)
        return self._status_model

    def new_state_fields(self, *leave: str) -> dict[str, Any]:
        """A new document's fields (for `$setOnInsert`): every factor's, but those in `leave`
        (set by the write)."""
        fields = {name: value for factor in self.factors for name, value in factor.state_fields.items()}
        return {name: value for name, value in fields.items() if name not in leave}

    async def state(self, user_id: PydanticObjectId) -> dict[str, Any] | None:
        """The account's second_factors document (None: it has none, nor any factor's own
        document) and, in the same command, the methods with a document in their own collection
        (`OWN_DOCUMENTS`, read by `has_own_documents`)."""
        pipeline: list[dict[str, Any]] = [{"$match": {"_id": user_id}}]
        for factor in self.factors:
            if factor.collection:
                found = [{"$match": {"user_id": user_id}}, {"$limit": 1}]
                found.append({"$project": {"_id": 0, "method": {"$literal": factor.method}}})
                pipeline.append({"$unionWith": {"coll": factor.collection, "pipeline": found}})
        documents = await (await states().aggregate(pipeline)).to_list()
        state = next((d for d in documents if "_id" in d), None)  # the others have no _id
        own = [d["method"] for d in documents if "_id" not in d]
        if state is None and not own:
            return None
        state = state if state is not None else {"_id": user_id, **self.new_state_fields()}
        return state | {OWN_DOCUMENTS: own}

    async def methods(self, user_id: PydanticObjectId, state: dict[str, Any] | None = None) -> list[Method]:
        """The second-step methods the account has, in the order a sign-in offers them: the
        factors in registration order, the backup last and only beside another."""
        state = state if state is not None else await self.state(user_id)
        offered: list[Method] = [
            factor.method
            for factor in self.factors
            if not factor.backup and await factor.enrolled(user_id, state)
        ]
        if offered and self.backup is not None and await self.backup.enrolled(user_id, state):
            offered.append(self.backup.method)
        return offered

    async def status(self, user_id: PydanticObjectId) -> MfaStatus:
        state = await self.state(user_id)
        fields: dict[str, Any] = {}
        for factor in self.factors:
            fields |= await factor.status(user_id, state)
        return self.status_model(methods=await self.methods(user_id, state), **fields)

    async def accept(self, user_id: PydanticObjectId, proof: Proof, purpose: Purpose) -> Method | None:
        """Spend the factor's proof `proof` carries, if it is good; which factor it was."""
        for factor in self.factors:
            value = getattr(proof, factor.proof_name, None)
            if value is not None:
                return factor.method if await factor.accept(user_id, value, purpose) else None
        return None

    async def added(self, user_id: PydanticObjectId, method: Method, *, first_of_its_kind: bool) -> list[str]:
        """A factor was added (`first_of_its_kind`: the account's first passkey, say): the recovery
        codes, shown once, when it is the account's first factor; else []."""
        if not first_of_its_kind or self.backup is None:
            return []
        state = await self.state(user_id)
        for factor in self.factors:
            if factor.method != method and not factor.backup and await factor.enrolled(user_id, state):
                return []
        return await self.backup.issue(user_id)

    async def removed(self, user_id: PydanticObjectId) -> None:
        """A factor went: with none left, the recovery codes go too."""
        state = await self.state(user_id)
        for factor in self.factors:
            if not factor.backup and await factor.enrolled(user_id, state):
                return
        if self.backup is not None:
            await self.backup.clear(user_id)

    async def reset(self, user_id: PydanticObjectId) -> list[str]:
        """Every factor of the account removed: what went, in words."""
        removed: list[str] = []
        for factor in self.factors:
            removed += await factor.reset(user_id)
        await states().delete_one({"_id": user_id})
        return removed
