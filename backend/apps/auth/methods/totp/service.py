"""The authenticator app (TOTP, RFC 6238): setting it up, turning it on and off, checking codes.

Enrolment: `start` makes a secret (160 bits, pyotp) and answers with it in text, its
`otpauth://` URI and that URI as a QR code drawn here (segno, an SVG `data:` URI: no third party
ever sees the secret). The secret is pending, for `SETUP_SECONDS`, until `confirm` brings a valid
code; TOTP is on from then. The secret is never returned again.

Storage: the account's second_factors document (flows/factors.py): the secret encrypted with
Fernet (AES-128-CBC + HMAC-SHA256) under the first of `TOTP_ENCRYPTION_KEYS`; any of them
decrypts (MultiFernet), and each accepted code re-encrypts under the first (`MultiFernet.rotate`).
Before that setting existed the key was derived from the JWT secret, `derive_secret(JWT secret,
"totp")`: those derived keys always decrypt too, after the listed ones (an entry `jwt-derived` puts
them at its place in the list instead, first while a new key is being published), and they
encrypt while the setting is unset. So a rotation that publishes a key everywhere before it
encrypts never writes a secret some instance cannot read (README "Rotating the TOTP encryption
key"). A secret no key opens is answered 503 TOTP_KEY_MISSING and logged, never counted as a
wrong code.

A step is accepted once: the newest accepted step is stored and only a later one passes, claimed
with one conditional update, so two requests racing with one code cannot both pass.
"""

import logging
import time
from collections.abc import Callable
from datetime import timedelta
from typing import Any

import pyotp
import segno
from beanie import PydanticObjectId
from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from fastapi import HTTPException, status
from pydantic import BaseModel, Field
from pymongo.asynchronous.collection import AsyncCollection
from pymongo.errors import DuplicateKeyError

from backend.apps.auth.flows.factors import NOT_ENABLED, Purpose, SecondFactors, states
from backend.apps.auth.methods.totp.codes import fernet_key, matching_step
from backend.apps.user.models import User
from backend.config import TOTP_JWT_DERIVED, Settings
from backend.core.clock import utcnow
from backend.core.errors import refusal

logger = logging.getLogger(__name__)

SETUP_SECONDS = 600  # a TOTP secret shown but never confirmed is refused after this
NO_STEP = -1
# TOTP's fields of the account's second_factors document (flows/factors.py), as while it has none.
STATE_FIELDS: dict[str, Any] = {
    "totp_secret": None,  # Fernet token of the base32 secret; never the secret itself
    "totp_enabled": False,  # False with a secret: enrolment started, not confirmed
    "totp_last_step": NO_STEP,  # the newest time step a code was accepted for
    "totp_setup_at": None,  # when the pending secret was made
}
CODE_INVALID = refusal(
    status.HTTP_400_BAD_REQUEST, "MFA_CODE_INVALID", "That code is wrong or was used already."
)
KEY_MISSING_RETRY_SECONDS = 30  # mid-rotation, another instance (or this one, restarted) may have the key
_warned_unset = False  # the production warning about an unset TOTP_ENCRYPTION_KEYS, once per process


class TotpKeyMissing(HTTPException):
    """The stored secret opens with none of the configured keys. Not the person's fault: answered
    503 (a retry may reach an instance that has the key), and never counted toward lockout."""

    def __init__(self) -> None:
        super().__init__(
            status.HTTP_503_SERVICE_UNAVAILABLE,
            detail={
                "code": "TOTP_KEY_MISSING",
                "reason": "Codes from the authenticator app cannot be checked right now; try again "
                "shortly, or use a recovery code.",
            },
            headers={"Retry-After": str(KEY_MISSING_RETRY_SECONDS)},
        )


def totp_keys(settings: Settings) -> list[bytes]:
    """The Fernet keys in order: the first encrypts, every one decrypts. The JWT-derived keys are
    always among them (where `jwt-derived` stands in the list, else last), so no secret stored
    before TOTP_ENCRYPTION_KEYS was set is lost."""
    derived = [fernet_key(secret) for secret in settings.jwt_secrets]
    listed = [key.get_secret_value() for key in settings.totp_encryption_keys]
    if TOTP_JWT_DERIVED not in listed:
        listed.append(TOTP_JWT_DERIVED)
    keys: list[bytes] = []
    for entry in listed:
        for key in derived if entry == TOTP_JWT_DERIVED else [entry.encode()]:
            if key not in keys:
                keys.append(key)
    return keys


def totp_cipher(settings: Settings) -> MultiFernet:
    return MultiFernet([Fernet(key) for key in totp_keys(settings)])


async def reencrypt_all(settings: Settings) -> tuple[int, int, int]:
    """Every stored TOTP secret under the first key: (re-encrypted, already so, unreadable).

    What `manage totp reencrypt` runs before a key is removed from TOTP_ENCRYPTION_KEYS (or a
    JWT secret from JWT_SECRET_KEYS while the derived keys still hold secrets): lazily, only the
    secrets of people who sign in move to the new key. Each update is conditional on the value
    read, so a code accepted meanwhile (which re-encrypts it too) is never overwritten."""
    keys = totp_keys(settings)
    cipher, first = MultiFernet([Fernet(key) for key in keys]), Fernet(keys[0])
    rotated = current = unreadable = 0
    async for state in _states().find({"totp_secret": {"$ne": None}}, {"totp_secret": 1}):
        token = state["totp_secret"].encode()
        try:
            first.decrypt(token)
            current += 1
            continue
        except InvalidToken:
            pass
        try:
            fresh = cipher.rotate(token).decode()
        except InvalidToken:
            unreadable += 1
            logger.error("the TOTP secret of account %s opens with none of the configured keys", state["_id"])
            continue
        result = await _states().update_one(
            {"_id": state["_id"], "totp_secret": state["totp_secret"]}, {"$set": {"totp_secret": fresh}}
        )
        rotated += result.modified_count
        current += 1 - result.modified_count  # changed meanwhile: by a code check, under the first key
    return rotated, current, unreadable


