"""Bodies of the /items endpoints, built on the fields of app/models/item.py."""

from datetime import datetime
from typing import Annotated

from pydantic import WithJsonSchema, field_validator
from sqlmodel import Field, SQLModel

from app.models.item import DESCRIPTION_MAX_LENGTH, NAME_MAX_LENGTH, ItemBase

# Unknown fields are a client bug: answer 422 instead of dropping them silently. (Spelt as a merge
# because SQLModel types model_config as its own dict type, which a plain ConfigDict is not.)
FORBID_EXTRA = SQLModel.model_config | {"extra": "forbid"}


class ItemCreate(ItemBase):
    model_config = FORBID_EXTRA


class ItemUpdate(SQLModel):
    """A partial update: only the fields present in the body change."""

    model_config = FORBID_EXTRA

    # May be left out but not set to null: documented as a plain string.
    name: Annotated[
        str | None,
        WithJsonSchema({"type": "string", "minLength": 1, "maxLength": NAME_MAX_LENGTH}),
    ] = Field(default=None, min_length=1, max_length=NAME_MAX_LENGTH)
    description: str | None = Field(default=None, max_length=DESCRIPTION_MAX_LENGTH)

    @field_validator("name")
    @classmethod
    def name_not_null(cls, value: str | None) -> str:
        # Leaving `name` out is fine; sending null is not, the column is NOT NULL.
        # (Validators do not run on defaults, so this only sees values the client sent.)
        if value is None:
            raise ValueError("name may be left out but not set to null")
        return value


class ItemRead(ItemBase):
    id: int
    created_at: datetime
