"""How many units an entry buys: the sizing methods of the strategy spec.

Every method starts from a *budget*: the cash the account may spend on this entry, i.e.
min(cash, position_allocation x equity), where equity is the account's equity marked at
the last close before the fill. Then:

- ``all_cash``: spend the whole budget, qty = floor(budget / (price x (1 + commission)))
  in lots. With position_allocation = 1 in isolated mode this is the reference rule
  qty = floor(cash / (open x 1.001)).
- ``fixed_qty``: `quantity` units (rounded down to lots), fewer if the budget cannot pay.
- ``percent_equity``: spend `fraction` x equity, at most the budget.
- ``volatility_target``: spend (annual_vol / realised_vol) x equity, at most the budget;
  realised_vol is the sample standard deviation (ddof=1) of the last `lookback` log
  close-to-close returns up to the decision bar, times sqrt(bars_per_year). Entries
  decided before `lookback` returns exist are refused (counter "volatility"); a zero
  volatility spends the whole budget.

When the minimum commission applies, the quantity is lowered so that value + minimum
still fits in the budget. Lots: stocks trade whole shares (lot 1), crypto 1e-8 units.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Literal

import numba
import numpy as np

from orchestrade.backtest.errors import ConfigError

SizingMethod = Literal["all_cash", "fixed_qty", "percent_equity", "volatility_target"]
SIZING_METHODS: dict[str, int] = {
    "all_cash": 0,
    "fixed_qty": 1,
    "percent_equity": 2,
    "volatility_target": 3,
}
"""Sizing method names and their kernel codes."""

_ALL_CASH, _FIXED_QTY, _PERCENT_EQUITY, _VOLATILITY_TARGET = 0, 1, 2, 3


@dataclass(frozen=True, slots=True, kw_only=True)
class Sizing:
    """A sizing method and its parameters (see the module docstring for the rules).

    Raises:
        ConfigError: unknown method, or a parameter the method needs is missing or out of
            range.
    """

    method: SizingMethod = "all_cash"
    quantity: float | None = None
    fraction: float | None = None
    annual_vol: float | None = None
    lookback: int = 20
    bars_per_year: float = 252.0

    def __post_init__(self) -> None:
        if self.method not in SIZING_METHODS:
            raise ConfigError(
                f"sizing.method must be one of {', '.join(SIZING_METHODS)}, got {self.method!r}"
            )
        if self.method == "fixed_qty":
            _require_positive("sizing.quantity", self.quantity)
        if self.method == "percent_equity":
            _require_positive("sizing.fraction", self.fraction)
        if self.method == "volatility_target":
            _require_positive("sizing.annual_vol", self.annual_vol)
        if isinstance(self.lookback, bool) or not isinstance(self.lookback, int):
            raise ConfigError(f"sizing.lookback must be an int, got {self.lookback!r}")
        if self.lookback < 2:
            raise ConfigError(f"sizing.lookback must be >= 2, got {self.lookback}")
        _require_positive("sizing.bars_per_year", self.bars_per_year)

    @classmethod
    def all_cash(cls) -> Sizing:
        """Spend the whole budget on each entry (the default)."""
        return cls()

    @classmethod
    def fixed_qty(cls, quantity: float) -> Sizing:
        """Buy `quantity` units per entry."""
        return cls(method="fixed_qty", quantity=quantity)

    @classmethod
    def percent_equity(cls, fraction: float) -> Sizing:
        """Spend `fraction` of equity per entry."""
        return cls(method="percent_equity", fraction=fraction)

    @classmethod
    def volatility_target(
        cls, annual_vol: float, lookback: int = 20, bars_per_year: float = 252.0
    ) -> Sizing:
        """Size so that the position's annualised volatility is `annual_vol` of equity."""
        return cls(
            method="volatility_target",
            annual_vol=annual_vol,
            lookback=lookback,
            bars_per_year=bars_per_year,
        )

    @property
    def code(self) -> int:
        """The kernel's integer code of the method."""
        return SIZING_METHODS[self.method]


def realised_volatility(close: np.ndarray, lookback: int, bars_per_year: float) -> np.ndarray:
    """Annualised realised volatility known at each bar's close, shaped like `close`.

    Per symbol, over its own bars (NaN cells are skipped, not treated as returns): the
    sample standard deviation of the last `lookback` log returns times sqrt(bars_per_year).
    NaN until `lookback` returns exist and on cells without a bar.
    """
    values = np.ascontiguousarray(close, dtype=np.float64)
    return _realised_volatility(values, lookback, math.sqrt(bars_per_year))


def _require_positive(name: str, value: float | None) -> None:
    if value is None or isinstance(value, bool) or not math.isfinite(value) or value <= 0:
        raise ConfigError(f"{name} must be a positive number, got {value!r}")


@numba.njit(cache=True)
def _realised_volatility(close: np.ndarray, lookback: int, scale: float) -> np.ndarray:
    out = np.full(close.shape, np.nan)
    window = np.empty(lookback)
    for symbol in range(close.shape[0]):
        previous = np.nan
        count = 0
        for bar in range(close.shape[1]):
            price = close[symbol, bar]
            if not np.isfinite(price):
                continue
            if np.isfinite(previous):
                window[count % lookback] = math.log(price / previous)
                count += 1
                if count >= lookback:
                    mean = 0.0
                    for i in range(lookback):
                        mean += window[i]
                    mean /= lookback
                    squares = 0.0
                    for i in range(lookback):
                        squares += (window[i] - mean) ** 2
                    out[symbol, bar] = math.sqrt(squares / (lookback - 1)) * scale
            previous = price
    return out


@numba.njit(cache=True)
def entry_quantity(
    method: int,
    price: float,
    budget: float,
    equity: float,
    commission: float,
    commission_min: float,
    lot: float,
    quantity: float,
    fraction: float,
    annual_vol: float,
    volatility: float,
) -> float:
    """Units to buy at `price` (a multiple of `lot`, >= 0); -1.0 when volatility-target
    sizing has no volatility estimate."""
    if budget <= 0.0 or not price > 0.0:
        return 0.0
    value = budget
    # `b if b < a else a` is min(a, b) and `b if b > a else a` max(a, b), NaN included:
    # written out, they compile inline instead of as separate overloads (cold start).
    if method == _PERCENT_EQUITY:
        target = fraction * equity
        value = budget if budget < target else target
    elif method == _VOLATILITY_TARGET:
        if np.isnan(volatility):
            return -1.0
        if volatility > 0.0:
            target = annual_vol / volatility * equity
            value = budget if budget < target else target
    affordable = np.floor(value / (price * (1.0 + commission)) / lot) * lot
    if method == _FIXED_QTY:
        wanted = np.floor(quantity / lot + 1e-9) * lot
        cap = np.floor(budget / (price * (1.0 + commission)) / lot) * lot
        affordable = cap if cap < wanted else wanted
    if affordable > 0.0 and affordable * price * commission < commission_min:
        with_minimum = np.floor((budget - commission_min) / price / lot) * lot
        with_minimum = 0.0 if with_minimum < 0.0 else with_minimum
        affordable = with_minimum if with_minimum < affordable else affordable
    return 0.0 if affordable < 0.0 else affordable
