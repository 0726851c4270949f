"""Real access tokens, verified by clients nobody here wrote, against a real server process.

The app runs as `python -m backend.serve` on a free port (on the session's wire database), and
its tokens are checked the way other services would check them: PyJWT's `PyJWKClient` and Node's
`jose` (`createRemoteJWKSet` + `jwtVerify`, backend/tests/node/verify-token.mjs), both finding
the keys through `/.well-known/openid-configuration`; then `examples/resource_server/`.

Node and `jose` must be installed: `make test-backend` runs `npm ci --prefix backend/tests/node`.
"""

import base64
import contextlib
import hashlib
import hmac
import json
import os
import selectors
import shutil
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import jwt
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from pymongo import MongoClient

from backend.apps.auth.tokens.keys import write_new_key
from backend.core.embedded_db import free_port
from backend.tests.conftest import TEST_APP_ID, TEST_SECRET
from backend.tests.helpers import PASSWORD, REPO, claims_of, header_of

NODE_DIR = REPO / "backend" / "tests" / "node"
VERIFY_SCRIPT = NODE_DIR / "verify-token.mjs"
HOST = "127.0.0.1"
READY_SECONDS = 60.0
STOP_SECONDS = 25.0
NODE_SECONDS = 30.0
COOLDOWN_SECONDS = 30  # both PyJWKClient and jose refetch for an unknown kid at most this often


# --- processes ------------------------------------------------------------------------------------
def die_with_parent() -> None:  # pragma: no cover - runs in the child between fork and exec
    with contextlib.suppress(Exception):
        import ctypes

        ctypes.CDLL("libc.so.6", use_errno=True).prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG


@dataclass
class Service:
    """A server process, started and stopped (SIGINT, uvicorn's graceful stop) as a `with` block;
    the same one can be started again (a restart: same port, same settings)."""

    name: str
    args: list[str]
    env: dict[str, str]
    log: Path
    port: int
    ready: tuple[str, int]  # a path, and the status it answers once the service is up
    process: subprocess.Popen[bytes] | None = field(default=None, repr=False)

    @property
    def url(self) -> str:
        return f"http://{HOST}:{self.port}"

    def __enter__(self) -> "Service":
        with open(self.log, "ab") as out:
            self.process = subprocess.Popen(
                self.args,
                cwd=REPO,
                env=self.env,
                stdout=out,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
                preexec_fn=die_with_parent if sys.platform == "linux" else None,
            )
        try:
            self._wait_ready()
        except BaseException:
            self.__exit__()
            raise
        return self

    def _wait_ready(self) -> None:
        assert self.process is not None
        path, status = self.ready
        deadline = time.monotonic() + READY_SECONDS
        with httpx.Client(base_url=self.url, timeout=5) as client:
            while time.monotonic() < deadline and self.process.poll() is None:
                with contextlib.suppress(httpx.TransportError):
                    if client.get(path).status_code == status:
                        return
                time.sleep(0.1)
        raise AssertionError(
            f"{self.name} did not start at {self.url}; its log ends with:\n{self.log_tail()}"
        )

    def __exit__(self, *exc: object) -> None:
        if self.process is None or self.process.poll() is not None:
            return
        self.process.send_signal(signal.SIGINT)
        try:
            self.process.wait(STOP_SECONDS)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()

    def log_tail(self, lines: int = 40) -> str:
        with contextlib.suppress(OSError):
            return "\n".join(self.log.read_text(errors="replace").splitlines()[-lines:])
        return ""


