"""The FastAPI app. Run it with `make run`, or `uvicorn --factory backend.main:create_app`."""

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from fastapi import FastAPI
from fastapi.middleware.cors import CORSMiddleware
from fastapi_users.exceptions import InvalidPasswordException
from pymongo import AsyncMongoClient
from uvicorn.middleware.proxy_headers import ProxyHeadersMiddleware

from backend.apps.auth.activity import SecurityEvent, security_log
from backend.apps.auth.activity_routes import get_activity_router
from backend.apps.auth.backend import build_auth
from backend.apps.auth.confirmation import CONFIRMATION_RESPONSES, Confirmation
from backend.apps.auth.csrf import CSRF_HEADER
from backend.apps.auth.discovery import get_discovery_router
from backend.apps.auth.linked_accounts import (
    OAuthAccount,
    delete_oauth_accounts_of,
    get_linked_accounts_router,
)
from backend.apps.auth.mfa import MfaTicket, SecondFactors, SecondFactorState
from backend.apps.auth.mfa_routes import get_mfa_admin_router, get_mfa_router
from backend.apps.auth.oauth import get_oauth_router, get_providers_router
from backend.apps.auth.passkey_routes import get_passkey_router
from backend.apps.auth.passkeys import Passkey, PasskeyChallenge, Passkeys
from backend.apps.auth.proofing import HolderProof, InboxProof, get_proofing_router
from backend.apps.auth.providers import build_providers
from backend.apps.auth.routers import get_auth_router
from backend.apps.auth.sessions import RefreshToken, Session, Sessions
from backend.apps.auth.sign_in_links import SignInLink, SignInLinks, get_sign_in_link_router
from backend.apps.todo.models import Task, TaskCount, delete_tasks_of
from backend.apps.todo.quota import TaskQuota
from backend.apps.todo.routers import get_todo_router
from backend.apps.user.email_change import EmailChange, EmailChanges, get_email_change_router
from backend.apps.user.emails import build_mailer
from backend.apps.user.manager import (
    AccountHooks,
    background_user_manager,
    ensure_superuser,
    user_manager_dependency,
)
from backend.apps.user.models import User
from backend.apps.user.routers import AccountAccess, add_user_error_handlers, get_users_router
from backend.apps.user.unverified import UnverifiedAccounts, UnverifiedPolicy
from backend.config import Settings, load_settings_or_exit
from backend.core.docs import add_docs
from backend.core.errors import add_error_handlers
from backend.core.hashing import HashingPool
from backend.core.health import get_health_router
from backend.core.limits import RequestBodyGuard
from backend.core.logs import configure_logging
from backend.core.openapi import document_errors
from backend.core.outbox import get_outbox_router
from backend.core.ratelimit import RateLimitCounter, RateLimiter
from backend.core.security_headers import SecurityHeadersMiddleware
from backend.core.spa import add_frontend
from backend.db import create_client, describe_url, init_db

logger = logging.getLogger(__name__)

DOCUMENT_MODELS = [
    User,
    Session,
    RefreshToken,
    SignInLink,
    OAuthAccount,
    SecondFactorState,
    MfaTicket,
    Passkey,
    PasskeyChallenge,
    EmailChange,
    SecurityEvent,
    RateLimitCounter,
    Task,
    TaskCount,
]


async def ping_database() -> None:
    await User.get_pymongo_collection().database.command("ping")


