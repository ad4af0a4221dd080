"""GET /health answers 200 with the database up, 503 (and stays up) with it down."""

import socket
from collections.abc import Iterator

import pytest
from httpx import AsyncClient
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine

from app.db.session import async_session_factory


@pytest.fixture
def closed_port() -> Iterator[int]:
    """A local port nothing listens on: bound, then released."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
    yield port


async def test_health_ok(client: AsyncClient) -> None:
    response = await client.get("/health")
    assert response.status_code == 200
    assert response.json() == {"status": "ok", "database": "ok"}


async def test_health_503_while_database_is_down_then_recovers(
    client: AsyncClient, engine: AsyncEngine, closed_port: int
) -> None:
    dead = create_async_engine(
        engine.url.set(host="127.0.0.1", port=closed_port), connect_args={"timeout": 2}
    )
    async_session_factory.configure(bind=dead)
    try:
        response = await client.get("/health")
        # The other endpoints answer 503 too, as JSON, rather than failing with a 500.
        items_response = await client.get("/items")
    finally:
        async_session_factory.configure(bind=engine)
        await dead.dispose()
    assert response.status_code == 503
    assert response.json() == {"status": "error", "database": "unreachable"}
    assert items_response.status_code == 503
    assert items_response.headers["content-type"] == "application/problem+json"
    assert items_response.headers["retry-after"].isdigit()
    assert items_response.json()["status"] == 503

    # Same process, database back: healthy again.
    response = await client.get("/health")
    assert response.status_code == 200
