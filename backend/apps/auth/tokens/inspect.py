"""`python -m backend.manage token inspect TOKEN`: why this app would accept or refuse a token.

It shows the token's header and claims and checks them the way `RealmJWTStrategy.decode` does —
the signature with the configured key ring (the algorithm pinned, the key picked by `kid`),
`aud`, `iss`, `exp` and `iat` with the app's leeway — plus Realm's rules and this app's own.
The session and user are not looked up: that needs the database. Nothing secret is printed:
keys are named by their `kid` and file name, secrets by their number.
"""

import base64
import binascii
import json
import math
import re
import time
import warnings
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Literal

import jwt

from backend.apps.auth.tokens.keys import HMAC_ALGORITHM, KeyRing, key_files, load_keyring
from backend.apps.auth.tokens.realm_jwt import LEEWAY_SECONDS, MAX_TOKEN_LENGTH, RealmJWTStrategy
from backend.config import ConfigError, Settings, secret_problem

_SEGMENT = re.compile(r"[A-Za-z0-9_-]*")
Status = Literal["PASS", "WARN", "FAIL"]


class NotAToken(ValueError):
    """The text is not a JWS compact serialization with a JSON header and payload."""


@dataclass(frozen=True)
class Check:
    status: Status
    name: str
    reason: str


@dataclass
class Inspection:
    header: dict[str, Any]
    claims: dict[str, Any]
    checks: list[Check] = field(default_factory=list)

    @property
    def accepted(self) -> bool:
        """Whether the app would accept the token, its session aside."""
        return not any(check.status == "FAIL" for check in self.checks)

    def add(self, status: Status, name: str, reason: str) -> None:
        self.checks.append(Check(status, name, reason))


def existing_keyring(settings: Settings) -> KeyRing:
    """The configured key ring, without generating a development key when there is none."""
    if settings.jwt_algorithm != HMAC_ALGORITHM and not key_files(settings.keys_dir):
        raise ConfigError(
            f"JWT_KEYS_DIR: no {settings.jwt_algorithm} private key in {settings.keys_dir}; "
            "create one with `make keys` (development makes one when the app starts)"
        )
    return load_keyring(settings)


def _segment(text: str, what: str) -> dict[str, Any]:
    if not _SEGMENT.fullmatch(text):
        raise NotAToken(f"the {what} is not base64url")
    try:
        value = json.loads(base64.urlsafe_b64decode(text + "=" * (-len(text) % 4)))
    except (binascii.Error, ValueError, RecursionError):
        raise NotAToken(f"the {what} is not base64url-encoded JSON") from None
    if not isinstance(value, dict):
        raise NotAToken(f"the {what} is not a JSON object")
    return value


def parse(token: str) -> tuple[str, dict[str, Any], dict[str, Any]]:
    """The token (surrounding blanks and a `Bearer ` prefix removed), its header and its claims."""
    token = token.strip()
    if token[:7].lower() == "bearer ":
        token = token[7:].strip()
    if not token:
        raise NotAToken("the token is empty")
    parts = token.split(".")
    if len(parts) != 3:
        raise NotAToken(
            f"a JWT has 3 parts separated by dots (header.payload.signature); this has {len(parts)}"
        )
    return token, _segment(parts[0], "header"), _segment(parts[1], "payload")


def shown(value: Any, limit: int = 80) -> str:
    """A value from the token, printable whatever it holds (JSON, ASCII, cut short)."""
    text = json.dumps(value, ensure_ascii=True)
    return text if len(text) <= limit else text[: limit - 3] + "..."


