"""The database tables, as typed SQLAlchemy declarative classes.

Alembic migrations (in `migrations/versions/`) create these tables; a test checks that the
migrated schema and these classes agree. Bulk paths (bars, book levels) do not build ORM
objects: repositories use the tables' Core form and the raw DBAPI cursor.
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    CheckConstraint,
    DateTime,
    Double,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from orchestrade.storage.columns import SERIAL, ExactDecimal

MARKETS = ("krx", "us", "crypto")
ACCOUNT_KEY = ""
"""`bot_key` of rows that belong to the whole account rather than one bot (keys cannot be NULL)."""


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


class BotRow(Base):
    """One bot: its strategy spec and parameters (JSON), universe, allocation and state."""

    __tablename__ = "bots"
    __table_args__ = (
        CheckConstraint("state IN ('running', 'paused', 'stopped')", name="ck_bots_state"),
    )

    bot_id: Mapped[str] = mapped_column(String(100), primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    strategy: Mapped[dict[str, Any]] = mapped_column(JSON)
    params: Mapped[dict[str, Any]] = mapped_column(JSON)
    symbols: Mapped[list[str]] = mapped_column(JSON)
    allocation: Mapped[Decimal] = mapped_column(ExactDecimal)
    state: Mapped[str] = mapped_column(String(16))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class SignalRow(Base):
    """A strategy's signal and the rules' decision on it (approved, or rejected and why)."""

    __tablename__ = "signals"
    __table_args__ = (
        Index("ix_signals_time", "time"),
        Index("ix_signals_bot_id_time", "bot_id", "time"),
    )

    id: Mapped[int] = mapped_column(SERIAL, primary_key=True, autoincrement=True)
    time: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    bot_id: Mapped[str | None] = mapped_column(String(100))
    strategy_id: Mapped[str] = mapped_column(String(100))
    symbol: Mapped[str] = mapped_column(String(40))
    side: Mapped[str] = mapped_column(String(8))
    confidence: Mapped[float] = mapped_column(Double)
    reasons: Mapped[list[str]] = mapped_column(JSON)
    reference_price: Mapped[Decimal | None] = mapped_column(ExactDecimal)
    approved: Mapped[bool] = mapped_column(Boolean)
    decision_reason: Mapped[str] = mapped_column(Text)


class OrderRow(Base):
    """The current state of one order, keyed by its client order id (every `Order` field)."""

    __tablename__ = "orders"
    __table_args__ = (Index("ix_orders_status", "status"),)

    order_id: Mapped[str] = mapped_column(String(100), primary_key=True)
    bot_id: Mapped[str | None] = mapped_column(String(100))
    symbol: Mapped[str] = mapped_column(String(40))
    side: Mapped[str] = mapped_column(String(8))
    order_type: Mapped[str] = mapped_column(String(16))
    quantity: Mapped[Decimal] = mapped_column(ExactDecimal)
    limit_price: Mapped[Decimal | None] = mapped_column(ExactDecimal)
    stop_price: Mapped[Decimal | None] = mapped_column(ExactDecimal)
    time_in_force: Mapped[str] = mapped_column(String(8))
    status: Mapped[str] = mapped_column(String(20))
    filled_quantity: Mapped[Decimal] = mapped_column(ExactDecimal)
    average_fill_price: Mapped[Decimal | None] = mapped_column(ExactDecimal)
    broker_order_id: Mapped[str | None] = mapped_column(String(100))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class OrderEventRow(Base):
    """One recorded change of an order (append-only): its new status, fills so far, and why."""

    __tablename__ = "order_events"
    __table_args__ = (Index("ix_order_events_order_id", "order_id"),)

    id: Mapped[int] = mapped_column(SERIAL, primary_key=True, autoincrement=True)
    order_id: Mapped[str] = mapped_column(String(100), ForeignKey("orders.order_id"))
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    status: Mapped[str] = mapped_column(String(20))
    reason: Mapped[str] = mapped_column(Text)
    filled_quantity: Mapped[Decimal] = mapped_column(ExactDecimal)
    average_fill_price: Mapped[Decimal | None] = mapped_column(ExactDecimal)


class FillRow(Base):
    """One execution, unique by the broker's fill id; `id` gives the order of recording.

    The key to `orders` is checked at commit, so a fill and its order can be written in
    either order inside one transaction.
    """

    __tablename__ = "fills"
    __table_args__ = (Index("ix_fills_order_id", "order_id"),)

    id: Mapped[int] = mapped_column(SERIAL, primary_key=True, autoincrement=True)
    fill_id: Mapped[str] = mapped_column(String(100), unique=True)
    order_id: Mapped[str] = mapped_column(
        String(100), ForeignKey("orders.order_id", deferrable=True, initially="DEFERRED")
    )
    symbol: Mapped[str] = mapped_column(String(40))
    side: Mapped[str] = mapped_column(String(8))
    quantity: Mapped[Decimal] = mapped_column(ExactDecimal)
    price: Mapped[Decimal] = mapped_column(ExactDecimal)
    fee: Mapped[Decimal] = mapped_column(ExactDecimal)
    tax: Mapped[Decimal] = mapped_column(ExactDecimal)
    filled_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    recorded_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class PositionRow(Base):
    """The last saved position of a bot (or the account: `ACCOUNT_KEY`) in one symbol."""

    __tablename__ = "positions"

    bot_key: Mapped[str] = mapped_column(String(100), primary_key=True)
    symbol: Mapped[str] = mapped_column(String(40), primary_key=True)
    quantity: Mapped[Decimal] = mapped_column(ExactDecimal)
    cost_basis: Mapped[Decimal] = mapped_column(ExactDecimal)
    realized_pnl: Mapped[Decimal] = mapped_column(ExactDecimal)
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class PositionsVersionRow(Base):
    """One row counting the saves of `positions`: readers that keep a copy of the positions
    (the API's positions list) compare one integer instead of reading every position."""

    __tablename__ = "positions_version"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    version: Mapped[int] = mapped_column(BigInteger)


class PortfolioSnapshotRow(Base):
    """Cash, market value and equity of a bot (or the account) at one instant."""

    __tablename__ = "portfolio_snapshots"
    __table_args__ = (
        UniqueConstraint("bot_key", "time", name="uq_portfolio_snapshots_bot_key_time"),
    )

    id: Mapped[int] = mapped_column(SERIAL, primary_key=True, autoincrement=True)
    bot_key: Mapped[str] = mapped_column(String(100))
    time: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    cash: Mapped[Decimal] = mapped_column(ExactDecimal)
    market_value: Mapped[Decimal] = mapped_column(ExactDecimal)
    equity: Mapped[Decimal] = mapped_column(ExactDecimal)


class AuditEventRow(Base):
    """One line of the append-only audit log, with the full event as JSON in `payload`."""

    __tablename__ = "audit_events"
    __table_args__ = (
        Index("ix_audit_events_at", "at"),
        Index("ix_audit_events_bot_id", "bot_id"),
        Index("ix_audit_events_kind", "kind"),
    )

    id: Mapped[int] = mapped_column(SERIAL, primary_key=True, autoincrement=True)
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    kind: Mapped[str] = mapped_column(String(64))
    bot_id: Mapped[str | None] = mapped_column(String(100))
    symbol: Mapped[str | None] = mapped_column(String(40))
    side: Mapped[str | None] = mapped_column(String(8))
    quantity: Mapped[Decimal | None] = mapped_column(ExactDecimal)
    price: Mapped[Decimal | None] = mapped_column(ExactDecimal)
    reason: Mapped[str] = mapped_column(Text)
    payload: Mapped[dict[str, Any]] = mapped_column(JSON)


class AnomalyRow(Base):
    """One anomaly a detector reported, or one trip of a circuit breaker (`kind`).

    A trip is kept with severity ``critical``, its breaker as `detector`, ``portfolio`` as
    `subject` and its limit as `threshold`. `bot_key` is the bot, or `ACCOUNT_KEY` for
    findings about a symbol or the whole portfolio. A finding is kept once: the same kind,
    detector, subject, bot and time again (a resumed run detects its past again) adds no row.
    """

    __tablename__ = "anomalies"
    __table_args__ = (
        UniqueConstraint(
            "kind", "detector", "subject", "bot_key", "detected_at", name="uq_anomalies_finding"
        ),
        CheckConstraint("kind IN ('anomaly', 'circuit_breaker')", name="ck_anomalies_kind"),
        CheckConstraint(
            "severity IN ('low', 'medium', 'high', 'critical')", name="ck_anomalies_severity"
        ),
        Index("ix_anomalies_detected_at", "detected_at"),
        Index("ix_anomalies_bot_key_detected_at", "bot_key", "detected_at"),
    )

    id: Mapped[int] = mapped_column(SERIAL, primary_key=True, autoincrement=True)
    detected_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    kind: Mapped[str] = mapped_column(String(16))
    detector: Mapped[str] = mapped_column(String(64))
    severity: Mapped[str] = mapped_column(String(16))
    subject: Mapped[str] = mapped_column(String(100))
    bot_key: Mapped[str] = mapped_column(String(100))
    value: Mapped[Decimal] = mapped_column(ExactDecimal)
    threshold: Mapped[Decimal] = mapped_column(ExactDecimal)
    reason: Mapped[str] = mapped_column(Text)
    recorded_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class RebalanceRow(Base):
    """A rebalance proposal of one portfolio (a node's name, or the store's bots): weights
    before and after, the model's estimates, the method, the reasoning, and its status
    (proposed, skipped or applied) with the decision's reason."""

    __tablename__ = "rebalances"
    __table_args__ = (
        CheckConstraint(
            "status IN ('proposed', 'skipped', 'applied')", name="ck_rebalances_status"
        ),
        Index("ix_rebalances_proposed_at", "proposed_at"),
        Index("ix_rebalances_portfolio_proposed_at", "portfolio", "proposed_at"),
    )

    id: Mapped[int] = mapped_column(SERIAL, primary_key=True, autoincrement=True)
    portfolio: Mapped[str] = mapped_column(String(100))
    proposed_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    trigger: Mapped[str] = mapped_column(Text)
    objective: Mapped[str] = mapped_column(String(16))
    covariance: Mapped[str] = mapped_column(String(16))
    lower_bound: Mapped[float] = mapped_column(Double)
    upper_bound: Mapped[float] = mapped_column(Double)
    risk_free: Mapped[float] = mapped_column(Double)
    max_volatility: Mapped[float | None] = mapped_column(Double)
    observations: Mapped[int] = mapped_column(Integer)
    current: Mapped[list[list[str]]] = mapped_column(JSON)
    proposed: Mapped[list[list[str]]] = mapped_column(JSON)
    expected_return_before: Mapped[float | None] = mapped_column(Double)
    volatility_before: Mapped[float | None] = mapped_column(Double)
    sharpe_before: Mapped[float | None] = mapped_column(Double)
    expected_return_after: Mapped[float | None] = mapped_column(Double)
    volatility_after: Mapped[float | None] = mapped_column(Double)
    sharpe_after: Mapped[float | None] = mapped_column(Double)
    sharpe_improvement: Mapped[float | None] = mapped_column(Double)
    threshold: Mapped[float] = mapped_column(Double)
    reasoning: Mapped[str] = mapped_column(Text)
    status: Mapped[str] = mapped_column(String(16))
    decision: Mapped[str] = mapped_column(Text)
    decided_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


class UserRow(Base):
    """A person or script allowed to use the API: a role and an argon2id password hash."""

    __tablename__ = "users"
    __table_args__ = (
        CheckConstraint("role IN ('viewer', 'trader', 'admin')", name="ck_users_role"),
    )

    id: Mapped[int] = mapped_column(SERIAL, primary_key=True, autoincrement=True)
    name: Mapped[str] = mapped_column(String(64), unique=True)
    role: Mapped[str] = mapped_column(String(16))
    password_hash: Mapped[str] = mapped_column(Text)
    disabled: Mapped[bool] = mapped_column(Boolean)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class ApiKeyRow(Base):
    """An API key of a user, stored as its SHA-256 only (the key is shown once at creation)."""

    __tablename__ = "api_keys"
    __table_args__ = (Index("ix_api_keys_user_id", "user_id"),)

    id: Mapped[int] = mapped_column(SERIAL, primary_key=True, autoincrement=True)
    user_id: Mapped[int] = mapped_column(BigInteger, ForeignKey("users.id", ondelete="CASCADE"))
    name: Mapped[str] = mapped_column(String(100))
    prefix: Mapped[str] = mapped_column(String(16))
    key_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    revoked_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
