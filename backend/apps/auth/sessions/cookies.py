"""The three cookies a browser session uses, written in one place.

- `FARM_auth`: the access token (HttpOnly, SameSite=Lax, Path=/), as in the tutorial.
- `FARM_refresh`: the refresh token (HttpOnly, SameSite=Strict), sent only to the refresh route.
- `FARM_csrf`: the session's CSRF token (readable by scripts, SameSite=Strict), echoed back in the
  `X-CSRF-Token` header by pages that change state with cookie authentication.
"""

from fastapi import Response

ACCESS_COOKIE = "FARM_auth"
REFRESH_COOKIE = "FARM_refresh"
CSRF_COOKIE = "FARM_csrf"
REFRESH_PATH = "/auth/jwt/refresh"


class AuthCookies:
    def __init__(self, *, secure: bool, access_max_age: int) -> None:
        self.secure = secure
        self.access_max_age = access_max_age

    def set_session(
        self,
        response: Response,
        *,
        access_token: str,
        csrf_token: str,
        refresh_token: str | None,
        max_age: int,
    ) -> None:
        """Set the cookies of a login or refresh; `max_age` is what is left of the session."""
        self._set(response, ACCESS_COOKIE, access_token, self.access_max_age, "lax", httponly=True)
        self._set(response, CSRF_COOKIE, csrf_token, max_age, "strict", httponly=False)
        if refresh_token is not None:
            self._set(
                response, REFRESH_COOKIE, refresh_token, max_age, "strict", httponly=True, path=REFRESH_PATH
            )

    def clear(self, response: Response) -> None:
        self._set(response, ACCESS_COOKIE, "", 0, "lax", httponly=True)
        self._set(response, CSRF_COOKIE, "", 0, "strict", httponly=False)
        self._set(response, REFRESH_COOKIE, "", 0, "strict", httponly=True, path=REFRESH_PATH)

    def _set(
        self,
        response: Response,
        name: str,
        value: str,
        max_age: int,
        samesite: str,
        *,
        httponly: bool,
        path: str = "/",
    ) -> None:
        response.set_cookie(
            name,
            value,
            max_age=max_age,
            path=path,
            secure=self.secure,
            httponly=httponly,
            samesite=samesite,  # type: ignore[arg-type]
        )