def is_time(value: Any) -> bool:
    """A NumericDate (RFC 7519): a number of seconds since 1970."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        return False
    return isinstance(value, int) or math.isfinite(value)


def utc(value: float) -> str:
    try:
        return datetime.fromtimestamp(value, UTC).strftime("%Y-%m-%d %H:%M:%S UTC")
    except (OverflowError, OSError, ValueError):
        return "a time out of the calendar's range"


def span(seconds: float) -> str:
    seconds = abs(seconds)
    if seconds < 60:
        return f"{int(seconds)} s"
    if seconds < 3600:
        return f"{int(seconds // 60)} min"
    if seconds < 2 * 86400:
        return f"{int(seconds // 3600)} h"
    return f"{int(seconds // 86400)} days"


def expiry(exp: float, now: float) -> str:
    return f"expires in {span(exp - now)}" if exp > now else f"expired {span(now - exp)} ago"


def issued(iat: float, now: float) -> str:
    return f"issued {span(now - iat)} ago" if iat <= now else f"issued {span(iat - now)} in the future"


# --- the checks -----------------------------------------------------------------------------------
def _check_signature(result: Inspection, token: str, ring: KeyRing | None, ring_problem: str) -> None:
    header = result.header
    if ring is None:
        result.add("FAIL", "signature", f"cannot load the configured keys: {ring_problem}")
        return
    alg = header.get("alg")
    candidates = ring.keys_for(header)
    if not candidates:
        kid = header.get("kid")
        if "alg" not in header:
            reason = "the header names no alg"
        elif alg != ring.algorithm:
            reason = (
                f"the header's alg {shown(alg)} is not the configured {ring.algorithm} (JWT_ALGORITHM): "
                "refused before any key is tried (RFC 8725 section 3.1 pins the algorithm)"
            )
        elif kid is None:
            reason = f"the header names no kid, and with {ring.algorithm} the key is picked by kid"
        else:
            reason = (
                f"unknown kid {shown(kid)}: none of the {len(ring.keys)} configured keys has it "
                "(signed elsewhere, or by a key since removed)"
            )
        result.add("FAIL", "signature", reason)
        return
    for key in candidates:
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")  # short development secrets: the secret check says so
                jwt.PyJWS().decode_complete(token, key.verifying, algorithms=[ring.algorithm])
        except jwt.InvalidSignatureError:
            continue
        except jwt.PyJWTError as exc:
            result.add("FAIL", "signature", f"cannot be verified: {exc}")
            return
        if key is ring.signer:
            role = "signing"
        elif not key.signs and key.algorithm != HMAC_ALGORITHM:
            role = "a next key, not signing yet"
        else:
            role = "verifying only"
        result.add("PASS", "signature", f"{ring.algorithm}, verified by kid {key.kid} ({key.name}; {role})")
        return
    if len(candidates) == 1:
        only = candidates[0]
        reason = f"bad signature: kid {only.kid} ({only.name}) did not sign this token"
    else:
        reason = f"bad signature: none of the {len(candidates)} configured keys signed this token"
    result.add("FAIL", "signature", reason)


def _check_registered_claims(result: Inspection, settings: Settings, now: float) -> None:
    claims = result.claims
    aud = claims.get("aud")
    if "aud" not in claims:
        result.add("FAIL", "aud", "missing: Realm and this app require the audience")
    elif not isinstance(aud, str):
        result.add("FAIL", "aud", f"{shown(aud)} is not a string, as Realm requires (and this app, strictly)")
    elif aud != settings.app_id:
        result.add("FAIL", "aud", f"{shown(aud)} is not this app's {shown(settings.app_id)} (REALM_APP_ID)")
    else:
        result.add("PASS", "aud", f"{shown(aud)}: this app's id (REALM_APP_ID), a string")

    iss = claims.get("iss")
    if "iss" not in claims:
        result.add("FAIL", "iss", "missing: this app requires the issuer")
    elif iss != settings.issuer:
        result.add("FAIL", "iss", f"{shown(iss)} is not this app's issuer {shown(settings.issuer)}")
    else:
        result.add("PASS", "iss", f"{shown(iss)}: this app's issuer")

    exp = claims.get("exp")
    if "exp" not in claims:
        result.add("FAIL", "exp", "missing: Realm and this app require an expiry")
    elif not is_time(exp):
        result.add("FAIL", "exp", f"{shown(exp)} is not a NumericDate (RFC 7519: seconds since 1970)")
    elif exp <= now - LEEWAY_SECONDS:
        result.add("FAIL", "exp", f"{expiry(exp, now)} (at {utc(exp)}; leeway {LEEWAY_SECONDS} s)")
    elif exp <= now:
        result.add("WARN", "exp", f"{expiry(exp, now)}, still within the app's {LEEWAY_SECONDS} s leeway")
    else:
        result.add("PASS", "exp", f"{expiry(exp, now)} (at {utc(exp)})")

    iat = claims.get("iat")
    if "iat" not in claims:
        result.add("FAIL", "iat", "missing: this app requires the issue time")
    elif not is_time(iat):
        result.add("FAIL", "iat", f"{shown(iat)} is not a NumericDate (RFC 7519: seconds since 1970)")
    elif iat > now + LEEWAY_SECONDS:
        result.add("FAIL", "iat", f"{issued(iat, now)}, beyond the app's {LEEWAY_SECONDS} s leeway")
    elif iat > now:
        result.add("WARN", "iat", f"{issued(iat, now)}, within the app's {LEEWAY_SECONDS} s leeway")
    else:
        result.add("PASS", "iat", f"{issued(iat, now)}, not in the future")

    if is_time(exp) and is_time(iat):
        lifetime, configured = exp - iat, settings.jwt_lifetime_seconds
        if lifetime > configured:
            result.add(
                "WARN",
                "lifetime",
                f"{span(lifetime)} from iat to exp, longer than JWT_LIFETIME_SECONDS ({configured} s): "
                "not issued with these settings",
            )
        else:
            result.add(
                "PASS", "lifetime", f"{span(lifetime)} from iat to exp (JWT_LIFETIME_SECONDS {configured} s)"
            )

    if "nbf" in claims:
        nbf = claims["nbf"]
        if not is_time(nbf):
            result.add("FAIL", "nbf", f"{shown(nbf)} is not a NumericDate (RFC 7519: seconds since 1970)")
        elif nbf > now + LEEWAY_SECONDS:
            result.add("FAIL", "nbf", f"not valid before {utc(nbf)}")
        else:
            result.add("PASS", "nbf", f"valid since {utc(nbf)}")


def _check_realm_rules(result: Inspection, settings: Settings, ring: KeyRing | None) -> None:
    sub = result.claims.get("sub")
    if "sub" not in result.claims:
        result.add("FAIL", "sub", "missing: Realm and this app require the user id")
    elif not isinstance(sub, str) or not sub:
        result.add("FAIL", "sub", f"{shown(sub)} is not a user id string")
    else:
        result.add("PASS", "sub", f"{shown(sub)}: present, a string")

    algorithm = ring.algorithm if ring else settings.jwt_algorithm
    kid = result.header.get("kid")
    if "kid" in result.header:
        if isinstance(kid, str) and kid:
            result.add("PASS", "kid", "present: verifiers that pick keys from a JWK set can find this one")
        else:
            result.add("FAIL", "kid", f"{shown(kid)} is not a key id string")
    elif algorithm != HMAC_ALGORITHM:
        result.add("FAIL", "kid", f"absent: with {algorithm} the verifying key is found by kid (JWKS)")
    elif ring is not None and not ring.kid_in_header:
        result.add(
            "WARN",
            "kid",
            "absent: fine with one HS256 secret (Realm's signing-key mode), "
            "but a verifier that picks keys from a JWK set needs one",
        )
    else:
        result.add(
            "WARN",
            "kid",
            "absent: accepted (every configured secret is tried), though with JWT_SECRET_KEYS "
            "this app names the signing secret in kid",
        )

    if algorithm == HMAC_ALGORITHM:
        secrets = settings.jwt_secrets
        problems = [
            f"secret {number} of {len(secrets)} {problem}"
            for number, secret in enumerate(secrets, 1)
            if (problem := secret_problem(secret))
        ]
        if problems:
            result.add(
                "WARN",
                "secret",
                "; ".join(problems) + ": Realm and production refuse it (`make secret` makes a valid one)",
            )
        else:
            result.add(
                "PASS",
                "secret",
                f"the {len(secrets)} configured HS256 secret(s) meet Realm's rule "
                "(32-512 characters of A-Z a-z 0-9 _ -)",
            )


def _check_app_rules(result: Inspection, token: str) -> None:
    sid = result.claims.get("sid")
    if "sid" not in result.claims:
        result.add("FAIL", "sid", "missing: this app ties every access token to a session")
    elif not isinstance(sid, str) or not sid:
        result.add("FAIL", "sid", f"{shown(sid)} is not a session id string")
    else:
        result.add("PASS", "sid", f"{shown(sid)}: the session it belongs to")

    if "jti" in result.claims:
        jti = result.claims["jti"]
        if isinstance(jti, str):
            result.add("PASS", "jti", "a string")
        else:
            result.add("FAIL", "jti", f"{shown(jti)} is not a string (the app's JWT library refuses it)")

    if len(token) > MAX_TOKEN_LENGTH:
        result.add("FAIL", "length", f"{len(token)} characters: over the app's limit of {MAX_TOKEN_LENGTH}")
    else:
        result.add("PASS", "length", f"{len(token)} characters (at most {MAX_TOKEN_LENGTH})")


def _check_as_the_app(result: Inspection, token: str, settings: Settings, ring: KeyRing | None) -> None:
    """The app's own verification, so the verdict cannot drift from what the app does."""
    if ring is None:
        return
    strategy = RealmJWTStrategy(
        keys=ring,
        app_id=settings.app_id,
        issuer=settings.issuer,
        lifetime_seconds=settings.jwt_lifetime_seconds,
    )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        accepted = strategy.decode(token) is not None
    if accepted:
        result.add("PASS", "app", "RealmJWTStrategy.decode accepts it")
    elif result.accepted:
        result.add(
            "FAIL", "app", "RealmJWTStrategy.decode refuses it, for a reason none of the checks above names"
        )
    else:
        result.add("FAIL", "app", "RealmJWTStrategy.decode refuses it (see the failures above)")


