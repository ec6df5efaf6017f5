"""How the OMS takes over the broker's view of an order's status without breaking its books.

The broker is the authority on an order's status, but the OMS moves filled quantities
only with fills (each one journaled), so a broker view is adopted for its *status* alone:
FILLED and PARTIALLY_FILLED arrive with the fills that justify them, and a view that the
state machine cannot reach from what the OMS holds (a stale answer that crossed a fill) is
refused.
"""

from __future__ import annotations

from orchestrade.domain import (
    InvalidTransitionError,
    Order,
    OrderStatus,
    ValidationError,
    can_transition,
)

FILL_DRIVEN_STATUSES = frozenset({OrderStatus.FILLED, OrderStatus.PARTIALLY_FILLED})
"""Statuses an order reaches only through fills."""


def adopt_view(current: Order, view: Order) -> Order | None:
    """`current` with the broker's status (and broker order id) from `view`, or None when
    nothing changes.

    Raises:
        ValidationError: `view` is another order.
        InvalidTransitionError: the state machine does not allow current -> view status,
            or the status contradicts the filled quantity the OMS holds.
    """
    if view.order_id != current.order_id:
        raise ValidationError(f"broker view of {view.order_id} offered for {current.order_id}")
    broker_id = current.broker_order_id or view.broker_order_id
    status = view.status
    if status is current.status or status in FILL_DRIVEN_STATUSES:
        if broker_id != current.broker_order_id:
            return current.with_broker_state(current.status, broker_id)
        return None
    if not can_transition(current.status, status):
        raise InvalidTransitionError(
            f"order {current.order_id} cannot go from {current.status.value} to {status.value}"
        )
    try:
        return current.with_broker_state(status, broker_id)
    except ValidationError as error:
        raise InvalidTransitionError(
            f"order {current.order_id} cannot become {status.value} with "
            f"{current.filled_quantity} of {current.quantity} filled: {error}"
        ) from error


def is_ending(status: OrderStatus) -> bool:
    """True for the terminal statuses reached without (completely) filling."""
    return status in (OrderStatus.CANCELLED, OrderStatus.REJECTED, OrderStatus.EXPIRED)
