"""Signing keys: the algorithms, `kid`, the JWKS and discovery documents, rotation, start-up checks."""

import base64
import hashlib
import hmac
import json
import logging
from pathlib import Path

import jwt
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from httpx import AsyncClient

from backend.apps.auth.tokens.keys import load_keyring_or_exit, new_private_key, write_new_key
from backend.config import Settings
from backend.tests.conftest import TEST_APP_ID, TEST_SECRET, Server, ServerFactory
from backend.tests.helpers import bearer, claims_of, header_of, login, signed_up

ISSUER = "https://farm.test"
ASYMMETRIC = ["RS256", "ES256", "EdDSA"]
PRIVATE_MEMBERS = {"d", "p", "q", "dp", "dq", "qi", "k"}
OLD_SECRET = "old-secret-0123456789-abcdefghijklmnopqrstuvwxyz"


def b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


async def jwks_of(client: AsyncClient) -> dict[str, jwt.PyJWK]:
    response = await client.get("/.well-known/jwks.json")
    assert response.status_code == 200
    return {key["kid"]: jwt.PyJWK(key) for key in response.json()["keys"]}


def verify(token: str, keys: dict[str, jwt.PyJWK]) -> dict:
    key = keys[header_of(token)["kid"]]
    return jwt.decode(token, key, algorithms=[key.algorithm_name], audience=TEST_APP_ID, issuer=ISSUER)


async def me(client: AsyncClient, token: str) -> int:
    return (await client.get("/users/me", headers=bearer(token))).status_code


@pytest.mark.parametrize("algorithm", ASYMMETRIC)
async def test_asymmetric_tokens_name_their_key_and_verify_with_the_published_one(
    make_server: ServerFactory, tmp_path: Path, algorithm: str
) -> None:
    async with make_server(jwt_algorithm=algorithm, jwt_keys_dir=tmp_path) as server:
        client = server.client()
        token = await signed_up(client, "keys@example.com")
        keys = await jwks_of(client)

        assert header_of(token) == {"alg": algorithm, "kid": next(iter(keys)), "typ": "JWT"}
        assert verify(token, keys)["sub"] == str((await client.get("/users/me")).json()["id"])
        assert await me(client, token) == 200


@pytest.mark.parametrize("algorithm", ASYMMETRIC)
async def test_the_jwks_holds_public_keys_only(
    make_server: ServerFactory, tmp_path: Path, algorithm: str
) -> None:
    async with make_server(jwt_algorithm=algorithm, jwt_keys_dir=tmp_path) as server:
        response = await server.client().get("/.well-known/jwks.json")

    assert response.headers["content-type"] == "application/jwk-set+json"
    assert response.headers["cache-control"] == "public, max-age=300"
    [key] = response.json()["keys"]
    assert key["alg"] == algorithm and key["use"] == "sig" and key["kid"]
    assert not PRIVATE_MEMBERS & key.keys()
    # The kid is the key's RFC 7638 thumbprint: anyone can recompute it from the JWK.
    required = {"RSA": ("e", "kty", "n"), "EC": ("crv", "kty", "x", "y"), "OKP": ("crv", "kty", "x")}
    members = {name: key[name] for name in required[key["kty"]]}
    canonical = json.dumps(members, sort_keys=True, separators=(",", ":")).encode()
    assert key["kid"] == b64(hashlib.sha256(canonical).digest())


async def test_hs256_publishes_nothing_and_discovery_says_only_what_is_true(server: Server) -> None:
    client = server.client()

    jwks = await client.get("/.well-known/jwks.json")
    discovery = await client.get("/.well-known/openid-configuration")

    assert jwks.json() == {"keys": []}
    assert discovery.json() == {"issuer": ISSUER, "jwks_uri": f"{ISSUER}/.well-known/jwks.json"}
    assert discovery.headers["cache-control"] == "public, max-age=300"


async def test_jwt_issuer_sets_iss_and_discovery(make_server: ServerFactory) -> None:
    async with make_server(jwt_issuer="https://id.example.com") as server:
        client = server.client()
        token = await signed_up(client, "iss@example.com")
        discovery = (await client.get("/.well-known/openid-configuration")).json()

        assert claims_of(token)["iss"] == discovery["issuer"] == "https://id.example.com"
        # The keys stay where this app is served from.
        assert discovery["jwks_uri"] == f"{ISSUER}/.well-known/jwks.json"
        assert await me(client, token) == 200


