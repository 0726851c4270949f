"""The schema is the truth: schemathesis checks every answer of every operation against it.

In-process on the app with its lifespan running, on the wire database, as three callers:
anonymous, a signed-in user and a superuser. First operation by operation (examples, boundary
values, then random and malformed input), then in sequences that follow the schema's links — a
created task is read, updated and deleted; a registered account logs in. Every answer must be
no server error and carry a documented status, content type and body. Rate limits are off
while fuzzing; one test turns them on to check the 429s.
"""

import copy
import tempfile
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import hypothesis
import pytest
import schemathesis
from fastapi import FastAPI
from pymongo import MongoClient
from pymongo.collection import Collection
from pymongo.database import Database
from schemathesis.checks import not_a_server_error
from schemathesis.python import asgi
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from backend.apps.user.passwords import get_password_helper
from backend.config import Settings
from backend.main import create_app
from backend.tests.conftest import TEST_APP_ID, TEST_SECRET, fast_password_helper
from backend.tests.helpers import PASSWORD, claims_of

CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
]
SEED = 20240801  # fixed, so a failure in CI replays on a laptop
EXAMPLES_PER_OPERATION = 15
SEQUENCES = 40
STEPS_PER_SEQUENCE = 8
ROLES = ["anonymous", "user", "superuser"]

# Links schemathesis cannot infer: the account just registered logs in, and its token is used.
LINKS = {
    ("/auth/register", "post", "201"): {
        "LogIn": {
            "operationId": "auth_jwt_login_auth_jwt_login_post",
            "requestBody": {"username": "$response.body#/email", "password": "$request.body#/password"},
        }
    },
    ("/auth/jwt/login", "post", "200"): {
        "ReadMe": {
            "operationId": "users_current_user_users_me_get",
            "parameters": {"header.Authorization": "Bearer {$response.body#/access_token}"},
        }
    },
}


@dataclass
class Caller:
    """Who sends the requests. A signed-in caller stays signed in, active and (for the superuser)
    a superuser, whatever the last request did to the account: logged out, deactivated, demoted,
    deleted, renamed."""

    role: str
    client: Any  # schemathesis' in-process `requests` session
    users: Collection[Any]
    email: str = field(default_factory=lambda: f"fuzz-{uuid.uuid4().hex[:12]}@example.com")
    user_id: Any = None
    session_id: str = ""
    token: str = ""

    def headers(self) -> dict[str, str]:
        if self.role == "anonymous":
            return {}
        if not self._restore():
            self._sign_in()
        return {"Authorization": f"Bearer {self.token}"}

    @property
    def flags(self) -> dict[str, bool]:
        return {"is_active": True, "is_verified": True, "is_superuser": self.role == "superuser"}

    def _restore(self) -> bool:
        """Set the account's flags back, if its session is still live."""
        restored = self.users.update_one(
            {"_id": self.user_id, "session_ids": self.session_id}, {"$set": self.flags}
        )
        return self.token != "" and restored.matched_count == 1

    def _sign_in(self) -> None:
        registered = self.client.post("/auth/register", json={"email": self.email, "password": PASSWORD})
        assert registered.status_code in (201, 400), registered.text  # 400: it still exists
        self.users.update_one({"email": self.email}, {"$set": self.flags})
        login = self.client.post("/auth/jwt/login", data={"username": self.email, "password": PASSWORD})
        assert login.status_code == 200, login.text
        self.token = login.json()["access_token"]
        claims = claims_of(self.token)
        self.user_id = self.users.find_one({"email": self.email})["_id"]
        self.session_id = claims["sid"]


def fuzz_settings(mongodb_url: str | None, data_dir: Path, **overrides: Any) -> Settings:
    return Settings(
        mongodb_url=mongodb_url,
        mongodb_db=f"schema_{uuid.uuid4().hex[:12]}",
        mongodb_timeout_ms=5000,
        data_dir=data_dir,
        frontend_dist=data_dir / "no-frontend-build",
        public_url="https://farm.test",
        environment="development",
        realm_app_id=TEST_APP_ID,
        jwt_secret_key=TEST_SECRET,
        mail_retry_delay_seconds=0.05,
        **overrides,
    )


def served_schema(app: FastAPI) -> dict[str, Any]:
    """What the app serves, with the links added."""
    linked = copy.deepcopy(app.openapi())
    for (path, method, status), links in LINKS.items():
        linked["paths"][path][method]["responses"][status].setdefault("links", {}).update(links)
    return linked


def load_schema(app: FastAPI) -> Any:
    config = schemathesis.Config(seed=SEED)
    config.projects.default.generation.update(
        max_examples=EXAMPLES_PER_OPERATION, deterministic=True, database="none"
    )
    # Schemathesis adds the links it infers to the schema it is given: it gets a copy.
    loaded = schemathesis.openapi.from_dict(copy.deepcopy(FUZZED_SCHEMA), config=config)
    loaded.app = app  # requests go to an app in-process; each call names the running one
    return loaded


# Read at import, as pytest needs it to make the tests: from an app built like the ones under
# test (`database()` checks they serve the same), never started.
GENERATION_APP = create_app(fuzz_settings(None, Path(tempfile.gettempdir())))
FUZZED_SCHEMA = served_schema(GENERATION_APP)
schema = load_schema(GENERATION_APP)

# The app runs in schemathesis' event-loop thread and may use the `random` module while
# Hypothesis draws in this one, which Hypothesis takes for a strategy using `random`.
pytestmark = pytest.mark.filterwarnings(
    "ignore:Do not use the `random` module inside strategies:hypothesis.errors.HypothesisDeprecationWarning"
)


