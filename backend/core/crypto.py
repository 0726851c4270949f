"""Keys derived from the app's secret material."""

import hashlib
import hmac


def derive_secret(master: str, purpose: str) -> str:
    """A separate key per purpose, so no token or proof made for one can pass for another."""
    return hmac.new(master.encode(), purpose.encode(), hashlib.sha256).hexdigest()
