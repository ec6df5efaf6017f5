"""THE reference semantics (issue 3) on every KRX symbol: the kernel against plain Python.

sma_cross fast=10 slow=30, isolated, next_open, commission 0.001, no tax, no slippage,
cash 10,000,000, no risk limits: buy at the next open with floor(cash / (open x 1.001))
shares when SMA10 crosses above SMA30, sell everything at the next open when it crosses
below while long; a position open at the end is valued at the last close.
"""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import talib

from orchestrade.backtest.config import SimulationConfig
from orchestrade.backtest.kernel import simulate
from orchestrade.data import BarPanel
from orchestrade.strategies.arrays import SignalArrays

CASH = 10_000_000.0
FEE = 0.001
PRICES = ["open", "high", "low", "close"]


def load_krx(folder: Path) -> pd.DataFrame:
    frames = []
    for path in sorted(folder.glob("*.csv.gz")):
        raw = pd.read_csv(path, dtype={"code": str, "ticker": str, "date": str})
        raw = raw[(raw[PRICES] > 0).all(axis=1)]
        frames.append(
            pd.DataFrame(
                {
                    "symbol": raw["code"],
                    "timestamp": pd.to_datetime(raw["date"], format="%Y%m%d", utc=True),
                    **{name: raw[name].astype("float64") for name in [*PRICES, "volume"]},
                }
            )
        )
    return pd.concat(frames, ignore_index=True)


def crosses(close: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    fast, slow = talib.SMA(close, 10), talib.SMA(close, 30)
    above = np.zeros(close.size, dtype=bool)
    below = np.zeros(close.size, dtype=bool)
    above[1:] = (fast[1:] > slow[1:]) & (fast[:-1] <= slow[:-1])
    below[1:] = (fast[1:] < slow[1:]) & (fast[:-1] >= slow[:-1])
    return above, below


def reference(bars: pd.DataFrame) -> tuple[list[tuple[int, float, int, float, int]], float]:
    """Plain Python: trades as (entry row, entry price, exit row, exit price, qty)."""
    close = bars["close"].to_numpy()
    opens = bars["open"].to_numpy()
    above, below = crosses(close)
    cash, quantity, pending = CASH, 0, ""
    trades: list[tuple[int, float, int, float, int]] = []
    entry = (0, 0.0)
    for i in range(len(bars)):
        if pending == "buy":
            shares = math.floor(cash / (opens[i] * (1 + FEE)))
            if shares > 0:
                value = shares * opens[i]
                cash -= value + value * FEE
                quantity, entry = shares, (i, opens[i])
        elif pending == "sell":
            value = quantity * opens[i]
            cash += value - value * FEE
            trades.append((entry[0], entry[1], i, opens[i], quantity))
            quantity = 0
        pending = ""
        if below[i] and quantity > 0:
            pending = "sell"
        elif above[i] and quantity == 0:
            pending = "buy"
    if quantity:
        trades.append((entry[0], entry[1], len(bars) - 1, close[-1], quantity))
    return trades, cash + quantity * close[-1]


@pytest.mark.slow
@pytest.mark.shared_data
def test_kernel_matches_the_reference_on_every_krx_symbol(shared_data):
    frame = load_krx(shared_data / "krx")
    panel = BarPanel.from_frame(frame)
    entries = np.zeros(panel.shape, dtype=bool)
    exits = np.zeros(panel.shape, dtype=bool)
    for row in range(len(panel.symbols)):
        cells = np.flatnonzero(~np.isnan(panel.close[row]))
        entries[row, cells], exits[row, cells] = crosses(panel.close[row, cells])
    signals = SignalArrays(
        symbols=panel.symbols,
        timestamps=panel.timestamps,
        entries=entries,
        exits=exits,
        entry_confidence=np.where(entries, 1.0, np.nan),
        exit_confidence=np.where(exits, 1.0, np.nan),
        reasons=np.zeros(panel.shape, dtype=np.int64),
        reason_names=(),
    )
    config = SimulationConfig(mode="isolated", fill="next_open", cash=CASH, commission=FEE)
    sim = simulate(panel, signals, config)
    assert len(panel.symbols) == 32
    total_trades = 0
    for row, symbol in enumerate(panel.symbols):
        bars = frame[frame["symbol"] == symbol].sort_values("timestamp").reset_index(drop=True)
        cells = np.flatnonzero(~np.isnan(panel.close[row]))
        expected, final = reference(bars)
        mine = sim.trades[sim.trades["symbol"] == row]
        got = [
            (
                int(np.searchsorted(cells, t["entry_bar"])),
                float(t["entry_price"]),
                int(np.searchsorted(cells, t["exit_bar"])),
                float(t["exit_price"]),
                int(t["quantity"]),
            )
            for t in mine
        ]
        assert got == expected, symbol
        assert sim.equity[row, -1] == pytest.approx(final, rel=1e-9), symbol
        total_trades += len(expected)
    assert total_trades > 1_000
