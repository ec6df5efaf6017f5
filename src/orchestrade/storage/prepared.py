"""Statements rendered once for the store's database and run on its DBAPI cursor.

The OMS journal writes a few rows per order, thousands of times in one replay, and
SQLAlchemy's execution machinery (statement cache lookup, parameter processing, result
set-up) costs several times what SQLite's own write does. A `Prepared` statement is plain
SQL in the driver's parameter style together with the bind processors SQLAlchemy itself
uses for each parameter's column type on this dialect, picked once: values are stored
exactly as a SQLAlchemy insert would store them (`ExactDecimal` text, SQLite datetime
text, JSON), so rows written either way read back alike. Run them inside
`Store.driver_transaction` / `Store.driver_reading`.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Table
from sqlalchemy.engine import Dialect

from orchestrade.data.errors import StoreError

Processor = Callable[[Any], Any]


@dataclass(frozen=True, slots=True)
class Prepared:
    """SQL with positional parameters and the conversion of each parameter's value."""

    sql: str
    columns: tuple[str, ...]
    """The parameters' columns, in order."""
    processors: tuple[tuple[int, Processor], ...]
    """(position, bind processor) of the parameters whose type converts values."""

    def parameters(self, values: Sequence[Any]) -> list[Any]:
        """`values` (one per column, in order) as the driver takes them."""
        converted = list(values)
        for position, process in self.processors:
            converted[position] = process(converted[position])
        return converted


def insert_statement(
    dialect: Dialect,
    table: Table,
    columns: Sequence[str],
    *,
    conflict: str | Sequence[str] | None = None,
    update: Sequence[str] = (),
    where: str = "",
    returning: str | None = None,
    raw: Collection[str] = (),
) -> Prepared:
    """INSERT of `columns`, optionally ON CONFLICT (`conflict`: a column, or the columns of
    a composite key) DO UPDATE SET `update` [WHERE `where`] or DO NOTHING, and RETURNING
    one column.

    SQLite (3.35+) and PostgreSQL spell all of this the same way. Values of the `raw`
    columns are passed to the driver unconverted (e.g. JSON already encoded as text, which
    both drivers store into a JSON column as it is).
    """
    mark = _placeholder(dialect)
    names = ", ".join(f'"{name}"' for name in columns)
    values = ", ".join(mark for _ in columns)
    sql = f'INSERT INTO "{table.name}" ({names}) VALUES ({values})'
    if conflict is not None:
        if update:
            assignments = ", ".join(f'"{name}" = excluded."{name}"' for name in update)
            action = f"DO UPDATE SET {assignments}" + (f" WHERE {where}" if where else "")
        else:
            action = "DO NOTHING"
        keys = (conflict,) if isinstance(conflict, str) else tuple(conflict)
        quoted = ", ".join(f'"{key}"' for key in keys)
        sql += f" ON CONFLICT ({quoted}) {action}"
    if returning is not None:
        sql += f' RETURNING "{returning}"'
    return _prepared(dialect, table, sql, columns, raw)


def select_statement(
    dialect: Dialect, table: Table, columns: Sequence[str], *, key: str
) -> Prepared:
    """SELECT `columns` of the row whose `key` equals the one parameter."""
    names = ", ".join(f'"{name}"' for name in columns)
    sql = f'SELECT {names} FROM "{table.name}" WHERE "{key}" = {_placeholder(dialect)}'
    return _prepared(dialect, table, sql, (key,))


def _prepared(
    dialect: Dialect, table: Table, sql: str, columns: Sequence[str], raw: Collection[str] = ()
) -> Prepared:
    processors: list[tuple[int, Processor]] = []
    for position, name in enumerate(columns):
        if name in raw:
            continue
        process = table.c[name].type.dialect_impl(dialect).bind_processor(dialect)
        if process is not None:
            processors.append((position, process))
    return Prepared(sql, tuple(columns), tuple(processors))


def _placeholder(dialect: Dialect) -> str:
    if dialect.paramstyle == "qmark":
        return "?"
    if dialect.paramstyle in ("format", "pyformat"):
        return "%s"
    raise StoreError(
        f"unsupported parameter style {dialect.paramstyle!r} of {dialect.name}: "
        "use SQLite or PostgreSQL (psycopg)"
    )
