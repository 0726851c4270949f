"""The keys that sign and verify access tokens, and their public half as a JWKS (RFC 7517).

`JWT_ALGORITHM` picks one algorithm for the whole key ring, and verification accepts only that
one (RFC 8725 section 3.1): a token whose header names anything else — `none`, or HS256 "signed"
with a published public key — is refused before any key is tried.

- HS256: the secrets of `JWT_SECRET_KEYS` (up to three, as Realm allowed; the first signs, all
  verify) or the single `JWT_SECRET_KEY`. With several secrets each token names its secret in
  `kid` (an HMAC of the secret, so it reveals nothing of it); with one, the header stays
  `{"alg": "HS256", "typ": "JWT"}` as before. Nothing symmetric is ever published.
- RS256 / ES256 / EdDSA: one private key per PEM file in `JWT_KEYS_DIR`. All verify and are
  published; the last file in name order signs, except files named `*.next.pem`, which are
  published (so verifiers cache them) and verify but never sign until renamed. `kid` is the key's
  RFC 7638 thumbprint. `python -m backend.manage keys new` (`make keys`) writes a new file named
  by the UTC time, so name order is age order.
"""

import base64
import hashlib
import hmac
import json
import logging
import os
import stat
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import jwt
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, rsa

from backend.config import ConfigError, Settings

logger = logging.getLogger(__name__)

HMAC_ALGORITHM = "HS256"
ASYMMETRIC_ALGORITHMS = ("RS256", "ES256", "EdDSA")
MAX_HS256_SECRETS = 3  # Realm's Custom JWT provider took at most three signing keys
MIN_RSA_BITS = 2048  # RFC 7518 section 3.3
NEXT_SUFFIX = ".next.pem"
JWKS_MAX_AGE = 300  # how long verifiers may cache the published keys (routes.py), in seconds

PrivateKey = rsa.RSAPrivateKey | ec.EllipticCurvePrivateKey | ed25519.Ed25519PrivateKey


@dataclass(frozen=True)
class Key:
    kid: str
    algorithm: str
    signing: Any  # the secret, or the private key
    verifying: Any  # the secret, or the public key
    jwk: dict[str, str] | None  # the public JWK; None for secrets
    name: str  # where it came from, for logs and the token inspector (never the secret)
    signs: bool = True  # False for a `next` key: published and trusted, not yet signing


class KeyRing:
    """The configured keys: `sign` with the current one, `verify` with any of them."""

    def __init__(self, algorithm: str, keys: list[Key], signer: Key, *, kid_in_header: bool = True) -> None:
        self.algorithm = algorithm
        self.keys = keys
        self.signer = signer
        self.kid_in_header = kid_in_header
        self._by_kid = {key.kid: key for key in keys}
        self.jwks_json = json.dumps(self.jwks(), separators=(",", ":")).encode()

    def sign(self, claims: dict[str, Any]) -> str:
        headers = {"kid": self.signer.kid} if self.kid_in_header else None
        return jwt.encode(claims, self.signer.signing, algorithm=self.algorithm, headers=headers)

    def keys_for(self, header: dict[str, Any]) -> list[Key]:
        """The keys that may have signed a token with this header; empty when none may."""
        if header.get("alg") != self.algorithm:  # pinned: never the header's choice (RFC 8725 3.1)
            return []
        kid = header.get("kid")
        if kid is None:
            # Only HS256 tokens from before a second secret was added carry no kid.
            return list(self.keys) if self.algorithm == HMAC_ALGORITHM else []
        key = self._by_kid.get(kid) if isinstance(kid, str) else None
        return [key] if key else []

    def verify(self, token: str, **options: Any) -> dict[str, Any]:
        """The claims of a token signed by one of our keys; jwt.PyJWTError otherwise.

        `options` go to `jwt.decode` (audience, issuer, leeway, options)."""
        keys = self.keys_for(jwt.get_unverified_header(token))
        if not keys:
            raise jwt.InvalidKeyError("no key of ours matches this token's header")
        for key in keys[:-1]:
            try:
                return jwt.decode(token, key.verifying, algorithms=[self.algorithm], **options)
            except jwt.InvalidSignatureError:
                continue
        return jwt.decode(token, keys[-1].verifying, algorithms=[self.algorithm], **options)

    def jwks(self) -> dict[str, list[dict[str, str]]]:
        """The public keys (RFC 7517 section 5); an empty set for HS256, whose keys are secret."""
        return {"keys": [key.jwk for key in self.keys if key.jwk is not None]}


# --- HS256 ----------------------------------------------------------------------------------------
def secret_kid(secret: str) -> str:
    """A name for a secret that tells nothing about it: an HMAC keyed by the secret itself."""
    digest = hmac.new(secret.encode(), b"farm-auth key id", hashlib.sha256).digest()
    return _b64(digest[:12])


def hmac_ring(secrets: list[str]) -> KeyRing:
    keys = [
        Key(secret_kid(s), HMAC_ALGORITHM, s, s, None, f"secret {i + 1} of {len(secrets)}", signs=i == 0)
        for i, s in enumerate(secrets)
    ]
    return KeyRing(HMAC_ALGORITHM, keys, keys[0], kid_in_header=len(secrets) > 1)


