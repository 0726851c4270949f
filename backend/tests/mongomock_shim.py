"""What mongomock-motor 0.0.36 lacks for Beanie 2 on PyMongo's async API. Test code only.

Beanie 2 calls `list_collection_names(authorizedCollections=True, nameOnly=True)` and awaits
`collection.aggregate(...)` (PyMongo's async API returns the cursor from a coroutine).
"""

from typing import Any

from mongomock_motor import AsyncLatentCommandCursor, AsyncMongoMockClient, AsyncMongoMockDatabase

_list_collection_names = AsyncMongoMockDatabase.list_collection_names


async def _list_collection_names_ignoring_options(
    self: AsyncMongoMockDatabase, filter: Any = None, session: Any = None, **_options: Any
) -> list[str]:
    return await _list_collection_names(self, filter=filter)


async def _itself(cursor: AsyncLatentCommandCursor) -> AsyncLatentCommandCursor:
    return cursor


def _await_cursor(cursor: AsyncLatentCommandCursor) -> Any:
    return _itself(cursor).__await__()


AsyncMongoMockDatabase.list_collection_names = _list_collection_names_ignoring_options  # type: ignore[method-assign]
AsyncLatentCommandCursor.__await__ = _await_cursor  # type: ignore[attr-defined]


def mongomock_client() -> AsyncMongoMockClient:
    return AsyncMongoMockClient(tz_aware=True)
