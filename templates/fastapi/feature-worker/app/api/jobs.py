"""Background jobs over HTTP: enqueue one for an item, then read where it stands."""

from typing import Annotated

from fastapi import APIRouter, HTTPException, Path, Response, status

from app.api.deps import SessionDep
from app.api.items import ItemId
from app.schema.job import Job
from app.services import items as items_service
from app.services import jobs as jobs_service

router = APIRouter(tags=["jobs"])

# Job ids are taskiq's (32 hex digits); any id of this shape may be asked for.
JobId = Annotated[str, Path(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9_-]+$")]


@router.post(
    "/items/{item_id}/jobs",
    response_model=Job,
    status_code=status.HTTP_202_ACCEPTED,
    responses={
        202: {
            "description": "Queued: read its state at the Location",
            "headers": {"Location": {"schema": {"type": "string"}, "description": "/jobs/{id}"}},
        }
    },
)
async def summarize_item(item_id: ItemId, session: SessionDep, response: Response) -> Job:
    """Queues the summarize_item job for this item. A body, if sent, is ignored."""
    if await items_service.get_item(session, item_id) is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, detail=f"Item {item_id} not found")
    job = await jobs_service.enqueue_summary(item_id)
    response.headers["Location"] = f"/jobs/{job.id}"
    return job


@router.get("/jobs/{job_id}", response_model=Job)
async def read_job(job_id: JobId) -> Job:
    job = await jobs_service.read_job(job_id)
    if job is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, detail=f"Job {job_id} not found")
    return job
