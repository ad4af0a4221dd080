"""Background jobs for real: the API queues them on Redis and a taskiq worker runs them.

The worker is taskiq's own receiver in the test's event loop, on the app's broker (its retries
and job states), this run's queue (conftest.py) and the test database.
"""

import asyncio
import socket
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from contextlib import suppress
from typing import Any

import pytest
from httpx import AsyncClient
from redis.asyncio import BlockingConnectionPool, Redis
from sqlalchemy.ext.asyncio import AsyncEngine
from taskiq.api import run_receiver_task

from app.core.config import settings
from app.worker import heartbeat
from app.worker.broker import broker, jobs
from app.worker.jobs import KEEP_SECONDS

Stop = Callable[[], Awaitable[None]]
StartWorker = Callable[[], Awaitable[Stop]]


@pytest.fixture
async def start_worker(engine: AsyncEngine) -> AsyncIterator[StartWorker]:
    """Starts a worker when the test says so (jobs may be queued first); it stops by the end."""
    stops: list[Stop] = []

    async def start() -> Stop:
        # run_startup: what `taskiq worker` does first (the stream's consumer group, the heartbeat).
        task = asyncio.create_task(run_receiver_task(broker, run_startup=True, max_async_tasks=10))

        async def stop() -> None:
            if task.done():
                return
            task.cancel()
            with suppress(asyncio.CancelledError):
                await task
            await broker.shutdown()
            broker.is_worker_process = False

        stops.append(stop)
        return stop

    yield start
    for stop in stops:
        await stop()


async def create_item(client: AsyncClient, **body: object) -> int:
    response = await client.post("/items", json=body)
    assert response.status_code == 201, response.text
    item_id: int = response.json()["id"]
    return item_id


async def enqueue(client: AsyncClient, item_id: int) -> dict[str, Any]:
    response = await client.post(f"/items/{item_id}/jobs")
    assert response.status_code == 202, response.text
    job: dict[str, Any] = response.json()
    assert response.headers["location"] == f"/jobs/{job['id']}"
    return job


async def wait_until_done(client: AsyncClient, job_id: str) -> tuple[dict[str, Any], list[str]]:
    """The job once it succeeded or failed, and the statuses seen on the way."""
    seen: list[str] = []
    async with asyncio.timeout(30):
        while True:
            job: dict[str, Any] = (await client.get(f"/jobs/{job_id}")).json()
            if not seen or seen[-1] != job["status"]:
                seen.append(job["status"])
            if job["status"] in ("succeeded", "failed"):
                return job, seen
            await asyncio.sleep(0.05)


async def test_a_queued_job_runs_and_succeeds_with_its_result(
    client: AsyncClient, start_worker: StartWorker
) -> None:
    item_id = await create_item(client, name="Widget \u2713", description="a  small\tone")
    job = await enqueue(client, item_id)
    assert job == {
        "id": job["id"],
        "name": "summarize_item",
        "item_id": item_id,
        "status": "queued",
        "attempts": 0,
        "result": None,
        "error": None,
    }
    # Queued while no worker runs: it waits for one.
    assert (await client.get(f"/jobs/{job['id']}")).json() == job

    await start_worker()
    done, _ = await wait_until_done(client, job["id"])
    summary = {"item_id": item_id, "name_length": 8, "description_words": 3}
    assert done == {**job, "status": "succeeded", "attempts": 1, "result": summary}
    # Kept for 24 hours.
    async with Redis(connection_pool=broker.connection_pool) as redis:
        assert KEEP_SECONDS - 60 < await redis.ttl(jobs.key(job["id"])) <= KEEP_SECONDS


async def test_a_job_whose_item_is_gone_is_retried_then_failed(
    client: AsyncClient, start_worker: StartWorker
) -> None:
    item_id = await create_item(client, name="Doomed", description=None)
    job = await enqueue(client, item_id)
    assert (await client.delete(f"/items/{item_id}")).status_code == 204

    started = time.monotonic()
    await start_worker()
    failed, seen = await wait_until_done(client, job["id"])
    assert failed == {
        **job,
        "status": "failed",
        "attempts": 3,
        "error": f"Item {item_id} not found",
    }
    assert seen[0] == "queued"
    assert "retrying" in seen
    # Backoffs of about 1 s, then 2 s, between the three attempts (a bound a slow machine keeps).
    assert time.monotonic() - started >= 2.5
    # The failed job stays readable (the failed state), with its error.
    assert (await client.get(f"/jobs/{job['id']}")).json() == failed


