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
from decimal import Decimal
from typing import Any

from sqlalchemy import DateTime, Table
from sqlalchemy.dialects import sqlite
from sqlalchemy.engine import Dialect
from sqlalchemy.types import TypeEngine

from orchestrade.data.errors import StoreError
from orchestrade.storage.columns import ExactDecimal

Processor = Callable[[Any], Any]
_SQLITE = sqlite.dialect()


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
        process = _processor(dialect, table.c[name].type)
        if process is not None:
            processors.append((position, process))
    return Prepared(sql, tuple(columns), tuple(processors))


def _processor(dialect: Dialect, column_type: TypeEngine[Any]) -> Processor | None:
    """The bind processor SQLAlchemy uses for `column_type` on `dialect`; for the two
    types the journal writes most on SQLite, an equivalent that skips SQLAlchemy's layers
    (a test holds each equal to SQLAlchemy's on the same values)."""
    process = column_type.dialect_impl(dialect).bind_processor(dialect)
    if dialect.name != "sqlite" or process is None:
        return process
    if isinstance(column_type, ExactDecimal):
        return exact_decimal_text
    if isinstance(column_type, DateTime):
        return _RememberedTimes(process)
    return process


def exact_decimal_text(value: Any) -> str | None:
    """`ExactDecimal`'s SQLite bind processing: a finite Decimal as its text."""
    if value is None:
        return None
    if value.__class__ is not Decimal or not value.is_finite():
        text: str | None = ExactDecimal().process_bind_param(value, _SQLITE)  # or TypeError
        return text
    return str(value)


class _RememberedTimes:
    """SQLAlchemy's SQLite DateTime processing with the last value remembered: the rows of
    one journal write share their time (the order's `updated_at`, the event's and the audit
    line's `at`), so formatting it once serves them all."""

    __slots__ = ("_last", "_process")

    def __init__(self, process: Processor) -> None:
        self._process = process
        self._last: tuple[Any, Any] = (None, None)
        """(value, its text), replaced in one assignment: threads share the statement."""

    def __call__(self, value: Any) -> Any:
        last = self._last
        if value is last[0] and value is not None:
            return last[1]
        text = self._process(value)
        self._last = (value, text)
        return text


def _placeholder(dialect: Dialect) -> str:
    if dialect.paramstyle == "qmark":
        return "?"
    if dialect.paramstyle in ("format", "pyformat"):
        return "%s"
    raise StoreError(
        f"unsupported parameter style {dialect.paramstyle!r} of {dialect.name}: "
        "use SQLite or PostgreSQL (psycopg)"
    )
