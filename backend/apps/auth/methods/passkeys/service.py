"""Passkeys (WebAuthn Level 2, verified by py_webauthn): registering them and checking assertions.

The relying party (its id and origins) is in relying_party.py; the documents in models.py.

Registration asks for a discoverable credential ("resident key") with user verification, and no
attestation (`none`): the app trusts the person who is signed in, not a make of authenticator.
The user handle is the account's ObjectId (12 bytes, no personal data; §14.6.1).

Challenges: 32 random bytes, stored server-side only as SHA-256 with their purpose (register,
sign_in, second_factor, confirm), the user they were made for (if any) and a 5-minute expiry.
The browser sends the challenge back inside clientDataJSON; the one document that matches it and
the purpose is deleted as it is read, so each works once (§13.4.3).

Assertions: user verification is required (a passkey alone signs in, so it must be two factors
in itself), and the signature counter must grow unless the authenticator keeps none (0 / 0, as
synced passkeys do); a counter that does not grow refuses the assertion (§6.1.1, a possible clone).
The stored counter moves only forward, with one conditional update.
"""

import hashlib
import json
import secrets
from datetime import timedelta
from typing import Any

from beanie import PydanticObjectId
from fastapi import status
from pymongo.asynchronous.collection import AsyncCollection
from pymongo.errors import DuplicateKeyError
from webauthn import (
    generate_authentication_options,
    generate_registration_options,
    options_to_json,
    verify_authentication_response,
    verify_registration_response,
)
from webauthn.helpers import base64url_to_bytes, bytes_to_base64url
from webauthn.helpers.exceptions import WebAuthnException
from webauthn.helpers.structs import (
    AuthenticatorSelectionCriteria,
    PublicKeyCredentialDescriptor,
    ResidentKeyRequirement,
    UserVerificationRequirement,
)

from backend.apps.auth.methods.passkeys.models import (
    AuthenticationResponse,
    Passkey,
    PasskeyChallenge,
    Purpose,
    RegistrationResponse,
)
from backend.apps.auth.methods.passkeys.relying_party import relying_party
from backend.apps.user.models import User
from backend.config import Settings
from backend.core.clock import utcnow
from backend.core.errors import refusal

CHALLENGE_SECONDS = 300
MAX_PASSKEYS_PER_USER = 20


PASSKEY_INVALID = refusal(
    status.HTTP_400_BAD_REQUEST,
    "PASSKEY_INVALID",
    "That passkey was not accepted. Try again or use another way.",
)


def _hash(challenge: bytes) -> str:
    return hashlib.sha256(challenge).hexdigest()


def _challenge_in(client_data_json: str) -> bytes | None:
    """The challenge the browser signed, read from clientDataJSON (verified again by py_webauthn)."""
    try:
        return base64url_to_bytes(json.loads(base64url_to_bytes(client_data_json))["challenge"])
    # binascii.Error and JSONDecodeError are ValueErrors; "[[[[..." thousands deep overflows the
    # parser's recursion (OWASP ASVS 5.0 1.5: bound what parsing untrusted data costs).
    except (ValueError, TypeError, KeyError, RecursionError):
        return None


