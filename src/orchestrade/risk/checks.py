"""The shape every pre-trade check shares, and the order arithmetic the checks have in common."""

from __future__ import annotations

from decimal import Decimal
from typing import Protocol

from orchestrade.domain import Order
from orchestrade.risk.decisions import Decision
from orchestrade.risk.errors import RiskConfigurationError
from orchestrade.risk.ports import PositionBook


class Check(Protocol):
    """One pre-trade rule: `name` labels its denials and the engine's counters."""

    @property
    def name(self) -> str:
        """Stable identifier such as "max_position" (also the prefix of every reason)."""
        ...

    def evaluate(self, order: Order, book: PositionBook) -> Decision:
        """Approve or deny `order` given the account and market state in `book`."""
        ...


def is_reducing(order: Order, held: Decimal) -> bool:
    """True when `order` only shrinks the position `held` (never flips or grows it).

    Exits are always allowed by the loss and kill-switch checks: refusing them would trap
    the account in the very exposure the limit is about.
    """
    if held == 0:
        return False
    return (held > 0) != (order.signed_quantity > 0) and order.quantity <= abs(held)


def valuation_price(order: Order, book: PositionBook) -> Decimal | None:
    """The price an order is valued at: its limit, else its stop, else the market reference.

    A market order uses `book.reference_price`, falling back to the last trade; None when
    neither is known.
    """
    if order.limit_price is not None:
        return order.limit_price
    if order.stop_price is not None:
        return order.stop_price
    reference = book.reference_price(order.symbol)
    return reference if reference is not None else book.last_price(order.symbol)


def fraction_limit(field: str, value: float | Decimal) -> Decimal:
    """A positive limit as an exact Decimal (floats go through their shortest repr: 0.1 -> 0.1).

    Raises:
        RiskConfigurationError: `value` is not a finite number > 0.
    """
    if isinstance(value, bool) or not isinstance(value, float | int | Decimal):
        raise RiskConfigurationError(f"{field} must be a number > 0, got {value!r}")
    limit = value if isinstance(value, Decimal) else Decimal(str(value))
    if not limit.is_finite() or limit <= 0:
        raise RiskConfigurationError(f"{field} must be a finite number > 0, got {value!r}")
    return limit
