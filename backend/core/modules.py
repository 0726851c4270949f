"""Modules: each capability of the app is one, and main.py lists them.

A module is built from the `Kit` (kit.py: the settings and what every module shares: mail
delivery, rate limits, the hashing pool) and from the modules it builds on, handed to it by
name, and registers with them if it serves them (a second factor with the sign-in flow, say).
Then `Module` says all the app needs to know of it:

- `documents`: its Beanie document models (their collections and indexes);
- `indexes()`: indexes whose options are settings (a TTL lifetime), beside its models';
  `migrations()`: its data migrations. `manage migrate` makes both (core/migrations.py);
- `routers()`: its routes, built from what it holds; asked once every module is built, so the
  routes of a module see all that registered with it;
- `forget_user(user_id)`: what it deletes when a user is deleted. Modules forget in the reverse
  order of the list, so what builds on others goes first and the foundations (the security log)
  last; a module that fails leaves data of a user who is gone, never a user whose data is gone;
- `remove_ways_in(user_id)`: what it removes when the owner of an address that was never proved
  takes the account back (apps/auth/flows/verification.py): its ways into the account, in words;
- `startup()`: checks and warnings, once the database is ready (never an index: migrate);
  `background()`: jobs that run while the app does;
- `documented_errors()`: the statuses its dependencies can answer, for the OpenAPI document;
  `exception_handlers()`: the answers to exceptions of its own that reach the app;
- `joined(modules)`: once every module is built, the whole list, for a module that serves all
  the others (the user module runs every `forget_user` when a user is deleted).
"""

from collections.abc import Awaitable, Callable, Sequence
from typing import Any, ClassVar

from beanie import Document, PydanticObjectId
from fastapi import APIRouter
from pymongo import IndexModel

from backend.core.migrations import DataMigration


class Module:
    """A capability of the app. Every method has a default: a module says only what it has."""

    name: ClassVar[str]
    documents: ClassVar[Sequence[type[Document]]] = ()

    def routers(self) -> Sequence[APIRouter]:
        return ()

    def indexes(self) -> Sequence[tuple[type[Document], IndexModel]]:
        return ()

    def migrations(self) -> Sequence[DataMigration]:
        return ()

    async def forget_user(self, user_id: PydanticObjectId) -> None:
        return None

    async def remove_ways_in(self, user_id: PydanticObjectId) -> list[str]:
        return []

    async def startup(self) -> None:
        return None

    def background(self) -> Sequence[Callable[[], Awaitable[None]]]:
        return ()

    def documented_errors(self) -> dict[Callable[..., Any], list[int]]:
        return {}

    def exception_handlers(self) -> dict[type[Exception], Callable[..., Awaitable[Any]]]:
        return {}

    def joined(self, modules: Sequence["Module"]) -> None:
        return None


def documents_of(modules: Sequence[Module]) -> list[type[Document]]:
    return [document for module in modules for document in module.documents]
