"""A real OpenID Connect provider for the tests: tools/oidc-provider/server.mjs, panva's certified
`oidc-provider` run by Node, on a free port with an accounts file of the test session's own.

`oidc_provider` (session scope) is that provider, registered in conftest.py. Its `authorize()`
plays the person at the provider's login and consent pages (the same forms a browser shows,
found by their labels), without a browser:

    url = f"{discovery['authorization_endpoint']}?{urlencode(params)}"  # the app builds this
    redirect = await oidc_provider.authorize(url, email=alice.email, password=alice.password)
    # `redirect` is where the provider sends the browser: redirect_uri?code=...&state=...&iss=...
    # (or ?error=access_denied&state=... with consent=False)

Each `authorize()` call is a new browser (its own cookies), so there is no single sign-on
between calls. `add_account()` adds a person while the provider runs (it reads the file at each
sign-in). `run_oidc_provider()` starts another provider with other redirect URIs or accounts.

Node and the package must be installed: `make test-backend` runs
`npm ci --prefix tools/oidc-provider`.
"""

import contextlib
import json
import os
import shutil
import signal
import subprocess
import time
import uuid
from collections.abc import Iterable, Iterator
from dataclasses import asdict, dataclass, field
from html.parser import HTMLParser
from pathlib import Path
from typing import Any
from urllib.parse import urljoin, urlsplit

import httpx
import pytest

from backend.core.embedded_db import free_port

REPO = Path(__file__).resolve().parents[2]
TOOL_DIR = REPO / "tools" / "oidc-provider"
SERVER = TOOL_DIR / "server.mjs"
DEFAULT_ACCOUNTS_FILE = TOOL_DIR / "accounts.json"
INSTALL_HINT = "run `make test-backend` (or `npm ci --prefix tools/oidc-provider --no-fund --no-audit`) first"

CLIENT_ID = "farm-auth-test"
CLIENT_SECRET = "farm-auth-test-client-secret"
# The in-process app: links use https://farm.test (public_url), requests go to https://test.
APP_ORIGINS = ("https://farm.test", "https://test")
PROVIDER_NAMES = ("corp", "google", "github")
HOST = "127.0.0.1"
READY_SECONDS = 20.0
STOP_SECONDS = 10.0
MAX_STEPS = 12  # redirects and form posts within one authorize()


def redirect_uri(name: str = "corp", origin: str = "https://farm.test") -> str:
    """The app's callback for the provider called `name`, as registered with the test provider."""
    return f"{origin}/auth/oauth/{name}/callback"


REDIRECT_URIS = tuple(redirect_uri(name, origin) for origin in APP_ORIGINS for name in PROVIDER_NAMES)


@dataclass(frozen=True)
class Account:
    """A person at the provider; the file's format (the password is plain text: dev-only)."""

    sub: str
    email: str
    password: str
    email_verified: bool = True
    name: str | None = None

    def as_json(self) -> dict[str, Any]:
        return {key: value for key, value in asdict(self).items() if value is not None}


class LoginFailed(AssertionError):
    """The provider's login form refused the email and password (it showed the form again)."""


class AuthorizeError(AssertionError):
    """The provider did not send the browser back to the client: an error page or an odd step."""


# --- the provider's pages, read as a browser would -------------------------------------------------
@dataclass
class Form:
    action: str
    method: str
    fields: dict[str, str] = field(default_factory=dict)  # name -> value, as submitted
    ids: dict[str, str] = field(default_factory=dict)  # element id -> field name
    buttons: list[str] = field(default_factory=list)


class Page(HTMLParser):
    """The forms of a page, its labels (`for` id -> text) and its alerts (role="alert")."""

    def __init__(self, html: str, url: str) -> None:
        super().__init__(convert_charrefs=True)
        self.url = url
        self.forms: list[Form] = []
        self.labels: dict[str, str] = {}
        self.alerts: list[str] = []
        self._form: Form | None = None
        self._text: tuple[str, str, list[str]] | None = None  # (tag, key, pieces) being read
        self.feed(html)
        self.close()

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        attr = {key: value or "" for key, value in attrs}
        if tag == "form":
            self._form = Form(urljoin(self.url, attr.get("action", "")), attr.get("method", "get").upper())
            self.forms.append(self._form)
        elif tag == "input" and self._form is not None and attr.get("name"):
            self._form.fields[attr["name"]] = attr.get("value", "")
            if attr.get("id"):
                self._form.ids[attr["id"]] = attr["name"]
        elif tag == "label":
            self._text = ("label", attr.get("for", ""), [])
        elif tag == "button":
            self._text = ("button", "", [])
        elif attr.get("role") == "alert":
            self._text = (tag, "alert", [])

    def handle_data(self, data: str) -> None:
        if self._text is not None:
            self._text[2].append(data)

    def handle_endtag(self, tag: str) -> None:
        if tag == "form":
            self._form = None
        if self._text is None or self._text[0] != tag:
            return
        _, key, pieces = self._text
        text = " ".join("".join(pieces).split())
        self._text = None
        if tag == "label":
            self.labels[key] = text
        elif tag == "button" and self._form is not None:
            self._form.buttons.append(text)
        elif key == "alert":
            self.alerts.append(text)

    def form_with_button(self, text: str) -> Form | None:
        return next((form for form in self.forms if text in form.buttons), None)

    def field_labelled(self, form: Form, label: str) -> str | None:
        """The name of `form`'s input whose <label> reads `label` (getByLabel, roughly)."""
        return next(
            (
                form.ids[for_id]
                for for_id, text in self.labels.items()
                if text == label and for_id in form.ids
            ),
            None,
        )


