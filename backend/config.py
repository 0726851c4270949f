"""Settings: the one home of every configurable value, read from the environment.

`load_settings()` is what the running app uses: it validates the environment and, in
development only, fills the JWT secret from (or into) the git-ignored data folder.
"""

import base64
import logging
import math
import os
import re
import secrets
from pathlib import Path
from typing import Annotated, Any, Literal, NamedTuple
from urllib.parse import unquote

from pydantic import (
    AliasChoices,
    BaseModel,
    BeforeValidator,
    EmailStr,
    Field,
    SecretStr,
    ValidationError,
    model_validator,
)
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict, SettingsError

logger = logging.getLogger(__name__)

REPO_ROOT = Path(__file__).resolve().parent.parent

# Realm's rule for a Custom JWT signing key.
REALM_SECRET_PATTERN = re.compile(r"^[A-Za-z0-9_-]{32,512}$")
# Values that appear in docs and examples; a server signing with one of them is forgeable.
KNOWN_DEFAULT_SECRETS = frozenset(
    {
        "change-me-to-a-long-random-string-of-48-characters",
        "changeme-changeme-changeme-changeme",
        "your-secret-key-here-your-secret-key-here",
        "secret-secret-secret-secret-secret-secret",
    }
)
DEV_REALM_APP_ID = "farm-auth-dev"
DEFAULT_DATABASE = "farmstack"
# In TOTP_ENCRYPTION_KEYS: the keys derived from the JWT secrets, where TOTP secrets were
# encrypted before that setting existed (and still are while it is unset).
TOTP_JWT_DERIVED = "jwt-derived"
MAX_FAILED_LOGINS_PER_HOUR = 100  # per account, whatever the limit settings say

_PERIODS = {
    "s": 1,
    "second": 1,
    "m": 60,
    "min": 60,
    "minute": 60,
    "h": 3600,
    "hour": 3600,
    "d": 86400,
    "day": 86400,
}
_RATE = re.compile(r"^\s*(\d+)\s*/\s*(\d*)\s*([a-z]+?)s?\s*$")


class Rate(NamedTuple):
    """At most `count` events per fixed window of `seconds`."""

    count: int
    seconds: int

    def __str__(self) -> str:
        return f"{self.count}/{self.seconds}s"

    def most_per_hour(self) -> int:
        """The most events any 60-minute span can hold: it overlaps ceil(3600/w) + 1 windows."""
        return self.count * (math.ceil(3600 / self.seconds) + 1)


def _parse_rate(value: object) -> object:
    """'10/15minutes', '5/hour', '300/15m' -> Rate(count, seconds)."""
    if not isinstance(value, str):
        return value
    match = _RATE.match(value.lower())
    if not match or match.group(3) not in _PERIODS or int(match.group(1)) < 1:
        raise ValueError(f"{value!r} is not a rate like '10/15minutes' or '5/hour'")
    count, multiplier, unit = match.groups()
    return Rate(int(count), int(multiplier or 1) * _PERIODS[unit])


def _split_list(value: object) -> object:
    """Comma-separated in the environment: 'https://a.example, https://b.example'."""
    if isinstance(value, str):
        return [item.strip() for item in value.split(",") if item.strip()]
    return value


_ORIGIN = re.compile(r"https?://[A-Za-z0-9.-]+(:\d{1,5})?")
_PUBLIC_URL = re.compile(_ORIGIN.pattern + r"(/[A-Za-z0-9._~/-]*)?")

RateSetting = Annotated[Rate, NoDecode, BeforeValidator(_parse_rate)]
ListSetting = Annotated[list[str], NoDecode, BeforeValidator(_split_list)]


class OIDCProvider(BaseModel):
    """One generic OpenID Connect provider: OIDC_<NAME>_DISCOVERY_URL, _CLIENT_ID, _CLIENT_SECRET,
    _NAME (the button's label)."""

    discovery_url: str = Field(pattern=r"^https?://")
    client_id: str = Field(min_length=1)
    client_secret: SecretStr
    label: str = Field("", validation_alias=AliasChoices("label", "name"))


