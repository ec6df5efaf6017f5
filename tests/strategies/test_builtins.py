"""Built-in strategies: loading by name, sma_cross against a hand-written reference, and
signals with a spread of confidences on real data."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from orchestrade.data import BarPanel
from orchestrade.strategies import (
    SpecError,
    builtin_names,
    builtin_spec,
    compile_signals,
    resolve_spec,
)


def test_builtin_names() -> None:
    assert builtin_names() == (
        "bollinger_bounce",
        "macd_momentum",
        "nasdaq_growth",
        "nyse_value",
        "rsi_reversion",
        "sma_cross",
    )


def test_unknown_builtin_names_the_closest() -> None:
    with pytest.raises(
        SpecError, match="no built-in strategy 'sma_crss'; did you mean 'sma_cross'"
    ):
        builtin_spec("sma_crss")


def test_resolve_spec_takes_a_name_a_file_or_json_text(tmp_path: Path) -> None:
    path = tmp_path / "mine.json"
    document = builtin_spec("sma_cross").to_dict() | {"name": "mine"}
    path.write_text(json.dumps(document), encoding="utf-8")

    assert resolve_spec("sma_cross").name == "sma_cross"
    assert resolve_spec(str(path)).name == "mine"
    assert resolve_spec(path).name == "mine"
    assert resolve_spec(json.dumps(document)).name == "mine"
    with pytest.raises(SpecError, match="neither a built-in strategy; did you mean 'sma_cross'"):
        resolve_spec("sma_cros")


def test_sma_cross_defaults_are_the_reference_ones() -> None:
    spec = builtin_spec("sma_cross")

    assert spec.values == {"fast": 10, "slow": 30}
    assert spec.reason_names == ("dead_cross", "golden_cross")


def reference_sma(close: np.ndarray, period: int) -> np.ndarray:
    """SMA from exact window sums: KRX prices are integers, so cumulative sums are exact and
    each mean is the correctly rounded quotient, as TA-Lib's running sum gives."""
    out = np.full(close.size, np.nan)
    if close.size >= period:
        sums = np.cumsum(np.concatenate([[0.0], close]))
        out[period - 1 :] = (sums[period:] - sums[:-period]) / period
    return out


@pytest.mark.shared_data
def test_sma_cross_equals_the_reference_rule_on_every_krx_symbol(krx_panel: BarPanel) -> None:
    signals = compile_signals(builtin_spec("sma_cross"), krx_panel)

    checked = 0
    for row, symbol in enumerate(krx_panel.symbols):
        bars = np.flatnonzero(~np.isnan(krx_panel.close[row]))
        close = krx_panel.close[row, bars]
        assert np.array_equal(close, np.round(close)), symbol
        fast, slow = reference_sma(close, 10), reference_sma(close, 30)
        golden = np.zeros(close.size, dtype=bool)
        dead = np.zeros(close.size, dtype=bool)
        golden[1:] = (fast[1:] > slow[1:]) & (fast[:-1] <= slow[:-1])
        dead[1:] = (fast[1:] < slow[1:]) & (fast[:-1] >= slow[:-1])
        entries = np.zeros(krx_panel.close.shape[1], dtype=bool)
        exits = entries.copy()
        entries[bars], exits[bars] = golden, dead
        assert np.array_equal(signals.entries[row], entries), symbol
        assert np.array_equal(signals.exits[row], exits), symbol
        checked += int(golden.sum())
    assert len(krx_panel.symbols) == 32
    assert checked == int(signals.entries.sum()) > 1000
    assert set(signals.entry_confidence[signals.entries]) == {1.0}


CONFIRMED = {
    "nasdaq_growth": ({0.6, 1.0}, {"golden_cross", "rsi_oversold", "volume_surge"}),
    "nyse_value": ({0.7, 1.0}, {"below_lower_band", "rsi_oversold", "rsi_deeply_oversold"}),
    "bollinger_bounce": ({0.7, 1.0}, {"lower_band_bounce", "rsi_oversold"}),
    "macd_momentum": ({0.6, 0.8, 1.0}, {"macd_cross_up", "macd_positive", "uptrend"}),
    "rsi_reversion": ({0.7, 1.0}, {"rsi_oversold", "uptrend"}),
}


@pytest.mark.shared_data
@pytest.mark.parametrize("name", sorted(CONFIRMED))
def test_builtins_trade_on_real_data_with_a_spread_of_confidence(
    name: str, krx_panel: BarPanel
) -> None:
    confidences, entry_reasons = CONFIRMED[name]

    signals = compile_signals(builtin_spec(name), krx_panel)

    assert signals.entries.sum() > 50
    assert signals.exits.sum() > 50
    assert (signals.entry_confidence[signals.entries] >= 0.65).sum() > 50
    assert {round(float(c), 9) for c in signals.entry_confidence[signals.entries]} == confidences
    fired = {name for row in signals.rows() if row.side == "buy" for name in row.reasons}
    assert fired == entry_reasons
    assert (signals.exit_confidence[signals.exits] >= 0.65).all()


@pytest.mark.shared_data
def test_nasdaq_growth_entries_follow_a_recent_oversold_dip(krx_panel: BarPanel) -> None:
    spec = builtin_spec("nasdaq_growth")
    signals = compile_signals(spec, krx_panel)
    row = krx_panel.symbols.index("122630")
    bars = np.flatnonzero(~np.isnan(krx_panel.close[row]))
    import talib

    close = krx_panel.close[row, bars]
    rsi_low = talib.MIN(talib.RSI(close, 14), 10)
    fast, slow = talib.SMA(close, 5), talib.SMA(close, 20)
    golden = np.zeros(close.size, dtype=bool)
    golden[1:] = (fast[1:] > slow[1:]) & (fast[:-1] <= slow[:-1])

    expected = golden & (rsi_low < 30)

    assert np.array_equal(signals.entries[row, bars], expected & ~signals.exits[row, bars])
    assert expected.sum() > 3
