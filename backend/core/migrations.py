"""The database's shape: the indexes every collection needs and the data migrations, made by
`python -m backend.manage migrate` and only checked at start-up.

Building an index on a large collection takes a while and holds resources; done at every start
of every instance, a new index stalls each of them. So `migrate` does it once, outside start-up:

- every declared index (each document model's `Settings.indexes`, and those whose options are
  settings, such as the security log's lifetime, from `Module.indexes()`): a missing one is
  created; one whose TTL lifetime differs is changed in place (`collMod`); one whose keys or
  other options differ is dropped and created again. Indexes nobody declares are left alone;
- every data migration (`Module.migrations()`) not yet recorded in the `migrations` collection
  (`{_id, applied_at}`) runs, in order, and is recorded;
- all of it under a lock document in that collection (`_id: "~lock"`, a lease renewed while the
  run lasts), so two machines running it at once take turns; the second finds nothing to do.

At start-up, production only checks (`problems()`): each missing or different index and each
data migration not applied is named, logged, and `/health/ready` answers 503 with them and
"run `python -m backend.manage migrate`" until they are fixed (core/health.py). The app still
starts and answers: its routes work, slower without an index. Development runs `migrate` at
start-up itself (main.py), so `make run`, `make dev` and the tests need no step.
"""

import asyncio
import contextlib
import logging
import socket
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

from beanie import Document
from pymongo import IndexModel
from pymongo.errors import DuplicateKeyError, OperationFailure

from backend.core.clock import utcnow

logger = logging.getLogger(__name__)

MIGRATE_COMMAND = "python -m backend.manage migrate"
MIGRATIONS = "migrations"
LOCK_ID = "~lock"  # no migration id starts with "~"
LOCK_LEASE = timedelta(minutes=2)  # renewed every LOCK_RENEW_SECONDS while a run lasts
LOCK_RENEW_SECONDS = 30
LOCK_WAIT_SECONDS = 3600  # how long a second run waits for the first before giving up
RECHECK_SECONDS = 10  # how often a production instance that is not ready looks again

Database = Any  # pymongo's AsyncDatabase, or mongomock's in the tests


@dataclass(frozen=True)
class DataMigration:
    """A change to stored data, run once by `migrate`. `run` must be safe to run again: a run
    that crashed after it but before it was recorded runs it once more."""

    id: str  # never reused: "2026-12-tasks-owner-id", say
    description: str
    run: Callable[[Database], Awaitable[None]]


@dataclass(frozen=True)
class Problem:
    collection: str
    index: str
    difference: str  # "missing", or what differs ("expireAfterSeconds 7776000, not 604800")

    def __str__(self) -> str:
        return f"{self.collection}: index {self.index} {self.difference}"


def collection_name(model: type[Document]) -> str:
    """As Beanie names it (before the models are bound to a database)."""
    return getattr(model.Settings, "name", None) or model.__name__


def declared_indexes(
    models: Sequence[type[Document]], extra: Sequence[tuple[type[Document], IndexModel]] = ()
) -> dict[str, list[IndexModel]]:
    """Every index the app needs, by collection: the models' own and those made from settings."""
    declared: dict[str, list[IndexModel]] = {}
    for model in models:
        indexes = declared.setdefault(collection_name(model), [])
        for index in getattr(model.Settings, "indexes", []):
            if not isinstance(index, IndexModel):  # the app names every index; Beanie's shorthand has none
                raise TypeError(f"{model.__name__}: declare indexes as pymongo IndexModel, not {index!r}")
            indexes.append(index)
    for model, index in extra:
        declared.setdefault(collection_name(model), []).append(index)
    return declared


def difference(wanted: dict[str, Any], found: dict[str, Any]) -> str:
    """What differs between a declared index and the one the server has, in the options that
    change what it does ("" when nothing does)."""
    differs = []
    if list(dict(found["key"]).items()) != list(dict(wanted["key"]).items()):
        differs.append(f"keys {dict(found['key'])}, not {dict(wanted['key'])}")
    for option in ("unique", "sparse"):
        if bool(found.get(option)) != bool(wanted.get(option)):
            differs.append(f"{option} {bool(found.get(option))}, not {bool(wanted.get(option))}")
    if found.get("expireAfterSeconds") != wanted.get("expireAfterSeconds"):
        differs.append(
            f"expireAfterSeconds {found.get('expireAfterSeconds')}, not {wanted.get('expireAfterSeconds')}"
        )
    if found.get("partialFilterExpression") != wanted.get("partialFilterExpression"):
        differs.append("partialFilterExpression")
    # A server reports every field of a collation, defaults included: compare those declared.
    wanted_collation, found_collation = wanted.get("collation") or {}, found.get("collation") or {}
    if any(found_collation.get(name) != value for name, value in wanted_collation.items()):
        differs.append(f"collation {found_collation or None}, not {wanted_collation}")
    return "; ".join(differs)


async def _found_indexes(database: Database, collection: str) -> dict[str, dict[str, Any]]:
    """The collection's indexes by name, with their options (none for a collection not made yet)."""
    return {name: dict(index) for name, index in (await database[collection].index_information()).items()}


async def index_problems(database: Database, declared: dict[str, list[IndexModel]]) -> list[Problem]:
    problems = []
    for collection, indexes in declared.items():
        found = await _found_indexes(database, collection)
        for index in indexes:
            wanted = index.document
            existing = found.get(wanted["name"])
            if existing is None:
                problems.append(Problem(collection, wanted["name"], "missing"))
            elif differs := difference(wanted, existing):
                problems.append(Problem(collection, wanted["name"], f"differs: {differs}"))
    return problems