def create_app(
    settings: Settings | None = None, *, mongo_client: AsyncMongoClient[Any] | Any = None
) -> FastAPI:
    """Build the app. Tests pass their own settings and, for mongomock, their own client."""
    settings = settings or load_settings_or_exit()
    configure_logging(settings.log_level)
    mailer, outbox = build_mailer(settings)
    limiter = RateLimiter(settings.rate_limit_enabled)
    sessions = Sessions(settings)
    sign_in_links = SignInLinks(settings)
    passkeys = Passkeys(settings)
    second_factors = SecondFactors(settings, passkeys)
    email_changes = EmailChanges(mailer, security_log.record)
    providers = build_providers(settings)
    # Whoever proves an unproved address by its inbox becomes the only one in the account.
    inbox_proof = InboxProof(
        sessions,
        second_factors,
        sign_in_links,
        email_changes,
        mailer,
        {name: provider.label for name, provider in providers.items()},
    )
    # Deleting a user deletes what other apps keep of them: sessions, pending sign-in links,
    # second factors and passkeys, linked providers, tasks, a pending change of address, and
    # last the security log.
    hooks = AccountHooks(
        end_sessions=sessions.end_all,
        on_user_deleted=(
            sessions.forget_user,
            sign_in_links.forget_user,
            second_factors.forget_user,
            delete_oauth_accounts_of,
            delete_tasks_of,
            email_changes.forget_user,
            security_log.forget_user,
        ),
        record_event=security_log.record,
        inbox_proved=inbox_proof.claim,
    )
    # Every argon2 hash and verify runs here: a bounded pool, 503 beyond it (core/hashing.py).
    hashing = HashingPool.from_settings(settings)
    get_user_manager = user_manager_dependency(settings, mailer, hooks, hashing)
    auth = build_auth(settings, sessions, limiter, get_user_manager, mailer)
    unverified = UnverifiedAccounts(
        UnverifiedPolicy(settings), background_user_manager(settings, mailer, hooks, hashing)
    )

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        client = mongo_client or create_client(settings)
        try:
            await init_db(client[settings.mongodb_db], DOCUMENT_MODELS)
            await security_log.ensure_indexes(settings)  # its lifetime is a setting
            if settings.mongodb_url:
                logger.info(
                    "connected to %s, database %s", describe_url(settings.mongodb_url), settings.mongodb_db
                )
            if not settings.rate_limit_enabled:
                logger.warning(
                    "RATE_LIMIT_ENABLED=false: login, registration and refresh are not rate limited"
                )
            if passkeys.rp.unavailable_reason:
                logger.warning("passkeys are off: %s", passkeys.rp.unavailable_reason)
            if outbox is not None and not settings.is_development:
                logger.warning("SMTP_HOST is not set: account email stays in %s, undelivered", outbox.folder)
            await bootstrap_superuser()
            sweeping = asyncio.create_task(unverified.run())
            try:
                yield
            finally:
                sweeping.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await sweeping
        finally:
            await mailer.postman.drain()  # background work first: it may still hash
            await hashing.close()
            if mongo_client is None:
                await client.close()

    async def bootstrap_superuser() -> None:
        email, password = settings.first_superuser_email, settings.first_superuser_password
        if not (email and password):
            return
        try:
            if await ensure_superuser(settings, mailer, email, password.get_secret_value(), hashing=hashing):
                logger.info("created the first superuser %s", email)
        except InvalidPasswordException as exc:
            logger.error("FIRST_SUPERUSER_PASSWORD refused: %s", exc.reason)

    app = FastAPI(
        title="FARM Auth",
        summary="The FARM stack todo app with user accounts and Realm-structured JWTs.",
        lifespan=lifespan,
        docs_url=None,
        redoc_url=None,
    )
    app.state.unverified_accounts = unverified  # for tests and operators' scripts to sweep now
    add_error_handlers(app)
    add_user_error_handlers(app)
    add_docs(app)
    app.include_router(get_auth_router(auth, second_factors))
    confirmation = Confirmation(auth, second_factors, mailer)
    app.include_router(confirmation.router())
    app.include_router(get_mfa_router(auth, second_factors, confirmation, mailer))
    app.include_router(get_passkey_router(auth, passkeys, second_factors, confirmation, mailer))
    app.include_router(get_mfa_admin_router(auth, second_factors, mailer))
    if settings.sign_in_links_enabled:
        app.include_router(get_sign_in_link_router(auth, mailer, sign_in_links, second_factors, inbox_proof))
    holders = HolderProof(auth)
    app.include_router(get_proofing_router(auth, holders))
    app.include_router(get_discovery_router(auth.strategy.keys, settings.issuer, settings.base_url))
    app.include_router(get_providers_router(providers))
    if providers:  # nothing configured: no provider routes at all
        app.include_router(
            get_oauth_router(auth, providers, mailer, second_factors, confirmation, inbox_proof)
        )
        app.include_router(get_linked_accounts_router(auth, providers, mailer))
    access = AccountAccess(confirmation.confirmed_session, CONFIRMATION_RESPONSES, auth.cookies.clear)
    app.include_router(get_users_router(auth.fastapi_users, settings, limiter, access, email_changes))
    app.include_router(
        get_email_change_router(
            auth.fastapi_users,
            email_changes,
            settings,
            limiter,
            auth.fastapi_users.authenticator.authenticate,
            holders.require,
        )
    )
    app.include_router(get_activity_router(auth))
    if outbox is not None and settings.is_development:
        app.include_router(get_outbox_router(outbox))
    app.include_router(get_todo_router(auth.current_active_user, TaskQuota(settings.max_tasks_per_user)))

    app.include_router(get_health_router(ping_database))

    add_frontend(app, settings.frontend_dist)  # last: its fallback must not shadow the API
    # The schema names every status each route can answer (core/openapi.py): rate limits answer
    # 429; with REQUIRE_VERIFIED_LOGIN, the todo routes' user dependency answers 403.
    unverified_refused = [403] if settings.require_verified_login else []
    document_errors(app, {limiter: [429], auth.current_active_user: unverified_refused})

    # Outermost last: the client address is settled first, headers are added to every answer,
    # and a refused body (413, 422) still carries CORS headers a browser page can read.
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
    if settings.trusted_proxies:
        app.add_middleware(ProxyHeadersMiddleware, trusted_hosts=settings.trusted_proxies)
    return app
