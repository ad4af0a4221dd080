"""Fixtures: one throwaway Postgres database per test run, emptied before every test.

The database is created next to the configured one (same server, same user, from .env), named
`<DB_NAME>_test_<random hex>`, migrated with Alembic and dropped when the run ends, so tests never
touch your development data and two runs never collide. With DB_HOST=embedded the server itself
is a throwaway: an embedded Postgres in a temporary folder, set up by sql/init_db.sql.
"""

import asyncio
import secrets
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass

import asyncpg
import pytest
from alembic import command
from httpx import ASGITransport, AsyncClient
from sqlalchemy import URL, text
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine

from app.core.config import settings
from app.db.base import metadata
from app.db.session import async_session_factory
from app.main import app
from scripts import embedded_db
from tests.helpers import alembic_config

# Postgres cuts identifiers at 63 bytes; cut the base name, never the random part.
MAX_IDENTIFIER = 63


def quote_identifier(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


@dataclass(frozen=True)
class Where:
    host: str
    port: int


@pytest.fixture(scope="session")
def postgres() -> Iterator[Where]:
    """The configured server, or with DB_HOST=embedded a throwaway embedded one (its socket)."""
    if settings.db_host != "embedded":
        yield Where(settings.db_host, settings.db_port)
        return
    with embedded_db.throwaway() as server:
        yield Where(server.socket_dir, server.port)


async def run_as_admin(where: Where, sql: str) -> None:
    """Run one statement from the `postgres` maintenance database, as the configured user."""
    conn = await asyncpg.connect(
        host=where.host,
        port=where.port,
        user=settings.db_user,
        password=settings.db_password.get_secret_value(),
        database="postgres",
        timeout=settings.db_timeout,
    )
    try:
        await conn.execute(sql)
    finally:
        await conn.close()


@pytest.fixture(scope="session")
def database_url(postgres: Where) -> Iterator[URL]:
    suffix = f"_test_{secrets.token_hex(4)}"
    name = settings.db_name[: MAX_IDENTIFIER - len(suffix)] + suffix
    # asyncio.run: this fixture outlives every test's event loop, so it brings its own.
    asyncio.run(run_as_admin(postgres, f"CREATE DATABASE {quote_identifier(name)}"))
    try:
        url = settings.database_url.set(host=postgres.host, port=postgres.port, database=name)
        command.upgrade(alembic_config(url), "head")
        yield url
    finally:
        # FORCE ends connections a failed test may have left open.
        asyncio.run(
            run_as_admin(postgres, f"DROP DATABASE IF EXISTS {quote_identifier(name)} WITH (FORCE)")
        )


@pytest.fixture
async def engine(database_url: URL) -> AsyncIterator[AsyncEngine]:
    """An engine on the test database, which the app's sessions use for the length of one test."""
    test_engine = create_async_engine(database_url)
    tables = ", ".join(quote_identifier(t.name) for t in metadata.sorted_tables)
    async with test_engine.begin() as conn:
        await conn.execute(text(f"TRUNCATE {tables} RESTART IDENTITY CASCADE"))
    original_bind = async_session_factory.kw["bind"]
    async_session_factory.configure(bind=test_engine)
    try:
        yield test_engine
    finally:
        async_session_factory.configure(bind=original_bind)
        await test_engine.dispose()


@pytest.fixture
async def client(engine: AsyncEngine) -> AsyncIterator[AsyncClient]:
    async with AsyncClient(transport=ASGITransport(app=app), base_url="http://test") as http:
        yield http
