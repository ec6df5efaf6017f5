"""The registry describes every TA-Lib function and names outputs with one scheme."""

from __future__ import annotations

import pytest
import talib

from orchestrade.indicators import (
    IndicatorError,
    column_names,
    describe,
    indicator_names,
    lookback,
    resolve_parameters,
)


def test_every_talib_function_is_registered() -> None:
    assert set(indicator_names()) == set(talib.get_functions())
    assert len(indicator_names()) >= 150


def test_names_are_case_insensitive() -> None:
    assert describe("bbands") is describe("BBANDS")
    assert describe("bbands").inputs == ("close",)
    assert describe("atr").inputs == ("high", "low", "close")
    assert describe("obv").inputs == ("close", "volume")


def test_unknown_indicator_names_the_closest_one() -> None:
    with pytest.raises(IndicatorError, match=r"unknown indicator 'smaa'; did you mean 'SMA'\?"):
        describe("smaa")


def test_unknown_parameter_names_the_closest_one() -> None:
    with pytest.raises(IndicatorError, match=r"no parameter 'period'; did you mean 'timeperiod'"):
        resolve_parameters(describe("sma"), {"period": 3})


@pytest.mark.parametrize(
    ("name", "params", "expected"),
    [
        ("SMA", {"timeperiod": 20}, ("sma_20",)),
        ("EMA", {"timeperiod": 12}, ("ema_12",)),
        ("RSI", {}, ("rsi_14",)),
        ("ATR", {}, ("atr_14",)),
        ("OBV", {}, ("obv",)),
        ("MACD", {}, ("macd_12_26_9", "macd_signal_12_26_9", "macd_hist_12_26_9")),
        ("BBANDS", {"timeperiod": 20}, ("bb_upper_20_2", "bb_middle_20_2", "bb_lower_20_2")),
        ("BBANDS", {"nbdevdn": 3.0}, ("bb_upper_20_2_3", "bb_middle_20_2_3", "bb_lower_20_2_3")),
        (
            "BBANDS",
            {"matype": "ema"},
            ("bb_upper_20_2_ema", "bb_middle_20_2_ema", "bb_lower_20_2_ema"),
        ),
        ("STOCH", {}, ("stoch_k_5_3_3", "stoch_d_5_3_3")),
        ("STOCH", {"slowd_matype": 1}, ("stoch_k_5_3_3_ema", "stoch_d_5_3_3_ema")),
        ("SAR", {}, ("sar_0.02_0.2",)),
        ("AROON", {}, ("aroon_down_14", "aroon_up_14")),
    ],
)
def test_column_names_follow_the_scheme(
    name: str, params: dict[str, int | float | str], expected: tuple[str, ...]
) -> None:
    spec = describe(name)

    names = column_names(spec, resolve_parameters(spec, params))

    assert names == expected


def test_every_function_gets_distinct_column_names() -> None:
    for name in indicator_names():
        spec = describe(name)
        names = column_names(spec, resolve_parameters(spec, {}))
        assert len(set(names)) == len(spec.outputs), name


@pytest.mark.parametrize(
    ("params", "message"),
    [
        ({"timeperiod": 2.5}, "must be an integer"),
        ({"timeperiod": True}, "must be an integer"),
        ({"nbdevup": "two"}, "must be a number"),
        ({"nbdevup": float("nan")}, "must be finite"),
        ({"matype": "emma"}, "did you mean 'ema'"),
        ({"matype": 99}, "moving-average name or code"),
    ],
)
def test_bad_parameter_values_are_rejected(
    params: dict[str, int | float | str], message: str
) -> None:
    with pytest.raises(IndicatorError, match=message):
        resolve_parameters(describe("BBANDS"), params)


def test_lookback_matches_talib() -> None:
    assert lookback("sma", timeperiod=20) == 19
    assert lookback("macd") == 33
    assert lookback("rsi", timeperiod=14) == 14
