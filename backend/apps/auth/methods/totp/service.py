"""The authenticator app (TOTP, RFC 6238): setting it up, turning it on and off, checking codes.

Enrolment: `start` makes a secret (160 bits, pyotp) and answers with it in text, its
`otpauth://` URI and that URI as a QR code drawn here (segno, an SVG `data:` URI: no third party
ever sees the secret). The secret is pending, for `SETUP_SECONDS`, until `confirm` brings a valid
code; TOTP is on from then. The secret is never returned again.

Storage: the account's second_factors document (flows/factors.py): the secret encrypted with
Fernet (AES-128-CBC + HMAC-SHA256) under a key derived from the app's secret material,
`derive_secret(JWT secret, "totp")`. With several `JWT_SECRET_KEYS` the first encrypts and any
decrypts (MultiFernet), and each accepted code re-encrypts under the first, so a rotation locks
nobody out once they have signed in while the old secret was still listed.

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
from fastapi import status
from pydantic import BaseModel, Field
from pymongo.asynchronous.collection import AsyncCollection
from pymongo.errors import DuplicateKeyError

from backend.apps.auth.flows.factors import NOT_ENABLED, Purpose, SecondFactors, states
from backend.apps.auth.methods.totp.codes import fernet_key, matching_step
from backend.apps.user.models import User
from backend.config import Settings
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
        self.cipher = MultiFernet([Fernet(fernet_key(secret)) for secret in settings.jwt_secrets])
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
        step = matching_step(self._decrypt(state["totp_secret"]) or "", code, self.clock(), NO_STEP)
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
        secret = self._decrypt(state["totp_secret"]) if state else None
        if state is None or secret is None:
            return False
        step = matching_step(secret, code, self.clock(), state["totp_last_step"])
        if step is None:
            return False
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
        return claimed.modified_count == 1

    def _decrypt(self, token: str) -> str | None:
        try:
            return self.cipher.decrypt(token.encode()).decode()
        except InvalidToken:  # made with a secret no longer listed in JWT_SECRET_KEYS
            logger.warning("a TOTP secret cannot be decrypted with the configured secrets")
            return None


class TotpFactor:
    """The authenticator app as a second factor of the sign-in flow's registry."""

    method = "totp"
    proof_name = "code"
    proof_type = str | None
    proof_field = Field(None, max_length=16, description="the 6 digits the authenticator app shows")
    status_fields = {"totp_enabled": (bool, Field())}
    state_fields = STATE_FIELDS
    backup = False

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
