"""The app's pages whose URL can carry a secret, and the one way to build a link to them.

A token in a URL leaks through `Referer` to whatever the page loads or links to. Every page in
`TOKEN_PAGES` is served with `Referrer-Policy: no-referrer` (security_headers.py), and every
link that carries a token — in a mail, in a redirect — is built by `token_link`, which refuses a
page that is not listed. So a new page with a token in its URL cannot ship without the header:
its first link raises. (OWASP ASVS 5.0 14.3: sensitive data is not sent in URLs to third
parties; RFC 6749 section 10.4-style leakage through Referer.)
"""

from urllib.parse import urlencode

TOKEN_PAGES = (
    "/verify",  # the verification link, and /verify/not-me ("this wasn't me")
    "/verify/not-me",
    "/reset-password",
    "/sign-in/link",
    "/sign-in/mfa",  # a provider sign-in's second step: ?ticket=...
    "/email-change/confirm",
    "/email-change/cancel",
)


def token_link(base_url: str, page: str, **query: str) -> str:
    """`base_url` + `page` + the query; `page` must be one of `TOKEN_PAGES`."""
    if page not in TOKEN_PAGES:
        raise ValueError(f"{page} carries a token in its URL: add it to TOKEN_PAGES (core/token_pages.py)")
    return f"{base_url}{page}?{urlencode(query)}"