async def pending_migrations(database: Database, migrations: Sequence[DataMigration]) -> list[DataMigration]:
    if not migrations:
        return []
    ids = [migration.id for migration in migrations]
    done = {record["_id"] async for record in database[MIGRATIONS].find({"_id": {"$in": ids}}, {"_id": 1})}
    return [migration for migration in migrations if migration.id not in done]


@dataclass
class Schema:
    """What this app needs of its database, and whether it has it (for start-up and readiness)."""

    declared: dict[str, list[IndexModel]]
    migrations: Sequence[DataMigration] = ()
    database: Database = None
    missing: list[str] = field(default_factory=list)  # what the last check found, in words
    checked_at: float = 0.0

    async def problems(self) -> list[str]:
        """Every index missing or different and every data migration not applied, in words."""
        found = [str(problem) for problem in await index_problems(self.database, self.declared)]
        found += [
            f"data migration {migration.id} not applied"
            for migration in await pending_migrations(self.database, self.migrations)
        ]
        self.missing, self.checked_at = found, asyncio.get_running_loop().time()
        return found

    async def blockers(self) -> list[str]:
        """For readiness: what the last check found, looked at again every RECHECK_SECONDS while
        something is missing (an operator runs migrate; the instance becomes ready by itself)."""
        if self.missing and asyncio.get_running_loop().time() - self.checked_at >= RECHECK_SECONDS:
            await self.problems()
        return self.missing

    async def migrate(self, say: Callable[[str], None] = print) -> list[str]:
        """Build what is missing and run what is pending; returns what it did, in words."""
        self.missing = []
        return await migrate(self.database, self.declared, self.migrations, say)


async def migrate(
    database: Database,
    declared: dict[str, list[IndexModel]],
    migrations: Sequence[DataMigration],
    say: Callable[[str], None] = print,
) -> list[str]:
    done: list[str] = []

    def did(what: str) -> None:
        done.append(what)
        say(what)

    async with _lock(database, say):
        problems = await index_problems(database, declared)
        for collection in declared:  # what is missing, in one createIndexes per collection
            if missing := [
                p.index for p in problems if p.collection == collection and p.difference == "missing"
            ]:
                await database[collection].create_indexes(
                    [index for index in declared[collection] if index.document["name"] in missing]
                )
                for name in missing:
                    did(f"created index {name} on {collection}")
        for problem in problems:
            if problem.difference == "missing":
                continue
            index = next(i for i in declared[problem.collection] if i.document["name"] == problem.index)
            how = await _fix(database[problem.collection], index)
            why = problem.difference.removeprefix("differs: ")
            did(f"{how} index {problem.index} on {problem.collection} ({why})")
        for migration in await pending_migrations(database, migrations):
            await migration.run(database)
            await database[MIGRATIONS].insert_one({"_id": migration.id, "applied_at": utcnow()})
            did(f"applied data migration {migration.id}: {migration.description}")
    return done


async def _fix(collection: Any, index: IndexModel) -> str:
    """Makes an index that differs what it is declared to be; says how ("changed", "rebuilt")."""
    wanted = index.document
    found = (await _found_indexes(collection.database, collection.name))[wanted["name"]]
    only_lifetime = difference({**wanted, "expireAfterSeconds": found.get("expireAfterSeconds")}, found) == ""
    if only_lifetime and "expireAfterSeconds" in found and "expireAfterSeconds" in wanted:
        try:  # a TTL lifetime changes in place: no rebuild
            await collection.database.command(
                {
                    "collMod": collection.name,
                    "index": {"name": wanted["name"], "expireAfterSeconds": wanted["expireAfterSeconds"]},
                }
            )
            return "changed"
        except (OperationFailure, NotImplementedError):  # a server without collMod (mongomock)
            pass
    await collection.drop_index(wanted["name"])
    await collection.create_indexes([index])
    return "rebuilt"


@contextlib.asynccontextmanager
async def _lock(database: Database, say: Callable[[str], None]) -> AsyncIterator[None]:
    """One migrate at a time across machines: a lock document whose lease the holder renews; a
    holder that died stops renewing, and the next run takes the lock once the lease is over."""
    collection = database[MIGRATIONS]
    holder = f"{socket.gethostname()}:{uuid.uuid4().hex[:8]}"
    loop = asyncio.get_running_loop()
    deadline, waiting = loop.time() + LOCK_WAIT_SECONDS, False
    while True:
        now = utcnow()
        lock = {"holder": holder, "until": now + LOCK_LEASE}
        try:
            await collection.insert_one({"_id": LOCK_ID, **lock})
            break
        except DuplicateKeyError:
            if await collection.find_one_and_update({"_id": LOCK_ID, "until": {"$lt": now}}, {"$set": lock}):
                break  # its holder died: the lease is over
        if not waiting:
            say("another migrate is running; waiting for it to finish")
            waiting = True
        if loop.time() > deadline:
            raise TimeoutError(f"another migrate held the lock for {LOCK_WAIT_SECONDS} s; not run")
        await asyncio.sleep(0.1)

    async def renew() -> None:
        while True:
            await asyncio.sleep(LOCK_RENEW_SECONDS)
            await collection.update_one(
                {"_id": LOCK_ID, "holder": holder}, {"$set": {"until": utcnow() + LOCK_LEASE}}
            )

    renewing = asyncio.create_task(renew())
    try:
        yield
    finally:
        renewing.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await renewing
        await collection.delete_one({"_id": LOCK_ID, "holder": holder})
