"""The paper broker's own state file: a small SQLite schema, apart from the app database.

A real broker keeps its books when the trading process dies; so does the paper broker.
Every change of a call (orders, fills, the market state of the symbols it touched) is
written in one transaction before the call returns or reports anything, so a new
`PaperBroker` on the same file resumes exactly. The file runs in WAL mode with
synchronous=NORMAL: a committed transaction survives the process being killed (not
necessarily a power cut). Decimals are stored as text, times as ISO 8601 UTC.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from enum import StrEnum
from pathlib import Path
from typing import Any

from sqlalchemy import (
    Column,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    create_engine,
    event,
    insert,
    select,
)
from sqlalchemy.engine import Connection, Engine, Row
from sqlalchemy.exc import SQLAlchemyError

from orchestrade.brokers.paper.errors import PaperStoreError
from orchestrade.domain import (
    Bar,
    BotId,
    BrokerOrderId,
    Fill,
    FillId,
    Order,
    OrderId,
    OrderStatus,
    OrderType,
    Side,
    Symbol,
    TimeInForce,
)

_metadata = MetaData()

ACCOUNT = Table(
    "paper_account",
    _metadata,
    Column("id", Integer, primary_key=True),
    Column("currency", String(8), nullable=False),
    Column("initial_cash", Text, nullable=False),
    Column("opened_at", Text, nullable=False),
)
ORDERS = Table(
    "paper_orders",
    _metadata,
    Column("order_id", Text, primary_key=True),
    Column("sequence", Integer, nullable=False, unique=True),
    Column("received", Integer, nullable=False),
    Column("session", Text),
    Column("reason", Text, nullable=False),
    Column("symbol", Text, nullable=False),
    Column("side", String(8), nullable=False),
    Column("order_type", String(16), nullable=False),
    Column("quantity", Text, nullable=False),
    Column("created_at", Text, nullable=False),
    Column("limit_price", Text),
    Column("stop_price", Text),
    Column("time_in_force", String(8), nullable=False),
    Column("status", String(24), nullable=False),
    Column("filled_quantity", Text, nullable=False),
    Column("average_fill_price", Text),
    Column("bot_id", Text),
    Column("broker_order_id", Text),
)
FILLS = Table(
    "paper_fills",
    _metadata,
    Column("sequence", Integer, primary_key=True),
    Column("fill_id", Text, nullable=False, unique=True),
    Column("order_id", Text, nullable=False),
    Column("symbol", Text, nullable=False),
    Column("side", String(8), nullable=False),
    Column("quantity", Text, nullable=False),
    Column("price", Text, nullable=False),
    Column("filled_at", Text, nullable=False),
    Column("fee", Text, nullable=False),
    Column("tax", Text, nullable=False),
)
MARKETS = Table(
    "paper_markets",
    _metadata,
    Column("symbol", Text, primary_key=True),
    Column("timeframe", String(8), nullable=False),
    Column("start", Text, nullable=False),
    Column("open", Text, nullable=False),
    Column("high", Text, nullable=False),
    Column("low", Text, nullable=False),
    Column("close", Text, nullable=False),
    Column("volume", Text, nullable=False),
    Column("previous_close", Text),
    Column("phase", String(8), nullable=False),
)


class MarketPhase(StrEnum):
    """Where a symbol's market is within its current bar."""

    OPEN = "open"
    """`begin_bar` ran: the open is the price; market orders fill at it."""
    TRADED = "traded"
    """`trade_bar` ran: the bar is over; the next `begin_bar` opens the next one."""


@dataclass(frozen=True, slots=True)
class MarketRecord:
    """A symbol's current bar, the close before it (the price band's base), and the phase."""

    bar: Bar
    previous_close: Decimal | None
    phase: MarketPhase


@dataclass(frozen=True, slots=True)
class OrderRecord:
    """An order as the paper broker holds it.

    `sequence` is its arrival rank, `received` how many submit calls carried its id,
    `session` the trading date of its first chance to fill (a DAY order expires after it),
    `reason` why it was rejected or ended, if it was.
    """

    order: Order
    sequence: int
    received: int
    session: date | None = None
    reason: str = ""


