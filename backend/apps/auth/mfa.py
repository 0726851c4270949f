"""Second factors: TOTP (RFC 6238), passkeys and recovery codes, and the ticket between the steps.

Enrolment: `POST /auth/mfa/totp/setup` makes a secret (160 bits, pyotp) and answers with it in
text, its `otpauth://` URI and that URI as a QR code drawn here (segno, an SVG `data:` URI: no
third party ever sees the secret). The secret is pending, for `SETUP_SECONDS`, until
`POST /auth/mfa/totp/confirm` brings a valid code; TOTP is on from then. The secret is never
returned again. An account's second factors are TOTP and its passkeys (passkeys.py); with the
first of them come 10 recovery codes, shown once, and with the last they go.

Storage (`second_factors`, one document per user, `_id` = the user's id): the secret encrypted
with Fernet (AES-128-CBC + HMAC-SHA256) under a key derived from the app's secret material,
`derive_secret(JWT secret, "totp")`. With several `JWT_SECRET_KEYS` the first encrypts and any
decrypts (MultiFernet), and each accepted code re-encrypts under the first, so a rotation locks
nobody out once they have signed in while the old secret was still listed.

Codes (TOTP and recovery codes, made and checked in codes.py): a TOTP step is accepted once, the
newest accepted step stored and only a later one passing, claimed with one conditional update,
so two requests racing with one code cannot both pass. A recovery code is spent by one `$pull`
of its hash: it works once.

Sign-in: when an account has a second factor, a correct first factor (password, a provider, a sign-in
link) starts no session. It answers MFA_REQUIRED with a ticket: 256 random bits, stored only as
SHA-256, bound to the user, valid `TICKET_SECONDS`, spent by the one success, refused after
`TICKET_MAX_FAILURES` wrong codes. `POST /auth/mfa/verify` with the ticket and a code, a
recovery code or a passkey assertion starts the session a login starts. Wrong codes count as
failed logins: the same per-account and per-IP counters, the same lockout.

The routes are in mfa_routes.py.
"""

import logging
import time
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any, ClassVar, Literal

import pyotp
import segno
from beanie import Document, PydanticObjectId
from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from fastapi import HTTPException, status
from pydantic import BaseModel, ConfigDict, Field, model_validator
from pymongo import IndexModel
from pymongo.asynchronous.collection import AsyncCollection
from pymongo.errors import DuplicateKeyError

from backend.apps.auth.codes import (
    fernet_key,
    hashes,
    matching_step,
    new_recovery_codes,
    recovery_code_hash,
)
from backend.apps.auth.passkeys import AuthenticationResponse, Passkeys, Purpose
from backend.apps.user.models import User
from backend.config import Settings
from backend.core.clock import utcnow
from backend.core.crypto import new_secret, token_hash
from backend.core.errors import refusal

logger = logging.getLogger(__name__)

Method = Literal["totp", "passkey", "recovery_code"]

TICKET_SECONDS = 300
SETUP_SECONDS = 600  # a TOTP secret shown but never confirmed is refused after this
TICKET_MAX_FAILURES = 5
NO_STEP = -1
NO_TOTP = {"totp_enabled": False, "totp_secret": None, "totp_last_step": NO_STEP}  # a new document's


class SecondFactorState(Document):
    id: PydanticObjectId  # type: ignore[assignment]  # the user's id
    totp_secret: str | None = None  # Fernet token of the base32 secret; never the secret itself
    totp_enabled: bool = False  # False with a secret: enrolment started, not confirmed
    totp_last_step: int = NO_STEP  # the newest time step a code was accepted for
    recovery_codes: list[str] = Field(default_factory=list)  # SHA-256 of each unused code
    totp_setup_at: datetime | None = None  # when the pending secret was made
    updated_at: datetime = Field(default_factory=utcnow)

    class Settings:
        name = "second_factors"


class MfaTicket(Document):
    id: str  # type: ignore[assignment]  # SHA-256 of the ticket; the ticket itself is never stored
    user_id: PydanticObjectId
    expires_at: datetime
    failures: int = 0
    method: str = "password"  # the first step's, for the sign-in's log entry (activity.py)

    class Settings:
        name = "mfa_tickets"
        indexes = [
            IndexModel("expires_at", expireAfterSeconds=0, name="expiry"),
            IndexModel("user_id", name="user"),
        ]


