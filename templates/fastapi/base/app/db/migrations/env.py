"""Alembic environment: runs migrations over the app's asyncpg driver.

The URL comes from app.core.config.settings (that is, .env or the environment), never from
alembic.ini. A caller such as the test suite may pass another one in `config.attributes["url"]`.
"""

import asyncio
import sys
from logging.config import fileConfig
from typing import Any, Literal

from alembic import context
from alembic.autogenerate.api import AutogenContext
from sqlalchemy import URL, pool
from sqlalchemy.engine import Connection
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import create_async_engine
from sqlalchemy.types import TypeDecorator

import app.models  # noqa: F401  # registers every table on the metadata
from app.core.config import settings
from app.db.base import metadata

config = context.config
if config.config_file_name is not None:
    # Keep loggers configured before us (the app's, pytest's) working.
    fileConfig(config.config_file_name, disable_existing_loggers=False)

target_metadata = metadata


def database_url() -> URL:
    url = config.attributes.get("url")
    return url if isinstance(url, URL) else settings.database_url


def render_item(type_: str, obj: Any, autogen_context: AutogenContext) -> str | Literal[False]:
    # Write a decorated type (e.g. SQLModel's AutoString) as the SQL type underneath it, so
    # revisions import nothing but sqlalchemy and keep working if the model code changes.
    if type_ == "type" and isinstance(obj, TypeDecorator):
        return f"sa.{obj.impl!r}"
    return False


def run_migrations_offline() -> None:
    """`alembic upgrade head --sql`: print the SQL instead of running it."""
    context.configure(
        url=database_url().render_as_string(hide_password=False),
        target_metadata=target_metadata,
        literal_binds=True,
        dialect_opts={"paramstyle": "named"},
        render_item=render_item,
    )
    with context.begin_transaction():
        context.run_migrations()


def do_run_migrations(connection: Connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=target_metadata,
        compare_type=True,
        render_item=render_item,
    )
    with context.begin_transaction():
        context.run_migrations()


async def run_migrations_online() -> None:
    # NullPool: a migration is one short run, there is nothing to keep connections around for.
    engine = create_async_engine(database_url(), poolclass=pool.NullPool)
    try:
        async with engine.connect() as connection:
            await connection.run_sync(do_run_migrations)
    finally:
        await engine.dispose()


def database_failure(error: OSError | DBAPIError) -> str:
    """The database's own words in one line (SQLAlchemy wraps the driver's error)."""
    inner: BaseException = error
    if isinstance(error, DBAPIError) and error.orig is not None:
        inner = error.orig.__cause__ or error.orig
    return (str(inner).splitlines() or [type(inner).__name__])[0]


if context.is_offline_mode():
    run_migrations_offline()
else:
    try:
        asyncio.run(run_migrations_online())
    except (OSError, DBAPIError) as error:
        # One readable line with the cause (role missing, wrong password, server down), not a
        # traceback through alembic and asyncio that ends in it.
        sys.exit(f"Migrations failed: {database_failure(error)}")
