"""Small helpers shared by the tests."""

from pathlib import Path

from alembic.config import Config
from sqlalchemy import URL, text
from sqlalchemy.ext.asyncio import AsyncEngine

PROJECT_ROOT = Path(__file__).resolve().parents[1]


def alembic_config(url: URL) -> Config:
    """The project's Alembic setup, aimed at `url` and usable from any working directory."""
    config = Config(PROJECT_ROOT / "alembic.ini")
    config.set_main_option("script_location", str(PROJECT_ROOT / "app" / "db" / "migrations"))
    config.attributes["url"] = url  # read by app/db/migrations/env.py
    return config


async def count_committed_items(engine: AsyncEngine) -> int:
    """Counts through a connection of its own, so it only sees committed rows."""
    async with engine.connect() as conn:
        return int((await conn.execute(text("SELECT count(*) FROM items"))).scalar_one())
