"""Keys derived from the app's secret material, and the one-time tokens the app mails or hands out."""

import base64
import hashlib
import hmac
import secrets


def derive_secret(master: str, purpose: str) -> str:
    """A separate key per purpose, so no token or proof made for one can pass for another."""
    return hmac.new(master.encode(), purpose.encode(), hashlib.sha256).hexdigest()


def new_secret() -> str:
    """A token of 256 random bits (sign-in links, tickets, email-change links)."""
    return secrets.token_urlsafe(32)


def token_hash(token: str) -> str:
    """What is stored of such a token: its SHA-256, enough for 256 random bits."""
    return hashlib.sha256(token.encode()).hexdigest()


def seal(secret: str, key: str) -> str:
    """`secret` (a `new_secret()`) encrypted under `key` (another one), for whoever holds `key`.

    A one-time pad drawn from HMAC-SHA256(key): safe because each key seals exactly one secret.
    Nothing checks integrity here; the caller compares what `unseal` gives with a stored hash."""
    raw = base64.urlsafe_b64decode(secret + "=")
    return bytes(a ^ b for a, b in zip(raw, _pad(key), strict=True)).hex()


def unseal(sealed: str, key: str) -> str:
    raw = bytes(a ^ b for a, b in zip(bytes.fromhex(sealed), _pad(key), strict=True))
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


def _pad(key: str) -> bytes:
    return hmac.new(key.encode(), b"sealed secret", hashlib.sha256).digest()
