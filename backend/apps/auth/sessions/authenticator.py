"""Who is asking: how requests present an access token (tokens/realm_jwt.py), and which session
and user it names.

Protected routes accept the token as `Authorization: Bearer` or in the `FARM_auth` cookie; with
the cookie, unsafe methods also need the CSRF header (see csrf.py).

One credential decides: a request that sends `Authorization: Bearer` is judged by that token
alone, and a bad one is a 401 with `WWW-Authenticate: Bearer error="invalid_token"` (RFC 6750
section 3.1) even when a valid cookie rides along. FastAPI Users' own authenticator falls back
to the next backend, so a stale token of one account could act as whoever the browser's cookie
belongs to; `SessionAuthenticator` is this app's replacement, plugged in through
`FastAPIUsers.authenticator`, which FastAPI Users' routers read their dependencies from.

The check costs one database read and no threadpool hop: the dependencies are `async`, the
user document is read once (it also lists the live sessions) and built without re-validation.
A token presented again is not parsed and verified again: `VerifiedTokens` keeps the claims of
the tokens verified lately, by their exact text, and checks only their expiry (the one check
whose answer changes with time); whether the session is live is read from the database on
every request, so ending a session still refuses its tokens at once.
"""

import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Annotated, Any

from beanie import PydanticObjectId
from bson import ObjectId
from bson.errors import InvalidId
from fastapi import Depends, HTTPException, Request, status
from fastapi.security import APIKeyCookie, OAuth2PasswordBearer
from fastapi_users import FastAPIUsers
from fastapi_users.authentication import Authenticator

from backend.apps.auth.sessions.cookies import ACCESS_COOKIE
from backend.apps.auth.sessions.csrf import csrf_proof_is_valid
from backend.apps.auth.tokens.realm_jwt import LEEWAY_SECONDS, RealmJWTStrategy
from backend.apps.user.models import User

TOKEN_URL = "auth/jwt/login"  # noqa: S105 - a path; relative, as Swagger UI resolves it against /docs
AUTHORIZE_DESCRIPTION = (
    "Log in with your email as `username` and your password. An account with two-step sign-in "
    "cannot finish here: its login answers 401 `MFA_REQUIRED` with a `ticket`. Instead, run "
    "`POST /auth/jwt/login` and then `POST /auth/mfa/verify` with the ticket and a code under "
    '"Try it out": the session cookies it sets sign these docs in.'
)


VERIFIED_TOKENS_KEPT = 2048  # ~1.5 KiB each: a few MiB per worker, one token per active user


class VerifiedTokens:
    """The claims of access tokens verified lately, by the token's exact text.

    Parsing a token and checking its signature, issuer, audience and claims costs ~0.1-0.2 ms of
    CPU (PyJWT checks the base64 alphabet byte by byte), a good part of an authenticated
    request, and a client presents the same token for its whole lifetime. The answer of those
    checks depends only on the token's bytes and the keys, which are fixed for the life of the
    process, except for expiry: so a token seen before skips them and is checked for expiry alone,
    with the same leeway (RFC 7519 section 4.1.4). Only valid tokens are kept, at most `size`,
    the oldest dropped first: junk costs a verification every time, as before, and no memory.
    """

    def __init__(self, strategy: RealmJWTStrategy, size: int = VERIFIED_TOKENS_KEPT) -> None:
        self.strategy = strategy
        self.size = size
        self._claims: dict[str, dict[str, Any]] = {}

    def claims(self, token: str) -> dict[str, Any] | None:
        """The token's verified claims, or None for anything that is not a valid token of ours."""
        claims = self._claims.get(token)
        if claims is not None:
            if claims["exp"] > time.time() - LEEWAY_SECONDS:  # PyJWT's test: expired at exp + leeway
                return claims
            del self._claims[token]
            return None
        claims = self.strategy.decode(token)
        if claims is not None and isinstance(claims["exp"], int | float):
            if len(self._claims) >= self.size:
                del self._claims[next(iter(self._claims))]  # the oldest: dicts keep insertion order
            self._claims[token] = claims
        return claims


async def live_user(claims: dict[str, Any]) -> User | None:
    """The token's user, if the token's session is still live: the one read a request costs."""
    try:
        user_id = ObjectId(claims["sub"])
    except (InvalidId, TypeError):
        return None
    document = await User.get_pymongo_collection().find_one({"_id": user_id})
    if document is None or claims["sid"] not in document.get("session_ids", ()):
        return None
    # Our own document, just read: building it again through validation (EmailStr and all)
    # would cost more than the read.
    return User.model_construct(**document)


@dataclass(frozen=True)
class CurrentSession:
    user: User
    session_id: str
    token: str


