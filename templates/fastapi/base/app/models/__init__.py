"""Table models. Import every model here so Alembic's autogenerate sees its table."""

from app.models.item import Item

__all__ = ["Item"]
