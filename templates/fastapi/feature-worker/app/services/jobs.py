"""Job use cases for the API: send a job to the queue, read where it stands.

Every call to Redis here is bounded by REDIS_TIMEOUT and fails as a RedisError, which
app/core/errors.py answers with 503 and Retry-After.
"""

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from redis.asyncio import Redis
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import RedisError
from redis.exceptions import TimeoutError as RedisTimeoutError
from taskiq.exceptions import SendTaskError

from app.core.config import settings
from app.schema.job import Job, Summary
from app.worker.broker import broker, jobs
from app.worker.jobs import JobRecord
from app.worker.tasks import SUMMARIZE_ITEM, summarize_item


@asynccontextmanager
async def bounded() -> AsyncIterator[None]:
    try:
        async with asyncio.timeout(settings.redis_timeout):
            yield
    except TimeoutError as exc:
        raise RedisTimeoutError(f"no answer from Redis in {settings.redis_timeout} s") from exc
    except SendTaskError as exc:
        # taskiq wraps what failed while sending; a Redis failure stays one.
        if isinstance(exc.__cause__, RedisError | OSError):
            raise RedisConnectionError(f"Redis did not take the job: {exc.__cause__!r}") from exc
        raise


async def enqueue_summary(item_id: int) -> Job:
    async with bounded():
        task = await summarize_item.kiq(item_id=item_id)
    return Job(
        id=task.task_id,
        name=SUMMARIZE_ITEM,
        item_id=item_id,
        status="queued",
        attempts=0,
        result=None,
        error=None,
    )


def _job(record: JobRecord) -> Job:
    return Job(
        id=record.id,
        name=record.name,
        item_id=record.kwargs["item_id"],
        status=record.status,
        attempts=record.attempts,
        result=Summary.model_validate(record.result) if record.result is not None else None,
        error=record.error,
    )


async def read_job(job_id: str) -> Job | None:
    async with bounded():
        record = await jobs.read(job_id)
    # This API serves summarize_item jobs; another kind of job gets routes of its own.
    return _job(record) if record is not None and record.name == SUMMARIZE_ITEM else None


async def ping() -> None:
    """Raises unless Redis answers (GET /health)."""
    async with bounded(), Redis(connection_pool=broker.connection_pool) as redis:
        await redis.ping()