@dataclass(slots=True)
class Changes:
    """What one broker call changed; written in one transaction."""

    orders: dict[OrderId, OrderRecord] = field(default_factory=dict)
    fills: list[Fill] = field(default_factory=list)
    markets: dict[Symbol, MarketRecord] = field(default_factory=dict)

    def __bool__(self) -> bool:
        return bool(self.orders or self.fills or self.markets)


@dataclass(frozen=True, slots=True)
class StoredState:
    """Everything in the file: the account (None when new), orders and fills in arrival
    order, and the market state per symbol."""

    currency: str | None
    initial_cash: Decimal | None
    orders: list[OrderRecord]
    fills: list[Fill]
    markets: dict[Symbol, MarketRecord]


class PaperStore:
    """The state file of one paper account."""

    def __init__(self, engine: Engine) -> None:
        self._engine = engine

    @classmethod
    def open(cls, path: Path) -> PaperStore:
        """Open (creating the folder, file and schema when missing) the file at `path`."""
        path.parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(f"sqlite:///{path}")
        event.listen(engine, "connect", _configure_sqlite)
        try:
            _metadata.create_all(engine)
        except SQLAlchemyError as error:
            engine.dispose()
            raise PaperStoreError(f"cannot open the paper broker file {path}: {error}") from error
        return cls(engine)

    def close(self) -> None:
        """Release the connections."""
        self._engine.dispose()

    def load(self) -> StoredState:
        """Read everything back."""
        with self._engine.connect() as connection:
            account = connection.execute(select(ACCOUNT)).first()
            orders = [
                _order_record(row)
                for row in connection.execute(select(ORDERS).order_by(ORDERS.c.sequence))
            ]
            fills = [
                _fill(row) for row in connection.execute(select(FILLS).order_by(FILLS.c.sequence))
            ]
            markets = {
                Symbol(row.symbol): _market(row) for row in connection.execute(select(MARKETS))
            }
        return StoredState(
            currency=None if account is None else account.currency,
            initial_cash=None if account is None else Decimal(account.initial_cash),
            orders=orders,
            fills=fills,
            markets=markets,
        )

    def create_account(self, currency: str, cash: Decimal, at: datetime) -> None:
        """Record the account's currency and starting cash (once, when the file is new)."""
        with self._transaction() as connection:
            connection.execute(
                insert(ACCOUNT).values(
                    id=1, currency=currency, initial_cash=str(cash), opened_at=at.isoformat()
                )
            )

    def write(self, changes: Changes) -> None:
        """Persist `changes` in one transaction."""
        if not changes:
            return
        with self._transaction() as connection:
            _upsert(connection, ORDERS, map(_order_row, changes.orders.values()))
            if changes.fills:
                connection.execute(insert(FILLS), [_fill_row(fill) for fill in changes.fills])
            _upsert(
                connection,
                MARKETS,
                (_market_row(symbol, record) for symbol, record in changes.markets.items()),
            )

    @contextmanager
    def _transaction(self) -> Iterator[Connection]:
        try:
            with self._engine.begin() as connection:
                yield connection
        except SQLAlchemyError as error:
            raise PaperStoreError(f"paper broker file not written: {error}") from error


def _configure_sqlite(connection: Any, _record: object) -> None:
    cursor = connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute("PRAGMA busy_timeout=5000")
    cursor.close()


def _upsert(connection: Connection, table: Table, rows: Iterable[dict[str, Any]]) -> None:
    values = list(rows)
    if values:
        connection.exec_driver_sql(_UPSERTS[table.name], values)


def _upsert_sql(table: Table, key: str) -> str:
    """INSERT ... ON CONFLICT DO UPDATE as plain SQL: written once, never recompiled."""
    names = [column.name for column in table.columns]
    updates = ", ".join(f"{name} = excluded.{name}" for name in names if name != key)
    return (
        f"INSERT INTO {table.name} ({', '.join(names)}) "
        f"VALUES ({', '.join(':' + name for name in names)}) "
        f"ON CONFLICT ({key}) DO UPDATE SET {updates}"
    )


