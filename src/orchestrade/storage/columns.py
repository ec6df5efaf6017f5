"""Column types that keep money exact and ids auto-incrementing on both SQLite and PostgreSQL.

SQLite has no exact decimal type: its NUMERIC affinity turns `Decimal("0.1")` into a binary
float. `ExactDecimal` stores the Decimal's text there (so it reads back digit for digit) and
an unconstrained NUMERIC on PostgreSQL (exact at any scale). Sums and comparisons of these
columns belong in Python on SQLite: as text they compare lexically.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from sqlalchemy import BigInteger, Integer, Numeric, String
from sqlalchemy.engine import Dialect
from sqlalchemy.types import TypeDecorator, TypeEngine

SERIAL: TypeEngine[int] = BigInteger().with_variant(Integer(), "sqlite")
"""An auto-incrementing 64-bit key (SQLite only auto-increments INTEGER PRIMARY KEY)."""


class ExactDecimal(TypeDecorator[Decimal]):
    """A Decimal column that round-trips exactly: TEXT on SQLite, NUMERIC on PostgreSQL."""

    impl = Numeric
    cache_ok = True

    def load_dialect_impl(self, dialect: Dialect) -> TypeEngine[Any]:
        if dialect.name == "sqlite":
            return dialect.type_descriptor(String(80))
        return dialect.type_descriptor(Numeric(asdecimal=True))

    def process_bind_param(self, value: Decimal | None, dialect: Dialect) -> Any:
        if value is None:
            return None
        if not isinstance(value, Decimal) or not value.is_finite():
            raise TypeError(f"ExactDecimal columns take finite Decimals, got {value!r}")
        return str(value) if dialect.name == "sqlite" else value

    def process_result_value(self, value: Any, dialect: Dialect) -> Decimal | None:
        if value is None:
            return None
        return value if isinstance(value, Decimal) else Decimal(value)
