"""The key commands (`make keys`, `keys list`) and the token inspector, run as the CLI runs them."""

import base64
import io
import json
import sys
import time
from pathlib import Path
from typing import Any

import jwt
import pytest

from backend.apps.auth.tokens.keys import load_keyring, secret_kid, write_new_key
from backend.config import Settings, load_settings
from backend.manage import main
from backend.tests.conftest import TEST_APP_ID, TEST_SECRET

ISSUER = "https://farm.test"
OLD_SECRET = "old-secret-0123456789-abcdefghijklmnopqrstuvwxyz"
FOREIGN_SECRET = "foreign-secret-0123456789-abcdefghijklmnopqrstu"
SECRET_MARKERS = ("PRIVATE KEY", "-----BEGIN", TEST_SECRET, OLD_SECRET)


@pytest.fixture
def env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Any:
    """Point the settings the commands read at a temporary data folder; returns a setter."""
    values = {
        "ENVIRONMENT": "development",
        "DATA_DIR": str(tmp_path / "data"),
        "REALM_APP_ID": TEST_APP_ID,
        "PUBLIC_URL": ISSUER,
        "JWT_SECRET_KEY": TEST_SECRET,
    }

    def set_env(**overrides: str | None) -> Settings:
        for name, value in {**values, **overrides}.items():
            if value is None:
                monkeypatch.delenv(name, raising=False)
            else:
                monkeypatch.setenv(name, value)
        return load_settings()

    set_env()
    return set_env


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    for marker in SECRET_MARKERS:
        assert marker not in out + err, f"the output shows secret material ({marker[:12]}...)"
    return code, out, err


def claims(settings: Settings, **changes: Any) -> dict[str, Any]:
    now = int(time.time())
    values = {
        "iss": settings.issuer,
        "aud": settings.app_id,
        "sub": "6650f0c2a1b2c3d4e5f60718",
        "iat": now,
        "exp": now + 900,
        "jti": "jti-1",
        "sid": "session-1",
        "user_data": {"email": "inspect@example.com"},
    }
    values.update(changes)
    return {name: value for name, value in values.items() if value is not None}


def b64(data: dict[str, Any]) -> str:
    return base64.urlsafe_b64encode(json.dumps(data).encode()).rstrip(b"=").decode()


def checks(out: str) -> dict[str, tuple[str, str]]:
    """The checks the report lists: name -> (status, reason)."""
    found = {}
    for line in out.split("\nChecks\n", 1)[1].splitlines():
        parts = line.split(maxsplit=2)
        if len(parts) == 3 and parts[0] in ("PASS", "WARN", "FAIL"):
            found[parts[1]] = (parts[0], parts[2])
    return found


# --- keys new / keys list -------------------------------------------------------------------------
@pytest.mark.parametrize("algorithm", ["ES256", "EdDSA"])
def test_keys_new_writes_a_private_file_that_signs(env: Any, capsys, algorithm: str) -> None:
    settings = env(JWT_ALGORITHM=algorithm)

    code, out, _ = run(capsys, "keys", "new")

    assert code == 0
    [path] = settings.keys_dir.glob("*.pem")
    assert path.stat().st_mode & 0o777 == 0o600
    ring = load_keyring(settings)
    assert ring.signer.name == path.name
    assert f"wrote {path} ({algorithm}, mode 0600)" in out
    assert f"kid:  {ring.signer.kid}" in out
    assert "role: signs" in out
    assert "next rotation step: `make keys NEXT=1`" in out


def test_keys_new_next_is_published_but_does_not_sign(env: Any, capsys) -> None:
    settings = env(JWT_ALGORITHM="ES256")
    current = write_new_key(settings.keys_dir, "ES256")

    code, out, _ = run(capsys, "keys", "new", "--next")

    assert code == 0
    [upcoming] = settings.keys_dir.glob("*.next.pem")
    assert upcoming.stat().st_mode & 0o777 == 0o600
    ring = load_keyring(settings)
    assert ring.signer.name == current.name
    [next_key] = [key for key in ring.keys if key.name == upcoming.name]
    assert not next_key.signs and next_key.jwk in ring.jwks()["keys"]
    assert f"kid:  {next_key.kid}" in out
    assert "role: next: published in the JWKS and verifying, not signing" in out
    assert f"mv {upcoming} {upcoming.with_name(upcoming.name.replace('.next.pem', '.pem'))}" in out


