"""The jobs the worker runs. Each opens its own database session: there is no request to share."""

from typing import TypedDict

from app.db.session import async_session_factory
from app.services import items as items_service
from app.worker.broker import broker
from app.worker.retries import MAX_ATTEMPTS

SUMMARIZE_ITEM = "summarize_item"


class Summary(TypedDict):
    item_id: int
    name_length: int
    description_words: int


class ItemGoneError(LookupError):
    """The job's item was deleted after the job was queued."""


@broker.task(task_name=SUMMARIZE_ITEM, retry_on_error=True, max_retries=MAX_ATTEMPTS)
async def summarize_item(item_id: int) -> Summary:
    """The sample job: a few numbers about one item. Raises (and so is retried) if it is gone."""
    async with async_session_factory() as session:
        item = await items_service.get_item(session, item_id)
    if item is None:
        raise ItemGoneError(f"Item {item_id} not found")
    return {
        "item_id": item_id,
        # len() counts code points, as the name's length limit does.
        "name_length": len(item.name),
        "description_words": len(item.description.split()) if item.description else 0,
    }