def hs256_with(key: bytes, header: dict, claims: dict) -> str:
    """An HS256 token made by hand: PyJWT refuses to use a PEM public key as an HMAC secret."""
    signing_input = f"{b64(json.dumps(header).encode())}.{b64(json.dumps(claims).encode())}"
    return f"{signing_input}.{b64(hmac.new(key, signing_input.encode(), hashlib.sha256).digest())}"


@pytest.mark.parametrize(
    "case",
    ["HS256 signed with the public key", "alg none", "another key with our kid", "no kid", "unknown kid"],
)
async def test_asymmetric_verification_refuses_other_algorithms_and_keys(
    make_server: ServerFactory, tmp_path: Path, case: str
) -> None:
    async with make_server(jwt_algorithm="RS256", jwt_keys_dir=tmp_path) as server:
        client = server.client()
        token = await signed_up(client, "forger@example.com")
        client.cookies.clear()
        header, claims = header_of(token), claims_of(token)
        [pem_file] = list(tmp_path.glob("*.pem"))  # noqa: ASYNC240 - a test's own temporary folder
        ours = serialization.load_pem_private_key(pem_file.read_bytes(), password=None)
        public_pem = ours.public_key().public_bytes(
            serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
        )
        intruder = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        forged = {
            "HS256 signed with the public key": hs256_with(public_pem, {**header, "alg": "HS256"}, claims),
            "alg none": f"{b64(json.dumps({**header, 'alg': 'none'}).encode())}.{token.split('.')[1]}.",
            "another key with our kid": jwt.encode(claims, intruder, algorithm="RS256", headers=header),
            "no kid": jwt.encode(claims, ours, algorithm="RS256"),
            "unknown kid": jwt.encode(claims, ours, algorithm="RS256", headers={"kid": "not-ours"}),
        }[case]

        assert await me(client, token) == 200  # the control: the real token passes
        response = await client.get("/users/me", headers=bearer(forged))
        assert response.status_code == 401
        assert response.headers["www-authenticate"] == 'Bearer error="invalid_token"'


async def test_hs256_rotation_keeps_everyone_signed_in(make_server: ServerFactory) -> None:
    # Before: one secret. A browser session (cookies + CSRF) and a Bearer token are live.
    async with make_server(jwt_secret_key=OLD_SECRET) as before:
        browser = before.client()
        old_token = await signed_up(browser, "rotate@example.com")
        assert header_of(old_token) == {"alg": "HS256", "typ": "JWT"}

        # Step 1: a new secret first, the old one kept: new tokens name the new secret.
        async with make_server(
            share_with=before, jwt_secret_key=None, jwt_secret_keys=[TEST_SECRET, OLD_SECRET]
        ) as during:
            tab = during.client()
            tab.cookies = browser.cookies
            assert await me(tab, old_token) == 200
            created = await tab.post("/task/", json={"name": "old CSRF token still passes"})
            assert created.status_code == 201, created.text
            refreshed = await tab.post("/auth/jwt/refresh")
            assert refreshed.status_code == 200, refreshed.text
            new_token = refreshed.json()["access_token"]
            assert "kid" in header_of(new_token)
            jwt.decode(new_token, TEST_SECRET, algorithms=["HS256"], audience=TEST_APP_ID, issuer=ISSUER)
            assert await me(tab, new_token) == 200

            # Step 2: the old secret removed once its tokens have expired: they stop working,
            # the session goes on (its refresh token is not a JWT).
            async with make_server(
                share_with=before, jwt_secret_key=None, jwt_secret_keys=[TEST_SECRET]
            ) as after:
                later = after.client()
                later.cookies = tab.cookies
                assert await me(later, old_token) == 401
                assert await me(later, new_token) == 200
                assert (await later.post("/auth/jwt/refresh")).status_code == 200
                assert (await later.post("/task/", json={"name": "still signed in"})).status_code == 201