def test_keys_new_next_needs_a_key_that_signs(env: Any, capsys) -> None:
    settings = env(JWT_ALGORITHM="ES256")

    code, out, err = run(capsys, "keys", "new", "--next")

    assert code == 1 and out == ""
    assert "no key in" in err and "signs yet" in err
    assert not list(settings.keys_dir.glob("*.pem"))


def test_keys_new_refuses_hs256_and_points_at_secrets(env: Any, capsys) -> None:
    settings = env(JWT_ALGORITHM="HS256")

    code, out, err = run(capsys, "keys", "new")

    assert code == 1 and out == ""
    assert err.count("\n") == 1
    assert "`make secret`" in err and "JWT_SECRET_KEYS" in err
    assert not settings.keys_dir.exists()


def test_keys_new_algorithm_option_and_one_algorithm_per_folder(env: Any, capsys) -> None:
    settings = env(JWT_ALGORITHM="HS256")

    code, out, _ = run(capsys, "keys", "new", "--algorithm", "EdDSA")
    assert code == 0
    assert "set JWT_ALGORITHM=EdDSA (now HS256)" in out
    [path] = settings.keys_dir.glob("*-eddsa.pem")

    code, out, err = run(capsys, "keys", "new", "--algorithm", "ES256")
    assert code == 1 and out == ""
    assert f"{path} is not a P-256 EC private key" in err
    assert [path] == list(settings.keys_dir.glob("*.pem"))


def test_keys_list_shows_kids_and_roles_never_keys(env: Any, capsys) -> None:
    settings = env(JWT_ALGORITHM="ES256")
    old = write_new_key(settings.keys_dir, "ES256")
    new = write_new_key(settings.keys_dir, "ES256")
    upcoming = write_new_key(settings.keys_dir, "ES256", next_key=True)
    ring = load_keyring(settings)

    code, out, _ = run(capsys, "keys", "list")

    assert code == 0
    roles = {}
    for line in out.splitlines()[2:]:
        kid, algorithm, name, role = line.split(maxsplit=3)
        assert algorithm == "ES256"
        roles[name] = (kid, role)
    kids = {key.name: key.kid for key in ring.keys}
    assert roles == {
        old.name: (kids[old.name], "verifies only"),
        new.name: (kids[new.name], "signs"),
        upcoming.name: (kids[upcoming.name], "next"),
    }


def test_keys_list_names_hs256_secrets_by_number(env: Any, capsys) -> None:
    env(JWT_SECRET_KEY=None, JWT_SECRET_KEYS=f"{TEST_SECRET},{OLD_SECRET}")

    code, out, _ = run(capsys, "keys", "list")

    assert code == 0
    assert "JWT_ALGORITHM=HS256, 2 key(s) from JWT_SECRET_KEYS" in out
    rows = [line.split() for line in out.splitlines()[2:]]
    assert rows == [
        [secret_kid(TEST_SECRET), "HS256", "secret", "1", "of", "2", "signs"],
        [secret_kid(OLD_SECRET), "HS256", "secret", "2", "of", "2", "verifies", "only"],
    ]


def test_keys_list_does_not_make_a_key(env: Any, capsys) -> None:
    settings = env(JWT_ALGORITHM="RS256")

    code, out, err = run(capsys, "keys", "list")

    assert code == 1 and out == ""
    assert "no RS256 private key" in err and "`make keys`" in err
    assert not settings.keys_dir.exists()


