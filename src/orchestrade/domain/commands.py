"""Requests that ask one agent to act, named in the imperative."""

from __future__ import annotations

from dataclasses import dataclass

from orchestrade.domain.errors import ValidationError
from orchestrade.domain.ids import OrderId
from orchestrade.domain.orders import Order, OrderStatus
from orchestrade.domain.validation import assign, require_str, require_text


@dataclass(frozen=True, slots=True)
class SubmitOrder:
    """Ask execution to send a NEW order (risk has approved it)."""

    order: Order

    def __post_init__(self) -> None:
        if self.order.status is not OrderStatus.NEW:
            raise ValidationError(
                f"SubmitOrder: order {self.order.order_id} is {self.order.status.value}, not new"
            )


@dataclass(frozen=True, slots=True)
class SubmitOrders:
    """Ask execution to send several NEW orders decided together (the orders of one bar
    open): the OMS journals them in one transaction before sending any, so the last of
    them waits for no other order's round trip."""

    orders: tuple[Order, ...]

    def __post_init__(self) -> None:
        assign(self, "orders", _new_orders("SubmitOrders", self.orders))


def _new_orders(owner: str, orders: tuple[Order, ...]) -> tuple[Order, ...]:
    """`orders` as a tuple, checked: at least one, all NEW, no client order id twice."""
    orders = tuple(orders)
    if not orders:
        raise ValidationError(f"{owner}: no orders")
    seen: set[str] = set()
    for order in orders:
        if not isinstance(order, Order):
            raise ValidationError(f"{owner}: {order!r} is not an Order")
        if order.status is not OrderStatus.NEW:
            raise ValidationError(
                f"{owner}: order {order.order_id} is {order.status.value}, not new"
            )
        if order.order_id in seen:
            raise ValidationError(f"{owner}: order {order.order_id} is listed twice")
        seen.add(order.order_id)
    return orders


@dataclass(frozen=True, slots=True)
class CancelOrder:
    """Ask execution to cancel an open order."""

    order_id: OrderId
    reason: str = ""

    def __post_init__(self) -> None:
        require_text("CancelOrder.order_id", self.order_id)
        require_str("CancelOrder.reason", self.reason)


Command = SubmitOrder | SubmitOrders | CancelOrder
"""Any command."""