async def test_asymmetric_rotation_in_steps_logs_nobody_out(
    make_server: ServerFactory, tmp_path: Path
) -> None:
    keys_dir = tmp_path / "keys"
    first = write_new_key(keys_dir, "ES256")
    settings = {"jwt_algorithm": "ES256", "jwt_keys_dir": keys_dir}

    async with make_server(**settings) as step0:
        browser = step0.client()
        token_a = await signed_up(browser, "rotation@example.com")
        kid_a = header_of(token_a)["kid"]

        # 1. Publish the next key: verifiers can cache it; tokens are still signed by the first.
        upcoming = write_new_key(keys_dir, "ES256", next_key=True)
        async with make_server(share_with=step0, **settings) as step1:
            client = step1.client()
            client.cookies = browser.cookies
            published = await jwks_of(client)
            assert len(published) == 2 and kid_a in published
            [kid_b] = set(published) - {kid_a}
            assert await me(client, token_a) == 200
            assert header_of(await login(client, "rotation@example.com"))["kid"] == kid_a

            # 2. Promote it: new tokens are signed by the second key, the first still verifies.
            promoted = upcoming.with_name(upcoming.name.replace(".next.pem", ".pem"))
            upcoming.rename(promoted)
            async with make_server(share_with=step0, **settings) as step2:
                client2 = step2.client()
                client2.cookies = browser.cookies
                refreshed = await client2.post("/auth/jwt/refresh")
                assert refreshed.status_code == 200, refreshed.text
                token_b = refreshed.json()["access_token"]
                assert header_of(token_b)["kid"] == kid_b
                assert verify(token_b, published)["sub"] == claims_of(token_a)["sub"]
                assert await me(client2, token_a) == 200

                # 3. Retire the first key after the access-token lifetime: its tokens stop
                # working, and the browser session carries on through its refresh cookie.
                first.unlink()
                async with make_server(share_with=step0, **settings) as step3:
                    client3 = step3.client()
                    client3.cookies = client2.cookies
                    assert set(await jwks_of(client3)) == {kid_b}
                    assert await me(client3, token_a) == 401
                    assert await me(client3, token_b) == 200
                    again = await client3.post("/auth/jwt/refresh")
                    assert again.status_code == 200, again.text
                    assert header_of(again.json()["access_token"])["kid"] == kid_b
                    assert (await client3.get("/users/me")).status_code == 200


def production(tmp_path: Path, **overrides: object) -> Settings:
    values = {
        "environment": "production",
        "jwt_secret_key": TEST_SECRET,
        "realm_app_id": TEST_APP_ID,
        "public_url": ISSUER,
        "data_dir": tmp_path,
        "jwt_algorithm": "RS256",
    }
    return Settings(**{**values, **overrides})


def test_production_refuses_to_start_without_a_key(tmp_path: Path) -> None:
    with pytest.raises(SystemExit) as stopped:
        load_keyring_or_exit(production(tmp_path))

    message = str(stopped.value)
    assert "\n" not in message
    keys_dir = tmp_path / "jwt_keys"
    expected = f"JWT_KEYS_DIR: no RS256 private key in {keys_dir}; create one with `make keys`"
    assert message == f"FARM Auth cannot start: {expected}"
    assert not (tmp_path / "jwt_keys").exists()  # nothing generated outside development


@pytest.mark.parametrize(
    ("algorithm", "key", "reason"),
    [
        (
            "RS256",
            lambda: ec.generate_private_key(ec.SECP256R1()),
            "is not an RSA private key (RS256 needs one)",
        ),
        (
            "RS256",
            lambda: rsa.generate_private_key(public_exponent=65537, key_size=1024),  # noqa: S505 - refused
            "is a 1024-bit RSA key; RS256 needs at least 2048 bits",
        ),
        (
            "ES256",
            lambda: ec.generate_private_key(ec.SECP384R1()),
            "is not a P-256 EC private key (ES256 needs one)",
        ),
        ("EdDSA", lambda: new_private_key("ES256"), "is not an Ed25519 private key (EdDSA needs one)"),
    ],
)
def test_production_refuses_a_key_unfit_for_the_algorithm(
    tmp_path: Path, algorithm: str, key, reason: str
) -> None:
    keys_dir = tmp_path / "jwt_keys"
    keys_dir.mkdir()
    path = keys_dir / "a.pem"
    path.write_bytes(
        key().private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        )
    )

    with pytest.raises(SystemExit) as stopped:
        load_keyring_or_exit(production(tmp_path, jwt_algorithm=algorithm))

    assert str(stopped.value) == f"FARM Auth cannot start: JWT_KEYS_DIR: {path} {reason}"