def warn_if_unset(settings: Settings) -> None:
    global _warned_unset
    if settings.totp_encryption_keys or settings.is_development or _warned_unset:
        return
    _warned_unset = True
    logger.warning(
        "TOTP_ENCRYPTION_KEYS is not set: TOTP secrets are encrypted with a key derived from the JWT "
        "secret, so removing that secret from JWT_SECRET_KEYS makes them unreadable. Set "
        "TOTP_ENCRYPTION_KEYS (README: Rotating the TOTP encryption key). Said once per process."
    )


class TotpSetup(BaseModel):
    secret: str = Field(description="base32, for typing into the app by hand")
    otpauth_uri: str
    qr_svg: str = Field(description="the otpauth URI as a QR code: an SVG `data:` URI for an <img>")


def _states() -> AsyncCollection[dict[str, Any]]:
    """The second_factors documents (tests stand in for it to stage a race)."""
    return states()


class Totp:
    """The authenticator app of accounts."""

    # Seconds since the epoch, for TOTP steps; tests replace it to pick the moment.
    clock: Callable[[], float] = staticmethod(time.time)

    def __init__(self, settings: Settings, factors: SecondFactors) -> None:
        self.issuer = settings.app_name
        self.cipher = totp_cipher(settings)
        warn_if_unset(settings)
        self.factors = factors

    async def start(self, user: User) -> TotpSetup:
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
                    "$setOnInsert": self.factors.new_state_fields(*STATE_FIELDS),
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

    async def confirm(self, user_id: PydanticObjectId, code: str) -> list[str]:
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
        step = matching_step(self._decrypt(user_id, state["totp_secret"]), code, self.clock(), NO_STEP)
        if step is None:
            raise CODE_INVALID
        enabled = {
            "totp_enabled": True,
            "totp_last_step": step,  # the code that confirmed cannot also sign in
            "updated_at": utcnow(),
        }
        confirmed = await _states().update_one(
            {"_id": user_id, "totp_enabled": False, "totp_secret": state["totp_secret"]}, {"$set": enabled}
        )
        if confirmed.modified_count != 1:  # set up again meanwhile: that secret is the pending one
            raise CODE_INVALID
        return await self.factors.added(user_id, "totp", first_of_its_kind=True)

    async def disable(self, user_id: PydanticObjectId) -> None:
        turned_off = await _states().update_one(
            {"_id": user_id, "totp_enabled": True},
            {"$set": {"totp_enabled": False, "totp_secret": None, "updated_at": utcnow()}},
        )
        if turned_off.modified_count != 1:
            raise NOT_ENABLED

    async def accept(self, user_id: PydanticObjectId, code: str) -> bool:
        """Spend `code` if it is the app's for a step later than the last one accepted."""
        state = await _states().find_one({"_id": user_id, "totp_enabled": True})
        if state is None:
            return False
        secret = self._decrypt(user_id, state["totp_secret"])
        step = matching_step(secret, code, self.clock(), state["totp_last_step"])
        if step is None:
            return False
        # Claimed only if no request claimed this step (or a later one) meanwhile. The secret is
        # re-encrypted under the first key here, on a good code only: a key every instance already
        # decrypts with, when the rotation published it first.
        claimed = await _states().update_one(
            {"_id": user_id, "totp_enabled": True, "totp_last_step": {"$lt": step}},
            {
                "$set": {
                    "totp_last_step": step,
                    "totp_secret": self.cipher.rotate(state["totp_secret"]).decode(),
                }
            },
        )
        return claimed.modified_count == 1

    def _decrypt(self, user_id: PydanticObjectId, token: str) -> str:
        """The secret; TotpKeyMissing when no configured key opens it (a key dropped too soon, or
        this instance behind on a rotation)."""
        try:
            return self.cipher.decrypt(token.encode()).decode()
        except InvalidToken:
            logger.error(
                "the TOTP secret of account %s opens with none of TOTP_ENCRYPTION_KEYS nor the keys "
                "derived from the JWT secrets: is this instance behind on a key rotation, or was a key "
                "removed before every secret was re-encrypted (`manage totp reencrypt`)?",
                user_id,
            )
            raise TotpKeyMissing() from None


class TotpFactor:
    """The authenticator app as a second factor of the sign-in flow's registry."""

    method = "totp"
    proof_name = "code"
    proof_type = str | None
    proof_field = Field(None, max_length=16, description="the 6 digits the authenticator app shows")
    status_fields = {"totp_enabled": (bool, Field())}
    state_fields = STATE_FIELDS
    backup = False
    collection = None  # its state is all in second_factors

    def __init__(self, totp: Totp) -> None:
        self.totp = totp

    async def enrolled(self, user_id: PydanticObjectId, state: dict[str, Any] | None) -> bool:
        return bool(state and state["totp_enabled"])

    async def status(self, user_id: PydanticObjectId, state: dict[str, Any] | None) -> dict[str, Any]:
        return {"totp_enabled": await self.enrolled(user_id, state)}

    async def accept(self, user_id: PydanticObjectId, value: str, purpose: Purpose) -> bool:
        return await self.totp.accept(user_id, value)

    async def reset(self, user_id: PydanticObjectId) -> list[str]:
        was = await _states().find_one_and_update({"_id": user_id}, {"$set": STATE_FIELDS})
        return ["the authenticator app"] if was and was.get("totp_enabled") else []
