"""Alembic environment: migrations run in code, on the connection `open_store` hands over.

There is no alembic.ini and no offline (SQL script) mode: `orchestrade.storage.open_store`
builds the Alembic config, puts its open connection in `config.attributes["connection"]`
and runs `upgrade head` inside that connection's transaction.
"""

from __future__ import annotations

from alembic import context
from sqlalchemy.engine import Connection

from orchestrade.storage.tables import Base

connection = context.config.attributes.get("connection")
if not isinstance(connection, Connection):
    raise RuntimeError("run migrations through orchestrade.storage.open_store(url)")

context.configure(
    connection=connection,
    target_metadata=Base.metadata,
    render_as_batch=connection.dialect.name == "sqlite",
)
with context.begin_transaction():
    context.run_migrations()
