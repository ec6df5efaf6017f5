"""Orders as immutable values and the state machine their status follows."""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from enum import StrEnum
from types import MappingProxyType
from typing import TYPE_CHECKING

from orchestrade.domain.errors import InvalidTransitionError, ValidationError
from orchestrade.domain.ids import BotId, BrokerOrderId, OrderId, Symbol
from orchestrade.domain.sides import Side
from orchestrade.domain.validation import (
    assign,
    optional_positive,
    optional_text,
    require_enum,
    require_non_negative,
    require_positive,
    require_text,
    require_utc,
)

if TYPE_CHECKING:
    from orchestrade.domain.fills import Fill


class OrderType(StrEnum):
    """How the order is priced: MARKET (none), LIMIT, STOP, STOP_LIMIT (both prices)."""

    MARKET = "market"
    LIMIT = "limit"
    STOP = "stop"
    STOP_LIMIT = "stop_limit"

    @property
    def needs_limit_price(self) -> bool:
        """True for LIMIT and STOP_LIMIT."""
        return self in (OrderType.LIMIT, OrderType.STOP_LIMIT)

    @property
    def needs_stop_price(self) -> bool:
        """True for STOP and STOP_LIMIT."""
        return self in (OrderType.STOP, OrderType.STOP_LIMIT)


class TimeInForce(StrEnum):
    """How long an order rests: the session, until cancelled, immediate-or-cancel, fill-or-kill."""

    DAY = "day"
    GTC = "gtc"
    IOC = "ioc"
    FOK = "fok"


class OrderStatus(StrEnum):
    """Where an order is in its life; see `ORDER_TRANSITIONS`."""

    NEW = "new"
    SUBMITTED = "submitted"
    ACCEPTED = "accepted"
    PARTIALLY_FILLED = "partially_filled"
    FILLED = "filled"
    CANCEL_REQUESTED = "cancel_requested"
    CANCELLED = "cancelled"
    REJECTED = "rejected"
    EXPIRED = "expired"

    @property
    def is_terminal(self) -> bool:
        """True when no further change can happen (filled, cancelled, rejected, expired)."""
        return not ORDER_TRANSITIONS[self]


_S = OrderStatus
ORDER_TRANSITIONS: Mapping[OrderStatus, frozenset[OrderStatus]] = MappingProxyType(
    {
        # NEW: built and stored, not yet sent; it can still die locally.
        _S.NEW: frozenset({_S.SUBMITTED, _S.REJECTED, _S.CANCELLED}),
        # SUBMITTED: sent; the broker may answer with anything, even an immediate fill.
        _S.SUBMITTED: frozenset(
            {
                _S.ACCEPTED,
                _S.REJECTED,
                _S.PARTIALLY_FILLED,
                _S.FILLED,
                _S.CANCEL_REQUESTED,
                _S.CANCELLED,
                _S.EXPIRED,
            }
        ),
        _S.ACCEPTED: frozenset(
            {_S.PARTIALLY_FILLED, _S.FILLED, _S.CANCEL_REQUESTED, _S.CANCELLED, _S.EXPIRED}
        ),
        _S.PARTIALLY_FILLED: frozenset(
            {_S.PARTIALLY_FILLED, _S.FILLED, _S.CANCEL_REQUESTED, _S.CANCELLED, _S.EXPIRED}
        ),
        # A cancel may lose the race against fills, or be refused (back to ACCEPTED or
        # PARTIALLY_FILLED); partial fills that arrive meanwhile keep CANCEL_REQUESTED.
        _S.CANCEL_REQUESTED: frozenset(
            {_S.CANCELLED, _S.FILLED, _S.EXPIRED, _S.ACCEPTED, _S.PARTIALLY_FILLED}
        ),
        _S.FILLED: frozenset(),
        _S.CANCELLED: frozenset(),
        _S.REJECTED: frozenset(),
        _S.EXPIRED: frozenset(),
    }
)
"""For each status, the statuses an order may move to next (the OMS state machine)."""

FILLABLE_STATUSES = frozenset({_S.SUBMITTED, _S.ACCEPTED, _S.PARTIALLY_FILLED, _S.CANCEL_REQUESTED})
"""Statuses in which a broker can report a fill."""


