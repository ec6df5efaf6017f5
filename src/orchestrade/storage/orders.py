"""SqlOrderJournal: the OMS's write-ahead store of orders, order events and fills.

Implements `orchestrade.execution.ports.OrderJournal`. Every write is one transaction of a
few statements and no reads: the order row is upserted, an order event and an audit line
appended. The OMS calls it several times per order, so writes (and `get_order`) run
pre-rendered statements (`storage.prepared`) on the store's own DBAPI connection: tens of
microseconds each on embedded SQLite instead of SQLAlchemy's few hundred. A fill is inserted
first with ON CONFLICT DO NOTHING on its `fill_id`: a second report of the same fill, even
from another process at the same moment, inserts nothing and changes nothing else (the
database's unique index serializes the two; the loser waits for the winner's commit).

Durability: on PostgreSQL a commit is on disk when it returns. On SQLite (WAL,
synchronous=NORMAL, as `open_store` sets it up) a commit survives the process being killed
at any instant; only a power loss or OS crash may lose the last commits.
"""

from __future__ import annotations

from collections.abc import Collection, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any

import msgspec
from sqlalchemy import Table, select
from sqlalchemy.engine import Dialect, Row

from orchestrade.data.errors import QueryError
from orchestrade.domain import (
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
    ValidationError,
)
from orchestrade.domain.validation import require_str, require_utc
from orchestrade.storage.audit import AUDIT_EVENTS, FILL_KIND
from orchestrade.storage.errors import OrderIdConflictError
from orchestrade.storage.prepared import Prepared, insert_statement, select_statement
from orchestrade.storage.store import Store
from orchestrade.storage.tables import FillRow, OrderEventRow, OrderRow
from orchestrade.storage.times import as_utc, utc_bound

ORDERS: Table = OrderRow.__table__  # type: ignore[assignment]
ORDER_EVENTS: Table = OrderEventRow.__table__  # type: ignore[assignment]
FILLS: Table = FillRow.__table__  # type: ignore[assignment]
TERMINAL_STATUSES = tuple(status.value for status in OrderStatus if status.is_terminal)
MAX_LISTED = 1000
_MUTABLE = (
    "bot_id",
    "order_type",
    "quantity",
    "limit_price",
    "stop_price",
    "time_in_force",
    "status",
    "filled_quantity",
    "average_fill_price",
    "broker_order_id",
    "updated_at",
)


@dataclass(frozen=True, slots=True)
class OrderEvent:
    """One recorded change of an order: the status it reached, its fills so far, and why."""

    order_id: OrderId
    at: datetime
    status: OrderStatus
    reason: str
    filled_quantity: Decimal
    average_fill_price: Decimal | None


