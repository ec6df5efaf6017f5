"""Streaming indicators equal TA-Lib's batch values after warm-up, bar by bar."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt
import pandas as pd
import pytest
import talib
from hypothesis import given, settings
from hypothesis import strategies as st

from orchestrade.indicators import (
    ATR,
    EMA,
    MACD,
    OBV,
    RSI,
    SMA,
    BandsValue,
    BollingerBands,
    IndicatorError,
    MACDValue,
    Stochastic,
    StochasticValue,
    lookback,
)

RTOL = 1e-9
Floats = npt.NDArray[np.float64]


def stream(indicator: Any, *inputs: Sequence[float]) -> list[Any]:
    """Feed the inputs bar by bar and collect every update's result."""
    return [indicator.update(*bar) for bar in zip(*inputs, strict=True)]


def column(results: list[Any], field: int | None = None) -> Floats:
    """One output of a stream as a float array, NaN where the stream returned None."""
    return np.array(
        [np.nan if r is None else (r if field is None else r[field]) for r in results],
        dtype=np.float64,
    )


def assert_stream_matches(
    results: list[Any],
    reference: Floats,
    warmup: int,
    *,
    field: int | None = None,
    scale: Floats | None = None,
) -> None:
    """None before `warmup`, then within RTOL of TA-Lib at every bar.

    `scale` adds an absolute tolerance of RTOL * scale for outputs that are a difference of
    larger numbers (MACD histogram, a lower band near zero): their absolute rounding error
    is bounded by the size of the terms, not by the (possibly ~0) result.
    """
    assert all(r is None for r in results[: warmup - 1])
    assert all(r is not None for r in results[warmup - 1 :])
    assert np.isnan(reference[: warmup - 1]).all()
    got = column(results, field)[warmup - 1 :]
    expected = reference[warmup - 1 :]
    tolerance = RTOL * np.abs(expected)
    if scale is not None:
        tolerance = tolerance + RTOL * np.abs(scale[warmup - 1 :])
    worst = np.abs(got - expected) - tolerance
    assert (worst <= 0).all(), f"bar {warmup - 1 + int(np.argmax(worst))} differs"


def check_all(high: Floats, low: Floats, close: Floats, volume: Floats) -> None:
    """Run every streaming indicator over one series and compare with TA-Lib."""
    for period in (5, 20):
        sma = SMA(period)
        assert_stream_matches(stream(sma, close), talib.SMA(close, period), sma.warmup)
        ema = EMA(period)
        assert_stream_matches(stream(ema, close), talib.EMA(close, period), ema.warmup)
    rsi = RSI(14)
    assert_stream_matches(stream(rsi, close), talib.RSI(close, 14), rsi.warmup)
    atr = ATR(14)
    assert_stream_matches(stream(atr, high, low, close), talib.ATR(high, low, close), atr.warmup)
    obv = OBV()
    assert_stream_matches(stream(obv, close, volume), talib.OBV(close, volume), obv.warmup)

    macd = MACD()
    results = stream(macd, close)
    line, signal, histogram = talib.MACD(close)
    assert_stream_matches(results, line, macd.warmup, field=0)
    assert_stream_matches(results, signal, macd.warmup, field=1)
    scale = np.maximum(np.abs(line), np.abs(signal))
    assert_stream_matches(results, histogram, macd.warmup, field=2, scale=scale)

    bands = BollingerBands(20, 2.0, 2.0)
    results = stream(bands, close)
    upper, middle, lower = talib.BBANDS(close, 20, 2.0, 2.0)
    assert_stream_matches(results, upper, bands.warmup, field=0)
    assert_stream_matches(results, middle, bands.warmup, field=1)
    assert_stream_matches(results, lower, bands.warmup, field=2, scale=middle)

    stochastic = Stochastic()
    results = stream(stochastic, high, low, close)
    slow_k, slow_d = talib.STOCH(high, low, close)
    assert_stream_matches(results, slow_k, stochastic.warmup, field=0)
    assert_stream_matches(results, slow_d, stochastic.warmup, field=1)


@pytest.mark.slow
def test_every_krx_symbol_matches_talib_at_every_bar(shared_data: Path) -> None:
    files = sorted((shared_data / "krx").glob("*.csv.gz"))
    assert files, "no KRX files found"
    for path in files:
        frame = pd.read_csv(path, dtype={"code": str})
        high, low, close, volume = (
            frame[c].to_numpy(dtype=np.float64) for c in ("high", "low", "close", "volume")
        )
        check_all(high, low, close, volume)


prices = st.floats(min_value=1.0, max_value=1e5, allow_nan=False, allow_infinity=False)


@st.composite
def price_bars(draw: st.DrawFn) -> tuple[Floats, Floats, Floats, Floats]:
    closes = np.array(draw(st.lists(prices, min_size=1, max_size=120)), dtype=np.float64)
    size = len(closes)
    spreads = st.lists(st.floats(0.0, 0.1), min_size=size, max_size=size)
    up = np.array(draw(spreads), dtype=np.float64)
    down = np.array(draw(spreads), dtype=np.float64)
    volume = np.array(
        draw(st.lists(st.floats(0.0, 1e9), min_size=size, max_size=size)), dtype=np.float64
    )
    return closes * (1.0 + up), closes * (1.0 - down), closes, volume


@settings(max_examples=150, deadline=None)
@given(price_bars())
def test_random_positive_series_match_talib(
    bars: tuple[Floats, Floats, Floats, Floats],
) -> None:
    check_all(*bars)


def test_sma_streams_the_average_of_one_to_ten() -> None:
    results = stream(SMA(3), [float(x) for x in range(1, 11)])

    assert results == [None, None, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0, 8.0, 9.0]


