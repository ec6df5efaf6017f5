"""Tick-size rules (the price grid an exchange accepts) and the KRX daily price limits."""

from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass
from decimal import ROUND_CEILING, ROUND_FLOOR, Decimal
from typing import ClassVar

from orchestrade.domain.errors import ValidationError
from orchestrade.domain.sides import Side
from orchestrade.domain.validation import require_positive


class TickRule(ABC):
    """The set of valid prices: multiples of `tick_for(price)`, which may depend on the price.

    Rounding never leaves the grid, even where the tick changes between price bands: a result
    that lands in a band with a coarser tick is rounded again on that band's grid.
    """

    __slots__ = ()

    @abstractmethod
    def tick_for(self, price: Decimal) -> Decimal:
        """The tick size that applies to orders at `price` (> 0)."""

    def is_valid_price(self, price: Decimal) -> bool:
        """True when `price` is positive and on the grid of its own price band."""
        price = require_positive("price", price)
        return price % self.tick_for(price) == 0

    def floor_price(self, price: Decimal) -> Decimal:
        """The highest valid price <= `price`.

        Raises:
            ValidationError: `price` is below the smallest valid price.
        """
        candidate = require_positive("price", price)
        while True:
            tick = self.tick_for(candidate)
            candidate = (candidate / tick).to_integral_value(ROUND_FLOOR) * tick
            if candidate <= 0:
                raise ValidationError(f"price {price} is below the smallest tick {tick}")
            if self.is_valid_price(candidate):
                return candidate

    def ceil_price(self, price: Decimal) -> Decimal:
        """The lowest valid price >= `price`."""
        candidate = require_positive("price", price)
        while True:
            tick = self.tick_for(candidate)
            candidate = (candidate / tick).to_integral_value(ROUND_CEILING) * tick
            if self.is_valid_price(candidate):
                return candidate

    def round_price(self, price: Decimal, side: Side | None = None) -> Decimal:
        """A valid price near `price`, never more aggressive than asked for a given side.

        Args:
            price: the wanted price, > 0.
            side: BUY rounds down (never pay more), SELL rounds up (never sell for less),
                None rounds to the nearest valid price (ties go up).
        """
        price = require_positive("price", price)
        if side is Side.BUY:
            return self.floor_price(price)
        if side is Side.SELL:
            return self.ceil_price(price)
        above = self.ceil_price(price)
        try:
            below = self.floor_price(price)
        except ValidationError:
            return above
        return below if price - below < above - price else above


@dataclass(frozen=True, slots=True)
class FixedTick(TickRule):
    """One tick size at every price (crypto venues, US stocks at or above $1)."""

    tick: Decimal

    def __post_init__(self) -> None:
        require_positive("FixedTick.tick", self.tick)

    def tick_for(self, price: Decimal) -> Decimal:
        require_positive("price", price)
        return self.tick


class _BandedTickRule(TickRule):
    """Ticks from a table of (upper bound exclusive, tick) bands, then a top tick."""

    __slots__ = ()
    _BANDS: ClassVar[tuple[tuple[Decimal, Decimal], ...]]
    _TOP_TICK: ClassVar[Decimal]

    def tick_for(self, price: Decimal) -> Decimal:
        price = require_positive("price", price)
        for upper, tick in self._BANDS:
            if price < upper:
                return tick
        return self._TOP_TICK

    @classmethod
    def table(cls) -> tuple[tuple[Decimal, Decimal], ...]:
        """The bands as (exclusive upper bound, tick), the last bound being infinity.

        Vectorised code (synthetic data, the backtest kernel) builds its arrays from this so
        the table is written down once.
        """
        return (*cls._BANDS, (Decimal("Infinity"), cls._TOP_TICK))


@dataclass(frozen=True, slots=True)
class KrxTickRule(_BandedTickRule):
    """KRX stock tick table in force since 2023-01-25 (KOSPI and KOSDAQ unified), in KRW."""

    _BANDS: ClassVar[tuple[tuple[Decimal, Decimal], ...]] = (
        (Decimal(2_000), Decimal(1)),
        (Decimal(5_000), Decimal(5)),
        (Decimal(20_000), Decimal(10)),
        (Decimal(50_000), Decimal(50)),
        (Decimal(200_000), Decimal(100)),
        (Decimal(500_000), Decimal(500)),
    )
    _TOP_TICK: ClassVar[Decimal] = Decimal(1_000)


@dataclass(frozen=True, slots=True)
class UsEquityTickRule(_BandedTickRule):
    """US Reg NMS Rule 612: $0.01 at or above $1.00, $0.0001 below."""

    _BANDS: ClassVar[tuple[tuple[Decimal, Decimal], ...]] = ((Decimal(1), Decimal("0.0001")),)
    _TOP_TICK: ClassVar[Decimal] = Decimal("0.01")


KRX_PRICE_LIMIT = Decimal("0.30")
"""KRX daily price limit as a fraction of the base price (previous close), since 2015-06-15."""


def krx_price_limits(previous_close: Decimal) -> tuple[Decimal, Decimal]:
    """The (lower, upper) prices a KRX stock may trade at today.

    Each bound is base x (1 -/+ 30%), then moved toward the base onto the tick grid that
    applies at the bound's own price level (lower rounds up, upper rounds down).
    """
    base = require_positive("previous_close", previous_close)
    rule = KrxTickRule()
    lower = rule.ceil_price(base * (1 - KRX_PRICE_LIMIT))
    upper = rule.floor_price(base * (1 + KRX_PRICE_LIMIT))
    return lower, upper
