"""TradingSignals, the lean form of SignalArrays, and compile_trading_signals: the same
entries, exits, entry confidences and order prices as compile_signals, packed."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from orchestrade.data import BarPanel
from orchestrade.strategies import (
    SignalArrays,
    SignalArraysError,
    builtin_names,
    builtin_spec,
    compile_signals,
    compiler,
    load_spec,
)
from orchestrade.strategies.arrays import TradingSignals
from orchestrade.strategies.compiler import compile_trading_signals

from .conftest import make_panel
from .test_packed import documents, panels, with_gaps

STAMPS = np.array(["2024-01-01", "2024-01-02", "2024-01-03"], dtype="datetime64[ns]")


def arrays() -> SignalArrays:
    entries = np.array([[True, False, True], [False, False, True]])
    exits = np.array([[False, True, False], [False, False, False]])
    confidence = np.full((2, 3), np.nan)
    confidence[0, 0], confidence[0, 2], confidence[1, 2] = 0.25, 0.5, 1.0
    return SignalArrays(
        symbols=("A", "B"),
        timestamps=STAMPS,
        entries=entries,
        exits=exits,
        entry_confidence=confidence,
        exit_confidence=np.where(exits, 1.0, np.nan),
        reasons=np.zeros((2, 3), dtype=np.int64),
        reason_names=(),
    )


def assert_lean_form(lean: TradingSignals, full: SignalArrays) -> None:
    assert lean == TradingSignals.from_arrays(full)
    assert lean.entry_scores.tobytes() == full.entry_confidence[full.entries].tobytes()
    assert np.array_equal(lean.entry_confidence, full.entry_confidence, equal_nan=True)


def test_scores_are_the_entries_confidences_in_row_major_order() -> None:
    lean = TradingSignals.from_arrays(arrays())

    assert lean.entry_scores.tolist() == [0.25, 0.5, 1.0]
    assert lean.shape == (2, 3)
    assert np.array_equal(lean.entry_confidence, arrays().entry_confidence, equal_nan=True)
    assert lean != replace(lean, entry_scores=np.array([0.25, 0.5, 0.75]))


@pytest.mark.parametrize(
    ("scores", "message"),
    [
        (np.array([0.25, 0.5]), "entry_scores has 2 values for 3 entries"),
        (np.array([0.25, 0.5, np.nan]), r"within \[0, 1\] \(NaN is not\)"),
        (np.array([0.25, 0.5, 1.5]), r"within \[0, 1\]"),
        (np.array([0.25, 0.5, 1.0], dtype=np.float32), "1-D float64 array, got float32"),
        (np.full((1, 3), 0.5), "1-D float64 array"),
    ],
)
def test_malformed_scores_are_rejected(scores: np.ndarray, message: str) -> None:
    lean = TradingSignals.from_arrays(arrays())

    with pytest.raises(SignalArraysError, match=message):
        replace(lean, entry_scores=scores)


def test_axes_and_masks_are_checked_as_in_signal_arrays() -> None:
    lean = TradingSignals.from_arrays(arrays())

    with pytest.raises(SignalArraysError, match="symbols must be distinct"):
        replace(lean, symbols=("A", "A"))
    with pytest.raises(SignalArraysError, match="exits must be a bool array of shape"):
        replace(lean, exits=np.zeros((2, 3), dtype=np.int64))
    with pytest.raises(SignalArraysError, match="entry_limit must be a float64 array"):
        replace(lean, entry_limit=np.zeros((2, 2)))


@pytest.mark.shared_data
@pytest.mark.parametrize("name", builtin_names())
def test_every_builtin_compiles_to_the_lean_form_of_its_arrays(
    name: str, krx_panel: BarPanel, monkeypatch: pytest.MonkeyPatch
) -> None:
    spec = builtin_spec(name)
    full = compile_signals(spec, krx_panel)

    assert_lean_form(compile_trading_signals(spec, krx_panel), full)
    gapped = with_gaps(krx_panel, seed=5)
    monkeypatch.setattr(compiler, "BLOCK_CELLS", 3 * krx_panel.close.shape[1])  # many blocks
    assert_lean_form(compile_trading_signals(spec, gapped), compile_signals(spec, gapped))
    assert full.entries.sum() > 100


def test_parameters_and_order_prices_carry_over() -> None:
    rng = np.random.default_rng(4)
    close = 100 + rng.normal(0, 1, (3, 90)).cumsum(axis=1)
    close[1, :12] = np.nan
    panel = make_panel(close)
    for order, field in (
        ({"type": "limit", "offset": -0.01}, "entry_limit"),
        ({"type": "stop", "offset": 0.02}, "entry_stop"),
    ):
        spec = load_spec({**builtin_spec("sma_cross").to_dict(), "order": order})

        lean = compile_trading_signals(spec, panel, {"fast": 3, "slow": 8})

        full = compile_signals(spec, panel, {"fast": 3, "slow": 8})
        assert_lean_form(lean, full)
        assert getattr(lean, field) is not None
        assert lean.entries.any()


@settings(
    max_examples=100,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
@given(document=documents(), panel=panels(), block=st.sampled_from([1, 40, 1 << 18]))
def test_generated_specs_compile_to_the_lean_form(
    document: dict[str, Any], panel: BarPanel, block: int
) -> None:
    spec = load_spec(document)
    saved = compiler.BLOCK_CELLS
    compiler.BLOCK_CELLS = block  # hypothesis and function-scoped fixtures do not mix
    try:
        lean, full = compile_trading_signals(spec, panel), compile_signals(spec, panel)
    finally:
        compiler.BLOCK_CELLS = saved

    assert_lean_form(lean, full)