@contextlib.contextmanager
def app_service(wire_url: str, workdir: Path, algorithm: str, keys_dir: Path) -> Iterator[Service]:
    """The app, not yet started, with a database of its own (dropped afterwards)."""
    port = free_port(HOST)
    database = f"test_jwks_{uuid.uuid4().hex[:12]}"
    (workdir / "data").mkdir(exist_ok=True)
    (workdir / "no-frontend-build").mkdir(exist_ok=True)
    env = {
        **os.environ,
        "ENVIRONMENT": "development",
        "HOST": HOST,
        "PORT": str(port),
        "PUBLIC_URL": f"http://{HOST}:{port}",  # the issuer and the jwks_uri of the discovery document
        "MONGODB_URL": wire_url,
        "MONGODB_DB": database,
        "DATA_DIR": str(workdir / "data"),
        "FRONTEND_DIST": str(workdir / "no-frontend-build"),
        "REALM_APP_ID": TEST_APP_ID,
        "JWT_SECRET_KEY": TEST_SECRET,  # CSRF proofs and email links; tokens use the keys below
        "JWT_ALGORITHM": algorithm,
        "JWT_KEYS_DIR": str(keys_dir),
        "RATE_LIMIT_ENABLED": "false",
        "LOG_LEVEL": "warning",
        # Cheap argon2: each sign-up and login hashes once.
        "ARGON2_MEMORY_KIB": "8192",
        "ARGON2_TIME_COST": "1",
        "ARGON2_PARALLELISM": "1",
    }
    args = [sys.executable, "-m", "backend.serve"]
    try:
        yield Service("the app", args, env, workdir / "app.log", port, ("/health", 200))
    finally:
        with MongoClient(wire_url, serverSelectionTimeoutMS=2000) as client:
            client.drop_database(database)


def sign_up(app: Service, email: str) -> tuple[str, str]:
    """Register `email` over HTTP and log in: (user id, access token)."""
    with httpx.Client(base_url=app.url, timeout=10) as client:
        registered = client.post("/auth/register", json={"email": email, "password": PASSWORD})
        assert registered.status_code == 201, registered.text
    return registered.json()["id"], log_in(app, email)


def log_in(app: Service, email: str) -> str:
    with httpx.Client(base_url=app.url, timeout=10) as client:
        response = client.post("/auth/jwt/login", data={"username": email, "password": PASSWORD})
        assert response.status_code == 200, response.text
        return str(response.json()["access_token"])


def discovery(app: Service) -> dict[str, str]:
    document = httpx.get(f"{app.url}/.well-known/openid-configuration", timeout=10).json()
    assert document == {"issuer": app.url, "jwks_uri": f"{app.url}/.well-known/jwks.json"}
    return dict(document)


# --- the verifiers --------------------------------------------------------------------------------
class CountingJWKClient(jwt.PyJWKClient):
    """PyJWKClient as it is, counting how often it fetches the key set."""

    def __init__(self, uri: str, **kwargs: Any) -> None:
        super().__init__(uri, **kwargs)
        self.fetches = 0

    def fetch_data(self) -> Any:
        self.fetches += 1
        return super().fetch_data()


def pyjwt_verify(client: jwt.PyJWKClient, token: str, document: dict[str, str]) -> dict[str, Any]:
    key = client.get_signing_key_from_jwt(token)
    return dict(
        jwt.decode(
            token, key, algorithms=[key.algorithm_name], audience=TEST_APP_ID, issuer=document["issuer"]
        )
    )


@pytest.fixture(scope="module")
def node() -> str:
    """Node with `jose` installed; a clear failure (not a skip) without them."""
    if not shutil.which("node"):
        pytest.fail("`node` is not on PATH: these tests need Node.js 20 or newer", pytrace=False)
    if not (NODE_DIR / "node_modules" / "jose" / "package.json").is_file():
        pytest.fail(
            f"`jose` is not installed in {NODE_DIR}: run `make backend/tests/node/node_modules/.installed` "
            "(npm ci --prefix backend/tests/node)",
            pytrace=False,
        )
    return "node"


def node_args(document: dict[str, str], *extra: str) -> list[str]:
    return [
        "node",
        str(VERIFY_SCRIPT),
        "--jwks-uri",
        document["jwks_uri"],
        "--issuer",
        document["issuer"],
        "--audience",
        TEST_APP_ID,
        *extra,
    ]


def jose_run(token: str, document: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        node_args(document, token), capture_output=True, text=True, timeout=NODE_SECONDS, check=False
    )


def jose_verify(token: str, document: dict[str, str]) -> dict[str, Any]:
    """The payload `jose` verified, in a Node process of its own (a fresh key set)."""
    done = jose_run(token, document)
    assert done.returncode == 0, done.stderr
    return dict(json.loads(done.stdout))


def jose_refusal(token: str, document: dict[str, str]) -> str:
    """Why `jose` refused the token: `CODE: message` (and a non-zero exit)."""
    done = jose_run(token, document)
    assert done.returncode == 1, f"jose accepted a token it should refuse: {done.stdout}"
    assert not done.stdout
    return done.stderr.strip()