def test_ema_is_seeded_with_the_simple_average() -> None:
    # k = 2 / (3 + 1) = 0.5; seed (1 + 2 + 3) / 3 = 2; then (4 - 2) * 0.5 + 2 = 3.
    assert stream(EMA(3), [1.0, 2.0, 3.0, 4.0]) == [None, None, 2.0, 3.0]


def test_rsi_follows_wilder_smoothing_on_a_tiny_series() -> None:
    results = stream(RSI(3), [10.0, 11.0, 10.0, 12.0, 13.0, 12.0])

    assert results[:3] == [None, None, None]
    np.testing.assert_allclose(results[3:], [75.0, 900.0 / 11.0, 1800.0 / 31.0], rtol=1e-12)


def test_atr_seeds_with_the_average_true_range() -> None:
    # true ranges: max(12-9, |10-12|, |10-9|) = 3, then max(11-10, |11-11|, |11-10|) = 1.
    atr = ATR(2)

    results = stream(
        atr, [11.0, 12.0, 11.0, 13.0], [9.0, 9.0, 10.0, 10.0], [10.0, 11.0, 10.5, 12.0]
    )

    assert results[:2] == [None, None]
    assert results[2] == 2.0
    assert results[3] == (2.0 * 1 + 3.0) / 2


def test_obv_adds_volume_on_up_closes_and_subtracts_on_down_closes() -> None:
    results = stream(OBV(), [1.0, 2.0, 2.0, 1.0, 3.0], [10.0, 20.0, 30.0, 40.0, 50.0])

    assert results == [10.0, 30.0, 30.0, -10.0, 40.0]


def test_multi_output_indicators_return_named_tuples() -> None:
    closes = [float(x % 7 + 1) for x in range(40)]

    macd = stream(MACD(3, 5, 2), closes)[-1]
    bands = stream(BollingerBands(5), closes)[-1]
    stochastic = stream(Stochastic(), closes, closes, closes)[-1]

    assert isinstance(macd, MACDValue)
    assert macd.histogram == macd.macd - macd.signal
    assert isinstance(bands, BandsValue)
    assert bands.lower <= bands.middle <= bands.upper
    assert isinstance(stochastic, StochasticValue)


@pytest.mark.parametrize(
    ("make", "name", "params"),
    [
        (lambda: SMA(7), "SMA", {"timeperiod": 7}),
        (lambda: EMA(7), "EMA", {"timeperiod": 7}),
        (lambda: RSI(9), "RSI", {"timeperiod": 9}),
        (lambda: MACD(5, 13, 4), "MACD", {"fastperiod": 5, "slowperiod": 13, "signalperiod": 4}),
        (lambda: MACD(13, 5, 4), "MACD", {"fastperiod": 13, "slowperiod": 5, "signalperiod": 4}),
        (lambda: BollingerBands(10), "BBANDS", {"timeperiod": 10}),
        (
            lambda: Stochastic(7, 2, 4),
            "STOCH",
            {"fastk_period": 7, "slowk_period": 2, "slowd_period": 4},
        ),
        (lambda: ATR(10), "ATR", {"timeperiod": 10}),
        (lambda: OBV(), "OBV", {}),
    ],
)
def test_warmup_is_talib_lookback_plus_one(
    make: Callable[[], Any], name: str, params: dict[str, int]
) -> None:
    indicator = make()
    bars = [(100.0 + i % 5, 99.0 - i % 3, 99.5 + i % 4) for i in range(indicator.warmup)]
    inputs = {"OBV": lambda bar: (*bar[2:], 1.0), "STOCH": lambda bar: bar, "ATR": lambda b: b}
    feed = inputs.get(name, lambda bar: bar[2:])

    results = [indicator.update(*feed(bar)) for bar in bars]

    assert indicator.warmup == lookback(name, **params) + 1
    assert all(r is None for r in results[:-1])
    assert results[-1] is not None
    assert indicator.is_ready
    assert indicator.value == results[-1]


def test_macd_swaps_a_slow_period_shorter_than_the_fast_one() -> None:
    closes = [float(10 + (i * 7) % 11) for i in range(60)]

    assert stream(MACD(26, 12, 9), closes) == stream(MACD(12, 26, 9), closes)


@pytest.mark.parametrize(
    ("make", "message"),
    [
        (lambda: SMA(0), "SMA period must be at least 1"),
        (lambda: EMA(2.5), "EMA period must be an integer"),
        (lambda: RSI(1), "RSI period must be at least 2"),
        (lambda: MACD(12, 26, 0), "MACD signal must be at least 1"),
        (lambda: BollingerBands(20, float("inf")), "nbdevup must be finite"),
        (lambda: Stochastic(True), "fastk must be an integer"),
        (lambda: ATR(0), "ATR period must be at least 1"),
    ],
)
def test_bad_parameters_are_rejected(make: Callable[[], Any], message: str) -> None:
    with pytest.raises(IndicatorError, match=message):
        make()


@pytest.mark.parametrize(
    "update",
    [
        lambda: SMA(3).update(float("nan")),
        lambda: EMA(3).update(float("inf")),
        lambda: RSI(3).update(float("nan")),
        lambda: MACD().update(float("-inf")),
        lambda: BollingerBands().update(float("nan")),
        lambda: Stochastic().update(1.0, float("nan"), 1.0),
        lambda: ATR().update(1.0, 1.0, float("inf")),
        lambda: OBV().update(1.0, float("nan")),
    ],
)
def test_non_finite_input_is_rejected(update: Callable[[], Any]) -> None:
    with pytest.raises(IndicatorError, match="needs finite numbers"):
        update()
