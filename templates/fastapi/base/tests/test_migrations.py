"""The migrations build exactly the schema the models describe, and can be undone."""

import asyncio
from typing import Any

from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import URL, inspect
from sqlalchemy.engine import Connection
from sqlalchemy.ext.asyncio import AsyncEngine

from app.db.base import metadata
from tests.helpers import alembic_config


def schema_differences(conn: Connection) -> list[Any]:
    return list(compare_metadata(MigrationContext.configure(conn), metadata))


def table_names(conn: Connection) -> set[str]:
    return set(inspect(conn).get_table_names())


async def test_models_match_migrations(engine: AsyncEngine) -> None:
    # A model changed without `make revision` shows up here rather than in production.
    async with engine.connect() as conn:
        assert await conn.run_sync(schema_differences) == []


async def test_downgrade_to_base_and_back(database_url: URL, engine: AsyncEngine) -> None:
    config = alembic_config(database_url)
    # Alembic's env.py runs its own event loop (asyncio.run), so it needs a thread of its own.
    await asyncio.to_thread(command.downgrade, config, "base")
    async with engine.connect() as conn:
        assert await conn.run_sync(table_names) == {"alembic_version"}

    await asyncio.to_thread(command.upgrade, config, "head")
    async with engine.connect() as conn:
        assert {table.name for table in metadata.sorted_tables} <= await conn.run_sync(table_names)
