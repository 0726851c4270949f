"""FastAPI Users' link tokens (verify, reset password) across a rotation of the JWT secrets.

FastAPI Users makes and reads each kind with one secret (`verification_token_secret`,
`reset_password_token_secret`). Here they are made with the key derived from the first JWT
secret and read with the key of any configured one, so a link mailed by an instance a rotation
step ahead (or behind) still opens on this one, and after a rollback.
"""

from typing import Any

import jwt
from fastapi_users.jwt import decode_jwt


def decode_with_any(token: str, secrets: list[str], audience: list[str]) -> tuple[dict[str, Any], str]:
    """The claims of a token made with one of `secrets`, and that secret; jwt.PyJWTError if none.

    A wrong key fails the signature before any claim is checked, so only that failure moves on to
    the next secret: an expired or foreign token is refused by the key that made it."""
    for secret in secrets[:-1]:
        try:
            return decode_jwt(token, secret, audience), secret
        except jwt.InvalidSignatureError:
            continue
    return decode_jwt(token, secrets[-1], audience), secrets[-1]
