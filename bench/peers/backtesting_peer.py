"""backtesting.py 0.6.x, one ``Backtest`` per symbol, set up to reproduce the reference.

* Indicators: ``backtesting.test.SMA`` (pandas rolling mean) through ``Strategy.I``. The cross
  is written out instead of ``backtesting.lib.crossover``, which requires a strict ``<`` on
  the previous bar where the reference has ``<=``.
* ``trade_on_close=False``: a market order placed at bar t's close fills at bar t+1's open.
* ``commission=0.001`` (relative, charged on entry and on exit), ``cash=10_000_000``.
* Size: the largest fraction below 1 (``math.nextafter(1, 0)``). backtesting.py turns a
  fraction f into ``int(margin * f // (open + open * commission))`` shares at the fill bar's
  open, i.e. ``floor(cash / (open * 1.001))`` when flat.
* ``exclusive_orders=False`` and long only: an entry while long is ignored, an exit closes.
* ``finalize_trades=False``: with ``True`` backtesting.py closes the open trade at the last
  bar's *open* and charges the exit commission, while the reference values the open
  position at the last close; the open trade is read from the strategy instead and its
  equity is the last point of the equity curve (cash + position at the last close).
"""

from __future__ import annotations

import math
import time
import warnings
from typing import Any

import numpy as np
import pandas as pd

from peers.panel_files import Panel
from peers.reference import CASH, FAST, FEE, SLOW
from peers.results import PeerRun, trades_from_rows

ALL_CASH = math.nextafter(1.0, 0.0)


def run_backtesting(
    panel: Panel,
    *,
    symbols: tuple[int, ...] | None = None,
    fast: int = FAST,
    slow: int = SLOW,
    cash: float = CASH,
    fee: float = FEE,
) -> PeerRun:
    """Run one backtesting.py ``Backtest`` per symbol (all rows, or the rows ``symbols``)."""
    import backtesting

    rows = tuple(range(len(panel.symbols))) if symbols is None else symbols
    strategy = _strategy_class(fast, slow)
    frames = {row: _symbol_frame(panel, row) for row in rows}
    started = time.perf_counter()
    trades: list[tuple[int, int, float, int, float, float]] = []
    equity = np.full(len(panel.symbols), np.nan)
    for row, (bars, frame) in frames.items():
        test = backtesting.Backtest(
            frame,
            strategy,
            cash=cash,
            commission=fee,
            trade_on_close=False,
            exclusive_orders=False,
            finalize_trades=False,
        )
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # "Some trades remain open" is expected
            stats = test.run()
        closed = stats["_trades"]
        for size, entry_bar, entry_price, exit_bar, exit_price in zip(
            closed["Size"],
            closed["EntryBar"],
            closed["EntryPrice"],
            closed["ExitBar"],
            closed["ExitPrice"],
            strict=True,
        ):
            trades.append(
                (
                    row,
                    int(bars[entry_bar]),
                    float(entry_price),
                    int(bars[exit_bar]),
                    float(exit_price),
                    float(size),
                )
            )
        last = int(bars[-1])
        for trade in stats["_strategy"].trades:
            trades.append(
                (
                    row,
                    int(bars[trade.entry_bar]),
                    float(trade.entry_price),
                    last,
                    float(panel.close[row, last]),
                    float(trade.size),
                )
            )
        equity[row] = float(stats["_equity_curve"]["Equity"].iloc[-1])
    seconds = time.perf_counter() - started
    return PeerRun(
        f"backtesting.py {backtesting.__version__}", trades_from_rows(trades), equity, seconds, rows
    )


def _symbol_frame(panel: Panel, row: int) -> tuple[np.ndarray, pd.DataFrame]:
    bars = np.flatnonzero(np.isfinite(panel.close[row]))
    frame = pd.DataFrame(
        {
            "Open": panel.open[row, bars],
            "High": panel.high[row, bars],
            "Low": panel.low[row, bars],
            "Close": panel.close[row, bars],
            "Volume": panel.volume[row, bars],
        },
        index=pd.DatetimeIndex(panel.timestamps[bars]),
    )
    return bars, frame


def _strategy_class(fast: int, slow: int) -> Any:
    from backtesting import Strategy
    from backtesting.test import SMA

    class SmaCross(Strategy):  # type: ignore[misc]
        """Golden cross buys all cash at the next open; dead cross sells at the next open."""

        def init(self) -> None:
            self.fast_ma = self.I(SMA, self.data.Close, fast)
            self.slow_ma = self.I(SMA, self.data.Close, slow)

        def next(self) -> None:
            fast_now, slow_now = self.fast_ma[-1], self.slow_ma[-1]
            fast_before, slow_before = self.fast_ma[-2], self.slow_ma[-2]
            if fast_now > slow_now and fast_before <= slow_before:
                if not self.position:
                    self.buy(size=ALL_CASH)
            elif fast_now < slow_now and fast_before >= slow_before and self.position:
                self.position.close()

    return SmaCross