async def test_a_job_queued_twice_runs_twice(
    client: AsyncClient, start_worker: StartWorker
) -> None:
    item_id = await create_item(client, name="Twice", description="one two")
    first, second = await enqueue(client, item_id), await enqueue(client, item_id)
    assert first["id"] != second["id"]
    await start_worker()
    for job in (first, second):
        done, _ = await wait_until_done(client, job["id"])
        assert done["status"] == "succeeded"
        assert done["result"] == {"item_id": item_id, "name_length": 5, "description_words": 2}


@pytest.mark.parametrize(
    ("method", "path", "status", "field"),
    [
        ("POST", "/items/999999/jobs", 404, None),
        ("POST", "/items/abc/jobs", 422, "path.item_id"),
        ("POST", "/items/0/jobs", 422, "path.item_id"),
        ("GET", "/jobs/no-such-job", 404, None),
        ("GET", f"/jobs/{'a' * 65}", 422, "path.job_id"),
        ("GET", "/jobs/a.b", 422, "path.job_id"),
        ("PUT", "/jobs/x", 405, None),
        ("GET", "/items/1/jobs", 405, None),
    ],
)
async def test_bad_requests_are_problems(
    client: AsyncClient, method: str, path: str, status: int, field: str | None
) -> None:
    response = await client.request(method, path)
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == "application/problem+json"
    if field is not None:
        assert [e["field"] for e in response.json()["errors"]] == [field]


async def test_a_body_is_checked_like_any_post_body_and_otherwise_ignored(
    client: AsyncClient,
) -> None:
    item_id = await create_item(client, name="Body")
    path = f"/items/{item_id}/jobs"
    assert (await client.post(path, json={"anything": [1, 2]})).status_code == 202
    plain = await client.post(path, content=b"x", headers={"content-type": "text/plain"})
    assert plain.status_code == 415
    broken = await client.post(path, content=b"{x", headers={"content-type": "application/json"})
    assert broken.status_code == 400


@pytest.fixture
def closed_port() -> Iterator[int]:
    """A local port nothing listens on: bound, then released."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
    yield port


@pytest.fixture
def silent_port() -> Iterator[int]:
    """A local port that takes connections (the kernel's backlog) and never answers."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        sock.listen(64)
        port: int = sock.getsockname()[1]
        yield port


async def redis_at(port: int, monkeypatch: pytest.MonkeyPatch) -> BlockingConnectionPool:
    """Points the broker (and so the API) at another Redis, with the broker's own timeouts."""
    pool = BlockingConnectionPool.from_url(
        f"redis://127.0.0.1:{port}/0",
        socket_connect_timeout=settings.redis_timeout,
        socket_timeout=settings.redis_timeout,
        timeout=settings.redis_timeout,
    )
    monkeypatch.setattr(broker, "connection_pool", pool)
    return pool


@pytest.mark.parametrize("kind", ["refused", "unresponsive"])
async def test_redis_unavailable_is_503_on_both_routes_and_in_health(
    client: AsyncClient,
    monkeypatch: pytest.MonkeyPatch,
    closed_port: int,
    silent_port: int,
    kind: str,
) -> None:
    item_id = await create_item(client, name="Waiting")
    monkeypatch.setattr(settings, "redis_timeout", 0.5)
    pool = await redis_at(closed_port if kind == "refused" else silent_port, monkeypatch)
    try:
        # Far past REDIS_TIMEOUT: a request that hangs fails here instead of stalling the run.
        async with asyncio.timeout(10):
            answers = [
                await client.post(f"/items/{item_id}/jobs"),
                await client.get("/jobs/some-job"),
            ]
            health = await client.get("/health")
            items = await client.get(f"/items/{item_id}")
    finally:
        await pool.disconnect()
    for response in answers:
        assert response.status_code == 503, response.text
        assert response.headers["content-type"] == "application/problem+json"
        assert response.headers["retry-after"] == "2"
        assert response.json()["detail"] == "The job queue is unavailable, try again later"
    assert health.status_code == 503
    assert health.headers["retry-after"] == "2"
    assert health.json() == {"status": "error", "database": "ok", "queue": "unreachable"}
    # The items routes do not need Redis.
    assert items.status_code == 200


async def test_the_worker_heartbeat_is_what_its_healthcheck_reads(
    start_worker: StartWorker, queue: str
) -> None:
    assert not await heartbeat.alive(queue)
    stop = await start_worker()
    async with asyncio.timeout(10):
        while True:
            if await heartbeat.alive(queue):
                break
            await asyncio.sleep(0.05)
    await stop()
    # A worker that stops removes its heartbeat at once.
    assert not await heartbeat.alive(queue)
