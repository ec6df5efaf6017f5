"""The natively computed TA-Lib functions equal TA-Lib bit for bit, rejections included."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import numpy.typing as npt
import pandas as pd
import pytest
import talib
from hypothesis import given, settings
from hypothesis import strategies as st
from talib import abstract

from orchestrade.indicators import IndicatorError, describe, evaluate
from orchestrade.indicators.batch import check_parameters
from orchestrade.indicators.native import NAMES, compute, computes, rejection

Floats = npt.NDArray[np.float64]
NATIVE = sorted(NAMES)


def same_bits(mine: Floats, theirs: Floats) -> bool:
    """Equal values, NaN where NaN, and the same sign of every zero."""
    return (
        mine.shape == theirs.shape
        and np.array_equal(mine, theirs, equal_nan=True)
        and np.array_equal(np.signbit(mine), np.signbit(theirs))
    )


def native_sma(values: Floats, period: int) -> Floats:
    return compute("SMA", [values], {"timeperiod": period})[0]


def test_every_native_function_is_described_as_talib_describes_it() -> None:
    for name in NATIVE:
        info = abstract.Function(name).info
        inputs: list[str] = []
        for columns in info["input_names"].values():
            inputs.extend([columns] if isinstance(columns, str) else columns)
        spec = describe(name)
        assert computes(name)
        assert spec.name == name
        assert spec.group == info["group"]
        assert spec.display_name == info["display_name"]
        assert spec.inputs == tuple(inputs)
        assert dict(spec.parameters) == dict(info["parameters"])
        assert spec.outputs == tuple(info["output_names"])


def test_sma_by_hand() -> None:
    values = np.array([1.0, 2.0, 3.0, 4.0, 6.0])

    assert same_bits(native_sma(values, 2), np.array([np.nan, 1.5, 2.5, 3.5, 5.0]))
    assert same_bits(native_sma(values, 3), np.array([np.nan, np.nan, 2.0, 3.0, 13.0 / 3.0]))
    assert same_bits(native_sma(values, 1), values)


def test_sma_skips_leading_nans_and_keeps_an_inner_nan_like_talib() -> None:
    values = np.array([np.nan, np.nan, 1.0, 3.0, np.nan, 5.0, 7.0])

    expected = np.array([np.nan, np.nan, np.nan, 2.0, np.nan, np.nan, np.nan])
    assert same_bits(native_sma(values, 2), expected)
    assert same_bits(talib.SMA(values, 2), expected)


@pytest.mark.parametrize(
    "values",
    [
        np.zeros(0),
        np.full(4, np.nan),
        np.array([np.nan, np.nan, 2.0]),
        np.array([1.0, 2.0]),
        np.array([np.inf, 1.0, 2.0, 3.0]),
        np.array([1.0, -np.inf, 2.0, np.inf, 3.0]),
        np.array([-0.0, -0.0, 0.0, -0.0]),
        np.array([1e308, 1e308, -1e308, 5.0]),
    ],
)
@pytest.mark.parametrize("period", [1, 2, 3, 5, 30, -(2**31)])
def test_sma_edge_cases_equal_talib(values: Floats, period: int) -> None:
    assert same_bits(native_sma(values, period), talib.SMA(values, period))


finite = st.floats(allow_nan=False, allow_infinity=False, width=64)
cells = st.one_of(finite, finite, finite, st.sampled_from([np.nan, np.inf, -np.inf, -0.0]))


@settings(max_examples=300, deadline=None)
@given(
    values=st.lists(cells, max_size=80).map(lambda v: np.array(v, dtype=np.float64)),
    period=st.integers(1, 40),
    leading_nans=st.integers(0, 10),
)
def test_sma_equals_talib_on_any_series(values: Floats, period: int, leading_nans: int) -> None:
    values = np.concatenate([np.full(leading_nans, np.nan), values])

    assert same_bits(native_sma(values, period), talib.SMA(values, period))


def test_sma_equals_talib_on_random_walks_of_every_scale() -> None:
    rng = np.random.default_rng(11)
    for scale in (1e-6, 1.0, 1e3, 1e9):
        values = scale * np.exp(np.cumsum(rng.normal(0.0, 0.02, 5_000)))
        for period in (2, 10, 30, 200, 4_999, 5_000, 5_001):
            assert same_bits(native_sma(values, period), talib.SMA(values, period))


@pytest.mark.slow
def test_sma_equals_talib_on_every_krx_series(shared_data: Path) -> None:
    files = sorted((shared_data / "krx").glob("*.csv.gz"))
    assert files, "no KRX files found"
    for path in files:
        frame = pd.read_csv(path, dtype={"code": str})
        for column in ("open", "close", "volume"):
            values = frame[column].to_numpy(dtype=np.float64)
            for period in (5, 10, 20, 30, 60, 120):
                assert same_bits(native_sma(values, period), talib.SMA(values, period)), path


@pytest.mark.parametrize(
    "period",
    [
        -(2**64),
        -(2**63) - 1,
        -(2**63),
        -(2**31) - 1,
        -(2**31),
        -(2**31) + 1,
        -1,
        0,
        1,
        2,
        100_000,
        100_001,
        2**31 - 1,
        2**31,
        2**63 - 1,
        2**63,
        2**64,
    ],
)
def test_sma_rejects_exactly_what_talib_rejects_with_its_message(period: int) -> None:
    try:
        talib.SMA(np.linspace(1.0, 2.0, 8), period)
        talib_message = None
    except Exception as error:  # noqa: BLE001 - TA-Lib raises bare Exception
        talib_message = str(error)

    assert rejection("SMA", {"timeperiod": period}) == talib_message


@pytest.mark.parametrize("period", [0, 100_001, 2**31])
def test_compiled_evaluation_fails_like_talib(period: int) -> None:
    data = np.linspace(1.0, 2.0, 50)
    with pytest.raises(IndicatorError) as by_talib:
        evaluate("sma", data, {"timeperiod": period})

    with pytest.raises(IndicatorError) as compiled:
        evaluate("sma", data, {"timeperiod": period}, compiled=True)
    with pytest.raises(IndicatorError) as checked:
        check_parameters("sma", {"timeperiod": period})

    assert str(compiled.value) == str(checked.value) == str(by_talib.value)
    assert str(compiled.value).startswith("TA-Lib rejected SMA{'timeperiod': ")


def test_compiled_evaluation_equals_talib_and_leaves_other_functions_to_it() -> None:
    rng = np.random.default_rng(3)
    close = 100.0 * np.exp(np.cumsum(rng.normal(0.0, 0.02, 400)))
    bars = {"high": close * 1.01, "low": close * 0.99, "close": close}

    for name, params in (("sma", {"timeperiod": 20}), ("rsi", {}), ("atr", {"timeperiod": 5})):
        data = bars if name == "atr" else close
        compiled = evaluate(name, data, params, compiled=True)
        assert isinstance(compiled, np.ndarray)
        assert same_bits(compiled, np.asarray(evaluate(name, data, params)))


def test_check_parameters_accepts_talib_limits_and_rejects_beyond_them() -> None:
    check_parameters("sma", {"timeperiod": 100_000})
    check_parameters("rsi", {"timeperiod": 2})
    check_parameters("bbands", {"nbdevup": 1.5, "matype": "ema"})

    with pytest.raises(IndicatorError, match="TA-Lib rejected RSI"):
        check_parameters("rsi", {"timeperiod": 1})
    with pytest.raises(IndicatorError, match="no parameter 'period'"):
        check_parameters("sma", {"period": 3})
