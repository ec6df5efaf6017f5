"""The paper broker's own state file: a small SQLite schema, apart from the app database.

A real broker keeps its books when the trading process dies; so does the paper broker.
Every change of a call (orders, fills, the market state of the symbols it touched) is
written in one transaction before the call returns or reports anything, so a new
`PaperBroker` on the same file resumes exactly. The file runs in WAL mode with
synchronous=NORMAL: a committed transaction survives the process being killed (not
necessarily a power cut). Decimals are stored as text, times as ISO 8601 UTC.

The broker commits once per order-changing call, thousands of times in a replay, so the
store talks to SQLite through one long-lived `sqlite3` connection and fixed SQL (statements
the driver prepares once and caches); the SQLAlchemy tables below only describe the schema
and create it.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Sequence
from contextlib import suppress
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from enum import StrEnum
from pathlib import Path

from sqlalchemy import Column, Integer, MetaData, String, Table, Text
from sqlalchemy.dialects import sqlite
from sqlalchemy.schema import CreateTable

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

WAL_CHECKPOINT_PAGES = 10_000
"""WAL size (pages of 4 KiB) at which a commit checkpoints, syncing the WAL and the file
(the only syncs with synchronous=NORMAL); SQLite's default of 1,000 pages would cost a
sync every few dozen orders. A trading node checkpoints the file on a thread of its own
well before this (`orchestrade.storage.checkpoints`): this is the safety net."""

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
    """The state file of one paper account, on one connection used by one thread at a time
    (the broker's event loop)."""

    def __init__(self, connection: sqlite3.Connection, path: Path) -> None:
        self._connection = connection
        self._path = path

    @classmethod
    def open(cls, path: Path) -> PaperStore:
        """Open (creating the folder, file and schema when missing) the file at `path`."""
        path.parent.mkdir(parents=True, exist_ok=True)
        try:
            connection = sqlite3.connect(
                path, isolation_level=None, check_same_thread=False, timeout=5.0
            )
        except sqlite3.Error as error:
            raise PaperStoreError(f"cannot open the paper broker file {path}: {error}") from error
        try:
            connection.execute("PRAGMA journal_mode=WAL")
            connection.execute("PRAGMA synchronous=NORMAL")
            connection.execute("PRAGMA busy_timeout=5000")
            connection.execute(f"PRAGMA wal_autocheckpoint={WAL_CHECKPOINT_PAGES}")
            connection.execute("BEGIN")
            for statement in _SCHEMA:
                connection.execute(statement)
            connection.execute("COMMIT")
        except sqlite3.Error as error:
            connection.close()
            raise PaperStoreError(f"cannot open the paper broker file {path}: {error}") from error
        return cls(connection, path)

    def close(self) -> None:
        """Release the connection."""
        self._connection.close()

    def load(self) -> StoredState:
        """Read everything back."""
        try:
            cursor = self._connection.cursor()
            cursor.row_factory = sqlite3.Row
            account = cursor.execute(f"SELECT * FROM {ACCOUNT.name}").fetchone()
            orders = [
                _order_record(row)
                for row in cursor.execute(f"SELECT * FROM {ORDERS.name} ORDER BY sequence")
            ]
            fills = [
                _fill(row)
                for row in cursor.execute(f"SELECT * FROM {FILLS.name} ORDER BY sequence")
            ]
            markets = {
                Symbol(row["symbol"]): _market(row)
                for row in cursor.execute(f"SELECT * FROM {MARKETS.name}")
            }
        except sqlite3.Error as error:
            raise PaperStoreError(
                f"cannot read the paper broker file {self._path}: {error}"
            ) from error
        return StoredState(
            currency=None if account is None else account["currency"],
            initial_cash=None if account is None else Decimal(account["initial_cash"]),
            orders=orders,
            fills=fills,
            markets=markets,
        )

    def create_account(self, currency: str, cash: Decimal, at: datetime) -> None:
        """Record the account's currency and starting cash (once, when the file is new)."""
        self._transaction([(_INSERT_ACCOUNT, [(1, currency, str(cash), at.isoformat())])])

    def write(self, changes: Changes) -> None:
        """Persist `changes` in one transaction."""
        if not changes:
            return
        batches = []
        if changes.orders:
            batches.append((_UPSERT_ORDER, [_order_row(r) for r in changes.orders.values()]))
        if changes.fills:
            batches.append((_INSERT_FILL, [_fill_row(fill) for fill in changes.fills]))
        if changes.markets:
            batches.append(
                (_UPSERT_MARKET, [_market_row(s, r) for s, r in changes.markets.items()])
            )
        self._transaction(batches)

    def _transaction(self, batches: Sequence[tuple[str, Sequence[Sequence[object]]]]) -> None:
        """Run each statement over its rows, all in one transaction: committed on return,
        rolled back (nothing kept) when anything fails."""
        connection = self._connection
        try:
            connection.execute("BEGIN")
            for sql, rows in batches:
                connection.executemany(sql, rows)
            connection.execute("COMMIT")
        except BaseException as error:
            if connection.in_transaction:
                with suppress(sqlite3.Error):
                    connection.execute("ROLLBACK")
            if isinstance(error, sqlite3.Error):
                raise PaperStoreError(
                    f"paper broker file {self._path} not written: {error}"
                ) from error
            raise


def _insert_sql(table: Table, *, key: str | None = None, generated: str | None = None) -> str:
    """INSERT of every column but the `generated` one, positional (in table order); with
    `key`, ON CONFLICT (key) DO UPDATE of the others. Written once; sqlite3 prepares it once
    per connection and caches it."""
    names = [column.name for column in table.columns if column.name != generated]
    sql = f"INSERT INTO {table.name} ({', '.join(names)}) VALUES ({', '.join('?' for _ in names)})"
    if key is not None:
        updates = ", ".join(f"{name} = excluded.{name}" for name in names if name != key)
        sql += f" ON CONFLICT ({key}) DO UPDATE SET {updates}"
    return sql


_SCHEMA = [
    str(CreateTable(table, if_not_exists=True).compile(dialect=sqlite.dialect())).strip()
    for table in _metadata.sorted_tables
]
_INSERT_ACCOUNT = _insert_sql(ACCOUNT)
_UPSERT_ORDER = _insert_sql(ORDERS, key="order_id")
_INSERT_FILL = _insert_sql(FILLS, generated="sequence")
_UPSERT_MARKET = _insert_sql(MARKETS, key="symbol")


def _text(value: Decimal | None) -> str | None:
    return None if value is None else str(value)


def _decimal(value: str | None) -> Decimal | None:
    return None if value is None else Decimal(value)


def _order_row(record: OrderRecord) -> tuple[object, ...]:
    """The `ORDERS` columns of `record`, in table order."""
    order = record.order
    return (
        order.order_id,
        record.sequence,
        record.received,
        None if record.session is None else record.session.isoformat(),
        record.reason,
        order.symbol,
        order.side.value,
        order.order_type.value,
        str(order.quantity),
        order.created_at.isoformat(),
        _text(order.limit_price),
        _text(order.stop_price),
        order.time_in_force.value,
        order.status.value,
        str(order.filled_quantity),
        _text(order.average_fill_price),
        order.bot_id,
        order.broker_order_id,
    )


def _order_record(row: sqlite3.Row) -> OrderRecord:
    order = Order(
        order_id=OrderId(row["order_id"]),
        symbol=Symbol(row["symbol"]),
        side=Side(row["side"]),
        order_type=OrderType(row["order_type"]),
        quantity=Decimal(row["quantity"]),
        created_at=datetime.fromisoformat(row["created_at"]),
        limit_price=_decimal(row["limit_price"]),
        stop_price=_decimal(row["stop_price"]),
        time_in_force=TimeInForce(row["time_in_force"]),
        status=OrderStatus(row["status"]),
        filled_quantity=Decimal(row["filled_quantity"]),
        average_fill_price=_decimal(row["average_fill_price"]),
        bot_id=None if row["bot_id"] is None else BotId(row["bot_id"]),
        broker_order_id=(
            None if row["broker_order_id"] is None else BrokerOrderId(row["broker_order_id"])
        ),
    )
    session = None if row["session"] is None else date.fromisoformat(row["session"])
    return OrderRecord(order, row["sequence"], row["received"], session, row["reason"])


def _fill_row(fill: Fill) -> tuple[object, ...]:
    """The `FILLS` columns of `fill` but `sequence`, in table order."""
    return (
        fill.fill_id,
        fill.order_id,
        fill.symbol,
        fill.side.value,
        str(fill.quantity),
        str(fill.price),
        fill.filled_at.isoformat(),
        str(fill.fee),
        str(fill.tax),
    )


def _fill(row: sqlite3.Row) -> Fill:
    return Fill(
        fill_id=FillId(row["fill_id"]),
        order_id=OrderId(row["order_id"]),
        symbol=Symbol(row["symbol"]),
        side=Side(row["side"]),
        quantity=Decimal(row["quantity"]),
        price=Decimal(row["price"]),
        filled_at=datetime.fromisoformat(row["filled_at"]),
        fee=Decimal(row["fee"]),
        tax=Decimal(row["tax"]),
    )


def _market_row(symbol: Symbol, record: MarketRecord) -> tuple[object, ...]:
    """The `MARKETS` columns of `record`, in table order."""
    bar = record.bar
    return (
        symbol,
        bar.timeframe,
        bar.start.isoformat(),
        str(bar.open),
        str(bar.high),
        str(bar.low),
        str(bar.close),
        str(bar.volume),
        _text(record.previous_close),
        record.phase.value,
    )


def _market(row: sqlite3.Row) -> MarketRecord:
    bar = Bar(
        symbol=Symbol(row["symbol"]),
        timeframe=row["timeframe"],
        start=datetime.fromisoformat(row["start"]),
        open=Decimal(row["open"]),
        high=Decimal(row["high"]),
        low=Decimal(row["low"]),
        close=Decimal(row["close"]),
        volume=Decimal(row["volume"]),
    )
    return MarketRecord(bar, _decimal(row["previous_close"]), MarketPhase(row["phase"]))
