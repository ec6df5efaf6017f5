"""Idempotent bulk writes that count exactly what they did: insert, update or nothing.

Rows go first into a temporary staging table through the raw DBAPI cursor (SQLite:
`executemany` with tuples; PostgreSQL: `COPY`), then two set-based statements move them:
`INSERT ... SELECT ... ON CONFLICT DO NOTHING` (its row count is the number of new keys) and
`UPDATE ... FROM staging` restricted to rows whose values differ (its row count is the
number of changed rows). Everything else was already present with the same values.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from sqlalchemy import Column, Index, MetaData, Table, literal, or_, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Connection
from sqlalchemy.sql.dml import Insert

from orchestrade.data.errors import StoreError
from orchestrade.data.ports import UpsertCounts


def dialect_insert(connection: Connection, table: Table) -> Any:
    """The dialect's INSERT construct, which knows ON CONFLICT."""
    name = connection.dialect.name
    if name == "sqlite":
        return sqlite.insert(table)
    if name == "postgresql":
        return postgresql.insert(table)
    raise StoreError(f"unsupported database {name!r}: use SQLite or PostgreSQL")


def staged_upsert(
    connection: Connection,
    table: Table,
    key: Sequence[str],
    values: Sequence[str],
    rows: Sequence[tuple[Any, ...]],
    *,
    constants: Mapping[str, Any] | None = None,
) -> UpsertCounts:
    """Insert-or-update `rows` into `table` and count inserted, updated and unchanged rows.

    Args:
        connection: a connection inside a transaction (the caller commits).
        table: the target table; `key` must be its primary key or a unique constraint.
        key, values: the key and value column names.
        rows: tuples over the key then value columns, minus the `constants` columns.
        constants: columns with one value for every row (e.g. the timeframe).
    """
    fixed = dict(constants or {})
    staged = [name for name in (*key, *values) if name not in fixed]
    if not rows:
        return UpsertCounts()
    stage = Table(
        f"stage_{table.name}",
        MetaData(),
        *(Column(name, table.c[name].type) for name in staged),
        prefixes=["TEMPORARY"],
    )
    stage.create(connection)
    _fill(connection, stage, staged, rows)
    sources = [
        literal(fixed[name], table.c[name].type) if name in fixed else stage.c[name]
        for name in (*key, *values)
    ]
    key_order = [stage.c[name] for name in key if name not in fixed]
    insert: Insert = (
        dialect_insert(connection, table)
        .from_select([*key, *values], select(*sources).where(key_order[0].is_not(None)))
        .on_conflict_do_nothing(index_elements=list(key))
    )
    inserted = connection.execute(insert.execution_options(preserve_rowcount=True)).rowcount
    updated = 0
    if inserted < len(rows):
        Index(f"ix_stage_{table.name}", *key_order).create(connection)
        matches = [
            table.c[name]
            == (literal(fixed[name], table.c[name].type) if name in fixed else stage.c[name])
            for name in key
        ]
        changed = or_(*(table.c[name].is_distinct_from(stage.c[name]) for name in values))
        statement = (
            update(table).where(*matches, changed).values({name: stage.c[name] for name in values})
        )
        updated = connection.execute(statement).rowcount
    stage.drop(connection)
    return UpsertCounts(
        inserted=inserted, updated=updated, unchanged=len(rows) - inserted - updated
    )


def _fill(
    connection: Connection, stage: Table, columns: Sequence[str], rows: Sequence[tuple[Any, ...]]
) -> None:
    names = ", ".join(columns)
    cursor = connection.connection.cursor()
    try:
        if connection.dialect.name == "postgresql":
            with cursor.copy(f"COPY {stage.name} ({names}) FROM STDIN") as copy:
                for row in rows:
                    copy.write_row(row)
        else:
            marks = ", ".join("?" for _ in columns)
            cursor.executemany(f"INSERT INTO {stage.name} ({names}) VALUES ({marks})", rows)
    finally:
        cursor.close()
