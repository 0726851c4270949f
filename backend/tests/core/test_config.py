"""Settings: production refuses unsafe values; development fills in what it can."""

import logging
import subprocess
import sys

import pytest
from cryptography.fernet import Fernet

from backend.apps.auth.methods.totp import service as totp_service
from backend.config import REPO_ROOT, ConfigError, load_settings
from backend.tests.conftest import TEST_SECRET

FERNET_KEY = Fernet.generate_key().decode()
GOOD = {
    "environment": "production",
    "realm_app_id": "application-0-abcde",
    "jwt_secret_key": TEST_SECRET,
    "public_url": "https://farm.example.com",
}


def test_production_with_good_values_starts() -> None:
    settings = load_settings(**GOOD)

    assert settings.jwt_secret == TEST_SECRET
    assert settings.app_id == "application-0-abcde"


@pytest.mark.parametrize(
    ("changes", "reason"),
    [
        ({"jwt_secret_key": None}, "JWT_SECRET_KEY is missing"),
        ({"jwt_secret_key": ""}, "JWT_SECRET_KEY is missing"),
        ({"jwt_secret_key": "change-me-to-a-long-random-string-of-48-characters"}, "published example"),
        ({"jwt_secret_key": "short-but-random-Xy7"}, "32-512 characters"),
        ({"jwt_secret_key": "a" * 513}, "32-512 characters"),
        ({"jwt_secret_key": "has spaces and = signs which Realm refuses!!"}, "32-512 characters"),
        ({"jwt_secret_key": "ab" * 20}, "too little variety"),
        ({"realm_app_id": None}, "REALM_APP_ID is required"),
        ({"public_url": None}, "PUBLIC_URL is required"),
        ({"public_url": "farm.example.com"}, "PUBLIC_URL"),
        ({"smtp_security": "ssl"}, "SMTP_SECURITY"),
        ({"port": "eighty"}, "PORT"),
        ({"totp_encryption_keys": "not-a-fernet-key"}, "TOTP_ENCRYPTION_KEYS: key 1 is not a Fernet key"),
        ({"totp_encryption_keys": f"jwt-derived,{'A' * 43}"}, "key 2 is not a Fernet key"),  # no '='
        ({"totp_encryption_keys": f"{FERNET_KEY},{FERNET_KEY}"}, "the same key twice"),
    ],
)
def test_production_refuses_unsafe_settings(changes: dict, reason: str) -> None:
    with pytest.raises(ConfigError) as refused:
        load_settings(**{**GOOD, **changes})

    assert reason in str(refused.value)
    assert "\n" not in str(refused.value)


def test_totp_keys_are_fernet_keys_or_the_jwt_derived_ones(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    monkeypatch.setenv("TOTP_ENCRYPTION_KEYS", f" {FERNET_KEY} , jwt-derived ")
    settings = load_settings(**GOOD)
    assert [key.get_secret_value() for key in settings.totp_encryption_keys] == [FERNET_KEY, "jwt-derived"]
    assert FERNET_KEY not in repr(settings)
    # Unset in production: the JWT-derived key encrypts, and the log says so once per process.
    monkeypatch.delenv("TOTP_ENCRYPTION_KEYS")
    monkeypatch.setattr(totp_service, "_warned_unset", False)
    for _ in range(2):
        totp_service.warn_if_unset(load_settings(**GOOD))
        totp_service.warn_if_unset(settings)
    assert caplog.text.count("TOTP_ENCRYPTION_KEYS is not set") == 1


def test_the_server_refuses_to_start_with_one_clear_line(tmp_path) -> None:
    env = {
        "PATH": "/usr/bin:/bin",
        "ENVIRONMENT": "production",
        "REALM_APP_ID": "app",
        "DATA_DIR": str(tmp_path),
    }

    result = subprocess.run(
        [sys.executable, "-m", "backend.serve"],
        cwd=REPO_ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )

    assert result.returncode != 0
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert "JWT_SECRET_KEY is missing" in lines[0]
    assert "Traceback" not in result.stderr


def test_development_generates_a_secret_once_and_keeps_it(tmp_path, caplog) -> None:
    caplog.set_level(logging.WARNING)
    first = load_settings(environment="development", data_dir=tmp_path)
    second = load_settings(environment="development", data_dir=tmp_path)

    assert first.jwt_secret == second.jwt_secret
    assert len(first.jwt_secret) >= 32
    assert (tmp_path / "jwt_secret").read_text().strip() == first.jwt_secret
    assert [r.getMessage() for r in caplog.records if "generated a development secret" in r.getMessage()]
    assert first.jwt_secret not in caplog.text
    assert first.app_id == "farm-auth-dev"


def test_tutorial_variable_names_are_accepted(monkeypatch) -> None:
    monkeypatch.setenv("DB_URL", "mongodb://db.example.com:27017")
    monkeypatch.setenv("DB_NAME", "tutorial")

    settings = load_settings(**GOOD)

    assert settings.mongodb_url == "mongodb://db.example.com:27017"
    assert settings.mongodb_db == "tutorial"


def test_defaults_are_the_documented_ones() -> None:
    settings = load_settings(**GOOD)

    assert settings.jwt_lifetime_seconds == 900
    assert settings.cookie_secure is True
    assert (settings.host, settings.port) == ("127.0.0.1", 8000)
    assert settings.mongodb_db == "farmstack"
