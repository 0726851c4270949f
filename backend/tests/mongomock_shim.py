"""What mongomock-motor 0.0.36 lacks for Beanie 2 on PyMongo's async API. Test code only.

Beanie 2 calls `list_collection_names(authorizedCollections=True, nameOnly=True)` and awaits
`collection.aggregate(...)` (PyMongo's async API returns the cursor from a coroutine).
`create_indexes` drops an IndexModel's partial filter and collation: they are kept, so the start-up
check of indexes (core/migrations.py) sees what it declared (mongomock still ignores both).
`$unionWith` (MongoDB 4.4), which the second-factor read uses, is not one of its stages: it is
added, running the sub-pipeline on the other collection as MongoDB does.
"""

from typing import Any

from mongomock import aggregate
from mongomock.collection import Collection
from mongomock_motor import AsyncLatentCommandCursor, AsyncMongoMockClient, AsyncMongoMockDatabase
from pymongo import IndexModel

_list_collection_names = AsyncMongoMockDatabase.list_collection_names


async def _list_collection_names_ignoring_options(
    self: AsyncMongoMockDatabase, filter: Any = None, session: Any = None, **_options: Any
) -> list[str]:
    return await _list_collection_names(self, filter=filter)


async def _itself(cursor: AsyncLatentCommandCursor) -> AsyncLatentCommandCursor:
    return cursor


def _await_cursor(cursor: AsyncLatentCommandCursor) -> Any:
    return _itself(cursor).__await__()


def _create_indexes_keeping_options(
    self: Collection, indexes: list[IndexModel], session: Any = None, **_options: Any
) -> list[str]:
    names = []
    for index in indexes:
        document = index.document
        name = self.create_index(
            list(document["key"].items()),
            session=session,
            name=document["name"],
            unique=document.get("unique", False),
            sparse=document.get("sparse", False),
            expireAfterSeconds=document.get("expireAfterSeconds"),
            partialFilterExpression=document.get("partialFilterExpression"),
        )
        if "collation" in document:
            self._store.indexes[name]["collation"] = dict(document["collation"])
        names.append(name)
    return names


def _union_with(in_collection: list[dict[str, Any]], database: Any, options: Any) -> list[dict[str, Any]]:
    if isinstance(options, str):
        options = {"coll": options}
    other = database.get_collection(options["coll"])
    return in_collection + list(other.aggregate(options.get("pipeline", [])))


aggregate._PIPELINE_HANDLERS["$unionWith"] = _union_with
Collection.create_indexes = _create_indexes_keeping_options  # type: ignore[method-assign]
AsyncMongoMockDatabase.list_collection_names = _list_collection_names_ignoring_options  # type: ignore[method-assign]
AsyncLatentCommandCursor.__await__ = _await_cursor  # type: ignore[attr-defined]


def mongomock_client() -> AsyncMongoMockClient:
    return AsyncMongoMockClient(tz_aware=True)
