"""Position stops (stop loss, trailing stop, take profit) for the live path, as the kernel has them.

The backtest kernel (`orchestrade.backtest.kernel.simulate`, step STEP_STOPS of
`_kernel_loop._bar`) decides stop exits bar by bar; replay, paper and live trading must
decide alike, so this module restates its rules in plain Python with the same float
arithmetic (levels equal the kernel's bit for bit):

- stop level = the higher of entry x (1 - stop_loss) and highest x (1 - trailing_stop), each
  when it is on; the trailing stop is the active one only when it is strictly higher (the
  exit reason tells which);
- take-profit target = entry x (1 + take_profit), rounded UP to the tick grid;
- a bar exits at the stop when it opens at/below the stop, or trades down to it while the
  open is below the target (a bar that spans both is assumed to hit the stop first), at
  min(open, stop); otherwise it exits at the target when it opens at/above it or trades up
  to it, at the target, or at the open rounded DOWN to the grid when it gapped above;
- `highest` starts at the entry fill price and takes each checked bar's high AFTER that
  bar's check, so a bar's own high never triggers its trailing stop.

The prices returned are raw exit prices: like the kernel, a stop exit then pays slippage and
is rounded down to the grid by whoever fills it; a take profit is a limit order and fills
at its price. Which bars are checked is the caller's business, as in the kernel: from the
entry bar on for an entry at the open, from the next bar for an entry intrabar or at the
close; `after_bar` is called for exactly the checked bars.

Live, the levels rest at the broker as protective orders (`protective_orders`): a sell stop
at the stop level floored to the grid (on a grid, "low <= level" and "low <= floor(level)"
select the same bars, and min(open, level) rounded down equals min(open, floor(level))), and
a sell limit at the target. The runtime cancels one when the other fills (OCO) and replaces
the stop when `protective_prices` changes after a bar. A broker cannot honour the kernel's
"stop first" assumption for a bar that spans both levels: whichever it meets first fills.

This module may not import `orchestrade.backtest` (layers); tick rounding is injected as a
`RoundToTick` function, e.g. the kernel's `round_to_tick` bound to the symbol's grid.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from enum import StrEnum

from orchestrade.domain import (
    BotId,
    Order,
    OrderId,
    OrderType,
    Side,
    Symbol,
    TickRule,
    TimeInForce,
    ValidationError,
    new_order_id,
)
from orchestrade.risk.errors import RiskConfigurationError

RoundToTick = Callable[[float, bool], float]
"""`(price, upward) -> price on the grid`: at or above `price` when `upward`, else at or below."""


def no_rounding(price: float, upward: bool) -> float:
    """The identity `RoundToTick`: instruments without a price grid."""
    return price


class StopReason(StrEnum):
    """Why a stop exit happens; the values are the kernel's exit reason names."""

    STOP_LOSS = "stop_loss"
    TAKE_PROFIT = "take_profit"
    TRAILING_STOP = "trailing_stop"


@dataclass(frozen=True, slots=True)
class StopSettings:
    """Stop distances as fractions of the entry price (trailing: of the highest high).

    None (or NaN, read as None) switches a stop off. stop_loss and trailing_stop must lie in
    (0, 1), take_profit must be > 0 and finite: the kernel configuration's bounds.

    Raises:
        RiskConfigurationError: a fraction is out of range or not a number.
    """

    stop_loss: float | None = None
    take_profit: float | None = None
    trailing_stop: float | None = None

    def __post_init__(self) -> None:
        for name in ("stop_loss", "trailing_stop", "take_profit"):
            object.__setattr__(self, name, _fraction(name, getattr(self, name)))

    @property
    def is_off(self) -> bool:
        """True when no stop is on: nothing to watch, no protective order."""
        return self.stop_loss is None and self.take_profit is None and self.trailing_stop is None


