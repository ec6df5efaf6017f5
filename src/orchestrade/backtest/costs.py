"""Trading costs and exchange price rules: commission, sell tax, tick grids, price bands.

The constants and the per-market conventions are plain Python; the price arithmetic is
compiled with numba so the kernel loop can call it without leaving machine code.

Tick rounding always goes against the trader ("slippage hurts you"): a buy price is
rounded up to the grid, a sell price down. Grid membership is tested with a relative
tolerance of 1e-9 tick so that a price already on the grid, carried in binary floating
point (70100.00000000001), is not pushed one tick further.
"""

from __future__ import annotations

from dataclasses import dataclass

import numba
import numpy as np

from orchestrade.domain import InstrumentKind, KrxTickRule, Market, UsEquityTickRule

KRX_SELL_TAX = 0.0020
"""Tax on the value of every KRX stock sale, as a fraction (0.20%).

KOSPI: securities transaction tax 0.05% + special tax for rural development 0.15%;
KOSDAQ: securities transaction tax 0.20%. Both are 0.20% in total since 2026-01-01
(enforcement decree of the 2025 tax reform, Ministry of Economy and Finance announcement of
2025-12-01, reported by Yonhap / Chosun Biz that day). The rate was 0.15% in 2025 (KOSPI
0.00% + 0.15%), 0.18% in 2024 and 0.20% in 2023. ETFs and ETNs listed on KRX are exempt:
give them a sell tax of 0 per symbol.
"""

TICK_NONE = 0
TICK_FIXED = 1
TICK_KRX = 2
TICK_US = 3
TICK_KINDS: dict[str, int] = {
    "none": TICK_NONE,
    "fixed": TICK_FIXED,
    "krx": TICK_KRX,
    "us": TICK_US,
}
"""Tick rule names accepted by the configuration and their kernel codes."""

_GRID_TOLERANCE = 1e-9


@dataclass(frozen=True, slots=True)
class MarketConventions:
    """Default per-symbol trading rules of a market, as the kernel configuration takes them."""

    tick_kind: str
    tick_size: float
    lot_size: float
    price_limit: float
    sell_tax: float


def market_conventions(
    market: Market, kind: InstrumentKind = InstrumentKind.STOCK
) -> MarketConventions:
    """KRX: KRX tick table, whole shares, ±30% band, KRX_SELL_TAX on sells of stocks (ETFs
    and ETNs are exempt from the securities transaction tax). US: cents (Rule 612), whole
    shares, no band, no tax. Crypto: no grid, quantities in steps of 1e-8, no band, no tax."""
    if market is Market.KRX:
        exempt = kind in (InstrumentKind.ETF, InstrumentKind.ETN)
        return MarketConventions("krx", 0.0, 1.0, 0.30, 0.0 if exempt else KRX_SELL_TAX)
    if market is Market.US:
        return MarketConventions("us", 0.0, 1.0, 0.0, 0.0)
    return MarketConventions("none", 0.0, 1e-8, 0.0, 0.0)


def tick_bands() -> tuple[np.ndarray, np.ndarray]:
    """The KRX (row 0) and US (row 1) tick tables as (exclusive upper bound, tick) arrays.

    Built from the domain's `table()` so the bands are written down once; the shorter table
    is padded with its top band.
    """
    tables = [KrxTickRule.table(), UsEquityTickRule.table()]
    width = max(len(table) for table in tables)
    upper = np.full((len(tables), width), np.inf)
    ticks = np.empty((len(tables), width))
    for row, table in enumerate(tables):
        for column in range(width):
            bound, tick = table[min(column, len(table) - 1)]
            upper[row, column] = float(bound)
            ticks[row, column] = float(tick)
    return upper, ticks


def commission_fee(value: float, rate: float, minimum: float) -> float:
    """Commission on a traded value: `rate * value`, at least `minimum` per order (0 for
    nothing traded). The kernel inlines the same formula."""
    if value <= 0.0:
        return 0.0
    return max(value * rate, minimum)


@numba.njit(cache=True)
def round_to_tick(
    price: float, upward: bool, kind: int, size: float, upper: np.ndarray, ticks: np.ndarray
) -> float:
    """The nearest valid price at or above (`upward`, buys) or at or below `price` (sells).

    `kind` is a TICK_* code, `size` the FIXED tick, `upper`/`ticks` the `tick_bands()`.
    Rounding up may land on a band bound with a coarser tick; the result is then rounded
    again on that band's grid. Rounding down never returns less than one tick. The NONE
    rule and non-positive prices pass through unchanged.
    """
    if kind == TICK_NONE or not price > 0.0:
        return price
    candidate = price
    for _ in range(16):
        tick = size
        if kind != TICK_FIXED:
            row = kind - TICK_KRX
            tick = ticks[row, upper.shape[1] - 1]
            for column in range(upper.shape[1]):
                if candidate < upper[row, column]:
                    tick = ticks[row, column]
                    break
        units = candidate / tick
        nearest = np.floor(units + 0.5)
        # max() written out (it would compile as a separate overload): max(1.0, x) is
        # `x if x > 1.0 else 1.0`, max(x, 1.0) is `1.0 if x < 1.0 else x`.
        scale = abs(units)
        scale = scale if scale > 1.0 else 1.0
        if abs(units - nearest) <= _GRID_TOLERANCE * scale:
            return float(nearest * tick)
        if not upward:
            whole = np.floor(units)
            return float((1.0 if whole < 1.0 else whole) * tick)
        candidate = np.ceil(units) * tick
    return candidate
