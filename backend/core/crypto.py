"""Keys derived from the app's secret material, and the one-time tokens the app mails or hands out."""

import hashlib
import hmac
import secrets


def derive_secret(master: str, purpose: str) -> str:
    """A separate key per purpose, so no token or proof made for one can pass for another."""
    return hmac.new(master.encode(), purpose.encode(), hashlib.sha256).hexdigest()


def new_secret() -> str:
    """A token of 256 random bits (refresh tokens, sign-in links, tickets, email-change links)."""
    return secrets.token_urlsafe(32)


def token_hash(token: str) -> str:
    """What is stored of such a token: its SHA-256, enough for 256 random bits."""
    return hashlib.sha256(token.encode()).hexdigest()