@dataclass(frozen=True, slots=True)
class StopLevels:
    """The protective levels in force for one bar.

    Attributes:
        stop: the stop level (the higher of stop loss and trailing stop), None when both
            are off.
        stop_reason: STOP_LOSS or TRAILING_STOP, whichever sets `stop`; None with it.
        target: the take-profit price on the grid (rounded up), None when off.
    """

    stop: float | None
    stop_reason: StopReason | None
    target: float | None


@dataclass(frozen=True, slots=True)
class StopExit:
    """A bar reached a protective level: sell the position at `price` for `reason`.

    `price` is the raw exit price: min(open, stop) for a stop (slippage and the downward
    tick rounding of a sale still apply), the target or a higher open on the grid for a
    take profit (a limit order: no slippage).
    """

    price: float
    reason: StopReason


@dataclass(frozen=True, slots=True)
class ProtectivePrices:
    """The order prices that carry `StopLevels` to a broker, on the instrument's grid.

    `stop` is the trigger of a sell stop order (the stop level floored to the grid),
    `target` the price of a sell limit order; None where the level is off. Replace the
    resting orders when these change, not when the float levels move inside one tick.
    """

    stop: Decimal | None
    target: Decimal | None


@dataclass(frozen=True, slots=True)
class ProtectiveOrders:
    """The resting sell orders that protect one position (one-cancels-other)."""

    stop: Order | None
    take_profit: Order | None

    def orders(self) -> tuple[Order, ...]:
        """The orders that exist, stop first."""
        return tuple(order for order in (self.stop, self.take_profit) if order is not None)


class PositionStops:
    """The stops of one held long position, from its entry fill to its exit.

    Args:
        entry_price: the entry fill price (after slippage and tick rounding), > 0.
        settings: which stops are on and their distances.
        round_to_tick: the symbol's tick rounding; defaults to none.
        highest: the highest high since entry, when restoring a position after a restart;
            defaults to the entry price.

    Raises:
        RiskConfigurationError: `entry_price` or `highest` is not a positive number.
    """

    __slots__ = ("_highest", "_round", "_target", "entry_price", "settings")

    def __init__(
        self,
        entry_price: float,
        settings: StopSettings,
        round_to_tick: RoundToTick = no_rounding,
        *,
        highest: float | None = None,
    ) -> None:
        self.entry_price = _positive("entry_price", entry_price)
        self.settings = settings
        self._round = round_to_tick
        self._highest = self.entry_price if highest is None else _positive("highest", highest)
        take_profit = settings.take_profit
        self._target = (
            math.inf
            if take_profit is None
            else round_to_tick(self.entry_price * (1.0 + take_profit), True)
        )

    @property
    def highest(self) -> float:
        """The highest high of the checked bars since entry (the entry price before any)."""
        return self._highest

    @property
    def levels(self) -> StopLevels:
        """The stop level, its reason and the target for the next bar."""
        stop, reason = self._stop()
        return StopLevels(
            stop=None if stop == -math.inf else stop,
            stop_reason=None if stop == -math.inf else reason,
            target=None if self._target == math.inf else self._target,
        )

    def check_bar(self, open: float, high: float, low: float) -> StopExit | None:
        """The exit this bar triggers, or None; changes nothing (call `after_bar` next)."""
        stop, reason = self._stop()
        target = self._target
        if open <= stop or (low <= stop and open < target):
            return StopExit(min(open, stop), reason)
        if open >= target or high >= target:
            price = target if open < target else max(self._round(open, False), target)
            return StopExit(price, StopReason.TAKE_PROFIT)
        return None

    def after_bar(self, high: float) -> StopLevels:
        """Take a checked bar's high into the trailing stop; returns the new levels.

        Call it after `check_bar` for every checked bar while the position is held (also
        when a stop exit could not be filled and the position is still open).
        """
        if high > self._highest:
            self._highest = high
        return self.levels

    def _stop(self) -> tuple[float, StopReason]:
        stop_loss = self.settings.stop_loss
        trailing = self.settings.trailing_stop
        level = -math.inf if stop_loss is None else self.entry_price * (1.0 - stop_loss)
        reason = StopReason.STOP_LOSS
        if trailing is not None and self._highest * (1.0 - trailing) > level:
            level = self._highest * (1.0 - trailing)
            reason = StopReason.TRAILING_STOP
        return level, reason

    def __repr__(self) -> str:
        return (
            f"PositionStops(entry_price={self.entry_price!r}, settings={self.settings!r}, "
            f"highest={self._highest!r})"
        )