_UPSERTS = {
    ORDERS.name: _upsert_sql(ORDERS, "order_id"),
    MARKETS.name: _upsert_sql(MARKETS, "symbol"),
}


def _text(value: Decimal | None) -> str | None:
    return None if value is None else str(value)


def _decimal(value: str | None) -> Decimal | None:
    return None if value is None else Decimal(value)


def _order_row(record: OrderRecord) -> dict[str, Any]:
    order = record.order
    return {
        "order_id": order.order_id,
        "sequence": record.sequence,
        "received": record.received,
        "session": None if record.session is None else record.session.isoformat(),
        "reason": record.reason,
        "symbol": order.symbol,
        "side": order.side.value,
        "order_type": order.order_type.value,
        "quantity": str(order.quantity),
        "created_at": order.created_at.isoformat(),
        "limit_price": _text(order.limit_price),
        "stop_price": _text(order.stop_price),
        "time_in_force": order.time_in_force.value,
        "status": order.status.value,
        "filled_quantity": str(order.filled_quantity),
        "average_fill_price": _text(order.average_fill_price),
        "bot_id": order.bot_id,
        "broker_order_id": order.broker_order_id,
    }


def _order_record(row: Row[Any]) -> OrderRecord:
    order = Order(
        order_id=OrderId(row.order_id),
        symbol=Symbol(row.symbol),
        side=Side(row.side),
        order_type=OrderType(row.order_type),
        quantity=Decimal(row.quantity),
        created_at=datetime.fromisoformat(row.created_at),
        limit_price=_decimal(row.limit_price),
        stop_price=_decimal(row.stop_price),
        time_in_force=TimeInForce(row.time_in_force),
        status=OrderStatus(row.status),
        filled_quantity=Decimal(row.filled_quantity),
        average_fill_price=_decimal(row.average_fill_price),
        bot_id=None if row.bot_id is None else BotId(row.bot_id),
        broker_order_id=None if row.broker_order_id is None else BrokerOrderId(row.broker_order_id),
    )
    session = None if row.session is None else date.fromisoformat(row.session)
    return OrderRecord(order, row.sequence, row.received, session, row.reason)


def _fill_row(fill: Fill) -> dict[str, Any]:
    return {
        "fill_id": fill.fill_id,
        "order_id": fill.order_id,
        "symbol": fill.symbol,
        "side": fill.side.value,
        "quantity": str(fill.quantity),
        "price": str(fill.price),
        "filled_at": fill.filled_at.isoformat(),
        "fee": str(fill.fee),
        "tax": str(fill.tax),
    }


def _fill(row: Row[Any]) -> Fill:
    return Fill(
        fill_id=FillId(row.fill_id),
        order_id=OrderId(row.order_id),
        symbol=Symbol(row.symbol),
        side=Side(row.side),
        quantity=Decimal(row.quantity),
        price=Decimal(row.price),
        filled_at=datetime.fromisoformat(row.filled_at),
        fee=Decimal(row.fee),
        tax=Decimal(row.tax),
    )


def _market_row(symbol: Symbol, record: MarketRecord) -> dict[str, Any]:
    bar = record.bar
    return {
        "symbol": symbol,
        "timeframe": bar.timeframe,
        "start": bar.start.isoformat(),
        "open": str(bar.open),
        "high": str(bar.high),
        "low": str(bar.low),
        "close": str(bar.close),
        "volume": str(bar.volume),
        "previous_close": _text(record.previous_close),
        "phase": record.phase.value,
    }


def _market(row: Row[Any]) -> MarketRecord:
    bar = Bar(
        symbol=Symbol(row.symbol),
        timeframe=row.timeframe,
        start=datetime.fromisoformat(row.start),
        open=Decimal(row.open),
        high=Decimal(row.high),
        low=Decimal(row.low),
        close=Decimal(row.close),
        volume=Decimal(row.volume),
    )
    return MarketRecord(bar, _decimal(row.previous_close), MarketPhase(row.phase))
