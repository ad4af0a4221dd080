"""CRUD endpoints for /items. They translate HTTP to service calls and back, nothing more."""

from typing import Annotated

from fastapi import APIRouter, HTTPException, Path, Query, Response, status

from app.api.deps import SessionDep
from app.models.item import Item
from app.schema.item import ItemCreate, ItemRead, ItemUpdate
from app.schema.params import INT4_MAX, Decimal
from app.services import items as items_service

router = APIRouter(prefix="/items", tags=["items"])

ItemId = Annotated[int, Path(ge=1, le=INT4_MAX), Decimal]
# The same default and bounds in every stack. Errors (problem details) are documented and
# answered by app/core/errors.py, not here.
Limit = Annotated[int, Query(ge=1, le=100), Decimal]
Offset = Annotated[int, Query(ge=0, le=INT4_MAX), Decimal]


async def _get_or_404(session: SessionDep, item_id: int) -> Item:
    item = await items_service.get_item(session, item_id)
    if item is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, detail=f"Item {item_id} not found")
    return item


@router.post("", response_model=ItemRead, status_code=status.HTTP_201_CREATED)
async def create_item(data: ItemCreate, session: SessionDep) -> Item:
    return await items_service.create_item(session, data)


@router.get("", response_model=list[ItemRead])
async def list_items(
    session: SessionDep,
    limit: Limit = 50,
    offset: Offset = 0,
) -> list[Item]:
    return list(await items_service.list_items(session, limit=limit, offset=offset))


@router.get("/{item_id}", response_model=ItemRead)
async def read_item(item_id: ItemId, session: SessionDep) -> Item:
    return await _get_or_404(session, item_id)


@router.patch("/{item_id}", response_model=ItemRead)
async def update_item(item_id: ItemId, data: ItemUpdate, session: SessionDep) -> Item:
    item = await _get_or_404(session, item_id)
    return await items_service.update_item(session, item, data)


@router.delete(
    "/{item_id}",
    status_code=status.HTTP_204_NO_CONTENT,
    response_class=Response,
)
async def delete_item(item_id: ItemId, session: SessionDep) -> None:
    item = await _get_or_404(session, item_id)
    await items_service.delete_item(session, item)
