"""The `items` table: the sample resource to copy when adding your own.

With SQLModel one class family is both the table and the API bodies: ItemBase holds the fields a
client may send (with their validation), Item adds the columns the database fills in.
"""

from datetime import datetime

from sqlalchemy import Column, DateTime, Identity, Integer, func
from sqlmodel import Field, SQLModel

import app.db.base  # noqa: F401  # the naming convention must be set before the table exists

NAME_MAX_LENGTH = 100
DESCRIPTION_MAX_LENGTH = 1000


class ItemBase(SQLModel):
    name: str = Field(min_length=1, max_length=NAME_MAX_LENGTH)
    description: str | None = Field(default=None, max_length=DESCRIPTION_MAX_LENGTH)


class Item(ItemBase, table=True):
    __tablename__ = "items"

    # None until the INSERT: Postgres generates both.
    id: int | None = Field(
        default=None, sa_column=Column(Integer, Identity(always=False), primary_key=True)
    )
    # Set by Postgres, in UTC, so every writer agrees on the clock.
    created_at: datetime | None = Field(
        default=None,
        sa_column=Column(DateTime(timezone=True), server_default=func.now(), nullable=False),
    )
