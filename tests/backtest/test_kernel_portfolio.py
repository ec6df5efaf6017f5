"""Portfolio mode: shared cash, allocation, max open positions and the entry order."""

from __future__ import annotations

import math

import numpy as np
import pytest

from orchestrade.backtest.config import SimulationConfig
from orchestrade.backtest.kernel import simulate

OPEN = [[100.0, 100.0, 100.0, 110.0, 120.0], [50.0, 50.0, 50.0, 45.0, 40.0], [20.0] * 5]


def run(kit, config, entries, exits=(), confidence=1.0):
    panel = kit.panel(OPEN)
    sim = simulate(panel, kit.signals(panel, entries, exits, confidence=confidence), config)
    kit.check_invariants(sim, panel)
    return sim


def test_position_allocation_splits_the_shared_cash(kit):
    config = SimulationConfig(mode="portfolio", cash=10_000.0, position_allocation=0.25)
    sim = run(kit, config, entries=[(0, 0), (1, 0), (2, 0)])
    assert sim.cash.shape == (5,)
    assert sorted(f["quantity"] for f in sim.fills) == [25.0, 50.0, 125.0]
    assert sim.cash[1] == pytest.approx(10_000 - 3 * 2_500)
    # equity marks every holding at its close (open + 1 here)
    expected = sim.cash[3] + 25 * 111 + 50 * 46 + 125 * 21
    assert sim.equity[3] == pytest.approx(expected)


def test_higher_confidence_gets_the_cash_first(kit):
    config = SimulationConfig(mode="portfolio", cash=10_000.0)
    confidence = {(0, 0): 0.5, (1, 0): 0.9, (2, 0): 0.7}
    sim = run(kit, config, entries=[(0, 0), (1, 0), (2, 0)], confidence=confidence)
    (fill,) = sim.fills
    assert (fill["symbol"], fill["quantity"]) == (1, 200)
    assert sim.refusals["insufficient_cash"] == 2


def test_equal_confidence_goes_in_symbol_order(kit):
    sim = run(kit, SimulationConfig(mode="portfolio", cash=10_000.0), entries=[(2, 0), (1, 0)])
    assert [f["symbol"] for f in sim.fills] == [1]


def test_max_open_positions_refuses_extra_entries(kit):
    config = SimulationConfig(
        mode="portfolio", cash=10_000.0, position_allocation=0.3, max_open_positions=2
    )
    confidence = {(0, 0): 0.5, (1, 0): 0.9, (2, 0): 0.7}
    sim = run(kit, config, entries=[(0, 0), (1, 0), (2, 0)], confidence=confidence)
    assert sorted(int(f["symbol"]) for f in sim.fills) == [1, 2]
    assert sim.refusals["max_open_positions"] == 1
    # once one position is closed a new one may open
    later = run(kit, config, entries=[(1, 0), (2, 0), (0, 2)], exits=[(1, 1)])
    assert [(int(f["symbol"]), int(f["bar"])) for f in later.fills] == [
        (1, 1),
        (2, 1),
        (1, 2),
        (0, 3),
    ]


def test_exits_free_cash_before_entries_of_the_same_open(kit):
    config = SimulationConfig(mode="portfolio", cash=10_000.0)
    sim = run(kit, config, entries=[(0, 0), (1, 2)], exits=[(0, 2)])
    sell, buy = sim.fills[1], sim.fills[2]
    assert (sell["bar"], sell["side"], buy["bar"], buy["side"]) == (3, -1, 3, 1)
    # budget = min(cash after the sale (11000), 1.0 x equity at the last close (10100))
    assert buy["quantity"] == math.floor(min(100 * 110, sim.equity[2]) / 45)


def test_one_symbol_portfolio_equals_isolated(kit):
    rng = np.random.default_rng(3)
    close = 100 * np.exp(np.cumsum(rng.normal(0, 0.03, 60)))
    panel = kit.panel(close * 0.999, high=close * 1.02, low=close * 0.97, close=close)
    entries = rng.random(60) < 0.15
    exits = rng.random(60) < 0.15
    signals = kit.signals(panel, np.flatnonzero(entries).tolist(), np.flatnonzero(exits).tolist())
    base = dict(cash=1e6, commission=0.001, stop_loss=0.04, trailing_stop=0.06, slippage_bps=5.0)
    isolated = simulate(panel, signals, SimulationConfig(**base))
    portfolio = simulate(panel, signals, SimulationConfig(mode="portfolio", **base))
    assert len(isolated.fills) > 4
    np.testing.assert_array_equal(isolated.fills, portfolio.fills)
    np.testing.assert_array_equal(isolated.trades, portfolio.trades)
    np.testing.assert_allclose(isolated.equity[0], portfolio.equity, rtol=1e-12)