class JoseVerifier:
    """One long-running Node process whose verifications share one remote key set (and its cache)."""

    def __init__(self, document: dict[str, str], *extra: str) -> None:
        self.process = subprocess.Popen(
            node_args(document, "--stdin", *extra),
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
            cwd=REPO,
            preexec_fn=die_with_parent if sys.platform == "linux" else None,
        )
        self.selector = selectors.DefaultSelector()
        assert self.process.stdout is not None
        self.selector.register(self.process.stdout, selectors.EVENT_READ)

    def verify(self, token: str) -> dict[str, Any]:
        """{"payload": claims} or {"error": {"code", "message"}}."""
        assert self.process.stdin is not None and self.process.stdout is not None
        self.process.stdin.write(token + "\n")
        self.process.stdin.flush()
        if not self.selector.select(NODE_SECONDS):
            raise AssertionError("the Node verifier did not answer")
        line = self.process.stdout.readline()
        assert line, f"the Node verifier exited ({self.process.wait()}); its error is in the output above"
        return dict(json.loads(line))

    def payload(self, token: str) -> dict[str, Any]:
        result = self.verify(token)
        assert "payload" in result, f"jose refused the token: {result['error']}"
        return dict(result["payload"])

    def close(self) -> None:
        self.selector.close()
        if self.process.stdin:
            self.process.stdin.close()
        try:
            self.process.wait(5)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
        if self.process.stdout:
            self.process.stdout.close()


# --- tokens nobody should accept ------------------------------------------------------------------
def b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def private_key_in(path: Path) -> Any:
    return serialization.load_pem_private_key(path.read_bytes(), password=None)


def another_key(algorithm: str) -> Any:
    if algorithm == "RS256":
        return rsa.generate_private_key(public_exponent=65537, key_size=2048)
    return ec.generate_private_key(ec.SECP256R1())


def hs256_with(key: bytes, header: dict[str, Any], claims: dict[str, Any]) -> str:
    """HS256 made by hand: PyJWT refuses to use a PEM public key as an HMAC secret."""
    signing_input = f"{b64(json.dumps(header).encode())}.{b64(json.dumps(claims).encode())}"
    return f"{signing_input}.{b64(hmac.new(key, signing_input.encode(), hashlib.sha256).digest())}"


def forgeries(token: str, ours: Any, algorithm: str) -> dict[str, str]:
    """Tokens made from a real one: by someone without our key, or with our key but not for us."""
    header, claims = header_of(token), claims_of(token)
    header_b64, _, signature = token.split(".")
    altered = {**claims, "sub": "000000000000000000000000", "user_data": {"email": "boss@example.com"}}
    public_pem = ours.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    now = int(time.time())

    def signed_by(key: Any, **changes: Any) -> str:
        return jwt.encode({**claims, **changes}, key, algorithm, headers=header)

    return {
        "another key, same kid": signed_by(another_key(algorithm)),
        "payload altered": f"{header_b64}.{b64(json.dumps(altered).encode())}.{signature}",
        "HS256 signed with the public key": hs256_with(public_pem, {**header, "alg": "HS256"}, claims),
        "another issuer": signed_by(ours, iss="https://evil.example"),
        "another audience": signed_by(ours, aud="another-app"),
        "expired": signed_by(ours, iat=now - 3600, exp=now - 600),
    }


PYJWT_REFUSES = {
    "another key, same kid": jwt.InvalidSignatureError,
    "payload altered": jwt.InvalidSignatureError,
    "HS256 signed with the public key": jwt.InvalidAlgorithmError,
    "another issuer": jwt.InvalidIssuerError,
    "another audience": jwt.InvalidAudienceError,
    "expired": jwt.ExpiredSignatureError,
}
NO_MATCHING_KEY = {
    "code": "ERR_JWKS_NO_MATCHING_KEY",
    "message": "no applicable key found in the JSON Web Key Set",
}
SIGNATURE = ("ERR_JWS_SIGNATURE_VERIFICATION_FAILED", "signature verification failed")
JOSE_REFUSES = {  # (error code, message)
    "another key, same kid": SIGNATURE,
    "payload altered": SIGNATURE,
    # A remote key set never verifies a symmetric algorithm: jose refuses before looking at keys.
    "HS256 signed with the public key": (
        "ERR_JOSE_NOT_SUPPORTED",
        'Unsupported "alg" value for a JSON Web Key Set',
    ),
    "another issuer": ("ERR_JWT_CLAIM_VALIDATION_FAILED", 'unexpected "iss" claim value'),
    "another audience": ("ERR_JWT_CLAIM_VALIDATION_FAILED", 'unexpected "aud" claim value'),
    "expired": ("ERR_JWT_EXPIRED", '"exp" claim timestamp check failed'),
}


