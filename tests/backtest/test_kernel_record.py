"""What `simulate` records, and the kernel's basic specialisation.

`record="equity"` writes only the equity curve; `cash` and `position` are then rebuilt
from the fills and must equal, bit for bit, what `record="full"` writes. A basic run (no
stops, limit/stop entries, tick grid, price band or participation cap) compiles a pruned
specialisation of the loop and must give exactly what the full loop gives.
"""

from __future__ import annotations

import dataclasses
from typing import Any

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from orchestrade.backtest import kernel
from orchestrade.backtest.config import SimulationConfig
from orchestrade.backtest.errors import ConfigError
from orchestrade.backtest.kernel import Simulation, simulate
from orchestrade.backtest.sizing import Sizing
from orchestrade.data import BarPanel
from orchestrade.strategies.arrays import SignalArrays

FIELDS = ("equity", "cash", "position", "fills", "trades")


@st.composite
def runs(draw: st.DrawFn) -> tuple[np.ndarray, np.ndarray, np.ndarray, SimulationConfig]:
    """Random prices (with gaps), entries, exits and a configuration."""
    n_symbols = draw(st.integers(1, 3))
    n_times = draw(st.integers(1, 40))
    rng = np.random.default_rng(draw(st.integers(0, 2**32 - 1)))
    close = 1_000 * np.exp(np.cumsum(rng.normal(0, 0.05, (n_symbols, n_times)), axis=1))
    close[rng.random(close.shape) < draw(st.sampled_from([0.0, 0.2]))] = np.nan
    entries = (rng.random(close.shape) < 0.3) & ~np.isnan(close)
    exits = (rng.random(close.shape) < 0.2) & ~np.isnan(close)
    config = SimulationConfig(
        mode=draw(st.sampled_from(["isolated", "portfolio"])),
        fill=draw(st.sampled_from(["next_open", "close"])),
        cash=1e6,
        commission=draw(st.sampled_from([0.0, 0.001])),
        commission_min=draw(st.sampled_from([0.0, 5.0])),
        sell_tax=draw(st.sampled_from([0.0, 0.002])),
        slippage_bps=draw(st.sampled_from([0.0, 10.0])),
        latency_bars=draw(st.integers(0, 2)),
        lot_size=draw(st.sampled_from([1.0, 1e-8])),
        sizing=draw(st.sampled_from([Sizing.all_cash(), Sizing.percent_equity(0.3)])),
        participation=draw(st.sampled_from([None, 0.5])),
        stop_loss=draw(st.sampled_from([None, 0.03])),
        trailing_stop=draw(st.sampled_from([None, 0.04])),
        max_open_positions=draw(st.sampled_from([None, 1])),
        position_allocation=draw(st.sampled_from([1.0, 0.4])),
    )
    return close, entries, exits, config


def inputs(
    kit: Any, close: np.ndarray, entries: np.ndarray, exits: np.ndarray
) -> tuple[BarPanel, SignalArrays]:
    volume = np.full(close.shape, 300.0)
    panel = kit.panel(close - 1, high=close + 5, low=close - 6, close=close, volume=volume)
    signals = dataclasses.replace(
        kit.signals(panel),
        entries=entries,
        exits=exits,
        entry_confidence=np.where(entries, 1.0, np.nan),
        exit_confidence=np.where(exits, 1.0, np.nan),
    )
    return panel, signals


def assert_same(left: Simulation, right: Simulation) -> None:
    for name in FIELDS:
        a, b = getattr(left, name), getattr(right, name)
        assert a.dtype == b.dtype, name
        assert a.shape == b.shape, name
        if a.dtype.names:
            for field in a.dtype.names:
                np.testing.assert_array_equal(a[field], b[field], err_msg=f"{name}.{field}")
        else:
            np.testing.assert_array_equal(a, b, err_msg=name)
    assert left.refusals == right.refusals
    assert left.capped == right.capped


@settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(runs())
def test_equity_only_rebuilds_cash_and_position_exactly(kit, run):
    close, entries, exits, config = run
    panel, signals = inputs(kit, close, entries, exits)
    full = simulate(panel, signals, config)
    lean = simulate(panel, signals, config, record="equity")
    assert lean._books is None
    assert_same(full, lean)


@settings(
    max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(runs())
def test_basic_specialisation_equals_the_full_loop(kit, monkeypatch, run):
    close, entries, exits, config = run
    config = dataclasses.replace(
        config, stop_loss=None, trailing_stop=None, take_profit=None, participation=None
    )
    panel, signals = inputs(kit, close, entries, exits)
    symbol_params = kernel._symbol_params(config, len(panel.symbols))
    assert kernel._is_basic(config, symbol_params, True)
    basic = simulate(panel, signals, config)
    with monkeypatch.context() as patch:
        patch.setattr(kernel, "_is_basic", lambda *_: False)
        full = simulate(panel, signals, config)
    assert_same(basic, full)


@pytest.mark.parametrize(
    ("change", "basic"),
    [
        ({}, True),
        ({"stop_loss": 0.05}, False),
        ({"take_profit": 0.05}, False),
        ({"trailing_stop": 0.05}, False),
        ({"participation": 0.5}, False),
        ({"tick_kind": "krx"}, False),
        ({"price_limit": 0.3}, False),
        ({"commission": 0.001, "slippage_bps": 5.0, "max_position_pct": 0.5}, True),
    ],
)
def test_basic_means_none_of_the_pruned_features(change, basic):
    config = dataclasses.replace(SimulationConfig(), **change)
    assert kernel._is_basic(config, kernel._symbol_params(config, 2), True) is basic
    assert kernel._is_basic(config, kernel._symbol_params(config, 2), False) is False


def test_equity_only_without_fills_keeps_the_starting_books(kit):
    panel = kit.panel([[10.0, np.nan, 12.0], [5.0, 6.0, np.nan]])
    for mode in ("isolated", "portfolio"):
        sim = simulate(panel, kit.signals(panel), SimulationConfig(mode=mode), record="equity")
        assert sim.fills.size == 0
        np.testing.assert_array_equal(sim.position, np.zeros((2, 3)))
        np.testing.assert_array_equal(sim.cash, np.full(sim.equity.shape, 10_000_000.0))


def test_unknown_record_is_refused(kit):
    panel = kit.panel([10.0, 11.0])
    with pytest.raises(ConfigError, match="record must be one of full, equity"):
        simulate(panel, kit.signals(panel), record="cash")  # type: ignore[arg-type]