def unauthorized(error: str | None = None) -> HTTPException:
    challenge = f'Bearer error="{error}"' if error else "Bearer"
    return HTTPException(
        status.HTTP_401_UNAUTHORIZED, detail="Unauthorized", headers={"WWW-Authenticate": challenge}
    )


CSRF_REFUSED = HTTPException(
    status.HTTP_403_FORBIDDEN,
    detail={
        "code": "CSRF_TOKEN_INVALID",
        "reason": "Cookie-authenticated changes need the X-CSRF-Token header "
        "(the value of the FARM_csrf cookie), or use a Bearer token.",
    },
)


class SessionAuthenticator(Authenticator[User, PydanticObjectId]):
    """Who is asking: a Bearer token alone when one is sent, else the access cookie (+ CSRF)."""

    def __init__(self, strategy: RealmJWTStrategy, csrf_keys: list[str], get_user_manager: Any) -> None:
        super().__init__([], get_user_manager)
        self.strategy = strategy
        self.verified = VerifiedTokens(strategy)
        self.csrf_keys = csrf_keys
        # The same schemes FastAPI Users' BearerTransport and CookieTransport declare, so the
        # OpenAPI document (and Swagger's Authorize) is unchanged.
        bearer_scheme = OAuth2PasswordBearer(
            tokenUrl=TOKEN_URL, auto_error=False, description=AUTHORIZE_DESCRIPTION
        )
        cookie_scheme = APIKeyCookie(name=ACCESS_COOKIE, auto_error=False)

        async def authenticate(
            request: Request,
            bearer: Annotated[str | None, Depends(bearer_scheme)],
            cookie: Annotated[str | None, Depends(cookie_scheme)],
        ) -> CurrentSession | None:
            if bearer is not None:
                return await self._from_bearer(bearer)
            if cookie:
                return await self._from_cookie(cookie, request)
            return None

        self.authenticate = authenticate

    async def _from_bearer(self, token: str) -> CurrentSession:
        claims = self.verified.claims(token) if token else None
        user = await live_user(claims) if claims else None
        if user is None or claims is None:
            raise unauthorized("invalid_token")
        return CurrentSession(user, claims["sid"], token)

    async def _from_cookie(self, token: str, request: Request) -> CurrentSession | None:
        claims = self.verified.claims(token)
        user = await live_user(claims) if claims else None
        if user is None or claims is None:
            return None
        # Only a live session gets as far as the CSRF check: an ended one is a plain 401.
        if not csrf_proof_is_valid(request, self.csrf_keys, claims["sid"]):
            raise CSRF_REFUSED
        return CurrentSession(user, claims["sid"], token)

    def current_session(
        self, *, active: bool = True, verified: bool = False, superuser: bool = False
    ) -> Callable[..., Any]:
        """A dependency: the CurrentSession that passes the checks, or 401 / 403."""

        async def current_session(
            current: Annotated[CurrentSession | None, Depends(self.authenticate)],
        ) -> CurrentSession:
            if current is None or (active and not current.user.is_active):
                raise unauthorized()
            if (verified and not current.user.is_verified) or (superuser and not current.user.is_superuser):
                raise HTTPException(status.HTTP_403_FORBIDDEN, detail="Forbidden")
            return current

        return current_session

    # FastAPI Users' routers ask for these two; `optional` and enabled backends are not used here.
    def current_user(  # type: ignore[override]
        self,
        optional: bool = False,
        active: bool = False,
        verified: bool = False,
        superuser: bool = False,
        **_: Any,
    ) -> Callable[..., Any]:
        return self._session_part(lambda current: current.user, optional, active, verified, superuser)

    def current_user_token(  # type: ignore[override]
        self,
        optional: bool = False,
        active: bool = False,
        verified: bool = False,
        superuser: bool = False,
        **_: Any,
    ) -> Callable[..., Any]:
        return self._session_part(
            lambda current: (current.user, current.token), optional, active, verified, superuser
        )

    def _session_part(
        self,
        part: Callable[[CurrentSession], Any],
        optional: bool,
        active: bool,
        verified: bool,
        superuser: bool,
    ) -> Callable[..., Any]:
        """A dependency giving `part` of the CurrentSession that passes the checks."""
        assert not optional, "every protected route of this app needs a user"
        session = self.current_session(active=active, verified=verified, superuser=superuser)

        async def session_part(current: Annotated[CurrentSession, Depends(session)]) -> Any:
            return part(current)

        return session_part


class AppUsers(FastAPIUsers[User, PydanticObjectId]):
    """FastAPI Users, its routers authenticating through `SessionAuthenticator`."""

    def __init__(self, get_user_manager: Any, authenticator: SessionAuthenticator) -> None:
        super().__init__(get_user_manager, [])
        self.authenticator = authenticator
        self.current_user = authenticator.current_user
