"""backtrader, one ``Cerebro`` per symbol, set up to reproduce the reference semantics.

* Indicators: ``bt.indicators.SMA``; the cross is written out (backtrader's ``CrossOver``
  remembers the last non-zero difference, the reference looks at the previous bar only).
* Cheat-on-open off: a market order placed in ``next()`` at bar t fills at bar t+1's open.
* ``broker.setcommission(commission=0.001)``: 0.1% of the traded value on each side.
* Size: ``floor(cash / (open[t+1] * 1.001))``. backtrader sizes an order when it is placed,
  at bar t, so the strategy reads the fill bar's open (``data.open[1]``, available because
  the feed is preloaded) for the size only; nothing else looks ahead. ``checksubmit`` is off
  because backtrader would check that size against bar t's close, not the fill price.
* A position open at the end is valued by ``broker.getvalue()`` at the last close.
* ``stdstats=False``: no observers (they would only slow backtrader down).
"""

from __future__ import annotations

import math
import time
from typing import Any

import numpy as np
import pandas as pd

from peers.panel_files import Panel
from peers.reference import CASH, FAST, FEE, SLOW
from peers.results import PeerRun, trades_from_rows


def run_backtrader(
    panel: Panel,
    *,
    symbols: tuple[int, ...] | None = None,
    fast: int = FAST,
    slow: int = SLOW,
    cash: float = CASH,
    fee: float = FEE,
) -> PeerRun:
    """Run one backtrader ``Cerebro`` per symbol (all rows, or the rows ``symbols``)."""
    import backtrader as bt

    rows = tuple(range(len(panel.symbols))) if symbols is None else symbols
    strategy = _strategy_class(bt, fee)
    frames = {row: _symbol_frame(panel, row) for row in rows}
    started = time.perf_counter()
    trades: list[tuple[int, int, float, int, float, float]] = []
    equity = np.full(len(panel.symbols), np.nan)
    for row, (bars, frame) in frames.items():
        cerebro = bt.Cerebro(stdstats=False)
        cerebro.adddata(bt.feeds.PandasData(dataname=frame))
        cerebro.addstrategy(strategy, fast=fast, slow=slow)
        cerebro.broker.setcash(cash)
        cerebro.broker.setcommission(commission=fee)
        cerebro.broker.set_checksubmit(False)
        (result,) = cerebro.run()
        last = int(bars[-1])
        for entry_bar, entry_price, quantity, exit_bar, exit_price in result.round_trips:
            trades.append(
                (row, int(bars[entry_bar]), entry_price, int(bars[exit_bar]), exit_price, quantity)
            )
        if result.open_entry is not None:
            entry_bar, entry_price, quantity = result.open_entry
            trades.append(
                (
                    row,
                    int(bars[entry_bar]),
                    entry_price,
                    last,
                    float(panel.close[row, last]),
                    quantity,
                )
            )
        equity[row] = float(cerebro.broker.getvalue())
    seconds = time.perf_counter() - started
    return PeerRun(f"backtrader {bt.__version__}", trades_from_rows(trades), equity, seconds, rows)


def _symbol_frame(panel: Panel, row: int) -> tuple[np.ndarray, pd.DataFrame]:
    bars = np.flatnonzero(np.isfinite(panel.close[row]))
    frame = pd.DataFrame(
        {
            "open": panel.open[row, bars],
            "high": panel.high[row, bars],
            "low": panel.low[row, bars],
            "close": panel.close[row, bars],
            "volume": panel.volume[row, bars],
        },
        index=pd.DatetimeIndex(panel.timestamps[bars]),
    )
    return bars, frame


def _strategy_class(bt: Any, fee: float) -> Any:
    class SmaCross(bt.Strategy):  # type: ignore[misc]
        """Golden cross buys all cash at the next open; dead cross sells at the next open."""

        params = (("fast", FAST), ("slow", SLOW))

        def __init__(self) -> None:
            self.fast_ma = bt.indicators.SMA(self.data.close, period=self.p.fast)
            self.slow_ma = bt.indicators.SMA(self.data.close, period=self.p.slow)
            self.round_trips: list[tuple[int, float, float, int, float]] = []
            self.open_entry: tuple[int, float, float] | None = None

        def next(self) -> None:
            fast_now, slow_now = self.fast_ma[0], self.slow_ma[0]
            fast_before, slow_before = self.fast_ma[-1], self.slow_ma[-1]
            if fast_now > slow_now and fast_before <= slow_before:
                if not self.position and len(self.data) < self.data.buflen():
                    fill_open = self.data.open[1]  # sizing only: the fill bar's open
                    size = math.floor(self.broker.getcash() / (fill_open * (1.0 + fee)))
                    if size > 0:
                        self.buy(size=size)
            elif fast_now < slow_now and fast_before >= slow_before and self.position:
                self.close()

        def notify_order(self, order: Any) -> None:
            if order.status != order.Completed:
                return
            bar = len(self.data) - 1
            price, size = float(order.executed.price), float(abs(order.executed.size))
            if order.isbuy():
                self.open_entry = (bar, price, size)
            elif self.open_entry is not None:
                entry_bar, entry_price, _ = self.open_entry
                self.round_trips.append((entry_bar, entry_price, size, bar, price))
                self.open_entry = None

    return SmaCross
