"""Starting a session: the session document, its refresh token, an access token, the cookies.

What a password login does once it knows who signs in, and what every other sign-in does the
same way (the sign-in flow, flows/sign_in.py, logs it and mails a new device).
"""

from fastapi import Request, Response

from backend.apps.auth.sessions.cookies import AuthCookies
from backend.apps.auth.sessions.csrf import csrf_token_for
from backend.apps.auth.sessions.models import Session
from backend.apps.auth.sessions.service import Sessions
from backend.apps.auth.tokens.realm_jwt import RealmJWTStrategy
from backend.apps.user.models import User
from backend.core.clock import utcnow
from backend.core.ratelimit import client_ip


class SessionStarter:
    def __init__(
        self, sessions: Sessions, strategy: RealmJWTStrategy, cookies: AuthCookies, csrf_key: str
    ) -> None:
        self.sessions = sessions
        self.strategy = strategy
        self.cookies = cookies
        self.csrf_key = csrf_key

    async def start(self, user: User, request: Request, response: Response) -> tuple[Session, str]:
        """A new session for `user`, its cookies on `response`; the session and the access token."""
        user_agent, ip = request.headers.get("user-agent", ""), client_ip(request)
        session, refresh = await self.sessions.start(user, user_agent, ip)
        access_token = self.strategy.issue(user, session.id)
        self.set_cookies(response, session, access_token, refresh)
        return session, access_token

    def csrf_token(self, session_id: str) -> str:
        return csrf_token_for(self.csrf_key, session_id)

    def set_cookies(
        self, response: Response, session: Session, access_token: str, refresh: str | None
    ) -> None:
        """Put a session's cookies on `response`: access token, CSRF token, refresh token."""
        self.cookies.set_session(
            response,
            access_token=access_token,
            csrf_token=self.csrf_token(session.id),
            refresh_token=refresh,
            max_age=max(0, int((session.expires_at - utcnow()).total_seconds())),
        )
