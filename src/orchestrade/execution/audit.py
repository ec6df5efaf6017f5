"""The audit trail of the OMS: one human-readable line per order transition.

Lines go to the `orchestrade.audit` logger (the journal keeps its own copy in storage), so an
operator can follow every order with `grep` even when the database is unreachable. A line
reads: time, bot, symbol, side, quantity, price, the transition and its reason.
"""

from __future__ import annotations

import logging
from datetime import datetime
from decimal import Decimal

from orchestrade.domain import Order, OrderStatus

AUDIT_LOGGER = "orchestrade.audit"
"""Name of the logger that receives the audit lines."""

_audit = logging.getLogger(AUDIT_LOGGER)


def audit_line(
    order: Order,
    *,
    at: datetime,
    reason: str,
    previous: OrderStatus | None = None,
    quantity: Decimal | None = None,
    price: Decimal | None = None,
) -> str:
    """The audit line of `order` reaching its current status.

    `quantity` and `price` default to the order's quantity and its limit, stop or average
    fill price ("market" when it has none); a fill passes its own quantity and price.
    """
    if price is None:
        price = order.limit_price or order.stop_price or order.average_fill_price
    shown_price = "market" if price is None else str(price)
    shown_quantity = order.quantity if quantity is None else quantity
    transition = (
        order.status.value if previous is None else f"{previous.value}->{order.status.value}"
    )
    return (
        f"{at.isoformat()} bot={order.bot_id or '-'} symbol={order.symbol} "
        f"side={order.side.value} qty={shown_quantity} price={shown_price} "
        f"order={order.order_id} {transition} reason={reason or '-'}"
    )


def audit(
    order: Order,
    *,
    at: datetime,
    reason: str,
    previous: OrderStatus | None = None,
    quantity: Decimal | None = None,
    price: Decimal | None = None,
) -> None:
    """Log `audit_line(...)` at INFO on the audit logger (order id and status in `extra`)."""
    if not _audit.isEnabledFor(logging.INFO):
        return
    line = audit_line(
        order, at=at, reason=reason, previous=previous, quantity=quantity, price=price
    )
    _audit.info(
        line,
        extra={"order_id": order.order_id, "status": order.status.value, "bot_id": order.bot_id},
    )
