"""GET /health: is the process up and can it reach the database?"""

from typing import Literal

from fastapi import APIRouter
from fastapi.responses import JSONResponse
from pydantic import BaseModel
from sqlalchemy import text

from app.api.deps import SessionDep
from app.core.errors import RETRY_AFTER_SECONDS
from app.core.logger import logger

router = APIRouter(tags=["health"])


class Health(BaseModel):
    status: Literal["ok", "error"]
    database: Literal["ok", "unreachable"]


UNREACHABLE = Health(status="error", database="unreachable")


@router.get(
    "/health",
    response_model=Health,
    responses={503: {"model": Health, "description": "The database cannot be reached"}},
)
async def health(session: SessionDep) -> Health | JSONResponse:
    try:
        await session.execute(text("SELECT 1"))
    except Exception as exc:  # any failure at all means the database cannot serve requests
        logger.warning("health check: database unreachable: %r", exc)
        await session.rollback()
        return JSONResponse(
            status_code=503,
            content=UNREACHABLE.model_dump(),
            headers={"Retry-After": str(RETRY_AFTER_SECONDS)},
        )
    return Health(status="ok", database="ok")