class MfaChallenge(BaseModel):
    code: Literal["MFA_REQUIRED"] = "MFA_REQUIRED"
    reason: str = "Confirm it is you with your second factor."
    ticket: str = Field(description="for POST /auth/mfa/verify; works once, for 5 minutes")
    methods: list[Method]


class MfaRequired(BaseModel):
    """401 from a sign-in whose account has a second factor: no session yet."""

    detail: MfaChallenge


class SecondFactorRequired(HTTPException):
    def __init__(self, challenge: MfaChallenge) -> None:
        super().__init__(status.HTTP_401_UNAUTHORIZED, detail=challenge.model_dump())


MFA_REQUIRED_RESPONSE: dict[int | str, dict[str, Any]] = {
    401: {
        "model": MfaRequired,
        "description": "MFA_REQUIRED: the account has a second factor; no session was started. "
        "POST the `ticket` with a code to /auth/mfa/verify.",
    }
}


class SecondFactorProof(BaseModel):
    """Exactly one of the fields in `proofs`."""

    model_config = ConfigDict(extra="forbid")
    proofs: ClassVar[tuple[str, ...]] = ("code", "recovery_code", "passkey")

    code: str | None = Field(None, max_length=16, description="the 6 digits the authenticator app shows")
    recovery_code: str | None = Field(None, max_length=64, description="one of the recovery codes")
    passkey: AuthenticationResponse | None = Field(
        None, description="navigator.credentials.get()'s answer to the options of POST /auth/passkeys/options"
    )

    @model_validator(mode="after")
    def _exactly_one_proof(self) -> "SecondFactorProof":
        if sum(getattr(self, name) is not None for name in self.proofs) != 1:
            raise ValueError(f"send exactly one of: {', '.join(self.proofs)}")
        return self


class TotpSetup(BaseModel):
    secret: str = Field(description="base32, for typing into the app by hand")
    otpauth_uri: str
    qr_svg: str = Field(description="the otpauth URI as a QR code: an SVG `data:` URI for an <img>")


class MfaStatus(BaseModel):
    totp_enabled: bool
    recovery_codes_left: int
    passkeys: int
    methods: list[Method] = Field(description="what a sign-in's second step offers; [] = no second factor")
    passkeys_available: bool
    passkeys_unavailable_reason: str | None = Field(description="why not, when passkeys are off")


CODE_INVALID = refusal(
    status.HTTP_400_BAD_REQUEST, "MFA_CODE_INVALID", "That code is wrong or was used already."
)
TICKET_INVALID = refusal(
    status.HTTP_400_BAD_REQUEST, "MFA_TICKET_INVALID", "This sign-in has expired: sign in again."
)
NOT_ENABLED = refusal(status.HTTP_409_CONFLICT, "MFA_NOT_ENABLED", "Two-step sign-in is not on.")


