"""`compute` and `add_indicators` equal direct TA-Lib calls and keep outputs aligned."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
import pandas as pd
import pytest
import talib
from talib import abstract

from orchestrade.indicators import IndicatorError, add_indicators, compute, indicator_names


def _with_periods(frame: pd.DataFrame) -> pd.DataFrame:
    """MAVP also reads a `periods` column."""
    periods = np.resize(np.arange(2.0, 12.0), len(frame))
    return frame.assign(periods=periods)


@pytest.mark.parametrize("name", indicator_names())
def test_every_indicator_equals_a_direct_talib_call(bars: pd.DataFrame, name: str) -> None:
    frame = _with_periods(bars)
    expected = abstract.Function(name)({c: frame[c].to_numpy() for c in frame.columns})
    expected_outputs = expected if isinstance(expected, list) else [expected]

    result = compute(name, frame)

    outputs = [result] if isinstance(result, pd.Series) else [result[c] for c in result.columns]
    assert len(outputs) == len(expected_outputs)
    for output, reference in zip(outputs, expected_outputs, strict=True):
        assert output.index.equals(frame.index)
        np.testing.assert_array_equal(output.to_numpy(), reference)


def test_sma_of_one_to_ten_is_the_hand_computed_average() -> None:
    result = compute("sma", np.arange(1.0, 11.0), timeperiod=3)

    np.testing.assert_array_equal(result, [np.nan, np.nan, 2, 3, 4, 5, 6, 7, 8, 9])


def test_rsi_of_a_tiny_series_follows_wilder_smoothing() -> None:
    # changes +1, -1, +2 seed gain 3/3 = 1 and loss 1/3 -> 75; then +1 gives gain
    # (2*1 + 1)/3 = 1, loss (2/3)/3 = 2/9 -> 900/11; then -1 gives gain 2/3, loss 13/27.
    closes = [10.0, 11.0, 10.0, 12.0, 13.0, 12.0]

    result = compute("rsi", closes, timeperiod=3)

    np.testing.assert_allclose(result[3:], [75.0, 900.0 / 11.0, 1800.0 / 31.0], rtol=1e-12)
    assert np.isnan(result[:3]).all()


def test_pandas_in_gives_pandas_out_on_the_input_index(bars: pd.DataFrame) -> None:
    series = compute("ema", bars["close"], timeperiod=10)
    frame = compute("macd", bars)

    assert isinstance(series, pd.Series)
    assert series.name == "ema_10"
    assert series.index.equals(bars.index)
    assert isinstance(frame, pd.DataFrame)
    assert list(frame.columns) == ["macd_12_26_9", "macd_signal_12_26_9", "macd_hist_12_26_9"]
    assert frame.index.equals(bars.index)


def test_numpy_in_gives_numpy_out(bars: pd.DataFrame) -> None:
    close = bars["close"].to_numpy()
    arrays = {c: bars[c].to_numpy() for c in ("high", "low", "close")}

    single = compute("ema", close, timeperiod=10)
    several = compute("stoch", arrays)

    assert isinstance(single, np.ndarray)
    np.testing.assert_array_equal(single, talib.EMA(close, 10))
    assert isinstance(several, tuple)
    for got, expected in zip(several, talib.STOCH(*arrays.values()), strict=True):
        np.testing.assert_array_equal(got, expected)


def test_columns_are_found_whatever_their_case(bars: pd.DataFrame) -> None:
    upper = bars.rename(columns=str.upper)

    result = compute("atr", upper, timeperiod=5)

    np.testing.assert_array_equal(result, compute("atr", bars, timeperiod=5))


def test_inputs_can_be_redirected_to_another_column(bars: pd.DataFrame) -> None:
    result = compute("sma", bars, inputs={"close": "volume"}, timeperiod=5)

    np.testing.assert_array_equal(result, talib.SMA(bars["volume"].to_numpy(), 5))


def test_integer_input_is_converted_to_float() -> None:
    result = compute("sma", [1, 2, 3, 4], timeperiod=2)

    np.testing.assert_array_equal(result, [np.nan, 1.5, 2.5, 3.5])


@pytest.mark.parametrize(
    ("call", "message"),
    [
        (lambda b: compute("bolinger", b), "unknown indicator"),
        (lambda b: compute("sma", b, period=3), "did you mean 'timeperiod'"),
        (lambda b: compute("atr", b["close"]), "reads high, low, close"),
        (lambda b: compute("sma", b[["open"]]), "needs a 'close' column"),
        (lambda b: compute("sma", b, timeperiod=0), "TA-Lib rejected SMA"),
        (lambda b: compute("sma", b, inputs={"open": "close"}), "cannot override"),
        (lambda b: compute("sma", b.assign(Close=1.0)), "differ only by case"),
        (lambda b: compute("sma", np.ones((3, 2))), "one-dimensional"),
        (lambda b: compute("sma", ["a", "b"]), "not numeric"),
        (
            lambda b: compute("atr", {"high": [1.0, 2.0], "low": [1.0], "close": [1.0, 2.0]}),
            "different lengths",
        ),
    ],
)
def test_bad_requests_raise_a_clear_error(
    bars: pd.DataFrame, call: Callable[[pd.DataFrame], Any], message: str
) -> None:
    with pytest.raises(IndicatorError, match=message):
        call(bars)


def test_add_indicators_appends_named_columns(bars: pd.DataFrame) -> None:
    result = add_indicators(bars, ["obv", ("sma", {"timeperiod": 20}), ("bbands", {})])

    assert list(result.columns) == [
        *bars.columns,
        "obv",
        "sma_20",
        "bb_upper_20_2",
        "bb_middle_20_2",
        "bb_lower_20_2",
    ]
    np.testing.assert_array_equal(result["sma_20"], talib.SMA(bars["close"].to_numpy(), 20))
    assert list(bars.columns) == ["open", "high", "low", "close", "volume"]


def test_add_indicators_refuses_to_overwrite_a_column(bars: pd.DataFrame) -> None:
    with pytest.raises(IndicatorError, match="'sma_20' already exists"):
        add_indicators(bars, [("sma", {"timeperiod": 20}), ("sma", {"timeperiod": 20})])


def test_add_indicators_rejects_malformed_requests(bars: pd.DataFrame) -> None:
    with pytest.raises(IndicatorError, match="name or a"):
        add_indicators(bars, [("sma", 20)])  # type: ignore[list-item]
