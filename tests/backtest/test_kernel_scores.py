"""Entry confidences reach the kernel packed, one per entry (`TradingSignals.entry_scores`,
or gathered from a dense `entry_confidence`): each entry is decided with its own."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest

from orchestrade.backtest.config import SimulationConfig
from orchestrade.backtest.errors import InputError
from orchestrade.backtest.kernel import simulate
from orchestrade.strategies.arrays import TradingSignals

NAN = float("nan")
# Symbol 1 has no bar 0; an entry signal there is skipped but still owns a score.
OPEN = [[100.0, 100.0, 100.0, 100.0, 100.0, 100.0], [NAN, 50.0, 50.0, 50.0, 50.0, 50.0]]
ENTRIES = [(0, 1), (0, 3), (1, 0), (1, 2)]
CONFIDENCE = {(0, 1): 0.4, (0, 3): 0.9, (1, 0): 0.2, (1, 2): 0.8}


def both_forms(kit, entries=ENTRIES, confidence=CONFIDENCE):
    panel = kit.panel(OPEN)
    full = kit.signals(panel, entries, confidence=confidence)
    return panel, full, TradingSignals.from_arrays(full)


def assert_same(first, second):
    assert np.array_equal(first.equity, second.equity)
    assert first.fills.tobytes() == second.fills.tobytes()
    assert first.trades.tobytes() == second.trades.tobytes()
    assert first.refusals == second.refusals


@pytest.mark.parametrize("mode", ["isolated", "portfolio"])
def test_each_entry_is_decided_with_its_own_confidence(kit, mode):
    panel, full, lean = both_forms(kit)
    config = SimulationConfig(mode=mode, cash=1_000.0, min_confidence=0.5, position_allocation=0.5)

    sim = simulate(panel, lean, config)

    # (0, 1) refused at 0.4; (0, 3) fills at bar 4's open; the entry on symbol 1's missing
    # bar 0 is skipped, so (1, 2) is decided with 0.8, not 0.2, and fills at bar 3.
    assert [(int(f["symbol"]), int(f["bar"])) for f in sim.fills] == (
        [(0, 4), (1, 3)] if mode == "isolated" else [(1, 3), (0, 4)]
    )
    assert sim.refusals["min_confidence"] == 1
    assert lean.entry_scores.tolist() == [0.4, 0.9, 0.2, 0.8]
    assert_same(sim, simulate(panel, full, config))
    kit.check_invariants(sim, panel)


def test_portfolio_queues_due_entries_by_their_own_confidence(kit):
    entries = [(1, 0), (0, 2), (1, 2)]
    confidence = {(1, 0): 1.0, (0, 2): 0.6, (1, 2): 0.7}
    panel, full, lean = both_forms(kit, entries, confidence)
    config = SimulationConfig(mode="portfolio", cash=1_000.0, max_open_positions=1)

    sim = simulate(panel, lean, config)

    # Symbol 1 (0.7) goes first at bar 3 and symbol 0 (0.6) finds no room; with the two
    # symbols' scores mixed up (0.6 for symbol 1, 0.7 for symbol 0) symbol 0 would win.
    (fill,) = sim.fills
    assert (int(fill["symbol"]), int(fill["bar"]), float(fill["quantity"])) == (1, 3, 20.0)
    assert sim.refusals["max_open_positions"] == 1
    assert_same(sim, simulate(panel, full, config))


@pytest.mark.parametrize("mode", ["isolated", "portfolio"])
def test_random_signals_give_the_same_run_in_both_forms(kit, mode):
    rng = np.random.default_rng(11)
    opens = 100 + rng.normal(0, 2, (4, 120)).cumsum(axis=1)
    opens[2, :30] = NAN
    opens[3, 50:55] = NAN
    panel = kit.panel(opens)
    cells = np.argwhere(rng.random(opens.shape) < 0.08)
    entries = [tuple(cell) for cell in cells]
    confidence = {cell: float(rng.choice([0.3, 0.5, 0.7, 0.9])) for cell in entries}
    exits = [tuple(cell) for cell in np.argwhere(rng.random(opens.shape) < 0.05)]
    full = kit.signals(panel, entries, exits, confidence=confidence)
    full = dataclasses.replace(
        full,
        entries=full.entries & ~full.exits,
        entry_confidence=np.where(full.entries & ~full.exits, full.entry_confidence, np.nan),
    )
    config = SimulationConfig(
        mode=mode, cash=5_000.0, min_confidence=0.5, max_open_positions=2, position_allocation=0.3
    )

    sim = simulate(panel, TradingSignals.from_arrays(full), config)

    assert_same(sim, simulate(panel, full, config))
    assert sim.refusals["min_confidence"] > 0
    assert len(sim.fills) > 10


def test_scores_must_have_one_value_per_entry(kit):
    panel, _, lean = both_forms(kit)
    short = type("Short", (), {name: getattr(lean, name) for name in lean.__slots__})()
    short.entry_scores = lean.entry_scores[:3]

    with pytest.raises(InputError, match=r"entry_scores must be float shaped \(4,\)"):
        simulate(panel, short)
