"""Bodies of the /items endpoints. The length limits match the columns in app/models/item.py."""

from datetime import datetime
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, WithJsonSchema, field_validator

from app.models.item import DESCRIPTION_MAX_LENGTH, NAME_MAX_LENGTH

Name = Annotated[str, Field(min_length=1, max_length=NAME_MAX_LENGTH)]
Description = Annotated[str, Field(max_length=DESCRIPTION_MAX_LENGTH)]
# PATCH may leave `name` out but not set it to null: documented as a plain string.
OptionalName = Annotated[
    Name | None,
    WithJsonSchema({"type": "string", "minLength": 1, "maxLength": NAME_MAX_LENGTH}),
]


class ItemCreate(BaseModel):
    # Unknown fields are a client bug: answer 422 instead of dropping them silently.
    model_config = ConfigDict(extra="forbid")

    name: Name
    description: Description | None = None


class ItemUpdate(BaseModel):
    """A partial update: only the fields present in the body change."""

    model_config = ConfigDict(extra="forbid")

    name: OptionalName = None
    description: Description | None = None

    @field_validator("name")
    @classmethod
    def name_not_null(cls, value: str | None) -> str:
        # Leaving `name` out is fine; sending null is not, the column is NOT NULL.
        # (Validators do not run on defaults, so this only sees values the client sent.)
        if value is None:
            raise ValueError("name may be left out but not set to null")
        return value


class ItemRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    name: str
    description: str | None
    created_at: datetime
