"""The job queue: a taskiq broker on a Redis stream, shared by the API (it sends jobs) and the
worker (`make worker`: `taskiq worker app.worker.broker:broker app.worker.tasks`, it runs them).
"""

import asyncio

from redis.asyncio.retry import Retry
from redis.backoff import NoBackoff
from taskiq import TaskiqEvents, TaskiqState
from taskiq_redis import RedisStreamBroker

from app.core.config import settings
from app.db.session import engine
from app.worker import heartbeat
from app.worker.jobs import JobStates, JobStore
from app.worker.retries import BackoffRetries

retries = BackoffRetries()

broker = RedisStreamBroker(
    url=settings.redis_url.get_secret_value(),
    queue_name=settings.worker_queue,
    # A stream keeps each job until a worker acknowledges it (once it has run and its state is
    # saved): a job whose worker died is handed to another after idle_timeout (10 minutes).
    consumer_group_name="workers",
    # From the start of the stream: jobs sent before any worker ever started are run too.
    consumer_id="0",
    # Old, acknowledged entries are trimmed from the stream (approximately) past this length.
    maxlen=100_000,
    # The worker's blocking read returns before socket_timeout below would cut it off.
    xread_block=max(100, int(settings.redis_timeout * 500)),
    # The lock around reclaiming a dead worker's jobs expires even if its holder dies.
    unacknowledged_lock_timeout=30,
    # Every wait on Redis is bounded by REDIS_TIMEOUT (connecting, a command, a free connection
    # of the pool); a pooled connection the server closed is replaced once, within that bound.
    socket_connect_timeout=settings.redis_timeout,
    socket_timeout=settings.redis_timeout,
    timeout=settings.redis_timeout,
    retry=Retry(NoBackoff(), 1),
).with_middlewares(retries, JobStates(retries.will_retry))
# Middlewares see a failure in reverse order: JobStates records `retrying` (or `failed`) before
# BackoffRetries waits and sends the job again.

jobs = JobStore(broker)


@broker.on_event(TaskiqEvents.WORKER_STARTUP)
async def _start_heartbeat(state: TaskiqState) -> None:
    state["heartbeat"] = asyncio.create_task(heartbeat.beat(broker))


@broker.on_event(TaskiqEvents.WORKER_SHUTDOWN)
async def _stop(state: TaskiqState) -> None:
    state["heartbeat"].cancel()
    await heartbeat.stop(broker)
    # Close pooled connections so Postgres does not log aborted sessions on every restart.
    await engine.dispose()
