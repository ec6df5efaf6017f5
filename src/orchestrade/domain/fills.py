"""Executions reported by a broker, and the cash each one moves."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from orchestrade.domain.ids import FillId, OrderId, Symbol
from orchestrade.domain.sides import Side
from orchestrade.domain.validation import (
    assign,
    require_enum,
    require_non_negative,
    require_positive,
    require_text,
    require_utc,
)


@dataclass(frozen=True, slots=True)
class Fill:
    """One execution of (part of) an order.

    `fee` is the broker commission and `tax` the transaction tax (KRX levies it on sells),
    both in the account currency and both >= 0.
    """

    fill_id: FillId
    order_id: OrderId
    symbol: Symbol
    side: Side
    quantity: Decimal
    price: Decimal
    filled_at: datetime
    fee: Decimal = Decimal(0)
    tax: Decimal = Decimal(0)

    def __post_init__(self) -> None:
        require_text("Fill.fill_id", self.fill_id)
        require_text("Fill.order_id", self.order_id)
        require_text("Fill.symbol", self.symbol)
        assign(self, "side", require_enum("Fill.side", Side, self.side))
        assign(self, "quantity", require_positive("Fill.quantity", self.quantity))
        assign(self, "price", require_positive("Fill.price", self.price))
        assign(self, "filled_at", require_utc("Fill.filled_at", self.filled_at))
        assign(self, "fee", require_non_negative("Fill.fee", self.fee))
        assign(self, "tax", require_non_negative("Fill.tax", self.tax))

    @property
    def signed_quantity(self) -> Decimal:
        """quantity, negative for sells: the change in position."""
        return self.quantity * self.side.sign

    @property
    def gross_value(self) -> Decimal:
        """quantity x price, before fees and taxes."""
        return self.quantity * self.price

    @property
    def net_cash_flow(self) -> Decimal:
        """Cash in (+) or out (-): buy -(q*p) - fee - tax, sell +q*p - fee - tax."""
        return -self.signed_quantity * self.price - self.fee - self.tax
