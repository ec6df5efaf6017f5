"""Signal quality: density, trend alignment and confidence summaries, by hand."""

from __future__ import annotations

import math

import numpy as np
import pytest

from orchestrade.data import BarPanel
from orchestrade.strategies import (
    SignalArrays,
    SignalArraysError,
    builtin_spec,
    compile_signals,
    evaluate_signals,
)

from .conftest import make_panel


def hand_case() -> tuple[SignalArrays, BarPanel]:
    nan = np.nan
    close = np.array([[1, 2, 3, 4, 5, 6, 5, 4, 3, 2], [nan, nan, 5, 4, 3, 2, 1, 2, 3, 4]], float)
    panel = make_panel(close)
    entries = np.zeros(close.shape, dtype=bool)
    exits = np.zeros(close.shape, dtype=bool)
    entries[0, [3, 5, 8]] = (
        True  # trend(3) at t3 = 3 (close 4 above), t5 = 5 (6 above), t8 = 14/3 (3 below)
    )
    exits[0, 9] = True
    entries[1, [1, 3]] = True  # t1: no bar there, ignored; t3: trend undefined (2nd bar)
    confidence = np.where(entries, 0.0, np.nan)
    confidence[0, [3, 5, 8]] = [0.5, 1.0, 0.75]
    confidence[1, 3] = 0.6
    signals = SignalArrays(
        symbols=panel.symbols,
        timestamps=panel.timestamps,
        entries=entries,
        exits=exits,
        entry_confidence=confidence,
        exit_confidence=np.where(exits, 1.0, np.nan),
        reasons=np.zeros(close.shape, dtype=np.int64),
        reason_names=(),
    )
    return signals, panel


def test_quality_by_hand() -> None:
    signals, panel = hand_case()

    quality = evaluate_signals(signals, panel, strategy="demo", trend_period=3, bars_per_year=10)

    first, second = quality.per_symbol
    assert (first.bars, first.entries, first.exits, first.signals) == (10, 3, 1, 4)
    assert first.density == 0.4
    assert first.signals_per_year == 4.0
    assert not first.in_target_band
    assert (first.trend_entries, first.trend_aligned_entries) == (3, 2)
    assert first.trend_alignment == 2 / 3
    summary = first.entry_confidence
    assert (summary.count, summary.minimum, summary.maximum) == (3, 0.5, 1.0)
    assert summary.mean == pytest.approx(0.75)
    assert (summary.p25, summary.median, summary.p75) == (0.625, 0.75, 0.875)
    assert (second.bars, second.entries, second.signals) == (8, 1, 1)
    assert second.density == 1 / 8
    assert second.in_target_band
    assert second.trend_entries == 0
    assert math.isnan(second.trend_alignment)
    assert second.exit_confidence.count == 0
    assert math.isnan(second.exit_confidence.mean)
    overall = quality.overall
    assert (overall.bars, overall.signals, overall.trend_entries) == (18, 5, 3)
    assert overall.density == 5 / 18
    assert overall.entry_confidence.count == 4


def test_to_dict_is_plain_data() -> None:
    signals, panel = hand_case()

    data = evaluate_signals(signals, panel, strategy="demo", trend_period=3).to_dict()

    assert data["strategy"] == "demo"
    assert data["target_band"] == [0.05, 0.15]
    assert set(data["per_symbol"]) == {"S0", "S1"}
    assert data["per_symbol"]["S0"]["entry_confidence"]["count"] == 3
    assert data["overall"]["symbol"] == "*"


def test_evaluation_checks_its_inputs() -> None:
    signals, panel = hand_case()
    other = make_panel(np.ones((2, 4)))

    with pytest.raises(SignalArraysError, match="symbols and timestamps"):
        evaluate_signals(signals, other)
    with pytest.raises(SignalArraysError, match="trend_period"):
        evaluate_signals(signals, panel, trend_period=1)
    with pytest.raises(SignalArraysError, match="target_band"):
        evaluate_signals(signals, panel, target_band=(0.2, 0.1))


@pytest.mark.shared_data
def test_builtins_on_real_data_report_density_and_alignment(krx_panel: BarPanel) -> None:
    signals = compile_signals(builtin_spec("sma_cross"), krx_panel)

    quality = evaluate_signals(signals, krx_panel, strategy="sma_cross")

    overall = quality.overall
    assert overall.bars == int(np.isfinite(krx_panel.close).sum())
    assert overall.signals == int((signals.entries | signals.exits).sum())
    assert 0.0 < overall.density < 0.1
    assert 0.0 < overall.trend_alignment < 1.0
    assert len(quality.per_symbol) == 32
