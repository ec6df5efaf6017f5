"""AuditLog: the append-only record of everything the trading stack did, one line per fact.

Each line has the fields a person scans for (time, bot, symbol, side, quantity, price,
reason), a `kind` to filter on (``order.<status>``, ``fill``, or an event's type name) and
the full fact as JSON in `payload`. The OMS journal writes its lines in the same transaction
as the order or fill they describe; other agents append through `AuditLog`.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from types import MappingProxyType
from typing import Any

import msgspec
from sqlalchemy import Table, insert, select
from sqlalchemy.engine import Row

from orchestrade.data.errors import QueryError
from orchestrade.domain import (
    AnomalyDetected,
    BotId,
    BotStateChanged,
    CancelOrder,
    CircuitBreakerTripped,
    Fill,
    Message,
    Order,
    OrderCancelled,
    OrderFilled,
    OrderRequested,
    OrderSubmitted,
    PositionChanged,
    RiskRejected,
    SignalApproved,
    SignalGenerated,
    SubmitOrder,
    Symbol,
    ValidationError,
)
from orchestrade.domain.bots import thaw
from orchestrade.domain.validation import (
    assign,
    optional_text,
    require_decimal,
    require_str,
    require_text,
    require_utc,
)
from orchestrade.storage.store import Store
from orchestrade.storage.tables import AuditEventRow
from orchestrade.storage.times import as_utc, utc_bound

AUDIT_EVENTS: Table = AuditEventRow.__table__  # type: ignore[assignment]
FILL_KIND = "fill"
"""`kind` of the line the journal writes for each recorded fill."""
MAX_PAGE = 1000


@dataclass(frozen=True, slots=True)
class AuditEntry:
    """One audit line. `side` is text ("buy", "sell", "flat") as orders and signals spell it;
    `payload` is a JSON-able mapping (Decimals as strings)."""

    at: datetime
    kind: str
    reason: str = ""
    bot_id: BotId | None = None
    symbol: Symbol | None = None
    side: str | None = None
    quantity: Decimal | None = None
    price: Decimal | None = None
    payload: Mapping[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        assign(self, "at", require_utc("AuditEntry.at", self.at))
        require_text("AuditEntry.kind", self.kind)
        require_str("AuditEntry.reason", self.reason)
        optional_text("AuditEntry.bot_id", self.bot_id)
        optional_text("AuditEntry.symbol", self.symbol)
        optional_text("AuditEntry.side", self.side)
        for name in ("quantity", "price"):
            value = getattr(self, name)
            if value is not None:
                assign(self, name, require_decimal(f"AuditEntry.{name}", value))
        if not isinstance(self.payload, Mapping):
            raise ValidationError(
                f"AuditEntry.payload must be a mapping, got {type(self.payload).__name__}"
            )
        assign(self, "payload", MappingProxyType(dict(self.payload)))

    def line(self) -> str:
        """The entry as one line: time, kind, bot, symbol, side, quantity, price, reason."""
        parts = [self.at.strftime("%Y-%m-%dT%H:%M:%S.%fZ"), self.kind]
        if self.bot_id is not None:
            parts.append(f"bot={self.bot_id}")
        parts += [value for value in (self.symbol, self.side) if value is not None]
        if self.quantity is not None:
            parts.append(str(self.quantity))
        if self.price is not None:
            parts.append(f"@ {self.price}")
        if self.reason:
            parts.append(f"- {self.reason}")
        return " ".join(parts)


@dataclass(frozen=True, slots=True)
class AuditRecord:
    """A stored entry and its sequence number (increasing in the order lines were appended)."""

    sequence: int
    entry: AuditEntry


@dataclass(frozen=True, slots=True)
class AuditPage:
    """One page of a query; pass `next_cursor` as `cursor` for the next, None at the end."""

    records: tuple[AuditRecord, ...]
    next_cursor: int | None


class AuditLog:
    """Append and read audit lines; every call is its own transaction."""

    def __init__(self, store: Store) -> None:
        self._store = store

    def append(self, entry: AuditEntry) -> int:
        """Append one line; returns its sequence number."""
        with self._store.transaction() as transaction:
            result = transaction.connection.execute(insert(AUDIT_EVENTS).values(to_row(entry)))
            key = result.inserted_primary_key
            return int(key[0]) if key is not None else 0

    def append_event(self, message: Message, *, at: datetime, reason: str | None = None) -> int:
        """Append the line `event_entry` makes of a bus message; returns its sequence number."""
        return self.append(event_entry(message, at=at, reason=reason))

    def query(
        self,
        *,
        start: datetime | None = None,
        end: datetime | None = None,
        bot_id: BotId | None = None,
        kind: str | None = None,
        symbol: Symbol | None = None,
        cursor: int | None = None,
        limit: int = 100,
        newest_first: bool = False,
    ) -> AuditPage:
        """Lines with start <= at < end and the given bot, kind and symbol, a page at a time.

        Lines come in the order they were appended (newest first when asked). `cursor` is
        the previous page's `next_cursor`; pages stay consistent while lines are appended.

        Raises:
            QueryError: `limit` is not within 1..1000, or a bound is not an aware datetime.
        """
        if isinstance(limit, bool) or not isinstance(limit, int) or not 1 <= limit <= MAX_PAGE:
            raise QueryError(f"audit page limit must be within 1..{MAX_PAGE}, got {limit!r}")
        table = AUDIT_EVENTS
        query = select(table)
        if start is not None:
            query = query.where(table.c.at >= utc_bound("start", start))
        if end is not None:
            query = query.where(table.c.at < utc_bound("end", end))
        if bot_id is not None:
            query = query.where(table.c.bot_id == bot_id)
        if kind is not None:
            query = query.where(table.c.kind == kind)
        if symbol is not None:
            query = query.where(table.c.symbol == symbol)
        if cursor is not None:
            query = query.where(table.c.id < cursor if newest_first else table.c.id > cursor)
        query = query.order_by(table.c.id.desc() if newest_first else table.c.id)
        with self._store.reading() as read:
            rows = read.connection.execute(query.limit(limit + 1)).all()
        records = tuple(AuditRecord(int(row.id), from_row(row)) for row in rows[:limit])
        more = len(rows) > limit
        return AuditPage(records, records[-1].sequence if more else None)


def order_entry(order: Order, *, at: datetime, reason: str = "") -> AuditEntry:
    """The line for an order reaching its current status (kind ``order.<status>``)."""
    return AuditEntry(
        at=at,
        kind=f"order.{order.status.value}",
        reason=reason,
        bot_id=order.bot_id,
        symbol=order.symbol,
        side=order.side.value,
        quantity=order.quantity,
        price=order.limit_price if order.limit_price is not None else order.average_fill_price,
        payload={"order": _builtins(order)},
    )


def fill_entry(fill: Fill, order: Order, *, at: datetime) -> AuditEntry:
    """The line for a fill; `order` is the order after it."""
    return AuditEntry(
        at=at,
        kind=FILL_KIND,
        reason=(
            f"fill {fill.fill_id} of order {order.order_id}: "
            f"{order.filled_quantity}/{order.quantity} filled, {order.status.value}"
        ),
        bot_id=order.bot_id,
        symbol=fill.symbol,
        side=fill.side.value,
        quantity=fill.quantity,
        price=fill.price,
        payload={"fill": _builtins(fill), "order": _builtins(order)},
    )


def event_entry(message: Message, *, at: datetime, reason: str | None = None) -> AuditEntry:
    """The line for a bus message: kind is its type name, payload the message as JSON.

    Bot, symbol, side, quantity and price come from the order, fill or signal the message
    carries; `reason` defaults to the message's own reason (or check) when it has one.
    """
    fields: dict[str, Any] = {}
    own_reason = ""
    match message:
        case OrderRequested(order) | OrderSubmitted(order) | SubmitOrder(order):
            fields = _order_fields(order)
        case CancelOrder(_, cancel_reason):
            own_reason = cancel_reason
        case OrderCancelled(order, cancel_reason):
            fields, own_reason = _order_fields(order), cancel_reason
        case RiskRejected(order, check, reject_reason):
            fields, own_reason = _order_fields(order), f"{check}: {reject_reason}"
        case OrderFilled(order, fill):
            fields = {**_order_fields(order), "quantity": fill.quantity, "price": fill.price}
        case PositionChanged(position, fill, bot_id):
            fields = {
                "bot_id": bot_id,
                "symbol": position.symbol,
                "side": fill.side.value,
                "quantity": fill.quantity,
                "price": fill.price,
            }
        case SignalGenerated(signal) | SignalApproved(signal):
            fields = {
                "bot_id": signal.bot_id,
                "symbol": signal.symbol,
                "side": signal.side.value,
                "price": signal.reference_price,
            }
            own_reason = "; ".join(signal.reasons)
        case AnomalyDetected() | CircuitBreakerTripped() | BotStateChanged():
            fields, own_reason = {"bot_id": message.bot_id}, message.reason
        case _:
            pass
    return AuditEntry(
        at=at,
        kind=type(message).__name__,
        reason=own_reason if reason is None else reason,
        payload=_builtins(message),
        **fields,
    )


def to_row(entry: AuditEntry) -> dict[str, Any]:
    """The column values of `entry`."""
    return {
        "at": entry.at,
        "kind": entry.kind,
        "bot_id": entry.bot_id,
        "symbol": entry.symbol,
        "side": entry.side,
        "quantity": entry.quantity,
        "price": entry.price,
        "reason": entry.reason,
        "payload": thaw(entry.payload),
    }


def from_row(row: Row[Any]) -> AuditEntry:
    """The entry stored in `row`."""
    return AuditEntry(
        at=as_utc(row.at),
        kind=row.kind,
        reason=row.reason,
        bot_id=row.bot_id,
        symbol=row.symbol,
        side=row.side,
        quantity=row.quantity,
        price=row.price,
        payload=row.payload,
    )


def _order_fields(order: Order) -> dict[str, Any]:
    return {
        "bot_id": order.bot_id,
        "symbol": order.symbol,
        "side": order.side.value,
        "quantity": order.quantity,
        "price": order.limit_price,
    }


def _builtins(value: object) -> dict[str, Any]:
    converted = msgspec.to_builtins(value)
    if not isinstance(converted, dict):
        raise ValidationError(f"{type(value).__name__} does not convert to a JSON object")
    return converted