class SqlOrderJournal:
    """The `OrderJournal` on a `Store`: each method is one transaction, durable on return.

    Writes and `get_order` (the OMS's per-order calls) run `prepared` statements on the
    store's own DBAPI connection; the other reads go through SQLAlchemy.

    `bot_ids` scopes `open_orders` and `fills` to those bots' orders: one OMS per broker
    account, when several accounts (the bots of `orchestrade serve`, separate runs of the
    CLI) share one database. None: every order.
    """

    def __init__(self, store: Store, *, bot_ids: Collection[BotId] | None = None) -> None:
        self._store = store
        self._bot_ids = None if bot_ids is None else sorted(set(bot_ids))
        self._sql = _Statements.on(store.engine.dialect)
        self._batch: Any = None
        """The cursor of the `batch` in progress, None outside one."""

    @contextmanager
    def batch(self) -> Iterator[None]:
        """Every write inside the block goes into one transaction, committed when the block
        ends normally (durable then) and rolled back, all of it, when it raises. Reads of
        `get_order` inside see the block's writes. Nested blocks join the outer one."""
        if self._batch is not None:
            yield
            return
        with self._store.driver_transaction() as cursor:
            self._batch = cursor
            try:
                yield
            finally:
                self._batch = None

    @contextmanager
    def _writing(self) -> Iterator[Any]:
        """The batch's cursor, or a transaction of its own."""
        if self._batch is not None:
            yield self._batch
        else:
            with self._store.driver_transaction() as cursor:
                yield cursor

    def record_order(self, order: Order, *, at: datetime, reason: str = "") -> None:
        """Insert or update `order` (keyed by `order_id`), append one order event and one
        audit line, in one transaction.

        Raises:
            OrderIdConflictError: the id is recorded for an order of another symbol or side.
            ValidationError: `at` is not an aware datetime.
        """
        self.record_orders((order,), at=at, reason=reason)

    def record_orders(self, orders: Sequence[Order], *, at: datetime, reason: str = "") -> None:
        """`record_order` for each of `orders`, in one transaction: all are recorded or,
        when one conflicts, none.

        Raises:
            OrderIdConflictError: an id is recorded for an order of another symbol or side.
            ValidationError: `at` is not an aware datetime.
        """
        at = require_utc("at", at)
        require_str("reason", reason)
        sql = self._sql
        rows = [
            (
                order,
                sql.upsert_order.parameters(_order_values(order, at)),
                sql.append_event.parameters(_event_values(order, at, reason)),
                sql.append_audit.parameters(_order_audit_values(order, at, reason)),
            )
            for order in orders
        ]
        with self._writing() as cursor:
            for order, order_row, event_row, audit_row in rows:
                cursor.execute(sql.upsert_order.sql, order_row)
                if cursor.fetchone() is None:
                    raise _conflict(order)
                cursor.execute(sql.append_event.sql, event_row)
                cursor.execute(sql.append_audit.sql, audit_row)

    def record_fill(self, fill: Fill, order: Order, *, at: datetime) -> bool:
        """Persist `fill` and `order` as it is after the fill, in one transaction; also an
        order event and an audit line.

        Returns:
            True when the fill is new; False, changing nothing, when a fill with the same
            `fill_id` is already recorded.

        Raises:
            ValidationError: the fill is for another order, or `at` is not aware.
            OrderIdConflictError: the order id is recorded for another symbol or side.
        """
        at = require_utc("at", at)
        if fill.order_id != order.order_id:
            raise ValidationError(
                f"fill {fill.fill_id} is for order {fill.order_id}, not {order.order_id}"
            )
        sql = self._sql
        fill_row = sql.insert_fill.parameters(_fill_values(fill, at))
        order_row = sql.upsert_order.parameters(_order_values(order, at))
        event_row = sql.append_event.parameters(_event_values(order, at, f"fill {fill.fill_id}"))
        audit_row = sql.append_audit.parameters(_fill_audit_values(fill, order, at))
        with self._writing() as cursor:
            cursor.execute(sql.insert_fill.sql, fill_row)
            if cursor.fetchone() is None:
                return False
            cursor.execute(sql.upsert_order.sql, order_row)
            if cursor.fetchone() is None:
                raise _conflict(order)
            cursor.execute(sql.append_event.sql, event_row)
            cursor.execute(sql.append_audit.sql, audit_row)
            return True

    def get_order(self, order_id: OrderId) -> Order | None:
        """The order as last recorded, or None."""
        statement = self._sql.select_order
        if self._batch is not None:
            self._batch.execute(statement.sql, statement.parameters((order_id,)))
            values = self._batch.fetchone()
        else:
            with self._store.driver_reading() as cursor:
                cursor.execute(statement.sql, statement.parameters((order_id,)))
                values = cursor.fetchone()
        return None if values is None else _order_from_values(values)

    def order_ids(self) -> set[OrderId]:
        """The id of every recorded order (of every bot, like `get_order`)."""
        with self._store.reading() as read:
            return {OrderId(row[0]) for row in read.connection.execute(select(ORDERS.c.order_id))}

    def open_orders(self) -> Sequence[Order]:
        """Every recorded order that is not terminal, oldest first."""
        query = (
            select(ORDERS)
            .where(ORDERS.c.status.not_in(TERMINAL_STATUSES))
            .order_by(ORDERS.c.created_at, ORDERS.c.order_id)
        )
        if self._bot_ids is not None:
            query = query.where(ORDERS.c.bot_id.in_(self._bot_ids))
        with self._store.reading() as read:
            return [order_from_row(row) for row in read.connection.execute(query)]

    def list_orders(
        self,
        *,
        bot_id: BotId | None = None,
        symbol: Symbol | None = None,
        status: OrderStatus | None = None,
        since: datetime | None = None,
        limit: int = 100,
    ) -> list[Order]:
        """Recorded orders created at or after `since`, of one bot, symbol or status when
        given, newest first.

        Raises:
            QueryError: `limit` is not within 1..1000, or `since` is not an aware datetime.
        """
        if isinstance(limit, bool) or not isinstance(limit, int) or not 1 <= limit <= MAX_LISTED:
            raise QueryError(f"order limit must be within 1..{MAX_LISTED}, got {limit!r}")
        query = select(ORDERS).order_by(ORDERS.c.created_at.desc(), ORDERS.c.order_id.desc())
        if bot_id is not None:
            query = query.where(ORDERS.c.bot_id == bot_id)
        if symbol is not None:
            query = query.where(ORDERS.c.symbol == symbol)
        if status is not None:
            query = query.where(ORDERS.c.status == OrderStatus(status).value)
        if since is not None:
            query = query.where(ORDERS.c.created_at >= utc_bound("since", since))
        with self._store.reading() as read:
            return [order_from_row(row) for row in read.connection.execute(query.limit(limit))]

    def fills(self, order_id: OrderId | None = None) -> Sequence[Fill]:
        """Recorded fills (of one order when given), in the order they were recorded."""
        query = select(FILLS).order_by(FILLS.c.id)
        if order_id is not None:
            query = query.where(FILLS.c.order_id == order_id)
        if self._bot_ids is not None:
            mine = select(ORDERS.c.order_id).where(ORDERS.c.bot_id.in_(self._bot_ids))
            query = query.where(FILLS.c.order_id.in_(mine))
        with self._store.reading() as read:
            return [fill_from_row(row) for row in read.connection.execute(query)]

    def order_events(self, order_id: OrderId) -> list[OrderEvent]:
        """The recorded changes of one order, oldest first."""
        query = (
            select(ORDER_EVENTS)
            .where(ORDER_EVENTS.c.order_id == order_id)
            .order_by(ORDER_EVENTS.c.id)
        )
        with self._store.reading() as read:
            return [
                OrderEvent(
                    order_id=OrderId(row.order_id),
                    at=as_utc(row.at),
                    status=OrderStatus(row.status),
                    reason=row.reason,
                    filled_quantity=row.filled_quantity,
                    average_fill_price=row.average_fill_price,
                )
                for row in read.connection.execute(query)
            ]


