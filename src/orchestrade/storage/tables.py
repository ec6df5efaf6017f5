"""The database tables, as typed SQLAlchemy declarative classes.

Alembic migrations (in `migrations/versions/`) create these tables; a test checks that the
migrated schema and these classes agree. Bulk paths (bars, book levels) do not build ORM
objects: repositories use the tables' Core form and the raw DBAPI cursor.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    CheckConstraint,
    DateTime,
    Double,
    ForeignKey,
    Integer,
    LargeBinary,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

MARKETS = ("krx", "us", "crypto")


class Base(DeclarativeBase):
    """Metadata shared by every table."""


class InstrumentRow(Base):
    """One tradable instrument: a symbol on a market."""

    __tablename__ = "instruments"
    __table_args__ = (
        UniqueConstraint("symbol", "market", name="uq_instruments_symbol_market"),
        CheckConstraint("market IN ('krx', 'us', 'crypto')", name="ck_instruments_market"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    symbol: Mapped[str] = mapped_column(String(40))
    market: Mapped[str] = mapped_column(String(16))
    exchange: Mapped[str] = mapped_column(String(40))
    currency: Mapped[str] = mapped_column(String(8))
    name: Mapped[str | None] = mapped_column(String(200))
    lot_size: Mapped[float | None] = mapped_column(Double)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class BarRow(Base):
    """One OHLCV bar; `ts_ns` is the bar start in epoch nanoseconds (UTC)."""

    __tablename__ = "bars"
    __table_args__ = ({"sqlite_with_rowid": False},)

    instrument_id: Mapped[int] = mapped_column(
        Integer, ForeignKey("instruments.id", ondelete="CASCADE"), primary_key=True
    )
    timeframe: Mapped[str] = mapped_column(String(8), primary_key=True)
    ts_ns: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    open: Mapped[float] = mapped_column(Double)
    high: Mapped[float] = mapped_column(Double)
    low: Mapped[float] = mapped_column(Double)
    close: Mapped[float] = mapped_column(Double)
    volume: Mapped[float] = mapped_column(Double)


class BookLevelRow(Base):
    """One price level of an order-book message (snapshot level or delta)."""

    __tablename__ = "book_levels"
    __table_args__ = ({"sqlite_with_rowid": False},)

    instrument_id: Mapped[int] = mapped_column(
        Integer, ForeignKey("instruments.id", ondelete="CASCADE"), primary_key=True
    )
    exchange: Mapped[str] = mapped_column(String(40), primary_key=True)
    ts_ns: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    msg_id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    side: Mapped[str] = mapped_column(String(3), primary_key=True)
    price: Mapped[float] = mapped_column(Double, primary_key=True)
    local_ts_ns: Mapped[int | None] = mapped_column(BigInteger)
    update_type: Mapped[str] = mapped_column(String(8))
    level: Mapped[int | None] = mapped_column(Integer)
    size: Mapped[float] = mapped_column(Double)


class ImportRow(Base):
    """The audit entry of one imported file."""

    __tablename__ = "imports"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    path: Mapped[str] = mapped_column(Text)
    sha256: Mapped[str] = mapped_column(String(64), index=True)
    kind: Mapped[str] = mapped_column(String(8))
    rows: Mapped[int] = mapped_column(Integer)
    inserted: Mapped[int] = mapped_column(Integer)
    updated: Mapped[int] = mapped_column(Integer)
    rejected: Mapped[dict[str, Any]] = mapped_column(JSON)
    imported_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class BarBlockRow(Base):
    """A packed, read-optimized copy of up to `BLOCK_BARS` consecutive bar slots.

    Derived from `bars` by BarRepository in the same transaction as every bar write; it lets
    `load_bars` fetch a few blobs instead of one Python object per value. `data` is the
    little-endian records (ts_ns int64, open, high, low, close, volume float64) of the bars
    of one instrument and timeframe with `start_ns <= ts_ns < start_ns + span`, sorted.
    """

    __tablename__ = "bar_blocks"

    instrument_id: Mapped[int] = mapped_column(
        Integer, ForeignKey("instruments.id", ondelete="CASCADE"), primary_key=True
    )
    timeframe: Mapped[str] = mapped_column(String(8), primary_key=True)
    start_ns: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    rows: Mapped[int] = mapped_column(Integer)
    first_ns: Mapped[int] = mapped_column(BigInteger)
    last_ns: Mapped[int] = mapped_column(BigInteger)
    data: Mapped[bytes] = mapped_column(LargeBinary)