# --- token inspect --------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("overrides", "kid_status"),
    [
        ({"JWT_ALGORITHM": "HS256"}, "WARN"),  # one secret: no kid, as Realm's tokens
        ({"JWT_SECRET_KEY": None, "JWT_SECRET_KEYS": f"{TEST_SECRET},{OLD_SECRET}"}, "PASS"),
        ({"JWT_ALGORITHM": "RS256"}, "PASS"),
    ],
    ids=["hs256", "hs256-rotation", "rs256"],
)
def test_a_token_of_ours_passes(env: Any, capsys, overrides: dict, kid_status: str) -> None:
    settings = env(**overrides)
    if settings.jwt_algorithm == "RS256":
        write_new_key(settings.keys_dir, "RS256")
    ring = load_keyring(settings)
    token = ring.sign(claims(settings))

    code, out, _ = run(capsys, "token", "inspect", token)

    assert code == 0, out
    found = checks(out)
    assert {name: status for name, (status, _) in found.items() if status != "PASS"} == (
        {"kid": "WARN"} if kid_status == "WARN" else {}
    )
    assert found["signature"][1].startswith(f"{settings.jwt_algorithm}, verified by kid {ring.signer.kid}")
    assert ring.signer.name in found["signature"][1]
    assert {"signature", "aud", "iss", "exp", "iat", "sub", "kid", "sid", "length", "app"} <= found.keys()
    assert ("secret" in found) == (settings.jwt_algorithm == "HS256")
    assert '"sid": "session-1"' in out  # the claims, as JSON
    assert "  exp: " in out and "UTC (expires in 14 min)" in out
    assert 'Not checked: whether session "session-1" is still live' in out
    assert "the app would accept this token" in out


def test_a_token_of_the_old_secret_passes_and_says_which(env: Any, capsys) -> None:
    old_settings = env(JWT_SECRET_KEY=None, JWT_SECRET_KEYS=f"{OLD_SECRET},{TEST_SECRET}")
    token = load_keyring(old_settings).sign(claims(old_settings))
    env(JWT_SECRET_KEY=None, JWT_SECRET_KEYS=f"{TEST_SECRET},{OLD_SECRET}")

    code, out, _ = run(capsys, "token", "inspect", token)

    assert code == 0, out
    reason = f"HS256, verified by kid {secret_kid(OLD_SECRET)} (secret 2 of 2; verifying only)"
    assert checks(out)["signature"] == ("PASS", reason)


def test_a_token_can_come_from_standard_input(env: Any, capsys, monkeypatch: pytest.MonkeyPatch) -> None:
    settings = env()
    token = load_keyring(settings).sign(claims(settings))
    monkeypatch.setattr(sys, "stdin", io.StringIO(f"Bearer {token}\n"))

    code, out, _ = run(capsys, "token", "inspect", "-")

    assert code == 0, out
    assert checks(out)["signature"][0] == "PASS"


@pytest.mark.parametrize(
    ("changes", "check", "reason"),
    [
        ({"exp": -3}, "exp", "within the app's 10 s leeway"),
        ({"exp": 2 * 3600}, "lifetime", "2 h from iat to exp, longer than JWT_LIFETIME_SECONDS (900 s)"),
    ],
    ids=["leeway", "lifetime"],
)
def test_what_the_app_accepts_but_looks_odd_is_a_warning(
    env: Any, capsys, changes: dict, check: str, reason: str
) -> None:
    settings = env()
    now = int(time.time())
    token = load_keyring(settings).sign(claims(settings, exp=now + changes["exp"]))

    code, out, _ = run(capsys, "token", "inspect", token)

    assert code == 0, out
    status, why = checks(out)[check]
    assert status == "WARN" and reason in why


def forged(settings: Settings, kind: str) -> str:
    ring = load_keyring(settings)
    if kind == "expired":
        return ring.sign(claims(settings, iat=int(time.time()) - 4 * 3600, exp=int(time.time()) - 3 * 3600))
    if kind == "audience":
        return ring.sign(claims(settings, aud="someone-else"))
    if kind == "audience-list":
        return ring.sign(claims(settings, aud=[settings.app_id]))
    if kind == "issuer":
        return ring.sign(claims(settings, iss="https://elsewhere.example"))
    if kind == "future":
        return ring.sign(claims(settings, iat=int(time.time()) + 3600 + 300))
    if kind == "no-sid":
        return ring.sign(claims(settings, sid=None))
    if kind == "foreign-kid":
        return jwt.encode(claims(settings), FOREIGN_SECRET, algorithm="HS256", headers={"kid": "k-123"})
    if kind == "bad-signature":
        return jwt.encode(claims(settings), FOREIGN_SECRET, algorithm="HS256")
    if kind == "alg-none":
        return f"{b64({'alg': 'none', 'typ': 'JWT'})}.{b64(claims(settings))}."
    if kind == "exp-not-a-number":
        return ring.sign(claims(settings, exp=True))
    if kind == "jti":
        return ring.sign(claims(settings, jti=5))
    if kind == "too-long":
        return ring.sign(claims(settings, user_data={"email": "x" * 9000}))
    raise AssertionError(kind)


