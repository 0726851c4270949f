"""`manage migrate` builds the indexes and runs the data migrations once; a production start only
checks them, and is not ready (saying what to run) until they are there."""

import asyncio
import dataclasses
import logging
import subprocess
import sys
from typing import Any

import pytest
from pymongo import AsyncMongoClient

from backend.config import REPO_ROOT
from backend.core import migrations
from backend.core.clock import utcnow
from backend.core.migrations import LOCK_ID, MIGRATIONS, DataMigration, Schema
from backend.tests.conftest import Server, ServerFactory

PRODUCTION = {"environment": "production", "realm_app_id": "application-0-abcde"}


def schema_of(server: Server) -> Schema:
    return dataclasses.replace(server.app.state.schema, database=database_of(server))


def database_of(server: Server) -> Any:
    return server.app.state.schema.database


async def test_a_production_start_on_a_database_without_indexes_is_not_ready_and_says_what_to_run(
    make_server: ServerFactory, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    monkeypatch.setattr(migrations, "RECHECK_SECONDS", 0)
    caplog.set_level(logging.INFO)
    async with make_server(migrated=False, **PRODUCTION) as server:
        client = server.client()
        assert "not migrated" in caplog.text and "python -m backend.manage migrate" in caplog.text
        # Nothing was built at start-up: only the _id index, if the collection exists at all.
        assert set(await database_of(server)["users"].index_information()) <= {"_id_"}

        response = await client.get("/health/ready")
        assert response.status_code == 503
        assert response.headers["retry-after"]
        detail = response.json()["detail"]
        assert detail["code"] == "MIGRATION_NEEDED"
        assert detail["reason"].startswith("run `python -m backend.manage migrate`: ")
        assert "users: index case_insensitive_email_index missing" in detail["reason"]
        assert "mail_queue: index due missing" in detail["reason"]
        assert (await client.get("/health/live")).status_code == 200

        done = await schema_of(server).migrate(say=lambda line: None)
        assert "created index case_insensitive_email_index on users" in done
        response = await client.get("/health/ready")
        assert response.status_code == 200, response.text
        assert await schema_of(server).migrate(say=lambda line: None) == []  # twice: nothing to do


async def test_a_changed_ttl_setting_differs_until_migrate_changes_it_in_place(
    make_server: ServerFactory, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(migrations, "RECHECK_SECONDS", 0)
    async with make_server(**PRODUCTION) as first:  # migrated with the default 90 days
        assert (await first.client().get("/health/ready")).status_code == 200
        async with make_server(
            share_with=first, migrated=False, security_log_retention_days=7, **PRODUCTION
        ) as server:
            response = await server.client().get("/health/ready")
            assert response.status_code == 503
            assert (
                "security_events: index expiry differs: expireAfterSeconds 7776000, not 604800"
                in response.json()["detail"]["reason"]
            )
            done = await schema_of(server).migrate(say=lambda line: None)
            assert done == [
                f"{'changed' if server.settings.mongodb_url else 'rebuilt'} index expiry on security_events "
                "(expireAfterSeconds 7776000, not 604800)"
            ]
            expiry = (await database_of(server)["security_events"].index_information())["expiry"]
            assert expiry["expireAfterSeconds"] == 7 * 86400
            assert (await server.client().get("/health/ready")).status_code == 200


async def test_data_migrations_run_once_and_are_recorded(make_server: ServerFactory) -> None:
    runs: list[str] = []

    async def backfill(database: Any) -> None:
        runs.append("backfill")
        await database["tasks"].update_many({"done": {"$exists": False}}, {"$set": {"done": False}})

    migration = DataMigration("2026-12-test-backfill", "every task gets done=false", backfill)
    async with make_server(**PRODUCTION) as server:
        schema = dataclasses.replace(schema_of(server), migrations=[migration])
        assert await schema.problems() == ["data migration 2026-12-test-backfill not applied"]
        assert await schema.migrate(say=lambda line: None) == [
            "applied data migration 2026-12-test-backfill: every task gets done=false"
        ]
        assert await schema.migrate(say=lambda line: None) == []
        assert runs == ["backfill"]
        record = await database_of(server)[MIGRATIONS].find_one({"_id": migration.id})
        assert record is not None and record["applied_at"] is not None
        assert await schema.problems() == []
        assert await database_of(server)[MIGRATIONS].find_one({"_id": LOCK_ID}) is None  # released


async def test_two_migrates_at_once_take_turns_and_both_succeed(make_server: ServerFactory) -> None:
    ran: list[str] = []

    async def slow(database: Any) -> None:
        ran.append("slow")
        await asyncio.sleep(0.3)

    migration = DataMigration("2026-12-test-slow", "takes a while", slow)
    async with make_server(migrated=False, **PRODUCTION) as server:
        schema = dataclasses.replace(schema_of(server), migrations=[migration])
        said: list[str] = []
        first, second = await asyncio.gather(
            dataclasses.replace(schema).migrate(say=said.append),
            dataclasses.replace(schema).migrate(say=said.append),
        )
        assert ran == ["slow"]  # once, though two ran
        assert "another migrate is running; waiting for it to finish" in said
        assert sorted([len(first), len(second)])[0] == 0  # the second found nothing to do
        assert await schema.problems() == []


async def test_a_lock_whose_holder_died_is_taken_once_its_lease_is_over(make_server: ServerFactory) -> None:
    async with make_server(**PRODUCTION) as server:
        database = database_of(server)
        await database[MIGRATIONS].insert_one({"_id": LOCK_ID, "holder": "dead:0", "until": utcnow()})
        assert await asyncio.wait_for(schema_of(server).migrate(say=lambda line: None), 5) == []


def test_the_command_migrates_and_a_second_run_does_nothing(wire_url: str, tmp_path: Any) -> None:
    env = {
        "PATH": "/usr/bin:/bin",
        "ENVIRONMENT": "development",
        "DATA_DIR": str(tmp_path),
        "MONGODB_URL": wire_url,
        "MONGODB_DB": f"migrate_{tmp_path.name[-12:]}",
    }

    def run() -> str:
        done = subprocess.run(
            [sys.executable, "-m", "backend.manage", "migrate"],
            cwd=REPO_ROOT,
            env=env,
            capture_output=True,
            text=True,
            timeout=120,
        )
        assert done.returncode == 0, done.stderr
        return done.stdout

    try:
        assert "created index due on mail_queue" in run()
        assert run().strip() == "migrate: nothing to do; the database is up to date"
    finally:

        async def drop() -> None:
            client: AsyncMongoClient[Any] = AsyncMongoClient(wire_url)
            await client.drop_database(env["MONGODB_DB"])
            await client.close()

        asyncio.run(drop())
