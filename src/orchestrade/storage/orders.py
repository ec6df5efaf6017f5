"""SqlOrderJournal: the OMS's write-ahead store of orders, order events and fills.

Implements `orchestrade.execution.ports.OrderJournal`. Every write is one transaction of a
few statements and no reads, so it costs a fraction of a millisecond on embedded SQLite:
the order row is upserted, an order event and an audit line appended. A fill is inserted
first with ON CONFLICT DO NOTHING on its `fill_id`: a second report of the same fill, even
from another process at the same moment, inserts nothing and changes nothing else (the
database's unique index serializes the two; the loser waits for the winner's commit).

Durability: on PostgreSQL a commit is on disk when it returns. On SQLite (WAL,
synchronous=NORMAL, as `open_store` sets it up) a commit survives the process being killed
at any instant; only a power loss or OS crash may lose the last commits.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import Table, TextClause, bindparam, insert, select, text
from sqlalchemy.engine import Connection, Row

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
from orchestrade.storage.audit import AUDIT_EVENTS, fill_entry, order_entry, to_row
from orchestrade.storage.errors import OrderIdConflictError
from orchestrade.storage.store import Store
from orchestrade.storage.tables import FillRow, OrderEventRow, OrderRow
from orchestrade.storage.times import as_utc

ORDERS: Table = OrderRow.__table__  # type: ignore[assignment]
ORDER_EVENTS: Table = OrderEventRow.__table__  # type: ignore[assignment]
FILLS: Table = FillRow.__table__  # type: ignore[assignment]
TERMINAL_STATUSES = tuple(status.value for status in OrderStatus if status.is_terminal)
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
    """The `OrderJournal` on a `Store`: each method is one transaction, durable on return."""

    def __init__(self, store: Store) -> None:
        self._store = store

    def record_order(self, order: Order, *, at: datetime, reason: str = "") -> None:
        """Insert or update `order` (keyed by `order_id`), append one order event and one
        audit line, in one transaction.

        Raises:
            OrderIdConflictError: the id is recorded for an order of another symbol or side.
            ValidationError: `at` is not an aware datetime.
        """
        at = require_utc("at", at)
        require_str("reason", reason)
        with self._store.transaction() as transaction:
            connection = transaction.connection
            _upsert_order(connection, order, at)
            connection.execute(_APPEND_EVENT, _event_row(order, at, reason))
            connection.execute(_APPEND_AUDIT, to_row(order_entry(order, at=at, reason=reason)))

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
        with self._store.transaction() as transaction:
            connection = transaction.connection
            if connection.execute(_INSERT_FILL, _fill_row(fill, at)).first() is None:
                return False
            _upsert_order(connection, order, at)
            connection.execute(_APPEND_EVENT, _event_row(order, at, f"fill {fill.fill_id}"))
            connection.execute(_APPEND_AUDIT, to_row(fill_entry(fill, order, at=at)))
            return True

    def get_order(self, order_id: OrderId) -> Order | None:
        """The order as last recorded, or None."""
        with self._store.reading() as read:
            row = read.connection.execute(
                select(ORDERS).where(ORDERS.c.order_id == order_id)
            ).first()
        return None if row is None else order_from_row(row)

    def open_orders(self) -> Sequence[Order]:
        """Every recorded order that is not terminal, oldest first."""
        query = (
            select(ORDERS)
            .where(ORDERS.c.status.not_in(TERMINAL_STATUSES))
            .order_by(ORDERS.c.created_at, ORDERS.c.order_id)
        )
        with self._store.reading() as read:
            return [order_from_row(row) for row in read.connection.execute(query)]

    def fills(self, order_id: OrderId | None = None) -> Sequence[Fill]:
        """Recorded fills (of one order when given), in the order they were recorded."""
        query = select(FILLS).order_by(FILLS.c.id)
        if order_id is not None:
            query = query.where(FILLS.c.order_id == order_id)
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


def _insert_sql(
    table: Table, conflict: str, *, update: Sequence[str] = (), where: str = "", returning: str
) -> TextClause:
    """INSERT ... ON CONFLICT ... RETURNING as text with typed parameters.

    SQLite and PostgreSQL spell upserts the same way. SQLAlchemy (2.0) cannot cache the
    compiled form of its ON CONFLICT constructs, and compiling costs more than the write
    itself; a typed `text` statement is compiled once and still converts every value
    through its column's type (`ExactDecimal`, aware datetimes).
    """
    names = [
        column.name for column in table.columns if not column.primary_key or column.name == conflict
    ]
    columns = ", ".join(f'"{name}"' for name in names)
    values = ", ".join(f":{name}" for name in names)
    if update:
        assignments = ", ".join(f'"{name}" = excluded."{name}"' for name in update)
        action = f"DO UPDATE SET {assignments}" + (f" WHERE {where}" if where else "")
    else:
        action = "DO NOTHING"
    sql = (
        f'INSERT INTO "{table.name}" ({columns}) VALUES ({values}) '
        f'ON CONFLICT ("{conflict}") {action} RETURNING "{returning}"'
    )
    return text(sql).bindparams(*(bindparam(name, type_=table.c[name].type) for name in names))


_UPSERT_ORDER = _insert_sql(
    ORDERS,
    "order_id",
    update=_MUTABLE,
    # Same id, other instrument or direction: not a retry but a clash; keep the stored row.
    where='"orders"."symbol" = excluded."symbol" AND "orders"."side" = excluded."side"',
    returning="order_id",
)
_INSERT_FILL = _insert_sql(FILLS, "fill_id", returning="id")
_APPEND_EVENT = insert(ORDER_EVENTS)
_APPEND_AUDIT = insert(AUDIT_EVENTS)


def _upsert_order(connection: Connection, order: Order, at: datetime) -> None:
    row = {
        "order_id": order.order_id,
        "symbol": order.symbol,
        "side": order.side.value,
        "created_at": order.created_at,
        "bot_id": order.bot_id,
        "order_type": order.order_type.value,
        "quantity": order.quantity,
        "limit_price": order.limit_price,
        "stop_price": order.stop_price,
        "time_in_force": order.time_in_force.value,
        "status": order.status.value,
        "filled_quantity": order.filled_quantity,
        "average_fill_price": order.average_fill_price,
        "broker_order_id": order.broker_order_id,
        "updated_at": at,
    }
    if connection.execute(_UPSERT_ORDER, row).first() is None:
        raise OrderIdConflictError(
            f"order id {order.order_id} is already recorded for another symbol or side "
            f"(now {order.side.value} {order.symbol}); client order ids must be unique"
        )


def _event_row(order: Order, at: datetime, reason: str) -> dict[str, Any]:
    return {
        "order_id": order.order_id,
        "at": at,
        "status": order.status.value,
        "reason": reason,
        "filled_quantity": order.filled_quantity,
        "average_fill_price": order.average_fill_price,
    }


def _fill_row(fill: Fill, at: datetime) -> dict[str, Any]:
    return {
        "fill_id": fill.fill_id,
        "order_id": fill.order_id,
        "symbol": fill.symbol,
        "side": fill.side.value,
        "quantity": fill.quantity,
        "price": fill.price,
        "fee": fill.fee,
        "tax": fill.tax,
        "filled_at": fill.filled_at,
        "recorded_at": at,
    }
