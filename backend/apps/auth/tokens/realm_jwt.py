"""The access token: MongoDB Realm's "Custom JWT" contract, issued and verified here.

HS256 by default; `aud` = Realm app id as a string; `sub` = user id; `iat`; `exp`; plus `jti`,
`user_data` for Realm's metadata mapping, `iss` (checked on every request) and `sid`, the session
the token belongs to (sessions/: a token of an ended session is refused at once). The key ring
(keys.py) pins the algorithm and picks keys by `kid`.
"""

import secrets
import time
from typing import Any

import jwt

from backend.apps.auth.tokens.keys import KeyRing
from backend.apps.user.models import User

REQUIRED_CLAIMS = ["iss", "aud", "sub", "iat", "exp", "sid"]
LEEWAY_SECONDS = 10  # tolerated clock skew between issuer and verifier
MAX_TOKEN_LENGTH = 8192  # ours are ~450 bytes; anything huge is refused before parsing


class RealmJWTStrategy:
    """Issues and verifies the access tokens.

    Not a FastAPI Users `Strategy`: its `read_token` takes the user manager, whose dependency
    chain costs a threadpool hop per request, and its `write_token` knows nothing of sessions.
    """

    def __init__(self, *, keys: KeyRing, app_id: str, issuer: str, lifetime_seconds: int) -> None:
        self.keys = keys
        self.app_id = app_id
        self.issuer = issuer
        self.lifetime_seconds = lifetime_seconds

    def issue(self, user: User, session_id: str) -> str:
        now = int(time.time())
        claims = {
            "iss": self.issuer,
            "aud": self.app_id,
            "sub": str(user.id),
            "iat": now,
            "exp": now + self.lifetime_seconds,
            "jti": secrets.token_urlsafe(16),
            "sid": session_id,
            "user_data": {"email": user.email},
        }
        # With one HS256 secret the header is exactly {"alg": "HS256", "typ": "JWT"}; otherwise
        # it also names the signing key (`kid`).
        return self.keys.sign(claims)

    def decode(self, token: str) -> dict[str, Any] | None:
        """The verified claims, or None for anything that is not a valid token of ours."""
        if len(token) > MAX_TOKEN_LENGTH:
            return None
        try:
            # The key ring pins the algorithm (RFC 8725 section 3.1) and picks the key by `kid`;
            # issuer and audience are checked exactly (sections 3.8, 3.9).
            claims = self.keys.verify(
                token,
                audience=self.app_id,
                issuer=self.issuer,
                leeway=LEEWAY_SECONDS,
                options={"require": REQUIRED_CLAIMS, "strict_aud": True},
            )
        except (jwt.PyJWTError, ValueError):
            return None
        return claims if isinstance(claims.get("sid"), str) and isinstance(claims["sub"], str) else None