# --- asymmetric keys ------------------------------------------------------------------------------
def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _int_b64(number: int) -> str:
    return _b64(number.to_bytes((number.bit_length() + 7) // 8 or 1, "big"))


def public_jwk_members(key: PrivateKey) -> dict[str, str]:
    """The members of the public JWK that its RFC 7638 thumbprint covers."""
    if isinstance(key, rsa.RSAPrivateKey):
        numbers = key.public_key().public_numbers()
        return {"e": _int_b64(numbers.e), "kty": "RSA", "n": _int_b64(numbers.n)}
    if isinstance(key, ec.EllipticCurvePrivateKey):
        point = key.public_key().public_numbers()
        return {
            "crv": "P-256",
            "kty": "EC",
            "x": _b64(point.x.to_bytes(32, "big")),
            "y": _b64(point.y.to_bytes(32, "big")),
        }
    raw = key.public_key().public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    return {"crv": "Ed25519", "kty": "OKP", "x": _b64(raw)}


def thumbprint(members: dict[str, str]) -> str:
    """RFC 7638: SHA-256 of the required members, sorted, without whitespace."""
    canonical = json.dumps(members, sort_keys=True, separators=(",", ":")).encode()
    return _b64(hashlib.sha256(canonical).digest())


def key_problem(key: object, algorithm: str) -> str | None:
    """Why `key` cannot sign `algorithm` tokens, or None when it can."""
    if algorithm == "RS256":
        if not isinstance(key, rsa.RSAPrivateKey):
            return "is not an RSA private key (RS256 needs one)"
        if key.key_size < MIN_RSA_BITS:
            return f"is a {key.key_size}-bit RSA key; RS256 needs at least {MIN_RSA_BITS} bits"
        return None
    if algorithm == "ES256":
        if not isinstance(key, ec.EllipticCurvePrivateKey) or not isinstance(key.curve, ec.SECP256R1):
            return "is not a P-256 EC private key (ES256 needs one)"
        return None
    if not isinstance(key, ed25519.Ed25519PrivateKey):
        return "is not an Ed25519 private key (EdDSA needs one)"
    return None


def load_key_file(path: Path, algorithm: str) -> Key:
    try:
        key = serialization.load_pem_private_key(path.read_bytes(), password=None)
    except (OSError, ValueError, TypeError) as exc:
        reason = (
            "is encrypted; store it without a passphrase"
            if "password" in str(exc).lower()
            else "is not a PEM private key"
        )
        raise ConfigError(f"JWT_KEYS_DIR: {path} {reason}") from None
    if problem := key_problem(key, algorithm):
        raise ConfigError(f"JWT_KEYS_DIR: {path} {problem}")
    members = public_jwk_members(key)  # type: ignore[arg-type]
    kid = thumbprint(members)
    jwk = {**members, "kid": kid, "alg": algorithm, "use": "sig"}
    return Key(
        kid, algorithm, key, key.public_key(), jwk, path.name, signs=not path.name.endswith(NEXT_SUFFIX)
    )


def new_private_key(algorithm: str) -> PrivateKey:
    if algorithm == "RS256":
        return rsa.generate_private_key(public_exponent=65537, key_size=3072)
    if algorithm == "ES256":
        return ec.generate_private_key(ec.SECP256R1())
    return ed25519.Ed25519PrivateKey.generate()


def write_new_key(directory: Path, algorithm: str, *, next_key: bool = False) -> Path:
    """A new private key in `directory`, named by the UTC time (name order is age order).

    The file is created with mode 0600 and published whole (link), never half-written."""
    directory.mkdir(parents=True, exist_ok=True)
    pem = new_private_key(algorithm).private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%S%fZ")
    path = directory / f"{stamp}-{algorithm.lower()}{NEXT_SUFFIX if next_key else '.pem'}"
    draft = directory / f".{path.name}.{os.getpid()}.tmp"
    fd = os.open(draft, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "wb") as out:
        out.write(pem)
    try:
        os.link(draft, path)
    finally:
        draft.unlink()
    return path


def key_files(directory: Path) -> list[Path]:
    return sorted(p for p in directory.glob("*.pem") if p.is_file()) if directory.is_dir() else []


def asymmetric_ring(settings: Settings) -> KeyRing:
    algorithm, directory = settings.jwt_algorithm, settings.keys_dir
    files = key_files(directory)
    if not files and settings.is_development:
        path = write_new_key(directory, algorithm)
        logger.warning("no %s key in %s: generated a development key, %s", algorithm, directory, path.name)
        files = key_files(directory)
    if not files:
        raise ConfigError(
            f"JWT_KEYS_DIR: no {algorithm} private key in {directory}; create one with `make keys`"
        )
    keys = [load_key_file(path, algorithm) for path in files]
    if not settings.is_development:
        for path in files:
            if path.stat().st_mode & (stat.S_IRWXG | stat.S_IRWXO):
                logger.warning("JWT_KEYS_DIR: %s can be read by other users; chmod 600 it", path)
    signers = [key for key in keys if key.signs]
    if not signers:
        raise ConfigError(f"JWT_KEYS_DIR: every key in {directory} is marked next; one must sign")
    return KeyRing(algorithm, keys, signers[-1])


def load_keyring(settings: Settings) -> KeyRing:
    """The key ring the settings describe; ConfigError (one line) when it cannot be built."""
    if settings.jwt_algorithm == HMAC_ALGORITHM:
        return hmac_ring(settings.jwt_secrets)
    return asymmetric_ring(settings)


def load_keyring_or_exit(settings: Settings) -> KeyRing:
    try:
        return load_keyring(settings)
    except ConfigError as exc:
        raise SystemExit(f"FARM Auth cannot start: {exc}") from None
