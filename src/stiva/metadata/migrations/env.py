"""Alembic environment: runs on the connection `stiva.metadata.migrate` passes in."""

from __future__ import annotations

from alembic import context
from sqlalchemy import create_engine

from stiva.metadata.models import Base

config = context.config


def _run(connection: object) -> None:
    context.configure(
        connection=connection,  # type: ignore[arg-type]
        target_metadata=Base.metadata,
        render_as_batch=True,
        compare_type=True,
    )
    with context.begin_transaction():
        context.run_migrations()


connection = config.attributes.get("connection")
if connection is not None:
    _run(connection)
else:
    engine = create_engine(config.get_main_option("sqlalchemy.url") or "sqlite://")
    with engine.begin() as fresh:
        _run(fresh)
