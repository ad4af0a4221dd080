"""Retries: 3 attempts in all, 1 s then 2 s apart, then the job is failed for good."""

import asyncio
from typing import Any

from taskiq import TaskiqMessage
from taskiq.exceptions import NoResultError
from taskiq.kicker import AsyncKicker
from taskiq.middlewares import SmartRetryMiddleware

from app.worker.jobs import RETRIES_LABEL

MAX_ATTEMPTS = 3
FIRST_BACKOFF_SECONDS = 1.0
MAX_BACKOFF_SECONDS = 60.0


class BackoffRetries(SmartRetryMiddleware):
    """taskiq's SmartRetryMiddleware with an exponential backoff that the worker waits out.

    On a Redis broker taskiq delays a message only through a schedule source read by a separate
    `taskiq scheduler` process. For backoffs of seconds the worker waits itself, then sends the job
    again; the failed attempt is acknowledged only after that, so a worker that dies meanwhile
    leaves it to another (the stream redelivers unacknowledged messages).
    """

    def __init__(self) -> None:
        super().__init__(
            default_retry_count=MAX_ATTEMPTS,
            default_delay=FIRST_BACKOFF_SECONDS,
            max_delay_exponent=MAX_BACKOFF_SECONDS,
        )

    def will_retry(self, message: TaskiqMessage, exception: BaseException) -> bool:
        """What on_error will decide for this failed attempt (app/worker/jobs.py records it)."""
        if isinstance(exception, NoResultError) or not self.is_retry_on_error(message):
            return False
        attempts = int(message.labels.get(RETRIES_LABEL, 0)) + 1
        return attempts < int(message.labels.get("max_retries", self.default_retry_count))

    def make_delay(self, message: TaskiqMessage, retries: int) -> float:
        # 1 s, 2 s, 4 s, ... (SmartRetryMiddleware's own use_delay_exponent grows linearly).
        return min(self.default_delay * 2.0 ** (retries - 1), self.max_delay_exponent)

    async def on_send(
        self, kicker: AsyncKicker[Any, Any], message: TaskiqMessage, delay: float
    ) -> None:
        await asyncio.sleep(delay)
        await kicker.kiq(*message.args, **message.kwargs)
