"""Requests that ask one agent to act, named in the imperative."""

from __future__ import annotations

from dataclasses import dataclass

from orchestrade.domain.errors import ValidationError
from orchestrade.domain.ids import OrderId
from orchestrade.domain.orders import Order, OrderStatus
from orchestrade.domain.validation import require_str, require_text


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
class CancelOrder:
    """Ask execution to cancel an open order."""

    order_id: OrderId
    reason: str = ""

    def __post_init__(self) -> None:
        require_text("CancelOrder.order_id", self.order_id)
        require_str("CancelOrder.reason", self.reason)


Command = SubmitOrder | CancelOrder
"""Any command."""
