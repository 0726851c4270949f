"""The MongoDB client and Beanie initialisation.

Replica-set semantics are decided here, in code, not left to whatever the connection string
says (keyword options win over the URL's): every write waits for a majority of the replica set
(`w="majority"`), so a failover cannot roll back a used one-time token, a claimed refresh token,
a logout or a rate-limit count that was already acknowledged; every read goes to the primary, so
a revocation is seen by the very next request (a secondary may lag). Read concern stays the
server's default ("local"): what the app itself wrote and read back was acknowledged by a
majority already. On a standalone server (the embedded database, a local mongod) all of this is
what it does anyway.
"""

from collections.abc import Sequence
from typing import Any

from beanie import Document, init_beanie
from pymongo import AsyncMongoClient

from backend.config import Settings


def create_client(settings: Settings) -> AsyncMongoClient[dict[str, Any]]:
    if not settings.mongodb_url:
        raise RuntimeError("MONGODB_URL is not set; `make run` starts the embedded database")
    timeout = settings.mongodb_timeout_ms
    return AsyncMongoClient(
        settings.mongodb_url,
        tz_aware=True,
        appname="farm-auth",
        # Fail fast while the database is away (the API answers 503) instead of hanging.
        serverSelectionTimeoutMS=timeout,
        connectTimeoutMS=timeout,
        w="majority",
        readPreference="primary",
        retryWrites=True,
        retryReads=True,
    )


def describe_url(url: str) -> str:
    """The scheme and hosts of a connection string, without credentials, for log lines."""
    scheme, _, rest = url.partition("://")
    hosts = rest.split("/", 1)[0].split("?", 1)[0].rsplit("@", 1)[-1]
    return f"{scheme}://{hosts}"


async def init_db(database: Any, document_models: Sequence[type[Document]]) -> None:
    """Beanie's models bound to `database`; no index is built here: `manage migrate` builds
    them (core/migrations.py), and start-up only checks that they are there."""
    await init_beanie(database=database, document_models=list(document_models), skip_indexes=True)