# --- the tests ------------------------------------------------------------------------------------
@pytest.mark.parametrize("algorithm", ["RS256", "ES256"])
def test_pyjwt_and_jose_verify_real_tokens_before_and_after_a_key_rotation(
    wire_url: str, tmp_path: Path, node: str, algorithm: str
) -> None:
    keys_dir = tmp_path / "keys"
    first = write_new_key(keys_dir, algorithm)
    email = f"{algorithm.lower()}@example.com"

    with contextlib.ExitStack() as stack:
        app = stack.enter_context(app_service(wire_url, tmp_path, algorithm, keys_dir))

        def jose_verifier(*extra: str) -> JoseVerifier:
            verifier = JoseVerifier(document, *extra)
            stack.callback(verifier.close)
            return verifier

        # 0. One key. A token from a real login verifies with both clients, forgeries do not.
        with app:
            document = discovery(app)
            user_id, token_a = sign_up(app, email)
            kid_a = header_of(token_a)["kid"]
            assert header_of(token_a) == {"alg": algorithm, "kid": kid_a, "typ": "JWT"}

            verified = pyjwt_verify(jwt.PyJWKClient(document["jwks_uri"]), token_a, document)
            assert (verified["sub"], verified["user_data"]["email"]) == (user_id, email)
            assert jose_verify(token_a, document) == verified

            forged = forgeries(token_a, private_key_in(first), algorithm)
            code, message = JOSE_REFUSES["another key, same kid"]
            assert jose_refusal(forged["another key, same kid"], document) == f"{code}: {message}"
            fresh, jose_fresh = jwt.PyJWKClient(document["jwks_uri"]), jose_verifier()
            for case, token in forged.items():
                with pytest.raises(PYJWT_REFUSES[case]):
                    pyjwt_verify(fresh, token, document)
                code, message = JOSE_REFUSES[case]
                assert jose_fresh.verify(token) == {"error": {"code": code, "message": message}}, case

            # Verifiers that keep this key set cached: with the libraries' defaults, and with
            # their refetch cooldown off.
            cached_since = time.monotonic()
            pyjwt_cached = CountingJWKClient(document["jwks_uri"])
            pyjwt_eager = CountingJWKClient(document["jwks_uri"], cooldown_duration=0)
            jose_cached, jose_eager = jose_verifier(), jose_verifier("--cooldown-ms", "0")
            for pyjwt_client in (pyjwt_cached, pyjwt_eager):
                assert pyjwt_verify(pyjwt_client, token_a, document) == verified
            for jose_client in (jose_cached, jose_eager):
                assert jose_client.verify(token_a) == {"payload": verified}

        # 1. Publish the next key and restart: both keys in the JWKS, the first still signs.
        upcoming = write_new_key(keys_dir, algorithm, next_key=True)
        with app:
            assert discovery(app) == document
            published = httpx.get(document["jwks_uri"]).json()["keys"]
            [kid_b] = {key["kid"] for key in published} - {kid_a}
            token_a2 = log_in(app, email)
            assert header_of(token_a2)["kid"] == kid_a
            # Verifiers that first see the key set now, as the rotation procedure intends.
            pyjwt_warm, jose_warm = CountingJWKClient(document["jwks_uri"]), jose_verifier()
            assert pyjwt_verify(pyjwt_warm, token_a2, document)["sub"] == user_id
            assert jose_warm.payload(token_a2)["sub"] == user_id

        # 2. Promote it and restart: new tokens carry its kid; the old ones still verify.
        upcoming.rename(upcoming.with_name(upcoming.name.replace(".next.pem", ".pem")))
        with app:
            token_b = log_in(app, email)
            assert header_of(token_b)["kid"] == kid_b

            # Cached since step 0 (first key only), with the defaults: neither library refetches
            # within 30 s of its last fetch, so the new kid is refused until then (what
            # publishing the key before it signs avoids). Checked first, while that holds.
            elapsed = time.monotonic() - cached_since
            if elapsed < COOLDOWN_SECONDS - 10:  # with a margin: the checks below take time too
                with pytest.raises(jwt.PyJWKClientError, match="Unable to find a signing key"):
                    pyjwt_verify(pyjwt_cached, token_b, document)
                assert pyjwt_cached.fetches == 1
                assert jose_cached.verify(token_b) == {"error": NO_MATCHING_KEY}
            elif elapsed > COOLDOWN_SECONDS + 5:  # a very slow run: the cooldown is over
                assert pyjwt_verify(pyjwt_cached, token_b, document)["sub"] == user_id
                assert jose_cached.payload(token_b)["sub"] == user_id
            assert pyjwt_verify(pyjwt_cached, token_a, document)["sub"] == user_id
            assert jose_cached.payload(token_a)["sub"] == user_id

            # Cached since step 0, cooldown off: the unknown kid makes them fetch the set again.
            assert pyjwt_verify(pyjwt_eager, token_b, document)["sub"] == user_id
            assert pyjwt_eager.fetches == 2
            assert jose_eager.payload(token_b)["sub"] == user_id

            # Cached since step 1 (both keys): no fetch needed.
            assert pyjwt_verify(pyjwt_warm, token_b, document)["sub"] == user_id
            assert pyjwt_warm.fetches == 1
            assert jose_warm.payload(token_b)["sub"] == user_id

            # Fresh clients: the new token and the old one (its key is still in the folder).
            fresh = jwt.PyJWKClient(document["jwks_uri"])
            for token in (token_b, token_a):
                claims = pyjwt_verify(fresh, token, document)
                assert (claims["sub"], claims["user_data"]["email"]) == (user_id, email)
                assert jose_verify(token, document) == claims

        # The app is stopped: what still verifies comes from the caches alone.
        assert pyjwt_verify(pyjwt_warm, token_b, document)["sub"] == user_id
        assert jose_warm.payload(token_b)["sub"] == user_id