@pytest.mark.parametrize(
    ("kind", "check", "reason"),
    [
        ("expired", "exp", "expired 3 h ago"),
        ("audience", "aud", f'"someone-else" is not this app\'s "{TEST_APP_ID}" (REALM_APP_ID)'),
        ("audience-list", "aud", "is not a string, as Realm requires"),
        ("issuer", "iss", f'"https://elsewhere.example" is not this app\'s issuer "{ISSUER}"'),
        ("future", "iat", "issued 1 h in the future, beyond the app's 10 s leeway"),
        ("no-sid", "sid", "missing: this app ties every access token to a session"),
        ("foreign-kid", "signature", 'unknown kid "k-123": none of the 1 configured keys has it'),
        ("bad-signature", "signature", "bad signature: kid"),
        ("alg-none", "signature", 'the header\'s alg "none" is not the configured HS256 (JWT_ALGORITHM)'),
        ("exp-not-a-number", "exp", "true is not a NumericDate"),
        ("jti", "jti", "5 is not a string"),
        ("too-long", "length", "over the app's limit of 8192"),
    ],
)
def test_a_token_the_app_refuses_says_why(env: Any, capsys, kind: str, check: str, reason: str) -> None:
    token = forged(env(), kind)

    code, out, _ = run(capsys, "token", "inspect", token)

    assert code == 1, out
    found = checks(out)
    assert found[check][0] == "FAIL"
    assert reason in found[check][1]
    assert found["app"] == ("FAIL", "RealmJWTStrategy.decode refuses it (see the failures above)")
    assert "the app would refuse this token" in out


def test_an_asymmetric_token_without_kid_fails(env: Any, capsys) -> None:
    settings = env(JWT_ALGORITHM="ES256")
    write_new_key(settings.keys_dir, "ES256")
    ring = load_keyring(settings)
    token = jwt.encode(claims(settings), ring.signer.signing, algorithm="ES256")

    code, out, _ = run(capsys, "token", "inspect", token)

    assert code == 1
    found = checks(out)
    assert found["kid"] == ("FAIL", "absent: with ES256 the verifying key is found by kid (JWKS)")
    assert found["signature"][0] == "FAIL" and "names no kid" in found["signature"][1]


def test_a_token_of_the_wrong_algorithm_is_refused_before_any_key(env: Any, capsys) -> None:
    settings = env(JWT_ALGORITHM="ES256")
    write_new_key(settings.keys_dir, "ES256")
    # HS256 "signed" with a published public key: the confusion RFC 8725 pins the algorithm against.
    token = jwt.encode(claims(settings), "a" * 64, algorithm="HS256", headers={"kid": "x"})

    code, out, _ = run(capsys, "token", "inspect", token)

    assert code == 1
    status, reason = checks(out)["signature"]
    assert status == "FAIL" and 'alg "HS256" is not the configured ES256' in reason


@pytest.mark.parametrize(
    "text",
    [
        "garbage",
        "",
        "a.b",
        "a.b.c.d.e",
        "!!!.e30.",
        f"{b64({'alg': 'HS256'})}.WzFd.",  # the payload is [1]
        "eyJhbGciOiJIUzI1NiJ9.bm90IGpzb24.sig",  # the payload is "not json"
    ],
)
def test_not_a_jwt_is_one_line_and_exit_2(env: Any, capsys, text: str) -> None:
    code, out, err = run(capsys, "token", "inspect", text)

    assert code == 2
    assert out == ""
    assert err.startswith("token inspect: not a JWT: ") and err.count("\n") == 1
