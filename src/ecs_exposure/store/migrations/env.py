"""Alembic environment of the findings history.

The store runs the migrations itself when it opens a database (``Store.open``), passing its
connection in ``config.attributes["connection"]``; with ``sqlalchemy.url`` set instead, the
``alembic`` command works too (see docs/history.md, "Changing the schema").
"""

from __future__ import annotations

from alembic import context
from sqlalchemy import create_engine

from ecs_exposure.store.models import Base

config = context.config


def run() -> None:
    connection = config.attributes.get("connection")
    if connection is not None:
        context.configure(connection=connection, target_metadata=Base.metadata, render_as_batch=True)
        with context.begin_transaction():
            context.run_migrations()
        return
    url = config.get_main_option("sqlalchemy.url")
    if context.is_offline_mode():
        context.configure(url=url, target_metadata=Base.metadata, literal_binds=True, render_as_batch=True)
        with context.begin_transaction():
            context.run_migrations()
        return
    engine = create_engine(url)
    with engine.connect() as conn:
        context.configure(connection=conn, target_metadata=Base.metadata, render_as_batch=True)
        with context.begin_transaction():
            context.run_migrations()


run()