@dataclass
class FuzzDatabase:
    """Settings for apps on a database of their own, which tests also reach directly."""

    settings: Settings
    db: Database[Any]

    @property
    def users(self) -> Collection[Any]:
        return self.db["users"]

    def new_app(self, data_dir: Path) -> FastAPI:
        # One per test: schemathesis' pytest plugin ends an app's lifespan with the test that
        # started it, and this app's lifespan runs once (its hashing pool closes at shutdown).
        # Its own data folder keeps the outbox it lists small.
        app = create_app(self.settings.model_copy(update={"data_dir": data_dir}))
        app.dependency_overrides[get_password_helper] = fast_password_helper
        return app

    def clear(self) -> None:
        for name in self.db.list_collection_names():
            self.db[name].delete_many({})


@contextmanager
def database(wire_url: str, data_dir: Path, **overrides: Any) -> Iterator[FuzzDatabase]:
    settings = fuzz_settings(wire_url, data_dir, **overrides)
    assert served_schema(create_app(settings)) == FUZZED_SCHEMA, "the app serves another schema"
    with MongoClient(wire_url) as sync_client:
        try:
            yield FuzzDatabase(settings, sync_client[settings.mongodb_db])
        finally:
            sync_client.drop_database(settings.mongodb_db)


@pytest.fixture(scope="module")
def fuzz_database(wire_url: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[FuzzDatabase]:
    with database(wire_url, tmp_path_factory.mktemp("schema"), rate_limit_enabled=False) as created:
        yield created


@pytest.fixture
def app(fuzz_database: FuzzDatabase, tmp_path: Path) -> FastAPI:
    return fuzz_database.new_app(tmp_path)


@pytest.fixture(params=ROLES)
def caller(request: pytest.FixtureRequest, app: FastAPI, fuzz_database: FuzzDatabase) -> Iterator[Caller]:
    with asgi.get_client(app) as client:  # schemathesis' client: the app runs in its event loop
        yield Caller(str(request.param), client, fuzz_database.users)


def test_every_error_is_described_with_its_body() -> None:
    for path, operations in FUZZED_SCHEMA["paths"].items():
        for method, operation in operations.items():
            responses = operation["responses"]
            errors = {code: response for code, response in responses.items() if int(code) >= 400}
            assert all("application/json" in response["content"] for response in errors.values())
            # Every route that touches the database can answer 503; the two that do not, do not.
            assert ("503" in responses) == (path not in ("/health/live", "/dev/outbox")), (method, path)
            if operation.get("security"):
                assert "WWW-Authenticate" in responses["401"]["headers"], (method, path)
            if "{" in path:
                assert "404" in responses, (method, path)
            if "requestBody" in operation:
                assert {"400", "413", "422"} <= responses.keys(), (method, path)


# The caller is made once per role and kept across examples, on purpose: it re-signs in itself.
@hypothesis.settings(suppress_health_check=[hypothesis.HealthCheck.function_scoped_fixture])
@schema.parametrize()
def test_every_answer_is_documented(case: schemathesis.Case, app: FastAPI, caller: Caller) -> None:
    case.call_and_validate(headers=caller.headers(), checks=CHECKS, app=app)


def test_linked_sequences_are_documented(app: FastAPI, caller: Caller, fuzz_database: FuzzDatabase) -> None:
    class Sequences(schema.as_state_machine()):  # type: ignore[misc]
        def teardown(self) -> None:
            # Every sequence starts from an empty database, so that Hypothesis, replaying one,
            # meets the state it met the first time.
            fuzz_database.clear()

        def get_call_kwargs(self, case: schemathesis.Case) -> dict[str, Any]:
            # A header a link set (the token of the account it just logged in) wins.
            return {"headers": {**caller.headers(), **(case.headers or {})}, "app": app}

        def validate_response(
            self, response: schemathesis.Response, case: schemathesis.Case, **kwargs: Any
        ) -> None:
            case.validate_response(response, checks=CHECKS, transport_kwargs=kwargs)

    Sequences.run(
        settings=hypothesis.settings(
            max_examples=SEQUENCES,
            stateful_step_count=STEPS_PER_SEQUENCE,
            derandomize=True,
            database=None,
            deadline=None,
            suppress_health_check=list(hypothesis.HealthCheck),
        )
    )


# Rate limits on, tight: the second request of a kind from one address is refused.
LIMITS = {
    "rate_limit_ip": "1/hour",
    "rate_limit_login_ip": "1/hour",
    "rate_limit_refresh_ip": "1/hour",
    "rate_limit_password_check_ip": "1/hour",
}


@pytest.fixture(scope="module")
def limited_database(wire_url: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[FuzzDatabase]:
    with database(wire_url, tmp_path_factory.mktemp("limited"), **LIMITS) as created:
        yield created


@pytest.fixture
def limited_app(limited_database: FuzzDatabase, tmp_path: Path) -> FastAPI:
    return limited_database.new_app(tmp_path)


def answers_429_to_anyone(ctx: Any) -> bool:
    operation = FUZZED_SCHEMA["paths"][ctx.operation.path][ctx.operation.method.lower()]
    return "429" in operation["responses"] and "security" not in operation


@hypothesis.settings(suppress_health_check=[hypothesis.HealthCheck.function_scoped_fixture])
@schema.include(answers_429_to_anyone).parametrize()
def test_rate_limit_answers_are_documented(case: schemathesis.Case, limited_app: FastAPI) -> None:
    first = case.call_and_validate(checks=CHECKS, app=limited_app)
    again = case.call_and_validate(checks=CHECKS, app=limited_app)
    # A request refused before the limiter counts it (another method; a body that does not
    # parse or validate) is not counted; any other is, and its repetition is over the limit.
    assert again.status_code == 429 or first.status_code in (400, 405, 413, 422), (first.text, again.text)
