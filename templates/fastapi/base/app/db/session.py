"""The async engine and the per-request session: commit on success, roll back on error."""

from collections.abc import AsyncGenerator

from fastapi import HTTPException
from sqlalchemy.exc import SQLAlchemyError
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
    # A pooled connection can die with Postgres (restart, failover); checking it before use turns
    # that into a fresh connection instead of an error in the next request.
    pool_pre_ping=True,
    # Every wait on the database is bounded (see DB_TIMEOUT in .env), so an outage is a 503 in
    # seconds: opening a connection, and each statement (the server ends one stuck behind a lock;
    # the client gives up a little later on a server that went silent). Waiting for a pooled
    # connection gets half of it: a queue of requests behind stuck connections fails before the
    # connections are freed, instead of each waiting its turn and then a full timeout again.
    pool_timeout=settings.db_timeout / 2,
    connect_args={
        "timeout": settings.db_timeout,
        "command_timeout": settings.db_timeout + 1,
        "server_settings": {"statement_timeout": str(round(settings.db_timeout * 1000))},
    },
)

# expire_on_commit=False: objects stay readable after the commit, when the response is built.
async_session_factory = async_sessionmaker(engine, autoflush=False, expire_on_commit=False)


async def get_session() -> AsyncGenerator[AsyncSession]:
    """Yield one session per request as a FastAPI dependency.

    The transaction is committed when the request handler returns, and rolled back when it raises
    a database error or an HTTPException, so a request that fails halfway leaves nothing behind.
    """
    async with async_session_factory() as session:
        try:
            bind = session.bind
            if isinstance(bind, AsyncEngine):
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
            await session.commit()
        finally:
            await session.close()
