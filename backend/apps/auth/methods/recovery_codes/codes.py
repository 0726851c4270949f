"""Recovery codes, made and checked.

24 characters from an alphabet without look-alikes (no 0/o, 1/i/l), shown as six groups of four.
Each holds 118 random bits, so one SHA-256 is storage enough (OWASP ASVS 5.0 6.5.2: a plain
approved hash is allowed for lookup secrets of 112 bits or more; shorter ones would need a password
hash). Case and dashes are ignored when one is typed back.
"""

import hashlib
import secrets

RECOVERY_CODE_COUNT = 10
RECOVERY_ALPHABET = "23456789abcdefghjkmnpqrstuvwxyz"
RECOVERY_CODE_LENGTH = 24  # 24 x log2(31) = 118.9 bits
RECOVERY_GROUP = 4


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
