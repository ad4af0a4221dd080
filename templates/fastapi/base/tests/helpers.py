"""Small helpers shared by the tests."""

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine


async def count_committed_items(engine: AsyncEngine) -> int:
    """Counts through a connection of its own, so it only sees committed rows."""
    async with engine.connect() as conn:
        return int((await conn.execute(text("SELECT count(*) FROM items"))).scalar_one())