# --- the provider ----------------------------------------------------------------------------------
@dataclass
class OIDCProvider:
    """A running tools/oidc-provider with one registered client (`client_id`, `client_secret`)."""

    issuer: str
    client_id: str
    client_secret: str
    redirect_uris: tuple[str, ...]
    accounts_file: Path
    log: Path

    @property
    def discovery_url(self) -> str:
        return f"{self.issuer}/.well-known/openid-configuration"

    async def discovery(self) -> dict[str, Any]:
        async with httpx.AsyncClient(timeout=10) as http:
            response = await http.get(self.discovery_url)
        response.raise_for_status()
        return dict(response.json())

    # accounts
    def accounts(self) -> list[Account]:
        known = set(Account.__dataclass_fields__)
        return [
            Account(**{key: value for key, value in entry.items() if key in known})
            for entry in json.loads(self.accounts_file.read_text())
        ]

    def account(self, email: str) -> Account:
        found = [account for account in self.accounts() if account.email.lower() == email.lower()]
        if not found:
            raise KeyError(f"no account {email} at the test provider")
        return found[0]

    def add_account(
        self,
        email: str | None = None,
        *,
        password: str | None = None,
        email_verified: bool = True,
        name: str | None = "Test Person",
        sub: str | None = None,
    ) -> Account:
        """A new person at the provider (unique email and sub unless given), usable at once."""
        tag = uuid.uuid4().hex[:10]
        account = Account(
            sub=sub or f"sub-{tag}",
            email=email or f"idp-{tag}@example.com",
            password=password or f"idp-password-{tag}",
            email_verified=email_verified,
            name=name,
        )
        entries = [entry.as_json() for entry in self.accounts()]
        write_accounts(self.accounts_file, [*entries, account.as_json()])
        return account

    # the person at the provider's pages
    async def authorize(
        self, authorization_url: str, *, email: str, password: str, consent: bool = True
    ) -> str:
        """Open `authorization_url` in a fresh "browser", sign in with `email` and `password`, then
        allow (`consent=True`) or deny the consent page. Returns the URL the provider finally
        redirects to, outside itself: the client's redirect_uri with `code`, `state` and `iss`,
        or with `error` (access_denied after a denial; invalid_request for a request without PKCE,
        in which case no page is shown). Raises LoginFailed if the login form refuses the password,
        AuthorizeError if the provider shows an error page instead (a redirect_uri it does not
        know, say)."""
        if not self.is_own(authorization_url):
            raise ValueError(f"{authorization_url} is not at {self.issuer}")
        signed_in = False
        async with httpx.AsyncClient(follow_redirects=False, timeout=10) as browser:
            request = browser.build_request("GET", authorization_url)
            for _ in range(MAX_STEPS):
                response = await browser.send(request)
                if response.is_redirect:
                    target = urljoin(str(response.url), response.headers["location"])
                    if not self.is_own(target):
                        return target
                    request = browser.build_request("GET", target)
                    continue
                page = Page(response.text, str(response.url))
                if response.status_code not in (200, 401):
                    raise AuthorizeError(
                        f"{response.status_code} at {response.url}: {page.alerts or response.text}"
                    )
                if login := page.form_with_button("Sign in"):
                    if signed_in:
                        raise LoginFailed(f"{email}: {' '.join(page.alerts) or 'the login form came back'}")
                    email_field = page.field_labelled(login, "Email")
                    password_field = page.field_labelled(login, "Password")
                    if not (email_field and password_field):
                        raise AuthorizeError(f"no Email and Password fields in the login form: {page.labels}")
                    data = {**login.fields, email_field: email, password_field: password}
                    request = browser.build_request(login.method, login.action, data=data)
                    signed_in = True
                elif (allow := page.form_with_button("Allow")) and (deny := page.form_with_button("Deny")):
                    chosen = allow if consent else deny
                    request = browser.build_request(chosen.method, chosen.action, data=chosen.fields)
                else:
                    raise AuthorizeError(f"an unexpected page at {response.url}: {response.text[:500]}")
        raise AuthorizeError(f"no redirect back to the client after {MAX_STEPS} steps")

    def is_own(self, url: str) -> bool:
        mine, other = urlsplit(self.issuer), urlsplit(url)
        return (mine.scheme, mine.netloc) == (other.scheme, other.netloc)

    def log_text(self) -> str:
        return self.log.read_text(errors="replace") if self.log.exists() else ""