class Passkeys:
    """The passkeys of accounts and the challenges that register and check them."""

    def __init__(self, settings: Settings) -> None:
        self.rp = relying_party(settings)

    @property
    def available(self) -> bool:
        return self.rp.unavailable_reason is None

    def require_available(self) -> None:
        if self.rp.unavailable_reason:
            raise refusal(status.HTTP_409_CONFLICT, "PASSKEYS_UNAVAILABLE", self.rp.unavailable_reason)

    async def _new_challenge(self, purpose: Purpose, user_id: PydanticObjectId | None) -> bytes:
        challenge = secrets.token_bytes(32)
        expires_at = utcnow() + timedelta(seconds=CHALLENGE_SECONDS)
        await PasskeyChallenge(
            id=_hash(challenge), purpose=purpose, user_id=user_id, expires_at=expires_at
        ).insert()
        return challenge

    async def _spend_challenge(
        self, client_data_json: str, purpose: Purpose, user_id: PydanticObjectId | None
    ) -> bytes | None:
        challenge = _challenge_in(client_data_json)
        if challenge is None:
            return None
        found = await _challenges().find_one_and_delete(
            {"_id": _hash(challenge), "purpose": purpose, "user_id": user_id, "expires_at": {"$gt": utcnow()}}
        )
        return challenge if found else None

    async def registration_options(self, user: User) -> dict[str, Any]:
        self.require_available()
        mine = await self.list(user.id)
        if len(mine) >= MAX_PASSKEYS_PER_USER:
            raise refusal(
                status.HTTP_409_CONFLICT,
                "TOO_MANY_PASSKEYS",
                f"An account keeps at most {MAX_PASSKEYS_PER_USER} passkeys.",
            )
        options = generate_registration_options(
            rp_id=self.rp.id,
            rp_name=self.rp.name,
            user_id=user.id.binary,
            user_name=user.email,
            challenge=await self._new_challenge("register", user.id),
            authenticator_selection=AuthenticatorSelectionCriteria(
                resident_key=ResidentKeyRequirement.REQUIRED,
                user_verification=UserVerificationRequirement.REQUIRED,
            ),
            exclude_credentials=[_descriptor(p) for p in mine],  # one passkey per authenticator
        )
        return json.loads(options_to_json(options))

    async def register(self, user: User, name: str, credential: RegistrationResponse) -> Passkey:
        """Keep the passkey `credential` made for the challenge of registration_options()."""
        self.require_available()
        challenge = await self._spend_challenge(credential.response.clientDataJSON, "register", user.id)
        if challenge is None:
            raise PASSKEY_INVALID
        try:
            verified = verify_registration_response(
                credential=credential.model_dump(),
                expected_challenge=challenge,
                expected_rp_id=self.rp.id,
                expected_origin=self.rp.origins,
                require_user_verification=True,
            )
        except (WebAuthnException, ValueError, TypeError, KeyError, RecursionError):
            raise PASSKEY_INVALID from None
        passkey = Passkey(
            id=bytes_to_base64url(verified.credential_id),
            user_id=user.id,
            name=name,
            public_key=verified.credential_public_key,
            sign_count=verified.sign_count,
            transports=[t for t in credential.response.transports if len(t) <= 16],
            backed_up=verified.credential_backed_up,
        )
        try:
            await passkey.insert()
        except DuplicateKeyError:  # the credential id is registered already (to anyone)
            raise PASSKEY_INVALID from None
        return passkey

    async def authentication_options(
        self, purpose: Purpose, user_id: PydanticObjectId | None
    ) -> dict[str, Any]:
        """Options for `navigator.credentials.get()`: for `user_id`'s passkeys, or (None) any
        discoverable one."""
        self.require_available()
        allowed = [_descriptor(p) for p in await self.list(user_id)] if user_id else []
        options = generate_authentication_options(
            rp_id=self.rp.id,
            challenge=await self._new_challenge(purpose, user_id),
            allow_credentials=allowed,
            user_verification=UserVerificationRequirement.REQUIRED,
        )
        return json.loads(options_to_json(options))

    async def authenticate(
        self, credential: AuthenticationResponse, purpose: Purpose, user_id: PydanticObjectId | None
    ) -> Passkey | None:
        """The passkey that signed the challenge made for `purpose` (and `user_id`), or None."""
        if not self.available:
            return None
        challenge = await self._spend_challenge(credential.response.clientDataJSON, purpose, user_id)
        found = await _passkeys().find_one({"_id": credential.id}) if challenge else None
        if challenge is None or found is None:
            return None
        passkey = Passkey.model_validate(found)
        if user_id is not None and passkey.user_id != user_id:
            return None
        handle = credential.response.userHandle
        if handle and handle.rstrip("=") != bytes_to_base64url(passkey.user_id.binary):
            return None  # §7.2 step 6: the user handle must be the credential's owner
        try:
            verified = verify_authentication_response(
                credential=credential.model_dump(),
                expected_challenge=challenge,
                expected_rp_id=self.rp.id,
                expected_origin=self.rp.origins,
                credential_public_key=passkey.public_key,
                credential_current_sign_count=passkey.sign_count,
                require_user_verification=True,
            )
        except (WebAuthnException, ValueError, TypeError, KeyError, RecursionError):
            return None
        moved = await _passkeys().update_one(
            {"_id": passkey.id, "sign_count": passkey.sign_count},
            {
                "$set": {
                    "sign_count": verified.new_sign_count,
                    "backed_up": verified.credential_backed_up,
                    "last_used_at": utcnow(),
                }
            },
        )
        return passkey if moved.matched_count == 1 else None

    async def list(self, user_id: PydanticObjectId) -> list[Passkey]:
        return await Passkey.find(Passkey.user_id == user_id).sort("+created_at").to_list()

    async def count(self, user_id: PydanticObjectId) -> int:
        return await _passkeys().count_documents({"user_id": user_id})

    async def rename(self, user_id: PydanticObjectId, passkey_id: str, name: str) -> Passkey | None:
        found = await _passkeys().find_one_and_update(
            {"_id": passkey_id, "user_id": user_id}, {"$set": {"name": name}}, return_document=True
        )
        return Passkey.model_validate(found) if found else None

    async def remove(self, user_id: PydanticObjectId, passkey_id: str) -> Passkey | None:
        """Remove a passkey of `user_id`: the one removed, or None when they have no such one."""
        removed = await _passkeys().find_one_and_delete({"_id": passkey_id, "user_id": user_id})
        return Passkey.model_validate(removed) if removed else None

    async def forget_user(self, user_id: PydanticObjectId) -> None:
        await _passkeys().delete_many({"user_id": user_id})
        await _challenges().delete_many({"user_id": user_id})


def _descriptor(passkey: Passkey) -> PublicKeyCredentialDescriptor:
    return PublicKeyCredentialDescriptor(id=base64url_to_bytes(passkey.id))


def _passkeys() -> AsyncCollection[dict[str, Any]]:
    return Passkey.get_pymongo_collection()


def _challenges() -> AsyncCollection[dict[str, Any]]:
    return PasskeyChallenge.get_pymongo_collection()