def order_from_row(row: Row[Any]) -> Order:
    """The `Order` stored in an `orders` row (validated by its constructor)."""
    return Order(
        order_id=OrderId(row.order_id),
        symbol=Symbol(row.symbol),
        side=Side(row.side),
        order_type=OrderType(row.order_type),
        quantity=row.quantity,
        created_at=as_utc(row.created_at),
        limit_price=row.limit_price,
        stop_price=row.stop_price,
        time_in_force=TimeInForce(row.time_in_force),
        status=OrderStatus(row.status),
        filled_quantity=row.filled_quantity,
        average_fill_price=row.average_fill_price,
        bot_id=None if row.bot_id is None else BotId(row.bot_id),
        broker_order_id=None if row.broker_order_id is None else BrokerOrderId(row.broker_order_id),
    )


def fill_from_row(row: Row[Any]) -> Fill:
    """The `Fill` stored in a `fills` row."""
    return Fill(
        fill_id=FillId(row.fill_id),
        order_id=OrderId(row.order_id),
        symbol=Symbol(row.symbol),
        side=Side(row.side),
        quantity=row.quantity,
        price=row.price,
        filled_at=as_utc(row.filled_at),
        fee=row.fee,
        tax=row.tax,
    )


_ORDER_COLUMNS = (
    "order_id",
    "symbol",
    "side",
    "created_at",
    *_MUTABLE,
)
_EVENT_COLUMNS = ("order_id", "at", "status", "reason", "filled_quantity", "average_fill_price")
_FILL_COLUMNS = (
    "fill_id",
    "order_id",
    "symbol",
    "side",
    "quantity",
    "price",
    "fee",
    "tax",
    "filled_at",
    "recorded_at",
)
_AUDIT_COLUMNS = (
    "at",
    "kind",
    "bot_id",
    "symbol",
    "side",
    "quantity",
    "price",
    "reason",
    "payload",
)
_SELECTED = (
    "order_id",
    "symbol",
    "side",
    "order_type",
    "quantity",
    "created_at",
    "limit_price",
    "stop_price",
    "time_in_force",
    "status",
    "filled_quantity",
    "average_fill_price",
    "bot_id",
    "broker_order_id",
)


@dataclass(frozen=True, slots=True)
class _Statements:
    """The journal's statements, rendered once for the store's dialect."""

    upsert_order: Prepared
    append_event: Prepared
    append_audit: Prepared
    insert_fill: Prepared
    select_order: Prepared

    @classmethod
    def on(cls, dialect: Dialect) -> _Statements:
        return cls(
            upsert_order=insert_statement(
                dialect,
                ORDERS,
                _ORDER_COLUMNS,
                conflict="order_id",
                update=_MUTABLE,
                # Same id, other instrument or direction: not a retry but a clash; keep the
                # stored row (RETURNING then yields nothing).
                where='"orders"."symbol" = excluded."symbol" AND "orders"."side" = excluded."side"',
                returning="order_id",
            ),
            append_event=insert_statement(dialect, ORDER_EVENTS, _EVENT_COLUMNS),
            append_audit=insert_statement(dialect, AUDIT_EVENTS, _AUDIT_COLUMNS, raw=("payload",)),
            insert_fill=insert_statement(
                dialect, FILLS, _FILL_COLUMNS, conflict="fill_id", returning="id"
            ),
            select_order=select_statement(dialect, ORDERS, _SELECTED, key="order_id"),
        )