def write_accounts(path: Path, entries: Iterable[dict[str, Any]]) -> None:
    """Replace the file in one step: the provider may be reading it."""
    partial = path.with_suffix(f".{uuid.uuid4().hex[:6]}.tmp")
    partial.write_text(json.dumps(list(entries), indent=2))
    partial.replace(path)


def _die_with_parent() -> None:  # pragma: no cover - runs in the child, between fork and exec
    with contextlib.suppress(Exception):
        import ctypes

        ctypes.CDLL("libc.so.6", use_errno=True).prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG


@contextlib.contextmanager
def run_oidc_provider(
    directory: Path,
    *,
    redirect_uris: Iterable[str] = REDIRECT_URIS,
    accounts: Iterable[Account] | None = None,
    client_id: str = CLIENT_ID,
    client_secret: str = CLIENT_SECRET,
) -> Iterator[OIDCProvider]:
    """Start tools/oidc-provider/server.mjs on a free port, its accounts file in `directory`
    (by default the tool's own accounts: alice, bob (email not verified), carol), and stop it."""
    node = shutil.which("node")
    if node is None:
        pytest.fail(f"Node.js is not installed: the OpenID provider for the tests needs it; {INSTALL_HINT}")
    if not (TOOL_DIR / "node_modules" / "oidc-provider" / "package.json").is_file():
        pytest.fail(f"tools/oidc-provider/node_modules is missing: {INSTALL_HINT}")

    directory.mkdir(parents=True, exist_ok=True)
    accounts_file = directory / "accounts.json"
    if accounts is None:
        write_accounts(accounts_file, json.loads(DEFAULT_ACCOUNTS_FILE.read_text()))
    else:
        write_accounts(accounts_file, [account.as_json() for account in accounts])
    port = free_port(HOST)
    provider = OIDCProvider(
        issuer=f"http://{HOST}:{port}",
        client_id=client_id,
        client_secret=client_secret,
        redirect_uris=tuple(redirect_uris),
        accounts_file=accounts_file,
        log=directory / "oidc-provider.log",
    )
    env = {key: value for key, value in os.environ.items() if not key.startswith("IDP_")}
    env |= {
        "IDP_PORT": str(port),
        "IDP_HOST": HOST,
        "IDP_ISSUER": provider.issuer,
        "IDP_CLIENT_ID": client_id,
        "IDP_CLIENT_SECRET": client_secret,
        "IDP_REDIRECT_URIS": ",".join(provider.redirect_uris),
        "IDP_ACCOUNTS": str(accounts_file),
    }
    with open(provider.log, "ab") as log:
        process = subprocess.Popen(
            [node, str(SERVER)],
            cwd=REPO,
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
            preexec_fn=_die_with_parent,
        )
    try:
        _wait_until_ready(provider, process)
        yield provider
    finally:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(STOP_SECONDS)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def _wait_until_ready(provider: OIDCProvider, process: subprocess.Popen[bytes]) -> None:
    deadline = time.monotonic() + READY_SECONDS
    while time.monotonic() < deadline:
        if process.poll() is not None:
            pytest.fail(f"the OpenID provider exited ({process.returncode}) early:\n{provider.log_text()}")
        with contextlib.suppress(httpx.TransportError):
            if httpx.get(provider.discovery_url, timeout=1).status_code == 200:
                return
        time.sleep(0.05)
    process.kill()
    process.wait()
    pytest.fail(f"the OpenID provider did not answer within {READY_SECONDS:.0f}s:\n{provider.log_text()}")


@pytest.fixture(scope="session")
def oidc_provider(tmp_path_factory: pytest.TempPathFactory) -> Iterator[OIDCProvider]:
    """The session's OpenID provider: client `CLIENT_ID`/`CLIENT_SECRET`, redirect URIs
    `REDIRECT_URIS` (https://farm.test and https://test, /auth/oauth/{corp,google,github}/callback),
    the tool's accounts plus whatever tests add with `add_account()`."""
    with run_oidc_provider(tmp_path_factory.mktemp("oidc-provider")) as provider:
        yield provider
