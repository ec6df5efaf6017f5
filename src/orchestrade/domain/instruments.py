"""What can be traded: symbol, market, currency, price grid and quantity step."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import ROUND_FLOOR, Decimal
from enum import StrEnum
from typing import TYPE_CHECKING

from orchestrade.domain.errors import ValidationError
from orchestrade.domain.ids import Symbol
from orchestrade.domain.markets import Market
from orchestrade.domain.ticks import FixedTick, KrxTickRule, TickRule, UsEquityTickRule
from orchestrade.domain.validation import (
    assign,
    require_decimal,
    require_enum,
    require_positive,
    require_str,
    require_text,
)

if TYPE_CHECKING:
    from orchestrade.domain.orders import Order


class InstrumentKind(StrEnum):
    """The product type; it decides whether quantities may be fractional."""

    STOCK = "stock"
    ETF = "etf"
    ETN = "etn"
    CRYPTO_SPOT = "crypto_spot"
    CRYPTO_PERPETUAL = "crypto_perpetual"

    @property
    def is_crypto(self) -> bool:
        """True for crypto products, the only ones with fractional quantities."""
        return self in (InstrumentKind.CRYPTO_SPOT, InstrumentKind.CRYPTO_PERPETUAL)


@dataclass(frozen=True, slots=True)
class Instrument:
    """A tradable product on one exchange.

    Quantities must be positive multiples of `lot_size`: 1 for KRX and US shares (whole
    shares only; securities other than crypto must have an integral lot size), a venue's step
    such as 0.00001 for crypto. Prices must be on `tick_rule`'s grid.
    """

    symbol: Symbol
    market: Market
    exchange: str
    currency: str
    tick_rule: TickRule
    lot_size: Decimal
    kind: InstrumentKind = InstrumentKind.STOCK
    name: str = ""

    def __post_init__(self) -> None:
        require_text("Instrument.symbol", self.symbol)
        assign(self, "market", require_enum("Instrument.market", Market, self.market))
        require_text("Instrument.exchange", self.exchange)
        require_text("Instrument.currency", self.currency)
        if not isinstance(self.tick_rule, TickRule):
            raise ValidationError(
                f"Instrument.tick_rule must be a TickRule, got {type(self.tick_rule).__name__}"
            )
        lot = require_positive("Instrument.lot_size", self.lot_size)
        assign(self, "lot_size", lot)
        kind = require_enum("Instrument.kind", InstrumentKind, self.kind)
        assign(self, "kind", kind)
        require_str("Instrument.name", self.name)
        if not kind.is_crypto and lot != lot.to_integral_value():
            raise ValidationError(
                f"Instrument {self.symbol}: a {kind.value} trades in whole units, "
                f"lot_size must be an integer, got {lot}"
            )

    @classmethod
    def krx(
        cls, symbol: str, *, name: str = "", kind: InstrumentKind = InstrumentKind.STOCK
    ) -> Instrument:
        """A KRX listing: KRW, the KRX tick table, whole shares."""
        return cls(
            symbol=Symbol(symbol),
            market=Market.KRX,
            exchange="XKRX",
            currency="KRW",
            tick_rule=KrxTickRule(),
            lot_size=Decimal(1),
            kind=kind,
            name=name,
        )

    @classmethod
    def us(
        cls,
        symbol: str,
        *,
        name: str = "",
        exchange: str = "XNYS",
        kind: InstrumentKind = InstrumentKind.STOCK,
    ) -> Instrument:
        """A US listing: USD, cents (sub-dollar 0.0001), whole shares."""
        return cls(
            symbol=Symbol(symbol),
            market=Market.US,
            exchange=exchange,
            currency="USD",
            tick_rule=UsEquityTickRule(),
            lot_size=Decimal(1),
            kind=kind,
            name=name,
        )

    @classmethod
    def crypto(
        cls,
        symbol: str,
        *,
        tick_size: Decimal,
        lot_size: Decimal,
        exchange: str = "BINANCE",
        currency: str = "USDT",
        kind: InstrumentKind = InstrumentKind.CRYPTO_SPOT,
        name: str = "",
    ) -> Instrument:
        """A crypto pair with the venue's fixed price tick and quantity step."""
        return cls(
            symbol=Symbol(symbol),
            market=Market.CRYPTO,
            exchange=exchange,
            currency=currency,
            tick_rule=FixedTick(tick_size),
            lot_size=lot_size,
            kind=kind,
            name=name,
        )

    def is_valid_quantity(self, quantity: Decimal) -> bool:
        """True when `quantity` is a positive multiple of the lot size."""
        quantity = require_decimal("quantity", quantity)
        return quantity > 0 and quantity % self.lot_size == 0

    def validate_quantity(self, quantity: Decimal) -> Decimal:
        """`quantity` itself when valid.

        Raises:
            ValidationError: not positive, or not a multiple of the lot size (for example a
                fractional number of shares).
        """
        if not self.is_valid_quantity(quantity):
            unit = "whole shares" if self.lot_size == 1 else f"multiples of {self.lot_size}"
            raise ValidationError(
                f"quantity {quantity} of {self.symbol} is invalid: must be positive {unit}"
            )
        return Decimal(quantity)

    def round_quantity(self, quantity: Decimal) -> Decimal:
        """`quantity` rounded down to the lot size (0 when below one lot)."""
        quantity = require_decimal("quantity", quantity)
        return (quantity / self.lot_size).to_integral_value(ROUND_FLOOR) * self.lot_size

    def validate_price(self, price: Decimal) -> Decimal:
        """`price` itself when it is on the tick grid, else a ValidationError."""
        if not self.tick_rule.is_valid_price(price):
            raise ValidationError(
                f"price {price} of {self.symbol} is off the tick grid "
                f"(tick {self.tick_rule.tick_for(price)} at that price)"
            )
        return Decimal(price)

    def validate_order(self, order: Order) -> None:
        """Check an order against this instrument: symbol, lot size and tick grid."""
        if order.symbol != self.symbol:
            raise ValidationError(
                f"order {order.order_id} is for {order.symbol}, not {self.symbol}"
            )
        self.validate_quantity(order.quantity)
        for price in (order.limit_price, order.stop_price):
            if price is not None:
                self.validate_price(price)