def can_transition(current: OrderStatus, new: OrderStatus) -> bool:
    """True when the state machine allows `current` -> `new`."""
    return new in ORDER_TRANSITIONS[current]


@dataclass(frozen=True, slots=True)
class Order:
    """An order we send or have sent; every change returns a new Order.

    Invariants checked on construction: positive quantity; exactly the prices the order type
    needs; 0 <= filled_quantity <= quantity; an average fill price iff something filled; and
    a status that agrees with the filled quantity (FILLED = all, PARTIALLY_FILLED = some,
    NEW/SUBMITTED/ACCEPTED/REJECTED = none).
    """

    order_id: OrderId
    symbol: Symbol
    side: Side
    order_type: OrderType
    quantity: Decimal
    created_at: datetime
    limit_price: Decimal | None = None
    stop_price: Decimal | None = None
    time_in_force: TimeInForce = TimeInForce.DAY
    status: OrderStatus = OrderStatus.NEW
    filled_quantity: Decimal = Decimal(0)
    average_fill_price: Decimal | None = None
    bot_id: BotId | None = None
    broker_order_id: BrokerOrderId | None = None

    def __post_init__(self) -> None:
        require_text("Order.order_id", self.order_id)
        require_text("Order.symbol", self.symbol)
        assign(self, "side", require_enum("Order.side", Side, self.side))
        order_type = require_enum("Order.order_type", OrderType, self.order_type)
        assign(self, "order_type", order_type)
        assign(self, "quantity", require_positive("Order.quantity", self.quantity))
        assign(self, "created_at", require_utc("Order.created_at", self.created_at))
        assign(self, "limit_price", optional_positive("Order.limit_price", self.limit_price))
        assign(self, "stop_price", optional_positive("Order.stop_price", self.stop_price))
        assign(
            self,
            "time_in_force",
            require_enum("Order.time_in_force", TimeInForce, self.time_in_force),
        )
        assign(self, "status", require_enum("Order.status", OrderStatus, self.status))
        assign(
            self,
            "filled_quantity",
            require_non_negative("Order.filled_quantity", self.filled_quantity),
        )
        assign(
            self,
            "average_fill_price",
            optional_positive("Order.average_fill_price", self.average_fill_price),
        )
        optional_text("Order.bot_id", self.bot_id)
        optional_text("Order.broker_order_id", self.broker_order_id)
        self._check_prices()
        self._check_fill_state()

    @property
    def signed_quantity(self) -> Decimal:
        """quantity, negative for sells."""
        return self.quantity * self.side.sign

    @property
    def remaining_quantity(self) -> Decimal:
        """quantity not filled yet."""
        return self.quantity - self.filled_quantity

    @property
    def is_terminal(self) -> bool:
        """True once filled, cancelled, rejected or expired."""
        return self.status.is_terminal

    def with_status(self, status: OrderStatus) -> Order:
        """This order moved to `status`.

        Raises:
            InvalidTransitionError: the state machine does not allow the move.
        """
        status = require_enum("status", OrderStatus, status)
        if not can_transition(self.status, status):
            raise InvalidTransitionError(
                f"order {self.order_id} cannot go from {self.status.value} to {status.value}"
            )
        return self._changed(status=status)

    def with_broker_state(
        self, status: OrderStatus, broker_order_id: BrokerOrderId | None
    ) -> Order:
        """This order with the status and broker order id a broker reports, without the
        state machine's check of the move (its callers make their own: the OMS adopting a
        broker's view, a broker taking a new order straight to ACCEPTED or REJECTED).

        Raises:
            ValidationError: `status` contradicts the filled quantity, or a value is not
                of its field's type.
        """
        status = require_enum("status", OrderStatus, status)
        optional_text("broker_order_id", broker_order_id)
        return self._changed(status=status, broker_order_id=broker_order_id)

    def with_fill(self, fill: Fill) -> Order:
        """This order after `fill`: more filled quantity, new average price, new status.

        The average fill price is the quantity-weighted mean of the fill prices (a division,
        so rounded to the decimal context's 28 significant digits). A partial fill while a
        cancel is pending keeps CANCEL_REQUESTED.

        Raises:
            ValidationError: the fill is for another order, symbol or side, or overfills.
            InvalidTransitionError: the order's status cannot receive fills.
        """
        if fill.order_id != self.order_id:
            raise ValidationError(
                f"fill {fill.fill_id} is for order {fill.order_id}, not {self.order_id}"
            )
        if fill.symbol != self.symbol or fill.side is not self.side:
            raise ValidationError(
                f"fill {fill.fill_id} ({fill.side.value} {fill.symbol}) does not match order "
                f"{self.order_id} ({self.side.value} {self.symbol})"
            )
        if self.status not in FILLABLE_STATUSES:
            raise InvalidTransitionError(
                f"order {self.order_id} is {self.status.value} "
                f"and cannot receive fill {fill.fill_id}"
            )
        if fill.quantity > self.remaining_quantity:
            raise ValidationError(
                f"fill {fill.fill_id} of {fill.quantity} overfills order {self.order_id}: "
                f"only {self.remaining_quantity} remaining"
            )
        filled = self.filled_quantity + fill.quantity
        previous_value = self.filled_quantity * (self.average_fill_price or Decimal(0))
        average = (previous_value + fill.quantity * fill.price) / filled
        if filled == self.quantity:
            status = OrderStatus.FILLED
        elif self.status is OrderStatus.CANCEL_REQUESTED:
            status = OrderStatus.CANCEL_REQUESTED
        else:
            status = OrderStatus.PARTIALLY_FILLED
        return self._changed(filled_quantity=filled, average_fill_price=average, status=status)

    def _changed(self, **changes: object) -> Order:
        """A copy with `changes`, values the caller checked, and its fill state checked: an
        order moves several times on its way through the OMS and the broker, and a full
        validation of every field on each move was a fifth of the time of routing it. The
        other invariants (text ids, prices for the order type) involve no changing field."""
        moved = object.__new__(Order)
        for name, set_field in _ORDER_SLOTS:
            set_field(moved, changes[name] if name in changes else getattr(self, name))
        moved._check_fill_state()
        return moved

    def _check_prices(self) -> None:
        kind = self.order_type.value
        if self.order_type.needs_limit_price and self.limit_price is None:
            raise ValidationError(f"{kind} order {self.order_id} needs a limit_price")
        if not self.order_type.needs_limit_price and self.limit_price is not None:
            raise ValidationError(f"{kind} order {self.order_id} must not have a limit_price")
        if self.order_type.needs_stop_price and self.stop_price is None:
            raise ValidationError(f"{kind} order {self.order_id} needs a stop_price")
        if not self.order_type.needs_stop_price and self.stop_price is not None:
            raise ValidationError(f"{kind} order {self.order_id} must not have a stop_price")

    def _check_fill_state(self) -> None:
        filled, status = self.filled_quantity, self.status
        if filled > self.quantity:
            raise ValidationError(
                f"order {self.order_id}: filled_quantity {filled} exceeds quantity {self.quantity}"
            )
        if (filled > 0) != (self.average_fill_price is not None):
            raise ValidationError(
                f"order {self.order_id}: average_fill_price must be set exactly when "
                f"filled_quantity > 0 (filled {filled}, average {self.average_fill_price})"
            )
        nothing_filled = {_S.NEW, _S.SUBMITTED, _S.ACCEPTED, _S.REJECTED}
        if status in nothing_filled and filled != 0:
            raise ValidationError(f"order {self.order_id} is {status.value} but has fills")
        if status is _S.FILLED and filled != self.quantity:
            raise ValidationError(
                f"order {self.order_id} is filled but only {filled} of {self.quantity} filled"
            )
        if status is _S.PARTIALLY_FILLED and not 0 < filled < self.quantity:
            raise ValidationError(
                f"order {self.order_id} is partially_filled with {filled} of {self.quantity}"
            )
        if status in {_S.CANCEL_REQUESTED, _S.CANCELLED, _S.EXPIRED} and filled == self.quantity:
            raise ValidationError(f"order {self.order_id} is fully filled, not {status.value}")


_ORDER_SLOTS = tuple(
    (field.name, getattr(Order, field.name).__set__) for field in dataclasses.fields(Order)
)
"""Each field of `Order` and its slot setter, for `Order._changed` (frozen: setattr refuses)."""
