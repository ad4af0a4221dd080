"""Each job's state, in a Redis hash next to the queue, kept for 24 hours after its last change.

taskiq moves messages and results; it does not record what happened to a job. The middleware
here does, as the job goes through the broker:

    queued    the API sent it (post_send, so a job that never reached Redis leaves no record)
    running   a worker started an attempt (pre_execute; `attempts` counts them)
    retrying  an attempt failed and another follows after a backoff (on_error)
    succeeded the last attempt returned: `result` holds what it returned (post_execute)
    failed    the last attempt allowed failed: `error` holds its message (the failed state)

Every write names the job's task and arguments too, so whichever write comes first (a fast worker
can start a job before the API's post_send runs) leaves a complete record, and the first state
(queued) is only set when there is none yet.
"""

import json
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any, Literal, cast

from redis.asyncio import Redis
from redis.asyncio.client import Pipeline
from taskiq import TaskiqMessage, TaskiqMiddleware, TaskiqResult
from taskiq_redis.redis_broker import BaseRedisBroker

JobStatus = Literal["queued", "running", "retrying", "succeeded", "failed"]
STATUSES: tuple[JobStatus, ...] = ("queued", "running", "retrying", "succeeded", "failed")
# How long a job's record (its result, or its error once it failed) stays readable.
KEEP_SECONDS = 24 * 60 * 60
# An error is a message for the API, never a stack trace, and never a long one.
ERROR_CHARS = 500
# The label taskiq's retry middleware puts on a job it sends again.
RETRIES_LABEL = "_retries"

# Will this failed attempt be sent again? (The retry middleware's decision: app/worker/retries.py.)
WillRetry = Callable[[TaskiqMessage, BaseException], bool]


@dataclass(frozen=True)
class JobRecord:
    id: str
    name: str
    kwargs: dict[str, Any]
    status: JobStatus
    attempts: int
    result: Any
    error: str | None


def _text(value: bytes | str) -> str:
    # The broker's connections answer bytes (taskiq's messages are bytes).
    return value.decode() if isinstance(value, bytes) else value


def error_message(exception: BaseException) -> str:
    text = str(exception) or type(exception).__name__
    return text if len(text) <= ERROR_CHARS else text[: ERROR_CHARS - 3] + "..."


class JobStore:
    """Reads and writes job records through the broker's own Redis connections and queue name."""

    def __init__(self, broker: BaseRedisBroker) -> None:
        self.broker = broker

    def key(self, job_id: str) -> str:
        return f"{self.broker.queue_name}:job:{job_id}"

    def _redis(self) -> Redis:
        return Redis(connection_pool=self.broker.connection_pool)

    @asynccontextmanager
    async def _update(self, message: TaskiqMessage) -> AsyncIterator[tuple[Pipeline, str]]:
        """One transaction on a job's record: the caller's changes, the job's task and arguments
        (so the record is whole whichever write comes first), and 24 hours more to live."""
        key = self.key(message.task_id)
        async with self._redis() as redis, redis.pipeline(transaction=True) as pipe:
            yield pipe, key
            pipe.hset(
                key, mapping={"name": message.task_name, "kwargs": json.dumps(message.kwargs)}
            )
            pipe.expire(key, KEEP_SECONDS)
            await pipe.execute()

    async def queued(self, message: TaskiqMessage) -> None:
        async with self._update(message) as (pipe, key):
            # Only if no worker got to it first.
            pipe.hsetnx(key, "status", "queued")
            pipe.hsetnx(key, "attempts", 0)

    async def running(self, message: TaskiqMessage) -> None:
        async with self._update(message) as (pipe, key):
            pipe.hset(key, "status", "running")
            pipe.hincrby(key, "attempts", 1)

    async def failed(self, message: TaskiqMessage, error: str, *, final: bool) -> None:
        async with self._update(message) as (pipe, key):
            pipe.hset(key, mapping={"status": "failed" if final else "retrying", "error": error})

    async def succeeded(self, message: TaskiqMessage, result: Any) -> None:
        async with self._update(message) as (pipe, key):
            pipe.hset(key, mapping={"status": "succeeded", "result": json.dumps(result)})
            pipe.hdel(key, "error")

    async def read(self, job_id: str) -> JobRecord | None:
        async with self._redis() as redis:
            raw = await redis.hgetall(self.key(job_id))
        fields = {_text(k): _text(v) for k, v in raw.items()}
        status = fields.get("status")
        if "name" not in fields or status not in STATUSES:
            return None  # unknown, expired, or a job whose first write is still on its way
        return JobRecord(
            id=job_id,
            name=fields["name"],
            kwargs=json.loads(fields["kwargs"]),
            status=status,
            attempts=int(fields.get("attempts", "0")),
            result=json.loads(fields["result"]) if "result" in fields else None,
            error=fields.get("error"),
        )


class JobStates(TaskiqMiddleware):
    """Keeps each job's record up to date (see the module docstring).

    `will_retry` answers whether a failed attempt is sent again; it is the retry middleware's own
    decision, asked before it acts, so the record says `retrying` while the backoff runs.
    """

    def __init__(self, will_retry: WillRetry) -> None:
        super().__init__()
        self.will_retry = will_retry

    @property
    def store(self) -> JobStore:
        return JobStore(cast(BaseRedisBroker, self.broker))

    async def post_send(self, message: TaskiqMessage) -> None:
        # A retry is sent by the worker: its record already says `retrying`.
        if RETRIES_LABEL not in message.labels:
            await self.store.queued(message)

    async def pre_execute(self, message: TaskiqMessage) -> TaskiqMessage:
        await self.store.running(message)
        return message

    async def on_error(
        self, message: TaskiqMessage, result: TaskiqResult[Any], exception: BaseException
    ) -> None:
        final = not self.will_retry(message, exception)
        await self.store.failed(message, error_message(exception), final=final)

    async def post_execute(self, message: TaskiqMessage, result: TaskiqResult[Any]) -> None:
        if not result.is_err:
            await self.store.succeeded(message, result.return_value)
