"""A software WebAuthn authenticator for tests: the browser and a platform passkey in one object.

It reads the options a relying party sends, as `webauthn.options_to_json` writes them (parsed into a
dict), and returns what `@simplewebauthn/browser`'s `startRegistration` / `startAuthentication`
would POST back: RegistrationResponseJSON and AuthenticationResponseJSON, binary as unpadded
base64url. Keys are ES256 (P-256), attestation is "none", every credential is discoverable.

To stage attacks, change `origin` (a phishing site) or a credential's `sign_count` (a clone).
"""

import hashlib
import json
import os
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

import cbor2
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec
from webauthn.helpers import base64url_to_bytes, bytes_to_base64url

ES256 = -7  # COSE algorithm: ECDSA with SHA-256 on P-256

# Authenticator data flags
UP, UV, AT = 0x01, 0x04, 0x40


class AuthenticatorRefused(Exception):
    """The authenticator would not act; a browser would reject the promise (NotAllowedError etc.)."""


@dataclass
class Credential:
    """A resident credential. `sign_count` may be set freely to simulate a cloned authenticator;
    with `counts` False it stays as it is (0 for synced passkeys, which keep no counter)."""

    id: bytes
    rp_id: str
    user_handle: bytes
    private_key: ec.EllipticCurvePrivateKey
    sign_count: int = 0
    counts: bool = True

    @property
    def public_key(self) -> bytes:
        """The COSE_Key (EC2, ES256, P-256) as CBOR, as it appears in attested credential data."""
        numbers = self.private_key.public_key().public_numbers()
        x, y = numbers.x.to_bytes(32, "big"), numbers.y.to_bytes(32, "big")
        return cbor2.dumps({1: 2, 3: ES256, -1: 1, -2: x, -3: y})


class SoftAuthenticator:
    """Creates credentials with `create` and asserts with `get`, for the page at `origin`."""

    def __init__(self, origin: str) -> None:
        self.origin = origin
        # By credential id, oldest first.
        self.credentials: dict[bytes, Credential] = {}

    def remove(self, credential_id: bytes) -> None:
        """Forget a credential, as a user deleting a passkey from the device would."""
        del self.credentials[credential_id]

    def create(self, options: dict[str, Any], *, user_verified: bool = True) -> dict[str, Any]:
        """navigator.credentials.create(): PublicKeyCredentialCreationOptionsJSON in,
        RegistrationResponseJSON out."""
        rp_id = options["rp"].get("id") or self._origin_host()
        excluded = {base64url_to_bytes(c["id"]) for c in options.get("excludeCredentials", [])}
        if any(c.id in excluded and c.rp_id == rp_id for c in self.credentials.values()):
            raise AuthenticatorRefused("a credential in excludeCredentials is already on this device")
        if ES256 not in [param["alg"] for param in options["pubKeyCredParams"]]:
            raise AuthenticatorRefused("the relying party does not accept ES256")

        user_handle = base64url_to_bytes(options["user"]["id"])
        # A discoverable credential replaces one held for the same account at the same site.
        for old in [c for c in self.credentials.values() if (c.rp_id, c.user_handle) == (rp_id, user_handle)]:
            self.remove(old.id)
        credential = Credential(os.urandom(32), rp_id, user_handle, ec.generate_private_key(ec.SECP256R1()))
        self.credentials[credential.id] = credential

        attested_credential_data = (
            bytes(16)  # AAGUID: none
            + len(credential.id).to_bytes(2, "big")
            + credential.id
            + credential.public_key
        )
        authenticator_data = (
            self._authenticator_data(credential, user_verified, AT) + attested_credential_data
        )
        attestation_object = cbor2.dumps({"fmt": "none", "attStmt": {}, "authData": authenticator_data})
        client_data = self._client_data("webauthn.create", options["challenge"])
        return {
            "id": bytes_to_base64url(credential.id),
            "rawId": bytes_to_base64url(credential.id),
            "type": "public-key",
            "response": {
                "clientDataJSON": bytes_to_base64url(client_data),
                "attestationObject": bytes_to_base64url(attestation_object),
                "transports": ["internal"],
            },
            "clientExtensionResults": {},
            "authenticatorAttachment": "platform",
        }

    def get(
        self, options: dict[str, Any], *, user_verified: bool = True, credential_id: bytes | None = None
    ) -> dict[str, Any]:
        """navigator.credentials.get(): PublicKeyCredentialRequestOptionsJSON in,
        AuthenticationResponseJSON out.

        With `allowCredentials`, the first listed credential held here answers. Without (a
        discoverable login), `credential_id` picks one, or else the newest for the site does.
        """
        rp_id = options.get("rpId") or self._origin_host()
        held = [c for c in self.credentials.values() if c.rp_id == rp_id]
        if allowed := [base64url_to_bytes(c["id"]) for c in options.get("allowCredentials", [])]:
            candidates = [c for cid in allowed for c in held if c.id == cid]
        elif credential_id is not None:
            candidates = [c for c in held if c.id == credential_id]
        else:
            candidates = held[::-1]
        if not candidates:
            raise AuthenticatorRefused(f"no suitable credential for {rp_id!r} on this device")
        credential = candidates[0]

        credential.sign_count += 1 if credential.counts else 0
        authenticator_data = self._authenticator_data(credential, user_verified)
        client_data = self._client_data("webauthn.get", options["challenge"])
        signed = authenticator_data + hashlib.sha256(client_data).digest()
        signature = credential.private_key.sign(signed, ec.ECDSA(hashes.SHA256()))
        return {
            "id": bytes_to_base64url(credential.id),
            "rawId": bytes_to_base64url(credential.id),
            "type": "public-key",
            "response": {
                "clientDataJSON": bytes_to_base64url(client_data),
                "authenticatorData": bytes_to_base64url(authenticator_data),
                "signature": bytes_to_base64url(signature),
                "userHandle": bytes_to_base64url(credential.user_handle),
            },
            "clientExtensionResults": {},
            "authenticatorAttachment": "platform",
        }

    def _origin_host(self) -> str:
        return urlsplit(self.origin).hostname or ""

    def _client_data(self, type_: str, challenge: str) -> bytes:
        data = {"type": type_, "challenge": challenge, "origin": self.origin, "crossOrigin": False}
        return json.dumps(data, separators=(",", ":")).encode()

    @staticmethod
    def _authenticator_data(credential: Credential, user_verified: bool, extra_flags: int = 0) -> bytes:
        flags = UP | (UV if user_verified else 0) | extra_flags
        return (
            hashlib.sha256(credential.rp_id.encode()).digest()
            + bytes([flags])
            + credential.sign_count.to_bytes(4, "big")
        )
