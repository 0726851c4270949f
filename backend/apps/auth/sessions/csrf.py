"""Cross-site request forgery defences.

- Requests authenticated by the access cookie that change state (POST, PUT, PATCH, DELETE) must
  carry `X-CSRF-Token` equal to the session's token: an HMAC of the session id, also sent in the
  readable `FARM_csrf` cookie (double submit, bound to the session). Bearer requests are exempt:
  a browser never attaches an Authorization header on its own.
- Login and refresh refuse a request whose `Origin` is neither this site nor a CORS origin.
  Clients that send no Origin (curl, scripts, mobile apps) are not browsers and pass.
"""

import base64
import hashlib
import hmac
from urllib.parse import urlsplit

from fastapi import HTTPException, Request, status

CSRF_HEADER = "X-CSRF-Token"
UNSAFE_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})


def csrf_token_for(key: str, session_id: str) -> str:
    digest = hmac.new(key.encode(), session_id.encode(), hashlib.sha256).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode()


def csrf_proof_is_valid(request: Request, keys: list[str], session_id: str) -> bool:
    """`keys`: the current CSRF key first, then those of secrets kept for rotation."""
    if request.method not in UNSAFE_METHODS:
        return True
    presented = request.headers.get(CSRF_HEADER, "").encode()
    return any(hmac.compare_digest(presented, csrf_token_for(key, session_id).encode()) for key in keys)


class OriginPolicy:
    def __init__(self, allowed_origins: list[str]) -> None:
        self.allowed = {origin.rstrip("/").lower() for origin in allowed_origins}

    def allows(self, request: Request) -> bool:
        origin = request.headers.get("origin")
        if origin is None:
            return True
        origin = origin.rstrip("/").lower()
        # Our own pages: the browser addressed this host, so Origin's host is the Host header.
        return origin in self.allowed or urlsplit(origin).netloc == request.headers.get("host", "").lower()

    def require(self, request: Request) -> None:
        if not self.allows(request):
            raise HTTPException(
                status.HTTP_403_FORBIDDEN,
                detail={
                    "code": "ORIGIN_NOT_ALLOWED",
                    "reason": "This request came from a site that may not sign in here.",
                },
            )
