"""The MongoDB client and Beanie initialisation."""

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
    )


def describe_url(url: str) -> str:
    """The scheme and hosts of a connection string, without credentials, for log lines."""
    scheme, _, rest = url.partition("://")
    hosts = rest.split("/", 1)[0].split("?", 1)[0].rsplit("@", 1)[-1]
    return f"{scheme}://{hosts}"


async def init_db(database: Any, document_models: Sequence[type[Document]]) -> None:
    await init_beanie(database=database, document_models=list(document_models))