def protective_prices(levels: StopLevels, tick_rule: TickRule | None = None) -> ProtectivePrices:
    """The broker prices of `levels`: the stop floored and the target snapped to the grid.

    The float levels are first read as the shortest decimal that round-trips (so the float
    110.00000000000001 of a target already on a cent grid is 110.00, not 110.01); a value
    within 1e-9 of max(tick, price) of the grid is on it, as in the kernel's rounding.
    Without a tick rule the decimals are used as they are.
    """
    stop = None if levels.stop is None else _to_grid(levels.stop, tick_rule, upward=False)
    target = None if levels.target is None else _to_grid(levels.target, tick_rule, upward=True)
    return ProtectivePrices(stop=stop, target=target)


def protective_orders(
    levels: StopLevels,
    *,
    symbol: Symbol,
    quantity: Decimal,
    created_at: datetime,
    tick_rule: TickRule | None = None,
    bot_id: BotId | None = None,
    new_id: Callable[[], OrderId] = new_order_id,
    time_in_force: TimeInForce = TimeInForce.GTC,
) -> ProtectiveOrders:
    """The sell orders that rest at a broker for `levels`: a STOP at the floored stop level
    and a LIMIT at the target, each for the whole `quantity` held (in state NEW).

    Raises:
        ValidationError: `quantity` is not positive, or a level is below the smallest tick.
    """
    prices = protective_prices(levels, tick_rule)
    stop = None
    if prices.stop is not None:
        stop = Order(
            order_id=new_id(),
            symbol=symbol,
            side=Side.SELL,
            order_type=OrderType.STOP,
            quantity=quantity,
            created_at=created_at,
            stop_price=prices.stop,
            time_in_force=time_in_force,
            bot_id=bot_id,
        )
    take_profit = None
    if prices.target is not None:
        take_profit = Order(
            order_id=new_id(),
            symbol=symbol,
            side=Side.SELL,
            order_type=OrderType.LIMIT,
            quantity=quantity,
            created_at=created_at,
            limit_price=prices.target,
            time_in_force=time_in_force,
            bot_id=bot_id,
        )
    return ProtectiveOrders(stop=stop, take_profit=take_profit)


_GRID_TOLERANCE = Decimal("1e-9")


def _to_grid(value: float, rule: TickRule | None, *, upward: bool) -> Decimal:
    price = Decimal(repr(value))
    if rule is None:
        return price
    if price <= 0:
        raise ValidationError(f"protective price {value!r} must be > 0")
    nearest = rule.round_price(price)
    if abs(nearest - price) <= _GRID_TOLERANCE * max(rule.tick_for(nearest), price):
        return nearest
    return rule.ceil_price(price) if upward else rule.floor_price(price)


def _fraction(name: str, value: object) -> float | None:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return None
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        raise RiskConfigurationError(f"{name} must be a finite number or None, got {value!r}")
    number = float(value)
    upper = 1.0 if name != "take_profit" else math.inf
    if not 0.0 < number < upper:
        bound = "in (0, 1)" if name != "take_profit" else "> 0"
        raise RiskConfigurationError(f"{name} must be {bound}, got {value!r}")
    return number


def _positive(name: str, value: float) -> float:
    if (
        isinstance(value, bool)
        or not isinstance(value, int | float)
        or not math.isfinite(value)
        or value <= 0
    ):
        raise RiskConfigurationError(f"{name} must be a finite number > 0, got {value!r}")
    return float(value)
