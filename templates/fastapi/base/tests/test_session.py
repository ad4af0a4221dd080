"""get_session commits when the request succeeds and rolls back when it fails; reads autocommit."""

from collections.abc import AsyncIterator

import pytest
from fastapi import FastAPI, HTTPException, Request
from httpx import ASGITransport, AsyncClient
from sqlalchemy import text
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.ext.asyncio import AsyncEngine

from app.api.deps import SessionDep
from app.db.session import get_session
from app.models.item import Item
from tests.helpers import count_committed_items


def request(method: str) -> Request:
    return Request({"type": "http", "method": method})


async def test_commits_on_success(engine: AsyncEngine) -> None:
    sessions = get_session(request("POST"))
    session = await anext(sessions)
    session.add(Item(name="kept"))
    # Resuming after the yield is what FastAPI does when the handler returned normally.
    with pytest.raises(StopAsyncIteration):
        await anext(sessions)
    assert await count_committed_items(engine) == 1


@pytest.mark.parametrize(
    "error",
    [SQLAlchemyError("database failed"), HTTPException(status_code=409, detail="conflict")],
    ids=["SQLAlchemyError", "HTTPException"],
)
async def test_rolls_back_on_error(engine: AsyncEngine, error: Exception) -> None:
    sessions = get_session(request("POST"))
    session = await anext(sessions)
    session.add(Item(name="discarded"))
    await session.flush()  # the row is in the transaction, not yet committed
    # Throwing into the generator is what FastAPI does when the handler raised.
    with pytest.raises(type(error)):
        await sessions.athrow(error)
    assert await count_committed_items(engine) == 0


@pytest.mark.parametrize(("method", "in_transaction"), [("GET", False), ("POST", True)])
async def test_reads_run_without_a_transaction(
    engine: AsyncEngine, method: str, in_transaction: bool
) -> None:
    sessions = get_session(request(method))
    session = await anext(sessions)
    # now() is when the transaction began: two statements of one transaction see the same
    # time; in autocommit every statement is a transaction of its own.
    first = await session.scalar(text("SELECT now()"))
    await session.execute(text("SELECT pg_sleep(0.01)"))
    assert (await session.scalar(text("SELECT now()")) == first) is in_transaction
    with pytest.raises(StopAsyncIteration):
        await anext(sessions)


@pytest.fixture
async def failing_app_client(engine: AsyncEngine) -> AsyncIterator[AsyncClient]:
    """A throwaway app whose handler writes a row and then refuses the request."""
    probe = FastAPI()

    @probe.post("/write-then-fail")
    async def write_then_fail(session: SessionDep) -> None:
        session.add(Item(name="half-done"))
        await session.flush()
        raise HTTPException(status_code=409, detail="refused after writing")

    @probe.post("/write")
    async def write(session: SessionDep) -> None:
        session.add(Item(name="done"))

    transport = ASGITransport(app=probe)
    async with AsyncClient(transport=transport, base_url="http://test") as http:
        yield http


async def test_http_exception_in_a_handler_leaves_nothing_behind(
    failing_app_client: AsyncClient, engine: AsyncEngine
) -> None:
    response = await failing_app_client.post("/write-then-fail")
    assert response.status_code == 409
    assert await count_committed_items(engine) == 0

    response = await failing_app_client.post("/write")
    assert response.status_code == 200
    assert await count_committed_items(engine) == 1
