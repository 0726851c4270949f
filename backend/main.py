"""The FastAPI app. Run it with `make run`, or `uvicorn --factory backend.main:create_app`.

`modules()` is the list of what the app can do: each capability is one module (core/modules.py
says what a module tells the app), built from the kit and from the modules it builds on. This
file keeps the rest: the settings, the database's lifespan and the middleware.
"""

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from typing import Any

from fastapi import FastAPI
from fastapi.middleware.cors import CORSMiddleware
from pymongo import AsyncMongoClient, IndexModel

from backend.apps.auth.activity.module import ActivityModule
from backend.apps.auth.flows.module import FlowsModule
from backend.apps.auth.methods.passkeys.module import PasskeysMethod
from backend.apps.auth.methods.password.module import PasswordMethod
from backend.apps.auth.methods.providers.module import ProvidersMethod
from backend.apps.auth.methods.recovery_codes.module import RecoveryCodesMethod
from backend.apps.auth.methods.sign_in_links.module import SignInLinksMethod
from backend.apps.auth.methods.totp.module import TotpMethod
from backend.apps.auth.sessions.csrf import CSRF_HEADER
from backend.apps.auth.sessions.module import SessionsModule
from backend.apps.auth.tokens.module import TokensModule
from backend.apps.todo.module import TodoModule
from backend.apps.user.models import User
from backend.apps.user.module import UserModule
from backend.config import Settings, load_settings_or_exit
from backend.core.docs import add_docs
from backend.core.errors import add_error_handlers
from backend.core.head import HeadAsGetMiddleware
from backend.core.health import HealthModule
from backend.core.kit import Kit
from backend.core.limits import RequestBodyGuard
from backend.core.logs import configure_logging
from backend.core.mail.delivery import MailQueueModule
from backend.core.mail.dev_mailbox import DevMailboxModule
from backend.core.migrations import MIGRATE_COMMAND, DataMigration, Schema, declared_indexes
from backend.core.modules import Module, documents_of
from backend.core.openapi import document_errors
from backend.core.proxies import ForwardedHeadersMiddleware
from backend.core.ratelimit import RateLimitCounter
from backend.core.security_headers import SecurityHeadersMiddleware
from backend.core.spa import add_frontend
from backend.db import create_client, describe_url, init_db

logger = logging.getLogger(__name__)


async def ping_database() -> None:
    await User.get_pymongo_collection().database.command("ping")


def modules(kit: Kit) -> list[Module]:
    """Every capability of the app, each built from what it builds on. Their order is the order
    of their routes; users are forgotten in the reverse order (core/modules.py)."""
    user = UserModule(kit)
    tokens = TokensModule(kit)
    activity = ActivityModule(kit, user)
    sessions = SessionsModule(kit, user, tokens, activity)
    flows = FlowsModule(kit, user, sessions, activity)
    return [
        user,
        tokens,
        activity,
        sessions,
        flows,
        PasswordMethod(kit, user, sessions, flows),
        SignInLinksMethod(kit, user, sessions, flows),
        ProvidersMethod(kit, user, sessions, flows, activity),
        # Second factors, in the order of the proofs' fields: code, recovery_code, passkey.
        TotpMethod(kit, flows),
        RecoveryCodesMethod(kit, flows),
        PasskeysMethod(kit, flows),
        TodoModule(kit, sessions.current_active_user),
        DevMailboxModule(kit.mailbox, kit.settings),
        MailQueueModule(kit.postman),
        HealthModule(ping_database, kit.proxies.warnings, kit.schema.blockers),
    ]


def document_models(built: Sequence[Module]) -> list[Any]:
    """The collections of the app: every module's, and the rate limits' (core)."""
    return [*documents_of(built), RateLimitCounter]


def schema_of(built: Sequence[Module]) -> tuple[dict[str, list[IndexModel]], list[DataMigration]]:
    """What `manage migrate` makes and start-up checks: every index, every data migration."""
    extra = [index for module in built for index in module.indexes()]
    migrations = [migration for module in built for migration in module.migrations()]
    return declared_indexes(document_models(built), extra), migrations


