"""Where and at what price a paper order fills in a bar: the backtest kernel's float rules.

Every number here is computed with the same float operations, in the same order, and the
same `round_to_tick` (its Python source: the compiled one gives the same floats, and calling
it from Python would cost a numba load of about half a second at the first fill), as
`orchestrade.backtest._kernel_loop._bar`, so that a replay through the paper broker and a
kernel run on the same bars agree bit for bit:

- market and stop fills slip adversely by raw x slippage_bps x 1e-4 + slippage_range x
  (high - low), then round to the grid against the trader (buys up, sells down);
- a sell stop at L triggers when open <= L (at the open) or low <= L (at L); a buy stop
  at L (rounded up to the grid) when high >= L, at max(open, L);
- a buy limit at L (rounded down) fills when low <= L at min(open rounded up, L); a sell
  limit at L (rounded up) when open >= L at max(open rounded down, L), or high >= L at L;
  limit fills do not slip;
- a fill outside previous close x (1 -/+ price_limit), rounded inward to the grid, does not
  happen; one fill takes at most floor(participation x volume / lot) lots.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from decimal import Decimal
from enum import IntEnum

from orchestrade.backtest.costs import commission_fee, round_to_tick, tick_bands
from orchestrade.brokers.paper.settings import PaperSettings, SymbolRules
from orchestrade.domain import Bar, Order, OrderType, Side

_ROUND_TO_TICK = round_to_tick.py_func

_BAND_TOLERANCE = 1e-12
_LOT_TOLERANCE = 1e-9


class Phase(IntEnum):
    """When in a bar a triggered order fills, for ordering: gaps, then stops, then limits."""

    GAP = 0
    STOP = 1
    LIMIT = 2


@dataclass(frozen=True, slots=True)
class BarPrices:
    """A bar's prices as the kernel's floats."""

    open: float
    high: float
    low: float
    close: float
    volume: float

    @classmethod
    def of(cls, bar: Bar) -> BarPrices:
        return cls(
            float(bar.open), float(bar.high), float(bar.low), float(bar.close), float(bar.volume)
        )


@dataclass(frozen=True, slots=True)
class Trigger:
    """A resting order the bar reaches: the raw price (before slippage) and whether it
    slips (market and stop fills do, limit fills do not)."""

    phase: Phase
    raw: float
    slips: bool


@dataclass(frozen=True, slots=True)
class Band:
    """The prices a fill may have today: [floor, ceiling] around `previous_close`."""

    floor: float
    ceiling: float
    previous_close: float

    def excludes(self, price: float) -> bool:
        """True when `price` is outside the band (with the kernel's 1e-12 relative slack)."""
        return (
            price < self.floor - _BAND_TOLERANCE * price
            or price > self.ceiling + _BAND_TOLERANCE * price
        )


class Pricer:
    """The kernel's price arithmetic for one `PaperSettings`."""

    def __init__(self, settings: PaperSettings) -> None:
        self.settings = settings
        self._upper, self._ticks = tick_bands()

    def round(self, price: float, upward: bool, rules: SymbolRules) -> float:
        """`price` on the grid of `rules`, rounded up or down."""
        return float(
            _ROUND_TO_TICK(
                price, upward, rules.tick_code, rules.tick_size, self._upper, self._ticks
            )
        )

    def slipped(self, raw: float, side: Side, bar: BarPrices, rules: SymbolRules) -> float:
        """A market or stop fill price: `raw` moved against the trader, on the grid."""
        settings = self.settings
        action = side.sign
        move = raw * settings.slippage_bps * 1e-4 + settings.slippage_range * (bar.high - bar.low)
        price = max(raw + action * move, 0.0)
        return self.round(price, side is Side.BUY, rules)

    def trigger(self, order: Order, bar: BarPrices, rules: SymbolRules) -> Trigger | None:
        """Whether the bar's range reaches resting stop or limit `order`, and at what raw
        price; None when it does not (or for a market order)."""
        o, h, lo = bar.open, bar.high, bar.low
        if order.order_type is OrderType.STOP and order.stop_price is not None:
            level = float(order.stop_price)
            if order.side is Side.SELL:
                if o <= level:
                    return Trigger(Phase.GAP, o, True)
                if lo <= level:
                    return Trigger(Phase.STOP, level, True)
                return None
            level = self.round(level, True, rules)
            if h >= level:
                return Trigger(Phase.GAP if o >= level else Phase.STOP, max(o, level), True)
            return None
        if order.order_type is OrderType.LIMIT and order.limit_price is not None:
            level = float(order.limit_price)
            if order.side is Side.BUY:
                level = self.round(level, False, rules)
                if lo <= level:
                    raw = min(self.round(o, True, rules), level)
                    return Trigger(Phase.GAP if o <= level else Phase.LIMIT, raw, False)
                return None
            level = self.round(level, True, rules)
            if o >= level:
                return Trigger(Phase.GAP, max(self.round(o, False, rules), level), False)
            if h >= level:
                return Trigger(Phase.LIMIT, level, False)
        return None

    def band(self, previous_close: float | None, rules: SymbolRules) -> Band | None:
        """Today's price band, None without a limit or a previous close."""
        limit = rules.price_limit
        if limit <= 0.0 or previous_close is None or not previous_close > 0.0:
            return None
        floor = self.round(previous_close * (1.0 - limit), True, rules)
        ceiling = self.round(previous_close * (1.0 + limit), False, rules)
        return Band(floor, ceiling, previous_close)

    def participation_cap(self, volume: float, rules: SymbolRules) -> Decimal | None:
        """Most one order may take of a bar with `volume`, in units (None = no cap)."""
        participation = self.settings.participation
        if participation is None or participation <= 0.0:
            return None
        if not volume > 0.0:
            return Decimal(0)
        lots = math.floor(participation * volume / rules.lot_size + _LOT_TOLERANCE)
        return lots * rules.lot

    def costs(self, value: float, side: Side, rules: SymbolRules) -> tuple[float, float]:
        """(commission, sell tax) of a fill of `value`, as the kernel computes them."""
        settings = self.settings
        fee = commission_fee(value, settings.commission, settings.commission_min)
        tax = value * rules.sell_tax if side is Side.SELL else 0.0
        return fee, tax


def as_decimal(value: float) -> Decimal:
    """A float price or cost as the shortest Decimal that round-trips it exactly."""
    return Decimal(repr(float(value)))
