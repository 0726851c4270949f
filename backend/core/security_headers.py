"""Security headers on every response, built with the `secure` library.

Auth routes and the pages that carry a token in their URL (`TOKEN_PAGES`, core/token_pages.py)
send `Referrer-Policy: no-referrer`; everything else `strict-origin-when-cross-origin`. HSTS is
sent when cookies are Secure (browsers ignore it over plain HTTP).
"""

from collections.abc import Mapping
from typing import Any

from secure import (
    ContentSecurityPolicy,
    ReferrerPolicy,
    Secure,
    StrictTransportSecurity,
    XContentTypeOptions,
    XFrameOptions,
)

from backend.core.token_pages import TOKEN_PAGES

NO_REFERRER_PREFIXES = ("/auth", *TOKEN_PAGES)


def _headers(referrer: ReferrerPolicy, hsts: bool) -> list[tuple[bytes, bytes]]:
    csp = (
        ContentSecurityPolicy()
        .default_src("'self'")
        .script_src("'self'")
        .style_src("'self'", "'unsafe-inline'")  # Swagger UI and React set inline styles
        .img_src("'self'", "data:")
        .object_src("'none'")
        .base_uri("'self'")
        .form_action("'self'")
        .frame_ancestors("'none'")
    )
    secure = Secure(
        csp=csp,
        xcto=XContentTypeOptions(),
        xfo=XFrameOptions().deny(),
        referrer=referrer,
        hsts=StrictTransportSecurity().max_age(31536000).include_subdomains() if hsts else None,
    )
    return [(name.lower().encode(), value.encode()) for name, value in secure.headers.items()]


class SecurityHeadersMiddleware:
    def __init__(self, app: Any, *, hsts: bool) -> None:
        self.app = app
        self.general = _headers(ReferrerPolicy().strict_origin_when_cross_origin(), hsts)
        self.private = _headers(ReferrerPolicy().no_referrer(), hsts)
        self.names = {name for name, _ in self.general + self.private}  # once, not per request

    async def __call__(self, scope: Mapping[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        extra = self.private if scope["path"].startswith(NO_REFERRER_PREFIXES) else self.general
        names = self.names  # both sets name the same headers

        async def send_with_headers(message: dict[str, Any]) -> None:
            if message["type"] == "http.response.start":
                kept = [(n, v) for n, v in message.get("headers", []) if n.lower() not in names]
                message["headers"] = kept + extra
            await send(message)

        await self.app(scope, receive, send_with_headers)