def test_the_example_resource_server_trusts_the_apps_tokens_and_nothing_else(
    wire_url: str, tmp_path: Path
) -> None:
    keys_dir = tmp_path / "keys"
    key_file = write_new_key(keys_dir, "RS256")
    with app_service(wire_url, tmp_path, "RS256", keys_dir) as app, app:
        user_id, token = sign_up(app, "resource@example.com")
        port = free_port(HOST)
        listen = ["--host", HOST, "--port", str(port), "--log-level", "warning"]
        resource_server = Service(
            "the example resource server",
            [sys.executable, "-m", "uvicorn", "examples.resource_server.app:app", *listen],
            {**os.environ, "AUTH_ISSUER": app.url, "AUTH_AUDIENCE": TEST_APP_ID},
            tmp_path / "resource-server.log",
            port,
            ("/hello", 401),
        )
        ours = private_key_in(key_file)
        claims = claims_of(token)
        tokens = {
            **forgeries(token, ours, "RS256"),
            "no sub": jwt.encode(
                {k: v for k, v in claims.items() if k != "sub"}, ours, "RS256", headers=header_of(token)
            ),
            "unknown kid": jwt.encode(claims, ours, "RS256", headers={"kid": "not-a-key-of-the-app"}),
            "not a JWT": "not-a-jwt",
        }
        with resource_server, httpx.Client(base_url=resource_server.url, timeout=10) as client:
            response = client.get("/hello", headers={"Authorization": f"Bearer {token}"})
            assert response.status_code == 200, response.text
            assert response.json() == {"sub": user_id, "email": "resource@example.com"}

            response = client.get("/hello")
            assert response.status_code == 401
            assert response.headers["www-authenticate"] == "Bearer"

            for case, forged in tokens.items():
                response = client.get("/hello", headers={"Authorization": f"Bearer {forged}"})
                assert response.status_code == 401, (case, response.text)
                assert response.headers["www-authenticate"] == 'Bearer error="invalid_token"', case
