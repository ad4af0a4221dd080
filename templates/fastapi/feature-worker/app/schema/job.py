"""The body of the /jobs endpoints: one job and where it stands."""

from pydantic import BaseModel

from app.worker.jobs import JobStatus


class Summary(BaseModel):
    """What summarize_item returns (app/worker/tasks.py)."""

    item_id: int
    name_length: int
    description_words: int


class Job(BaseModel):
    id: str
    name: str
    item_id: int
    status: JobStatus
    # How many attempts have started (3 at most).
    attempts: int
    # Set once the job succeeded.
    result: Summary | None
    # The last failed attempt's message (a retrying or failed job).
    error: str | None