def _order_values(order: Order, at: datetime) -> tuple[Any, ...]:
    return (
        order.order_id,
        order.symbol,
        order.side.value,
        order.created_at,
        order.bot_id,
        order.order_type.value,
        order.quantity,
        order.limit_price,
        order.stop_price,
        order.time_in_force.value,
        order.status.value,
        order.filled_quantity,
        order.average_fill_price,
        order.broker_order_id,
        at,
    )


def _event_values(order: Order, at: datetime, reason: str) -> tuple[Any, ...]:
    return (
        order.order_id,
        at,
        order.status.value,
        reason,
        order.filled_quantity,
        order.average_fill_price,
    )


def _fill_values(fill: Fill, at: datetime) -> tuple[Any, ...]:
    return (
        fill.fill_id,
        fill.order_id,
        fill.symbol,
        fill.side.value,
        fill.quantity,
        fill.price,
        fill.fee,
        fill.tax,
        fill.filled_at,
        at,
    )


def _order_audit_values(order: Order, at: datetime, reason: str) -> tuple[Any, ...]:
    """The `_AUDIT_COLUMNS` of `audit.to_row(audit.order_entry(order, at=at, reason=reason))`,
    built directly: the order is already validated, and msgspec encodes the payload in one
    step (a tenth of `to_row` + `json.dumps`). A test holds the two equal."""
    price = order.limit_price if order.limit_price is not None else order.average_fill_price
    return (
        at,
        f"order.{order.status.value}",
        order.bot_id,
        order.symbol,
        order.side.value,
        order.quantity,
        price,
        reason,
        _json({"order": order}),
    )


def _fill_audit_values(fill: Fill, order: Order, at: datetime) -> tuple[Any, ...]:
    """The `_AUDIT_COLUMNS` of `audit.to_row(audit.fill_entry(fill, order, at=at))` (see
    `_order_audit_values`)."""
    reason = (
        f"fill {fill.fill_id} of order {order.order_id}: "
        f"{order.filled_quantity}/{order.quantity} filled, {order.status.value}"
    )
    return (
        at,
        FILL_KIND,
        order.bot_id,
        fill.symbol,
        fill.side.value,
        fill.quantity,
        fill.price,
        reason,
        _json({"fill": fill, "order": order}),
    )


def _json(payload: dict[str, Any]) -> str:
    return _ENCODER.encode(payload).decode()


_ENCODER = msgspec.json.Encoder()


def _order_from_values(values: Sequence[Any]) -> Order:
    """The `Order` of a `_SELECTED` row read on the DBAPI cursor: SQLite hands back
    decimals and times as text, PostgreSQL as Decimal and aware datetime."""
    (
        order_id,
        symbol,
        side,
        order_type,
        quantity,
        created_at,
        limit_price,
        stop_price,
        time_in_force,
        status,
        filled_quantity,
        average_fill_price,
        bot_id,
        broker_order_id,
    ) = values
    return Order(
        order_id=OrderId(order_id),
        symbol=Symbol(symbol),
        side=Side(side),
        order_type=OrderType(order_type),
        quantity=_decimal(quantity),
        created_at=_time(created_at),
        limit_price=None if limit_price is None else _decimal(limit_price),
        stop_price=None if stop_price is None else _decimal(stop_price),
        time_in_force=TimeInForce(time_in_force),
        status=OrderStatus(status),
        filled_quantity=_decimal(filled_quantity),
        average_fill_price=None if average_fill_price is None else _decimal(average_fill_price),
        bot_id=None if bot_id is None else BotId(bot_id),
        broker_order_id=None if broker_order_id is None else BrokerOrderId(broker_order_id),
    )


def _decimal(value: Any) -> Decimal:
    return value if isinstance(value, Decimal) else Decimal(value)


def _time(value: Any) -> datetime:
    return as_utc(value if isinstance(value, datetime) else datetime.fromisoformat(value))


def _conflict(order: Order) -> OrderIdConflictError:
    return OrderIdConflictError(
        f"order id {order.order_id} is already recorded for another symbol or side "
        f"(now {order.side.value} {order.symbol}); client order ids must be unique"
    )
