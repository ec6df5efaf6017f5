"""KRX exchange rules checked before sending: the tick grid and the ±30% daily price band.

Orders for instruments of other markets (or unknown instruments) pass; a market order has
no price of its own and passes too (the exchange fills it inside the band).
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from functools import lru_cache
from typing import ClassVar

from orchestrade.domain import Market, Order, krx_price_limits
from orchestrade.risk.decisions import APPROVED, Decision, Denied, format_amount
from orchestrade.risk.ports import PositionBook


@dataclass(frozen=True, slots=True)
class KrxTickSizeCheck:
    """Deny a KRX order whose limit or stop price is off the KRX tick grid."""

    name: ClassVar[str] = "tick_size"

    def evaluate(self, order: Order, book: PositionBook) -> Decision:
        instrument = book.instrument(order.symbol)
        if instrument is None or instrument.market is not Market.KRX:
            return APPROVED
        rule = instrument.tick_rule
        for label, price in (("limit", order.limit_price), ("stop", order.stop_price)):
            if price is not None and not rule.is_valid_price(price):
                tick = rule.tick_for(price)
                return Denied(
                    self.name,
                    f"{self.name}: {label} price {format_amount(price)} of {order.symbol} "
                    f"is not a multiple of the tick {format_amount(tick)}",
                )
        return APPROVED


@dataclass(frozen=True, slots=True)
class KrxPriceLimitCheck:
    """Deny a KRX order priced outside today's band (previous close ±30%, on the tick grid).

    Without a previous close the band is unknown and a priced order is denied.
    """

    name: ClassVar[str] = "price_limit"

    def evaluate(self, order: Order, book: PositionBook) -> Decision:
        if order.limit_price is None and order.stop_price is None:
            return APPROVED
        instrument = book.instrument(order.symbol)
        if instrument is None or instrument.market is not Market.KRX:
            return APPROVED
        base = book.previous_close(order.symbol)
        if base is None:
            return Denied(
                self.name, f"{self.name}: no previous close of {order.symbol}, band unknown"
            )
        lower, upper = _band(base)
        for label, price in (("limit", order.limit_price), ("stop", order.stop_price)):
            if price is not None and not lower <= price <= upper:
                return Denied(
                    self.name,
                    f"{self.name}: {label} price {format_amount(price)} of {order.symbol} is "
                    f"outside {format_amount(lower)}..{format_amount(upper)} "
                    f"(previous close {format_amount(base)} ±30%)",
                )
        return APPROVED


@lru_cache(maxsize=4096)
def _band(previous_close: Decimal) -> tuple[Decimal, Decimal]:
    """`krx_price_limits`, memoised: the band changes once a day per symbol."""
    return krx_price_limits(previous_close)
