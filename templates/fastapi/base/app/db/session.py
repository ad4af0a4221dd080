"""The async engine and the per-request session: commit on success, roll back on error."""

import logging
from collections.abc import AsyncGenerator
from functools import cache
from typing import Any

from fastapi import HTTPException, Request
from sqlalchemy import event
from sqlalchemy.exc import DisconnectionError, SQLAlchemyError
from sqlalchemy.ext.asyncio import (
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)

from app.core.config import settings
from app.core.logger import logger

engine = create_async_engine(
    settings.database_url,
    echo=settings.debug,
    # Every wait on the database is bounded (see DB_TIMEOUT in .env), so an outage is a 503 in
    # seconds: opening a connection, and each statement (the server ends one stuck behind a lock;
    # the client gives up a little later on a server that went silent). Waiting for a pooled
    # connection gets half of it: a queue of requests behind stuck connections fails before the
    # connections are freed, instead of each waiting its turn and then a full timeout again.
    pool_timeout=settings.db_timeout / 2,
    # Connections kept per process: enough for a burst of concurrent requests (50 on 2 workers)
    # to reuse open connections rather than wait past pool_timeout for one (a 503) or open and
    # close an overflow connection each (a login, TLS included, per request).
    pool_size=20,
    max_overflow=10,
    connect_args={
        "timeout": settings.db_timeout,
        "command_timeout": settings.db_timeout + 1,
        "server_settings": {"statement_timeout": str(round(settings.db_timeout * 1000))},
    },
)


@event.listens_for(engine.sync_engine, "checkout")
def _replace_closed(dbapi_connection: Any, _record: Any, _proxy: Any) -> None:
    """A pooled connection can die with Postgres (restart, failover, a terminated session).

    asyncpg notices when the server closes it, so checking that before use turns it into a fresh
    connection instead of an error in the next request, without pool_pre_ping's round trips
    (BEGIN, a ping, ROLLBACK) on every checkout.
    """
    if dbapi_connection.driver_connection.is_closed():
        raise DisconnectionError("the server closed this pooled connection")


# expire_on_commit=False: objects stay readable after the commit, when the response is built.
async_session_factory = async_sessionmaker(engine, autoflush=False, expire_on_commit=False)


# Methods that only read: their session runs in autocommit (see get_session).
READ_ONLY_METHODS = frozenset({"GET", "HEAD"})


@cache
def _autocommit(bind: AsyncEngine) -> AsyncEngine:
    """The same engine and pool, its connections in autocommit (no BEGIN, no COMMIT)."""
    return bind.execution_options(isolation_level="AUTOCOMMIT")


async def get_session(request: Request) -> AsyncGenerator[AsyncSession]:
    """Yield one session per request as a FastAPI dependency.

    The transaction is committed when the request handler returns, and rolled back when it raises
    a database error or an HTTPException, so a request that fails halfway leaves nothing behind.
    A read-only request (GET, HEAD) reads in autocommit instead: each statement is atomic on its
    own, and BEGIN and COMMIT would double its round trips to the database.
    """
    bind = async_session_factory.kw["bind"]
    read_only = request.method in READ_ONLY_METHODS and isinstance(bind, AsyncEngine)
    if read_only:
        bind = _autocommit(bind)
    # Leaving the block closes the session: its connection goes back to the pool.
    async with async_session_factory(bind=bind) as session:
        try:
            if logger.isEnabledFor(logging.DEBUG) and isinstance(bind, AsyncEngine):
                logger.debug("DB pool: %s", bind.pool.status())
            yield session
        # Two clauses, not `except (A, B)`: for a Python 3.14 target ruff format removes those
        # parentheses (PEP 758), and this file is meant to read the same on every version.
        except SQLAlchemyError:
            await session.rollback()
            raise
        except HTTPException:
            await session.rollback()
            raise
        else:
            # In autocommit each statement is committed as it runs: a read-only request commits
            # only what it left pending in the session (a GET should leave nothing), which saves
            # the commit's round through the session on every GET.
            if not read_only or session.new or session.dirty or session.deleted:
                await session.commit()


async def ping() -> None:
    """One round trip to the database the sessions use, without a session (GET /health)."""
    bind: AsyncEngine = async_session_factory.kw["bind"]
    async with _autocommit(bind).connect() as connection:
        await connection.exec_driver_sql("SELECT 1")
