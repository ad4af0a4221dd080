"""Request and response bodies (Pydantic), kept apart from the table models."""

from app.schema.item import ItemCreate, ItemRead, ItemUpdate

__all__ = ["ItemCreate", "ItemRead", "ItemUpdate"]