_PROVIDER_NAME = re.compile(r"[a-z][a-z0-9-]{0,31}")
RESERVED_PROVIDER_NAMES = {"google", "github"}


class ConfigError(Exception):
    """The environment does not describe a server that may start. The message is one line."""


class Settings(BaseSettings):
    model_config = SettingsConfigDict(case_sensitive=False, populate_by_name=True, extra="ignore")

    environment: Literal["development", "production"] = "production"
    host: str = "127.0.0.1"
    port: int = Field(8000, ge=1, le=65535)
    data_dir: Path = REPO_ROOT / "data"
    log_level: Annotated[Literal["debug", "info", "warning", "error"], BeforeValidator(str.lower)] = "info"

    mongodb_url: str | None = Field(None, validation_alias=AliasChoices("MONGODB_URL", "DB_URL"))
    # Unset: the database named in MONGODB_URL's path (mongodb://host/mydb), else "farmstack".
    mongodb_db: str | None = Field(None, validation_alias=AliasChoices("MONGODB_DB", "DB_NAME"), min_length=1)
    mongodb_timeout_ms: int = Field(5000, ge=100)
    embedded_db_bin: Path = REPO_ROOT / ".venv-db" / "bin" / "secantusd-py"
    frontend_dist: Path = REPO_ROOT / "frontend" / "dist"

    realm_app_id: str | None = None
    jwt_secret_key: SecretStr | None = None
    # Rotation: the first secret signs, all verify (at most three, as Realm allowed).
    jwt_secret_keys: Annotated[list[SecretStr], NoDecode, BeforeValidator(_split_list)] = []
    jwt_algorithm: Literal["HS256", "RS256", "ES256", "EdDSA"] = "HS256"
    jwt_keys_dir: Path | None = None  # RS256/ES256/EdDSA private keys (PEM); default DATA_DIR/jwt_keys
    jwt_issuer: str | None = None  # the tokens' `iss`; default PUBLIC_URL
    jwt_lifetime_seconds: int = Field(900, ge=5, le=86400)
    cookie_secure: bool = True
    # Fernet keys for the TOTP secrets kept in the database: the first encrypts, all decrypt;
    # `jwt-derived` stands for the keys derived from the JWT secrets (totp/service.py).
    totp_encryption_keys: Annotated[list[SecretStr], NoDecode, BeforeValidator(_split_list)] = []

    first_superuser_email: EmailStr | None = None
    first_superuser_password: SecretStr | None = None

    session_idle_timeout_seconds: int = Field(14 * 86400, ge=60)
    session_absolute_lifetime_seconds: int = Field(30 * 86400, ge=60)
    refresh_grace_seconds: int = Field(30, ge=0, le=60)
    # One-time sign-in links mailed on request (apps/auth/methods/sign_in_links/).
    sign_in_links_enabled: bool = True
    sign_in_link_lifetime_seconds: int = Field(900, ge=60, le=86400)
    # The name authenticator apps and passkey prompts show beside the account (methods/totp, passkeys).
    app_name: str = Field("FARM Auth", min_length=1, max_length=64, pattern=r"^[^:]+$")
    # Changing how an account signs in needs a sign-in or a confirmation this recent.
    confirmation_window_seconds: int = Field(300, ge=30, le=3600)
    # How long each account's security activity is kept (apps/auth/activity/; a TTL index).
    security_log_retention_days: int = Field(90, ge=1, le=3650)
    # Accounts whose address nobody ever proved are deleted this many days after they were made,
    # with a reminder before (apps/user/unverified.py); 0 keeps them.
    unverified_account_days: int = Field(30, ge=0, le=3650)

    cors_origins: ListSetting = []
    trusted_proxies: ListSetting = []

    public_url: str | None = None  # where people open the app; links in email start here
    require_verified_login: bool = False
    smtp_host: str | None = None
    smtp_port: int | None = Field(None, ge=1, le=65535)
    smtp_username: str | None = None
    smtp_password: SecretStr | None = None
    smtp_security: Literal["none", "starttls", "tls"] = "starttls"
    mail_from: str = "FARM Auth <no-reply@localhost>"
    # Mail waits in the mail_queue collection (core/mail/queue.py): attempts per message, the
    # first wait (doubled each time, with jitter, at most an hour), how long one send may take
    # (an instance's claim on a message lasts twice that), and how long a message is kept.
    mail_retry_attempts: int = Field(8, ge=1, le=20)
    mail_retry_delay_seconds: float = Field(2.0, ge=0, le=300)
    mail_send_timeout_seconds: float = Field(30.0, ge=1, le=300)
    mail_queue_retention_hours: int = Field(72, ge=1, le=720)

    # Tasks one account may keep: bounds what one user can make the database scan.
    max_tasks_per_user: int = Field(10_000, ge=1, le=1_000_000)
    # Hostile-input bounds (OWASP ASVS V13 / V11: resource limits per request).
    max_body_bytes: int = Field(1024 * 1024, ge=1024, le=1024**3)
    # Password hashing: argon2id parameters, and how many hashes run at once / may wait.
    # Memory in use is at most hashing_concurrency x argon2_memory_kib.
    argon2_memory_kib: int = Field(65536, ge=8192, le=4 * 1024 * 1024)
    argon2_time_cost: int = Field(3, ge=1, le=20)
    argon2_parallelism: int = Field(4, ge=1, le=16)
    hashing_concurrency: int = Field(1, ge=1, le=64)
    hashing_queue: int = Field(32, ge=0, le=10_000)
    # SIGTERM: stop accepting, let requests in flight finish for this long, then exit.
    shutdown_grace_seconds: int = Field(20, ge=0, le=600)

    rate_limit_enabled: bool = True
    rate_limit_login_account: RateSetting = Rate(10, 900)
    rate_limit_login_ip: RateSetting = Rate(50, 900)
    rate_limit_account: RateSetting = Rate(5, 3600)
    rate_limit_ip: RateSetting = Rate(30, 3600)
    rate_limit_refresh_account: RateSetting = Rate(60, 900)
    rate_limit_refresh_ip: RateSetting = Rate(300, 900)
    rate_limit_password_check_ip: RateSetting = Rate(120, 60)

    # Sign-in with other providers (OAuth 2 / OpenID Connect); nothing set, nothing offered.
    oauth_google_client_id: str | None = None
    oauth_google_client_secret: SecretStr | None = None
    # Google is an OpenID provider: its discovery document (set another one only to test).
    oauth_google_discovery_url: str = "https://accounts.google.com/.well-known/openid-configuration"
    oauth_github_client_id: str | None = None
    oauth_github_client_secret: SecretStr | None = None
    oidc_providers: ListSetting = []
    # Filled from OIDC_<NAME>_* for each name in OIDC_PROVIDERS (tests may pass it directly).
    oidc: dict[str, OIDCProvider] = {}

    @property
    def is_development(self) -> bool:
        return self.environment == "development"

    @model_validator(mode="after")
    def _database_name(self) -> "Settings":
        # PyMongo's convention (get_default_database): the path of the URL names the database.
        if self.mongodb_db is None:
            self.mongodb_db = _database_in_url(self.mongodb_url) or DEFAULT_DATABASE
        return self

    @model_validator(mode="after")
    def _public_url_is_an_origin(self) -> "Settings":
        if self.public_url and not _PUBLIC_URL.fullmatch(self.public_url.rstrip("/")):
            raise ValueError(f"PUBLIC_URL: {self.public_url!r} is not a URL like https://app.example.com")
        return self

    @model_validator(mode="after")
    def _cors_origins_are_explicit(self) -> "Settings":
        # With credentials allowed, a wildcard would let any site act as the logged-in user.
        for origin in self.cors_origins:
            if not _ORIGIN.fullmatch(origin):
                raise ValueError(f"CORS_ORIGINS: {origin!r} is not an origin like https://app.example.com")
        return self

    @model_validator(mode="after")
    def _login_limit_is_bounded(self) -> "Settings":
        if self.rate_limit_login_account.most_per_hour() > MAX_FAILED_LOGINS_PER_HOUR:
            raise ValueError(
                f"RATE_LIMIT_LOGIN_ACCOUNT would allow {self.rate_limit_login_account.most_per_hour()} "
                f"failed logins per account per hour; at most {MAX_FAILED_LOGINS_PER_HOUR} are allowed"
            )
        return self

    @model_validator(mode="before")
    @classmethod
    def _oidc_providers_from_environment(cls, data: Any) -> Any:
        if not isinstance(data, dict):
            return data
        names = data.get("oidc_providers", data.get("OIDC_PROVIDERS")) or os.environ.get("OIDC_PROVIDERS", "")
        names = _split_list(names) if isinstance(names, str) else names
        given = dict(data.get("oidc") or {})
        for name in names:
            if name in given:
                continue
            prefix = f"OIDC_{name.upper().replace('-', '_')}_"
            found = {
                key.removeprefix(prefix).lower(): value
                for key, value in os.environ.items()
                if key.upper().startswith(prefix)
            }
            given[name] = found
        return {**data, "oidc": given} if given else data

    @model_validator(mode="after")
    def _oidc_providers_are_complete(self) -> "Settings":
        for name in self.oidc_providers:
            if not _PROVIDER_NAME.fullmatch(name) or name in RESERVED_PROVIDER_NAMES:
                raise ValueError(
                    f"OIDC_PROVIDERS: {name!r} must be lower-case letters, digits and '-' "
                    "(and not google or github, which have settings of their own)"
                )
            if name not in self.oidc:
                raise ValueError(f"OIDC_PROVIDERS names {name!r} but OIDC_{name.upper()}_* are not set")
        for name, value in (("GOOGLE", self.oauth_google_client_id), ("GITHUB", self.oauth_github_client_id)):
            secret = getattr(self, f"oauth_{name.lower()}_client_secret")
            if bool(value) != bool(secret):
                raise ValueError(f"OAUTH_{name}_CLIENT_ID and OAUTH_{name}_CLIENT_SECRET go together")
        return self

    @model_validator(mode="after")
    def _one_form_of_secret(self) -> "Settings":
        if self.jwt_secret_keys and self.jwt_secret_key is not None:
            raise ValueError("set JWT_SECRET_KEYS (rotation) or JWT_SECRET_KEY (one secret), not both")
        if len(self.jwt_secret_keys) > 3:
            raise ValueError("JWT_SECRET_KEYS takes at most three secrets: the new one, then the old ones")
        if len({s.get_secret_value() for s in self.jwt_secret_keys}) < len(self.jwt_secret_keys):
            raise ValueError("JWT_SECRET_KEYS lists the same secret twice")
        return self

    @model_validator(mode="after")
    def _totp_keys_are_fernet_keys(self) -> "Settings":
        values = [key.get_secret_value() for key in self.totp_encryption_keys]
        for number, value in enumerate(values, 1):
            if value != TOTP_JWT_DERIVED and not is_fernet_key(value):
                raise ValueError(
                    f"TOTP_ENCRYPTION_KEYS: key {number} is not a Fernet key (32 random bytes in URL-safe "
                    f"base64, 44 characters) nor {TOTP_JWT_DERIVED}; generate one with `make totp-key`"
                )
        if len(set(values)) < len(values):
            raise ValueError("TOTP_ENCRYPTION_KEYS lists the same key twice")
        return self

    @model_validator(mode="after")
    def _production_is_safe(self) -> "Settings":
        if self.is_development:
            return self
        if self.jwt_secret_keys:
            for number, value in enumerate(self.jwt_secret_keys, 1):
                if problem := secret_problem(value.get_secret_value()):
                    raise ValueError(
                        f"JWT_SECRET_KEYS: secret {number} {problem}; generate one with `make secret`"
                    )
        else:
            secret = self.jwt_secret_key.get_secret_value() if self.jwt_secret_key else ""
            if problem := secret_problem(secret):
                raise ValueError(f"JWT_SECRET_KEY {problem}; generate one with `make secret`")
        if not self.realm_app_id:
            raise ValueError("REALM_APP_ID is required in production")
        if not self.public_url:
            raise ValueError("PUBLIC_URL is required in production: links in account email start with it")
        return self

    @property
    def base_url(self) -> str:
        """PUBLIC_URL without a trailing slash. Unset (development), `http://HOST:PORT`, with
        `localhost` for a loopback HOST: passkeys need a host name, browsers refuse IP addresses."""
        if self.public_url:
            return self.public_url.rstrip("/")
        host = "localhost" if self.host in ("127.0.0.1", "::1") else self.host
        return f"http://{host}:{self.port}"

    @property
    def smtp_port_or_default(self) -> int:
        return self.smtp_port or {"none": 25, "starttls": 587, "tls": 465}[self.smtp_security]

    @property
    def jwt_secrets(self) -> list[str]:
        """The HS256 secrets, the signing one first; they are also the app's secret material."""
        if self.jwt_secret_keys:
            return [s.get_secret_value() for s in self.jwt_secret_keys]
        assert self.jwt_secret_key is not None, "use load_settings() or pass jwt_secret_key"
        return [self.jwt_secret_key.get_secret_value()]

    @property
    def jwt_secret(self) -> str:
        """The current secret: what new tokens, links and proofs are made with."""
        return self.jwt_secrets[0]

    @property
    def keys_dir(self) -> Path:
        return self.jwt_keys_dir or self.data_dir / "jwt_keys"

    @property
    def issuer(self) -> str:
        return (self.jwt_issuer or self.base_url).rstrip("/")

    @property
    def app_id(self) -> str:
        return self.realm_app_id or DEV_REALM_APP_ID


