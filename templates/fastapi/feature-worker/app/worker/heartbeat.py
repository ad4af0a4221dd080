"""The worker's sign of life: a key it refreshes every few seconds, read by its healthcheck.

`python -m app.worker.heartbeat` (the Compose healthcheck of the worker service) exits 0 when a
worker on this host refreshed the key lately, which also proves it reaches Redis; else 1.
"""

import asyncio
import socket
import sys
import time
from typing import TYPE_CHECKING

from redis.asyncio import Redis
from redis.exceptions import RedisError

from app.core.config import settings
from app.core.logger import logger

if TYPE_CHECKING:
    # Only a type here: the healthcheck starts fast without importing taskiq.
    from taskiq_redis.redis_broker import BaseRedisBroker

INTERVAL_SECONDS = 5.0
# Missing two beats in a row means the worker is stuck or cannot reach Redis.
TTL_SECONDS = 3 * INTERVAL_SECONDS


def key(queue: str) -> str:
    # The host name: a container's own, so each worker container has its own heartbeat.
    return f"{queue}:worker:{socket.gethostname()}"


async def beat(broker: "BaseRedisBroker") -> None:
    """Refreshes the heartbeat until cancelled (the worker's shutdown)."""
    while True:
        try:
            async with Redis(connection_pool=broker.connection_pool) as redis:
                await redis.set(key(broker.queue_name), str(time.time()), ex=int(TTL_SECONDS))
        except RedisError as exc:
            logger.warning("worker heartbeat: Redis unavailable: %r", exc)
        await asyncio.sleep(INTERVAL_SECONDS)


async def stop(broker: "BaseRedisBroker") -> None:
    """A worker that stops says so at once instead of letting its heartbeat run out."""
    try:
        async with Redis(connection_pool=broker.connection_pool) as redis:
            await redis.delete(key(broker.queue_name))
    except RedisError as exc:
        logger.warning("worker heartbeat: could not remove it: %r", exc)


async def alive(queue: str = settings.worker_queue) -> bool:
    """Has a worker on this host refreshed its heartbeat lately? False if Redis does not answer."""
    redis = Redis.from_url(
        settings.redis_url.get_secret_value(),
        socket_connect_timeout=settings.redis_timeout,
        socket_timeout=settings.redis_timeout,
    )
    try:
        async with redis, asyncio.timeout(settings.redis_timeout):
            return bool(await redis.exists(key(queue)))
    except (RedisError, OSError):
        return False


if __name__ == "__main__":
    sys.exit(0 if asyncio.run(alive()) else 1)
