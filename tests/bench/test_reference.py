"""The benchmark's reference semantics and its trade comparison, on hand-computed cases."""

from __future__ import annotations

import numpy as np
import pytest

from orchestrade.data import BarPanel
from peers.reference import cross_signals, run_reference, sma
from peers.results import PeerRun, compare, trades_from_rows

# fast=2, slow=3: golden cross at t=3 (SMA2 == SMA3 at t=2: "<=" counts), dead cross at t=5,
# golden cross at t=8 whose position is still open at the end (t=9).
CLOSE = [10.0, 10, 10, 13, 14, 9, 7, 8, 12, 15]
OPEN = [10.0, 10, 10, 12, 12.5, 10, 8, 7, 9, 13]


def hand_panel() -> BarPanel:
    """Row 0 all NaN, row 1 the hand case starting at column 2 (two leading gaps)."""
    n = len(CLOSE) + 2
    arrays = [np.full((2, n), np.nan) for _ in range(5)]
    for array, values in zip(arrays, (OPEN, CLOSE, CLOSE, CLOSE, [1.0] * len(CLOSE)), strict=True):
        array[1, 2:] = values
    open_, close = arrays[0], arrays[1]
    stamps = np.datetime64("2021-01-01", "ns") + np.arange(n) * np.timedelta64(1, "D")
    return BarPanel(("EMPTY", "HAND"), stamps, open_, close, close, close, arrays[4])


def test_sma_is_the_window_mean_and_undefined_before_the_window() -> None:
    values = np.array([1.0, 2.0, 3.0, 4.0])

    assert np.array_equal(sma(values, 3), [np.nan, np.nan, 2.0, 3.0], equal_nan=True)
    assert np.isnan(sma(values, 5)).all()


def test_cross_signals_count_equality_on_the_previous_bar() -> None:
    entries, exits = cross_signals(np.array(CLOSE), 2, 3)

    assert np.flatnonzero(entries).tolist() == [3, 8]
    assert np.flatnonzero(exits).tolist() == [5]


def test_reference_trades_and_equity_match_the_hand_computation() -> None:
    run = run_reference(hand_panel(), fast=2, slow=3, cash=1_000.0, fee=0.001)

    # buy floor(1000 / (12.5 * 1.001)) = 79 at bar 4's open; cash 1000 - 987.5 - 0.9875
    # sell 79 at bar 6's open 8: cash 11.5125 + 632 - 0.632 = 642.8805
    # buy floor(642.8805 / 13.013) = 49 at bar 9's open 13; cash 642.8805 - 637 - 0.637
    # open at the end: valued at the last close 15
    expected = [(1, 6, 12.5, 8, 8.0, 79.0), (1, 11, 13.0, 11, 15.0, 49.0)]
    assert run.trades.tolist() == expected
    assert run.final_equity[1] == pytest.approx(642.8805 - 637.637 + 49 * 15, rel=1e-12)
    assert np.isnan(run.final_equity[0])


def test_no_order_when_cash_cannot_buy_one_share() -> None:
    run = run_reference(hand_panel(), fast=2, slow=3, cash=12.0, fee=0.001)

    assert run.trades.size == 0
    assert run.final_equity[1] == 12.0


def test_compare_accepts_identical_runs(tiny_panel: BarPanel) -> None:
    reference = run_reference(tiny_panel)

    agreement = compare(reference, reference, tiny_panel.symbols)

    assert agreement.ok
    assert agreement.trades_compared == reference.trades.size > 0
    assert agreement.summary().startswith("identical")


def test_compare_names_the_symbol_and_trade_that_differ(tiny_panel: BarPanel) -> None:
    reference = run_reference(tiny_panel)
    trades = reference.trades.copy()
    first_ccc = int(np.flatnonzero(trades["symbol"] == 2)[0])
    trades["quantity"][first_ccc] += 1
    changed = PeerRun("x", trades, reference.final_equity, 0.0, reference.symbols)

    agreement = compare(reference, changed, tiny_panel.symbols)

    assert not agreement.identical_trades
    assert agreement.equities_match
    assert agreement.mismatches[0].startswith("CCC: trade #0 reference")
    assert "MISMATCH" in agreement.summary()


def test_compare_reports_missing_trades_and_equity_differences(tiny_panel: BarPanel) -> None:
    reference = run_reference(tiny_panel)
    fewer = reference.trades[reference.trades["symbol"] != 0]
    equity = reference.final_equity.copy()
    equity[1] *= 1.0 + 1e-6
    changed = PeerRun("x", fewer, equity, 0.0, reference.symbols)

    agreement = compare(reference, changed, tiny_panel.symbols)

    assert not agreement.ok
    assert agreement.mismatches[0].startswith("AAA: ")
    assert "reference trades vs 0" in agreement.mismatches[0]
    assert any(m.startswith("BBB: final equity") for m in agreement.mismatches)
    assert agreement.max_equity_rel_diff == pytest.approx(1e-6, rel=1e-3)


def test_compare_only_looks_at_the_symbols_a_run_covered(tiny_panel: BarPanel) -> None:
    reference = run_reference(tiny_panel)
    subset = run_reference(tiny_panel, symbols=(1,))

    assert subset.trades["symbol"].tolist() == [1] * subset.trades.size
    assert compare(reference, subset, tiny_panel.symbols).ok


def test_trades_from_rows_sorts_by_symbol_then_entry() -> None:
    trades = trades_from_rows(
        [(1, 5, 1.0, 6, 2.0, 3.0), (0, 9, 1.0, 10, 2.0, 3.0), (1, 2, 1, 3, 2, 3)]
    )

    assert trades[["symbol", "entry_bar"]].tolist() == [(0, 9), (1, 2), (1, 5)]