class SecondFactors:
    """The second factors of accounts, and the tickets of sign-ins waiting for one."""

    # Seconds since the epoch, for TOTP steps; tests replace it to pick the moment.
    clock: Callable[[], float] = staticmethod(time.time)

    def __init__(self, settings: Settings, passkeys: Passkeys) -> None:
        self.issuer = settings.app_name
        self.cipher = MultiFernet([Fernet(fernet_key(secret)) for secret in settings.jwt_secrets])
        self.passkeys = passkeys

    async def status(self, user_id: PydanticObjectId) -> MfaStatus:
        state = await _states().find_one({"_id": user_id})
        passkeys = await self.passkeys.count(user_id)
        return MfaStatus(
            totp_enabled=bool(state and state["totp_enabled"]),
            recovery_codes_left=len(state["recovery_codes"]) if state else 0,
            passkeys=passkeys,
            methods=_methods(state, passkeys),
            passkeys_available=self.passkeys.available,
            passkeys_unavailable_reason=self.passkeys.rp.unavailable_reason,
        )

    async def start_totp(self, user: User) -> TotpSetup:
        """A new pending secret for `user` (replacing one pending before); 409 when TOTP is on."""
        secret = pyotp.random_base32()
        try:
            await _states().update_one(
                {"_id": user.id, "totp_enabled": {"$ne": True}},
                {
                    "$set": {
                        "totp_secret": self.cipher.encrypt(secret.encode()).decode(),
                        "totp_enabled": False,
                        "totp_last_step": NO_STEP,
                        "totp_setup_at": utcnow(),
                        "updated_at": utcnow(),
                    },
                    "$setOnInsert": {"recovery_codes": []},
                },
                upsert=True,
            )
        except DuplicateKeyError:  # the document exists with TOTP on
            raise refusal(
                status.HTTP_409_CONFLICT, "TOTP_ALREADY_ENABLED", "Turn two-step sign-in off first."
            ) from None
        uri = pyotp.TOTP(secret).provisioning_uri(name=user.email, issuer_name=self.issuer)
        return TotpSetup(
            secret=secret, otpauth_uri=uri, qr_svg=segno.make(uri, error="m").svg_data_uri(scale=4)
        )

    async def confirm_totp(self, user_id: PydanticObjectId, code: str) -> list[str]:
        """Switch TOTP on with a valid code for the secret set up in the last `SETUP_SECONDS`;
        the new recovery codes when it is the account's first second factor, else []."""
        state = await _states().find_one(
            {
                "_id": user_id,
                "totp_enabled": False,
                "totp_secret": {"$ne": None},
                "totp_setup_at": {"$gt": utcnow() - timedelta(seconds=SETUP_SECONDS)},
            }
        )
        if state is None:
            raise refusal(
                status.HTTP_409_CONFLICT,
                "TOTP_SETUP_NOT_STARTED",
                "Set up the authenticator app again: the code it was shown has expired.",
            )
        step = matching_step(self._decrypt(state["totp_secret"]) or "", code, self.clock(), NO_STEP)
        if step is None:
            raise CODE_INVALID
        first = not state["recovery_codes"] and not await self.passkeys.count(user_id)
        codes = new_recovery_codes() if first else []
        enabled: dict[str, Any] = {
            "totp_enabled": True,
            "totp_last_step": step,  # the code that confirmed cannot also sign in
            "updated_at": utcnow(),
        }
        if codes:
            enabled["recovery_codes"] = hashes(codes)
        confirmed = await _states().update_one(
            {"_id": user_id, "totp_enabled": False, "totp_secret": state["totp_secret"]}, {"$set": enabled}
        )
        if confirmed.modified_count != 1:  # set up again meanwhile: that secret is the pending one
            raise CODE_INVALID
        return codes

    async def disable_totp(self, user_id: PydanticObjectId) -> None:
        turned_off = await _states().update_one(
            {"_id": user_id, "totp_enabled": True},
            {"$set": {"totp_enabled": False, "totp_secret": None, "updated_at": utcnow()}},
        )
        if turned_off.modified_count != 1:
            raise NOT_ENABLED
        await self.factor_removed(user_id)

    async def passkey_added(self, user_id: PydanticObjectId) -> list[str]:
        """After a passkey is registered: new recovery codes if it is the first second factor."""
        if await self.passkeys.count(user_id) != 1:
            return []
        codes = new_recovery_codes()
        try:
            made = await _states().update_one(
                {"_id": user_id, "totp_enabled": {"$ne": True}, "recovery_codes": {"$size": 0}},
                {
                    "$set": {"recovery_codes": hashes(codes), "updated_at": utcnow()},
                    "$setOnInsert": NO_TOTP,
                },
                upsert=True,
            )
        except DuplicateKeyError:  # TOTP is on or codes exist: the account had a factor already
            return []
        return codes if made.modified_count or made.upserted_id else []

    async def factor_removed(self, user_id: PydanticObjectId) -> None:
        """After a factor goes: with none left, the recovery codes and pending sign-ins go too."""
        if await self.passkeys.count(user_id) == 0:
            await _states().update_one(
                {"_id": user_id, "totp_enabled": {"$ne": True}}, {"$set": {"recovery_codes": []}}
            )
        await _tickets().delete_many({"user_id": user_id})

    async def regenerate_recovery_codes(self, user_id: PydanticObjectId) -> list[str]:
        if not (await self.status(user_id)).methods:
            raise NOT_ENABLED
        codes = new_recovery_codes()
        await _states().update_one(
            {"_id": user_id},
            {
                "$set": {"recovery_codes": hashes(codes), "updated_at": utcnow()},
                "$setOnInsert": NO_TOTP,
            },
            upsert=True,
        )
        return codes

    async def accept(
        self, user_id: PydanticObjectId, proof: SecondFactorProof, purpose: Purpose = "second_factor"
    ) -> Method | None:
        """Spend `proof` (a TOTP code, a recovery code or a passkey assertion made for `purpose`)
        if it is good; which kind it was."""
        if proof.passkey is not None:
            passkey = await self.passkeys.authenticate(proof.passkey, purpose, user_id)
            return "passkey" if passkey else None
        if proof.recovery_code is not None:
            spent = recovery_code_hash(proof.recovery_code)
            pulled = await _states().update_one(
                {"_id": user_id, "recovery_codes": spent}, {"$pull": {"recovery_codes": spent}}
            )
            return "recovery_code" if pulled.modified_count == 1 else None
        state = await _states().find_one({"_id": user_id, "totp_enabled": True})
        secret = self._decrypt(state["totp_secret"]) if state else None
        if state is None or secret is None or proof.code is None:
            return None
        step = matching_step(secret, proof.code, self.clock(), state["totp_last_step"])
        if step is None:
            return None
        # Claimed only if no request claimed this step (or a later one) meanwhile.
        claimed = await _states().update_one(
            {"_id": user_id, "totp_enabled": True, "totp_last_step": {"$lt": step}},
            {
                "$set": {
                    "totp_last_step": step,
                    "totp_secret": self.cipher.rotate(state["totp_secret"]).decode(),
                }
            },
        )
        return "totp" if claimed.modified_count == 1 else None

    async def challenge(self, user: User, method: str) -> MfaChallenge | None:
        """None when `user` has no second factor; else a new ticket for the second step of a
        sign-in whose first step was `method` (as `Auth.sign_in` names it)."""
        methods = (await self.status(user.id)).methods
        if not methods:
            return None
        ticket = new_secret()
        await MfaTicket(
            id=token_hash(ticket),
            user_id=user.id,
            expires_at=utcnow() + timedelta(seconds=TICKET_SECONDS),
            method=method,
        ).insert()
        return MfaChallenge(ticket=ticket, methods=methods)

    async def open_ticket(self, ticket: str) -> MfaTicket | None:
        found = await _tickets().find_one(
            {
                "_id": token_hash(ticket),
                "expires_at": {"$gt": utcnow()},
                "failures": {"$lt": TICKET_MAX_FAILURES},
            }
        )
        return MfaTicket.model_validate(found) if found else None

    async def ticket_failed(self, ticket: MfaTicket) -> None:
        """One more wrong code on `ticket`; at `TICKET_MAX_FAILURES` it opens no more."""
        await _tickets().update_one({"_id": ticket.id}, {"$inc": {"failures": 1}})

    async def spend_ticket(self, ticket: MfaTicket) -> bool:
        """Claim `ticket` for the one session it starts: False when another request did."""
        return (
            await _tickets().find_one_and_delete({"_id": ticket.id, "expires_at": {"$gt": utcnow()}})
            is not None
        )

    async def forget_user(self, user_id: PydanticObjectId) -> None:
        """Every second factor of `user_id` and their pending sign-ins: for a deleted user, and
        for an administrator's reset of a locked-out one."""
        await _states().delete_one({"_id": user_id})
        await self.passkeys.forget_user(user_id)
        await _tickets().delete_many({"user_id": user_id})

    def _decrypt(self, token: str) -> str | None:
        try:
            return self.cipher.decrypt(token.encode()).decode()
        except InvalidToken:  # made with a secret no longer listed in JWT_SECRET_KEYS
            logger.warning("a TOTP secret cannot be decrypted with the configured secrets")
            return None


def _methods(state: dict[str, Any] | None, passkeys: int) -> list[Method]:
    """The second-step methods an account has, in the order a sign-in offers them."""
    methods: list[Method] = []
    if state and state["totp_enabled"]:
        methods.append("totp")
    if passkeys:
        methods.append("passkey")
    if methods and state and state["recovery_codes"]:
        methods.append("recovery_code")
    return methods


def _states() -> AsyncCollection[dict[str, Any]]:
    return SecondFactorState.get_pymongo_collection()


def _tickets() -> AsyncCollection[dict[str, Any]]:
    return MfaTicket.get_pymongo_collection()
