"""The codes of two-step sign-in, made and checked: TOTP (RFC 6238) and recovery codes.

TOTP: 6 digits, accepted for the current 30-second step or one either side (clock drift), and
only for a step later than the last one accepted (mfa.py stores it), so a code works once. The
secret is kept encrypted under `fernet_key(JWT secret)`, a key derived for this purpose only.

Recovery codes: 24 characters from an alphabet without look-alikes (no 0/o, 1/i/l), shown as six
groups of four. Each holds 118 random bits, so one SHA-256 is storage enough (OWASP ASVS 5.0
6.5.2: a plain approved hash is allowed for lookup secrets of 112 bits or more; shorter ones
would need a password hash). Case and dashes are ignored when one is typed back.
"""

import base64
import hashlib
import hmac
import secrets

import pyotp

from backend.core.crypto import derive_secret

RECOVERY_CODE_COUNT = 10
RECOVERY_ALPHABET = "23456789abcdefghjkmnpqrstuvwxyz"
RECOVERY_CODE_LENGTH = 24  # 24 x log2(31) = 118.9 bits
RECOVERY_GROUP = 4


def fernet_key(secret: str) -> bytes:
    return base64.urlsafe_b64encode(bytes.fromhex(derive_secret(secret, "totp")))


def normalized_recovery_code(code: str) -> str:
    return "".join(c for c in code.lower() if c.isalnum())


def recovery_code_hash(code: str) -> str:
    return hashlib.sha256(normalized_recovery_code(code).encode()).hexdigest()


def hashes(codes: list[str]) -> list[str]:
    return [recovery_code_hash(code) for code in codes]


def new_recovery_codes() -> list[str]:
    """Fresh codes, shown as groups of four: `xxxx-xxxx-xxxx-xxxx-xxxx-xxxx`."""
    codes = []
    for _ in range(RECOVERY_CODE_COUNT):
        code = "".join(secrets.choice(RECOVERY_ALPHABET) for _ in range(RECOVERY_CODE_LENGTH))
        codes.append("-".join(code[i : i + RECOVERY_GROUP] for i in range(0, len(code), RECOVERY_GROUP)))
    return codes


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
