"""TOTP codes (RFC 6238), made and checked, and the key its secrets are kept under.

6 digits, accepted for the current 30-second step or one either side (clock drift), and only for
a step later than the last one accepted (service.py stores it), so a code works once.
`fernet_key(JWT secret)` is the key derived for TOTP secrets alone, the one they were kept under
before `TOTP_ENCRYPTION_KEYS` (service.py's `totp_cipher`).
"""

import base64
import hmac

import pyotp

from backend.core.crypto import derive_secret


def fernet_key(secret: str) -> bytes:
    return base64.urlsafe_b64encode(bytes.fromhex(derive_secret(secret, "totp")))


def matching_step(secret: str, code: str, now: float, after: int) -> int | None:
    """The time step within one of `now` whose code is `code`, if it is later than `after`."""
    code = "".join(code.split())
    if not (len(code) == 6 and code.isascii() and code.isdigit()):
        return None
    totp = pyotp.TOTP(secret)
    current = int(now // totp.interval)
    for step in (current - 1, current, current + 1):
        if step > after and hmac.compare_digest(totp.generate_otp(step), code):
            return step
    return None