def _database_in_url(url: str | None) -> str | None:
    """The database in a connection string's path: mongodb[+srv]://user:pw@hosts/DB?options.

    Read by hand: PyMongo's parser resolves mongodb+srv hosts through DNS, which settings must not.
    """
    if not url or "://" not in url:
        return None
    after_hosts = url.split("://", 1)[1].split("?", 1)[0].rsplit("@", 1)[-1]
    return unquote(after_hosts.partition("/")[2]) or None


def is_fernet_key(value: str) -> bool:
    """Whether `value` is what `Fernet.generate_key()` makes: 32 bytes, URL-safe base64."""
    if len(value) != 44 or not re.fullmatch(r"[A-Za-z0-9_-]{43}=", value):
        return False
    return len(base64.urlsafe_b64decode(value)) == 32


def secret_problem(secret: str) -> str | None:
    """Why `secret` may not sign production tokens, or None when it may."""
    if not secret:
        return "is missing"
    if secret in KNOWN_DEFAULT_SECRETS:
        return "is a published example value"
    if not REALM_SECRET_PATTERN.fullmatch(secret):
        return "must be 32-512 characters of A-Z a-z 0-9 _ - (Realm's rule)"
    if len(set(secret)) < 10:
        return "has too little variety to be random"
    return None


def _development_secret(data_dir: Path) -> str:
    """A per-checkout secret kept in the data folder, so restarts keep everyone logged in."""
    path = data_dir / "jwt_secret"
    if not path.exists():
        data_dir.mkdir(parents=True, exist_ok=True)
        draft = path.with_name(f"jwt_secret.{os.getpid()}.tmp")
        draft.write_text(secrets.token_urlsafe(48))
        draft.chmod(0o600)
        try:  # link() publishes the whole file or fails: concurrent workers agree on one secret
            os.link(draft, path)
            logger.warning("JWT_SECRET_KEY is not set: generated a development secret in %s", path)
        except FileExistsError:
            pass
        finally:
            draft.unlink()
    return path.read_text().strip()


def load_settings(**overrides: object) -> Settings:
    """Read and validate the environment; raise ConfigError with a one-line reason."""
    try:
        settings = Settings(**overrides)  # type: ignore[arg-type]
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first["loc"]).upper()
        message = first["msg"].removeprefix("Value error, ")
        raise ConfigError(f"{where + ': ' if where else ''}{message}") from None
    except SettingsError as exc:
        raise ConfigError(str(exc)) from None
    if settings.jwt_secret_key is None and not settings.jwt_secret_keys:
        settings.jwt_secret_key = SecretStr(_development_secret(settings.data_dir))
    return settings


def load_settings_or_exit() -> Settings:
    """For entry points: a configuration problem ends the process with one clear line."""
    try:
        return load_settings()
    except ConfigError as exc:
        raise SystemExit(f"FARM Auth cannot start: {exc}") from None
