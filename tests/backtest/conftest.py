"""Builders for the kernel tests: tiny hand-written panels and signal arrays, and the
invariant checks every simulation must pass at every bar."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pytest

from orchestrade.backtest.kernel import Simulation
from orchestrade.data import BarPanel
from orchestrade.strategies.arrays import SignalArrays

DAY_NS = 86_400_000_000_000
START_NS = 1_704_153_600_000_000_000  # 2024-01-02T00:00Z


def _rows(values: Any, n_symbols: int) -> np.ndarray:
    array = np.asarray(values, dtype=np.float64)
    return np.broadcast_to(array, (n_symbols, array.shape[-1])).copy() if array.ndim == 1 else array


@dataclass(frozen=True)
class Kit:
    """Callables the tests use to build inputs and check outputs."""

    def panel(
        self,
        open: Any,
        high: Any = None,
        low: Any = None,
        close: Any = None,
        volume: Any = None,
        symbols: Sequence[str] | None = None,
        step_ns: int = DAY_NS,
    ) -> BarPanel:
        """A panel from 1-D (one symbol) or 2-D price lists; high/low default to
        open +/- 2, close to open + 1, volume to 1e9."""
        opens = np.atleast_2d(np.asarray(open, dtype=np.float64))
        n_symbols, n_times = opens.shape
        names = tuple(symbols) if symbols is not None else tuple(f"S{i}" for i in range(n_symbols))
        highs = opens + 2 if high is None else np.atleast_2d(_rows(high, n_symbols))
        lows = opens - 2 if low is None else np.atleast_2d(_rows(low, n_symbols))
        closes = opens + 1 if close is None else np.atleast_2d(_rows(close, n_symbols))
        volumes = (
            np.full(opens.shape, 1e9) if volume is None else np.atleast_2d(_rows(volume, n_symbols))
        )
        stamps = (START_NS + np.arange(n_times, dtype=np.int64) * step_ns).view("datetime64[ns]")
        return BarPanel(names, stamps, opens, highs, lows, closes, volumes)

    def signals(
        self,
        panel: BarPanel,
        entries: Sequence[Any] = (),
        exits: Sequence[Any] = (),
        confidence: Any = 1.0,
        limit: dict[Any, float] | None = None,
        stop: dict[Any, float] | None = None,
    ) -> SignalArrays:
        """Signals at the given bars: an int means (symbol 0, bar), a pair (symbol, bar).
        `confidence` is one value for every entry or a {cell: value} mapping."""
        shape = panel.close.shape
        entry = np.zeros(shape, dtype=bool)
        exit_ = np.zeros(shape, dtype=bool)
        for cell in entries:
            entry[_cell(cell)] = True
        for cell in exits:
            exit_[_cell(cell)] = True
        entry_confidence = np.full(shape, np.nan)
        if isinstance(confidence, dict):
            for cell, value in confidence.items():
                entry_confidence[_cell(cell)] = value
        else:
            entry_confidence[entry] = confidence
        exit_confidence = np.where(exit_, 1.0, np.nan)
        limits = None if limit is None else _cells(shape, limit)
        stops = None if stop is None else _cells(shape, stop)
        return SignalArrays(
            symbols=panel.symbols,
            timestamps=panel.timestamps,
            entries=entry,
            exits=exit_,
            entry_confidence=entry_confidence,
            exit_confidence=exit_confidence,
            reasons=np.zeros(shape, dtype=np.int64),
            reason_names=(),
            entry_limit=limits,
            entry_stop=stops,
        )

    def check_invariants(self, sim: Simulation, panel: BarPanel) -> None:
        """At every bar: cash + market value == equity, position == cumulative fills, cash
        never negative (no test using this has a minimum commission), and the trades' P&L
        adds up to the equity change."""
        check_invariants(sim, panel)


def _cell(cell: Any) -> tuple[int, int]:
    return (0, cell) if isinstance(cell, int) else (int(cell[0]), int(cell[1]))


def _cells(shape: tuple[int, int], values: dict[Any, float]) -> np.ndarray:
    array = np.full(shape, np.nan)
    for cell, value in values.items():
        array[_cell(cell)] = value
    return array


def check_invariants(sim: Simulation, panel: BarPanel, allow_negative_cash: bool = False) -> None:
    n_symbols, n_times = panel.close.shape
    marks = np.full(panel.close.shape, np.nan)
    for s in range(n_symbols):
        last = np.nan
        for t in range(n_times):
            if np.isfinite(panel.close[s, t]):
                last = panel.close[s, t]
            marks[s, t] = last
    held = np.zeros(panel.close.shape)
    for fill in sim.fills:
        held[fill["symbol"], fill["bar"] :] += fill["side"] * fill["quantity"]
    np.testing.assert_allclose(sim.position, held, rtol=1e-12, atol=1e-9)
    value = np.where(sim.position != 0, sim.position * np.nan_to_num(marks), 0.0)
    if sim.mode == "portfolio":
        expected = sim.cash + value.sum(axis=0)
        start = np.array([sim.initial_cash])
        final = sim.equity[-1:] if n_times else start
        pnl_sum = np.array([sim.trades["pnl"].sum()])
    else:
        expected = sim.cash + value
        start = np.full(n_symbols, sim.initial_cash)
        final = sim.equity[:, -1] if n_times else start
        pnl_sum = np.bincount(sim.trades["symbol"], sim.trades["pnl"], minlength=n_symbols)
    np.testing.assert_allclose(sim.equity, expected, rtol=1e-9, atol=1e-9 * sim.initial_cash)
    if not allow_negative_cash:
        assert np.all(sim.cash >= -1e-9 * sim.initial_cash)
    np.testing.assert_allclose(final - start, pnl_sum, rtol=1e-9, atol=1e-7 * sim.initial_cash)


@pytest.fixture(scope="session")
def kit() -> Kit:
    """Input builders and invariant checks for kernel tests."""
    return Kit()
