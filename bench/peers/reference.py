"""The reference semantics of the issue, written as plainly as possible (numpy + a loop).

sma_cross(fast, slow), isolated accounts, next-open fills, per symbol on its own bars:

* SMA_n[t] is the mean of the symbol's last n closes (undefined before n bars).
* Entry signal at bar t: SMA_fast[t] > SMA_slow[t] and SMA_fast[t-1] <= SMA_slow[t-1];
  exit signal: SMA_fast[t] < SMA_slow[t] and SMA_fast[t-1] >= SMA_slow[t-1]. A comparison
  with an undefined average is false.
* An entry signal while flat buys at bar t+1's open ``qty = floor(cash / (open * (1 + fee)))``
  shares (no order when that is 0); an exit signal while long sells everything at bar t+1's
  open. A signal on the symbol's last bar has no next bar and is not traded.
* Fees are ``fee`` times the traded value on each side:
  buy: ``cash -= qty * open + qty * open * fee``; sell: ``cash += value - value * fee``.
* A position still open at the end is valued at the last close (no exit fee); the trade is
  reported with exit bar = the last bar and exit price = the last close.

Rows with non-positive prices are dropped by the universe loader before this runs.
Averages are window sums over ``numpy.lib.stride_tricks.sliding_window_view``: on the
benchmark's exactly representable prices every window sum is exact, so these averages are
the correctly rounded means that any summation order gives.
"""

from __future__ import annotations

import math
import time

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view

from peers.panel_files import Panel
from peers.results import PeerRun, trades_from_rows

FAST = 10
SLOW = 30
CASH = 10_000_000.0
FEE = 0.001

TradeRow = tuple[int, int, float, int, float, float]


def sma(values: np.ndarray, window: int) -> np.ndarray:
    """Simple moving average; NaN for the first ``window - 1`` values."""
    out = np.full(values.shape, np.nan)
    if values.size >= window:
        out[window - 1 :] = sliding_window_view(values, window).sum(axis=1) / window
    return out


def cross_signals(close: np.ndarray, fast: int, slow: int) -> tuple[np.ndarray, np.ndarray]:
    """(entries, exits) boolean arrays of the golden and dead crosses of one symbol."""
    fast_ma, slow_ma = sma(close, fast), sma(close, slow)
    entries = np.zeros(close.shape, dtype=bool)
    exits = np.zeros(close.shape, dtype=bool)
    with np.errstate(invalid="ignore"):
        entries[1:] = (fast_ma[1:] > slow_ma[1:]) & (fast_ma[:-1] <= slow_ma[:-1])
        exits[1:] = (fast_ma[1:] < slow_ma[1:]) & (fast_ma[:-1] >= slow_ma[:-1])
    return entries, exits


def simulate_symbol(
    open_: np.ndarray,
    close: np.ndarray,
    entries: np.ndarray,
    exits: np.ndarray,
    *,
    cash: float = CASH,
    fee: float = FEE,
) -> tuple[list[tuple[int, float, int, float, float]], float]:
    """Trades (entry bar, entry price, exit bar, exit price, qty) and final equity of one
    symbol's own bars (positions are indices into these arrays)."""
    opens = open_.tolist()
    entry_at = np.flatnonzero(entries).tolist()
    exit_at = np.flatnonzero(exits).tolist()
    events = sorted([(t, True) for t in entry_at] + [(t, False) for t in exit_at])
    last = len(opens) - 1
    trades: list[tuple[int, float, int, float, float]] = []
    quantity = 0.0
    entry_bar, entry_price = -1, math.nan
    for t, is_entry in events:
        if t >= last:
            break
        price = opens[t + 1]
        if is_entry and quantity == 0.0:
            shares = float(math.floor(cash / (price * (1.0 + fee))))
            if shares > 0.0:
                cost = shares * price
                cash -= cost + cost * fee
                quantity, entry_bar, entry_price = shares, t + 1, price
        elif not is_entry and quantity > 0.0:
            value = quantity * price
            cash += value - value * fee
            trades.append((entry_bar, entry_price, t + 1, price, quantity))
            quantity = 0.0
    equity = cash
    if quantity > 0.0:
        last_close = float(close[last])
        equity += quantity * last_close
        trades.append((entry_bar, entry_price, last, last_close, quantity))
    return trades, equity


def run_reference(
    panel: Panel,
    *,
    fast: int = FAST,
    slow: int = SLOW,
    cash: float = CASH,
    fee: float = FEE,
    symbols: tuple[int, ...] | None = None,
) -> PeerRun:
    """The reference run over ``panel`` (every symbol, or the rows ``symbols``)."""
    started = time.perf_counter()
    rows = tuple(range(len(panel.symbols))) if symbols is None else symbols
    all_trades: list[TradeRow] = []
    equity = np.full(len(panel.symbols), np.nan)
    for row in rows:
        bars = np.flatnonzero(np.isfinite(panel.close[row]))
        if bars.size == 0:
            continue
        close = panel.close[row, bars]
        entries, exits = cross_signals(close, fast, slow)
        trades, equity[row] = simulate_symbol(
            panel.open[row, bars], close, entries, exits, cash=cash, fee=fee
        )
        all_trades.extend(
            (row, int(bars[a]), pa, int(bars[b]), pb, q) for a, pa, b, pb, q in trades
        )
    seconds = time.perf_counter() - started
    return PeerRun(
        "reference (numpy + Python)", trades_from_rows(all_trades), equity, seconds, rows
    )
