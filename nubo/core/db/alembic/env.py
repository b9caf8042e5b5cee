"""Alembic environment: runs on the connection nubo hands it."""

from typing import Any

from alembic import context

from nubo.core.db.base import metadata

config = context.config
connection = config.attributes["connection"]
only: set[str] | None = config.attributes.get("include_tables")


def include_object(obj: Any, name: Any, type_: str, reflected: bool, compare_to: Any) -> bool:
    if only is None:
        return True
    table = obj if type_ == "table" else getattr(obj, "table", None)
    return table is None or table.name in only


context.configure(
    connection=connection,
    target_metadata=metadata,
    render_as_batch=connection.dialect.name == "sqlite",
    compare_type=True,
    include_object=include_object,
)
with context.begin_transaction():
    context.run_migrations()