def inspect(
    token: str, settings: Settings, ring: KeyRing | None, ring_problem: str = "", now: float | None = None
) -> Inspection:
    """Check `token` against the settings and key ring (None when it cannot be loaded: `ring_problem`
    says why). NotAToken when the text is not a JWT at all."""
    now = time.time() if now is None else now
    token, header, claims = parse(token)
    result = Inspection(header, claims)
    _check_signature(result, token, ring, ring_problem)
    _check_registered_claims(result, settings, now)
    _check_realm_rules(result, settings, ring)
    _check_app_rules(result, token)
    _check_as_the_app(result, token, settings, ring)
    return result


def report(result: Inspection, now: float | None = None) -> str:
    now = time.time() if now is None else now
    lines = ["Header", json.dumps(result.header, indent=2, ensure_ascii=True), "", "Claims"]
    lines.append(json.dumps(result.claims, indent=2, ensure_ascii=True))
    for name, describe in (("iat", issued), ("exp", expiry)):
        value = result.claims.get(name)
        if is_time(value):
            lines.append(f"  {name}: {utc(value)} ({describe(value, now)})")
    lines += ["", "Checks"]
    lines += [f"  {check.status}  {check.name:<9}  {check.reason}" for check in result.checks]
    sid = result.claims.get("sid")
    session = f"session {shown(sid)}" if isinstance(sid, str) else "the session"
    lines += [
        "",
        f"Not checked: whether {session} is still live and its user active (that needs the database).",
    ]
    failures = sum(check.status == "FAIL" for check in result.checks)
    if result.accepted:
        lines.append("Verdict: the app would accept this token, if its session is live.")
    else:
        lines.append(f"Verdict: the app would refuse this token ({failures} failed check(s)).")
    return "\n".join(lines)