@pytest.mark.parametrize(
    ("content", "reason"),
    [
        (b"not a key", "is not a PEM private key"),
        ("encrypted", "is encrypted; store it without a passphrase"),
    ],
)
def test_production_refuses_unreadable_key_files(tmp_path: Path, content, reason: str) -> None:
    keys_dir = tmp_path / "jwt_keys"
    keys_dir.mkdir()
    path = keys_dir / "a.pem"
    if content == "encrypted":
        content = new_private_key("RS256").private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.BestAvailableEncryption(b"passphrase"),
        )
    path.write_bytes(content)

    with pytest.raises(SystemExit) as stopped:
        load_keyring_or_exit(production(tmp_path))

    assert str(stopped.value) == f"FARM Auth cannot start: JWT_KEYS_DIR: {path} {reason}"


def test_a_folder_of_next_keys_only_cannot_sign(tmp_path: Path) -> None:
    write_new_key(tmp_path / "jwt_keys", "RS256", next_key=True)

    with pytest.raises(SystemExit, match=r"every key in .* is marked next; one must sign"):
        load_keyring_or_exit(production(tmp_path))


def test_development_generates_one_key_once_and_says_so(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    settings = production(tmp_path, environment="development", jwt_algorithm="EdDSA")
    with caplog.at_level(logging.WARNING):
        first = load_keyring_or_exit(settings)
        second = load_keyring_or_exit(settings)

    [path] = (tmp_path / "jwt_keys").glob("*.pem")
    assert path.stat().st_mode & 0o777 == 0o600
    assert first.signer.kid == second.signer.kid
    assert [r.getMessage() for r in caplog.records] == [
        f"no EdDSA key in {tmp_path / 'jwt_keys'}: generated a development key, {path.name}"
    ]


def test_the_newest_key_by_name_signs_and_next_keys_do_not(tmp_path: Path) -> None:
    keys_dir = tmp_path / "jwt_keys"
    older = write_new_key(keys_dir, "RS256")
    newer = write_new_key(keys_dir, "RS256")
    write_new_key(keys_dir, "RS256", next_key=True)

    ring = load_keyring_or_exit(production(tmp_path))

    assert len(ring.keys) == 3
    assert ring.signer.name == newer.name != older.name


@pytest.mark.parametrize(
    ("settings", "message"),
    [
        ({"jwt_secret_keys": "a" * 40 + "," + "b" * 40, "jwt_secret_key": "c" * 40}, "not both"),
        ({"jwt_secret_keys": ",".join(f"{c}{TEST_SECRET}" for c in "abcd")}, "at most three"),
        ({"jwt_secret_keys": f"{TEST_SECRET},{TEST_SECRET}"}, "the same secret twice"),
        (
            {"jwt_secret_keys": f"{TEST_SECRET},too-short", "environment": "production"},
            "JWT_SECRET_KEYS: secret 2 must be",
        ),
    ],
)
def test_secret_lists_are_checked(monkeypatch: pytest.MonkeyPatch, settings: dict, message: str) -> None:
    from backend.config import ConfigError, load_settings

    for name, value in settings.items():
        monkeypatch.setenv(name.upper(), value)
    with pytest.raises(ConfigError, match=message):
        load_settings(realm_app_id=TEST_APP_ID, public_url=ISSUER)


async def test_registered_users_keep_working_across_an_algorithm_change(
    make_server: ServerFactory, tmp_path: Path
) -> None:
    # HS256 -> RS256: access tokens of the old algorithm are refused (pinned), sessions go on.
    async with make_server() as hs:
        browser = hs.client()
        hs_token = await signed_up(browser, "switch@example.com")
        async with make_server(share_with=hs, jwt_algorithm="RS256", jwt_keys_dir=tmp_path) as rs:
            client = rs.client()
            client.cookies = browser.cookies
            assert await me(client, hs_token) == 401
            refreshed = await client.post("/auth/jwt/refresh")
            assert refreshed.status_code == 200, refreshed.text
            assert header_of(refreshed.json()["access_token"])["alg"] == "RS256"
            assert (await client.get("/users/me")).json()["email"] == "switch@example.com"