async def prepare_database(settings: Settings, schema: Schema) -> None:
    """Development builds what is missing itself (zero steps for `make run` and the tests);
    production only checks, and is not ready until `manage migrate` has run (core/migrations.py)."""
    if settings.is_development:
        done = await schema.migrate(say=lambda line: None)
        if done:  # a fresh database: every index; later, what changed
            logger.info(
                "development: ran `%s` at start-up: %s",
                MIGRATE_COMMAND,
                "; ".join(done) if len(done) <= 3 else f"{len(done)} changes, {done[0]}, ...",
            )
        return
    if problems := await schema.problems():
        logger.error(
            "the database is not migrated (%s); not ready until `%s` has run",
            "; ".join(problems),
            MIGRATE_COMMAND,
        )


def create_app(
    settings: Settings | None = None, *, mongo_client: AsyncMongoClient[Any] | Any = None
) -> FastAPI:
    """Build the app. Tests pass their own settings and, for mongomock, their own client."""
    settings = settings or load_settings_or_exit()
    configure_logging(settings.log_level)
    kit = Kit.from_settings(settings)
    built = modules(kit)
    for module in built:
        module.joined(built)
    kit.schema.declared, kit.schema.migrations = schema_of(built)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        client = mongo_client or create_client(settings)
        tasks: list[asyncio.Task[None]] = []
        try:
            database = client[settings.mongodb_db]
            await init_db(database, document_models(built))
            kit.schema.database = database
            await prepare_database(settings, kit.schema)
            if settings.mongodb_url:
                logger.info(
                    "connected to %s, database %s", describe_url(settings.mongodb_url), settings.mongodb_db
                )
            if not settings.rate_limit_enabled:
                logger.warning(
                    "RATE_LIMIT_ENABLED=false: login, registration and refresh are not rate limited"
                )
            for module in built:
                await module.startup()
            tasks = [asyncio.create_task(job()) for module in built for job in module.background()]
            yield
        finally:
            for task in tasks:
                task.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await task
            await kit.postman.drain()  # background work first: it may still hash
            await kit.hashing.close()
            if mongo_client is None:
                await client.close()

    app = FastAPI(
        title="FARM Auth",
        summary="The FARM stack todo app with user accounts and Realm-structured JWTs.",
        lifespan=lifespan,
        docs_url=None,
        redoc_url=None,
    )
    # For tests and operators' scripts: the modules by name, and every collection.
    app.state.modules = {module.name: module for module in built}
    app.state.document_models = document_models(built)
    app.state.schema = kit.schema  # what `manage migrate` makes (core/migrations.py)
    add_error_handlers(app)
    add_docs(app)
    for module in built:
        for exception, handler in module.exception_handlers().items():
            app.add_exception_handler(exception, handler)
        for router in module.routers():
            app.include_router(router)
    add_frontend(app, settings.frontend_dist)  # last: its fallback must not shadow the API
    # The schema names every status each route can answer (core/openapi.py): rate limits answer
    # 429, and each module says what its dependencies answer.
    documented = {kit.limiter: [429]}
    for module in built:
        documented |= module.documented_errors()
    document_errors(app, documented)

    # Outermost last: the client address is settled first, a HEAD runs as a GET through the rest
    # (its body dropped), headers are added to every answer, and a refused body (413, 422) still
    # carries CORS headers a browser page can read.
    app.add_middleware(RequestBodyGuard, max_bytes=settings.max_body_bytes)
    app.add_middleware(
        CORSMiddleware,
        allow_origins=settings.cors_origins,  # never "*": credentials are allowed
        allow_credentials=True,
        allow_methods=["GET", "POST", "PUT", "PATCH", "DELETE"],
        allow_headers=["Authorization", "Content-Type", CSRF_HEADER],
        expose_headers=["Link", "Retry-After"],  # the next page of tasks; when to retry a 429/503
    )
    app.add_middleware(SecurityHeadersMiddleware, hsts=settings.cookie_secure)
    app.add_middleware(HeadAsGetMiddleware)
    # Always there: with no TRUSTED_PROXIES it believes no header, and says once who sent one.
    app.add_middleware(ForwardedHeadersMiddleware, trusted=kit.proxies.trusted, notice=kit.proxies)
    return app
