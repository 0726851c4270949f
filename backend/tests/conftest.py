"""Every test runs twice: on mongomock-motor in-process and on a real MongoDB-wire server.

The wire server is SecantusDB started once per session on a free port with in-memory storage,
or whatever `TEST_MONGODB_URL` points at. Each test gets a database of its own.
"""

import dataclasses
import os
import uuid
from collections.abc import AsyncIterator, Callable, Iterator
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from dataclasses import dataclass, field
from typing import Any

import pytest
from asgi_lifespan import LifespanManager
from fastapi import FastAPI
from fastapi_users.password import PasswordHelper
from httpx import ASGITransport, AsyncClient, Request
from pwdlib import PasswordHash
from pwdlib.hashers.argon2 import Argon2Hasher
from pymongo import AsyncMongoClient, MongoClient

from backend.apps.user.passwords import get_password_helper
from backend.config import Settings
from backend.core.embedded_db import EmbeddedDatabase, find_binary
from backend.main import create_app
from backend.tests.mongomock_shim import mongomock_client
from backend.tests.oidc import oidc_provider  # noqa: F401  (the session's OpenID provider)

# The developer's shell (direnv) must not leak into tests.
for _name in [*Settings.model_fields, "db_url", "db_name"]:
    os.environ.pop(_name.upper(), None)

TEST_SECRET = "test-secret-0123456789-abcdefghijklmnopqrstuvwxyz"
TEST_APP_ID = "farm-auth-test-abcde"
BASE_URL = "https://test"


def fast_password_helper() -> PasswordHelper:
    """Real argon2id at a low cost: the production parameters would make the suite crawl."""
    return PasswordHelper(PasswordHash((Argon2Hasher(time_cost=1, memory_cost=1024, parallelism=1),)))


@pytest.fixture(scope="session")
def wire_url() -> Iterator[str]:
    if url := os.environ.get("TEST_MONGODB_URL"):
        yield url
        return
    with EmbeddedDatabase(
        find_binary(Settings(environment="development").embedded_db_bin), ":memory:"
    ) as database:
        yield database.url


@pytest.fixture(params=["mongomock", "wire"])
def backend(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@dataclass
class Server:
    """A running app (lifespan started) and a way to open clients with their own cookie jars."""

    app: FastAPI
    settings: Settings
    mongo_client: Any = None  # the client handed to the app, if the test made one
    asgi: Any = None  # the app as the lifespan manager wraps it, with its state
    clients: list[AsyncClient] = field(default_factory=list)

    def client(self, *, csrf: bool = True, **kwargs: Any) -> AsyncClient:
        """A client with its own cookie jar. With `csrf`, it echoes the FARM_csrf cookie in the
        X-CSRF-Token header as the frontend and Swagger UI do; tests of CSRF itself turn it off."""
        client = AsyncClient(transport=ASGITransport(self.asgi), base_url=BASE_URL, **kwargs)
        if csrf:

            async def add_csrf_header(request: Request) -> None:
                if token := client.cookies.get("FARM_csrf"):
                    request.headers.setdefault("X-CSRF-Token", token)

            client.event_hooks["request"].append(add_csrf_header)
        self.clients.append(client)
        return client


ServerFactory = Callable[..., AbstractAsyncContextManager[Server]]


@pytest.fixture
def make_server(
    request: pytest.FixtureRequest, backend: str, tmp_path_factory: pytest.TempPathFactory
) -> ServerFactory:
    """Start an app with settings overrides: `async with make_server(jwt_lifetime_seconds=5)`.

    `share_with=other` starts a second app (think: another worker) on the other's database;
    `mongo_client=` hands the app a client the test made (say, with a command listener).
    A production app finds its database migrated, as an operator's would be, unless `migrated=False`
    (development migrates at start-up itself).
    """

    @asynccontextmanager
    async def start(
        *,
        fast_hashing: bool = True,
        migrated: bool = True,
        share_with: Server | None = None,
        mongo_client: Any = None,
        **overrides: Any,
    ) -> AsyncIterator[Server]:
        database = share_with.settings.mongodb_db if share_with else f"test_{uuid.uuid4().hex[:12]}"
        client: Any = mongo_client
        if backend == "mongomock":
            client = share_with.mongo_client if share_with else mongomock_client()
            overrides.setdefault("mongodb_url", None)
        else:
            overrides.setdefault("mongodb_url", request.getfixturevalue("wire_url"))
            overrides.setdefault("mongodb_timeout_ms", 1000)
        overrides.setdefault(
            "data_dir", share_with.settings.data_dir if share_with else tmp_path_factory.mktemp("data")
        )
        overrides.setdefault("public_url", "https://farm.test")
        overrides.setdefault("frontend_dist", tmp_path_factory.mktemp("no-frontend-build"))
        overrides.setdefault("mail_retry_delay_seconds", 0.05)
        overrides.setdefault("environment", "development")
        overrides.setdefault("realm_app_id", TEST_APP_ID)
        overrides.setdefault("jwt_secret_key", TEST_SECRET)
        settings = Settings(mongodb_db=database, **overrides)
        app = create_app(settings, mongo_client=client)
        if fast_hashing:
            app.dependency_overrides[get_password_helper] = fast_password_helper
        server = Server(app, settings, mongo_client=client)
        try:
            if migrated and not settings.is_development:
                await run_migrate(app, client, settings)
            async with LifespanManager(app, startup_timeout=30, shutdown_timeout=30) as manager:
                server.asgi = manager.app
                yield server
                for http_client in server.clients:
                    await http_client.aclose()
        finally:
            if settings.mongodb_url and share_with is None:
                with MongoClient(settings.mongodb_url) as sync_client:
                    sync_client.drop_database(database)

    return start


async def run_migrate(app: FastAPI, client: Any, settings: Settings) -> None:
    """`manage migrate` on the app's database, before the app starts."""
    own = client is None
    client = client or AsyncMongoClient(settings.mongodb_url, tz_aware=True)
    try:
        await dataclasses.replace(app.state.schema, database=client[settings.mongodb_db]).migrate(say=print)
    finally:
        if own:
            await client.close()


@pytest.fixture
async def server(make_server: ServerFactory) -> AsyncIterator[Server]:
    async with make_server() as running:
        yield running


@pytest.fixture
def client(server: Server) -> AsyncClient:
    return server.client()
