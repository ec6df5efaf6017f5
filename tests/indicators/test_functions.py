"""The named shortcuts equal TA-Lib and name their outputs by the registry's scheme."""

from __future__ import annotations

import numpy as np
import pandas as pd
import talib

from orchestrade.indicators import (
    adx,
    atr,
    bbands,
    cci,
    ema,
    macd,
    mfi,
    obv,
    rsi,
    sma,
    stoch,
    willr,
    wma,
)


def test_close_only_shortcuts_equal_talib(bars: pd.DataFrame) -> None:
    close = bars["close"]
    values = close.to_numpy()

    for result, expected, name in [
        (sma(close, 20), talib.SMA(values, 20), "sma_20"),
        (ema(close, 12), talib.EMA(values, 12), "ema_12"),
        (wma(close, 10), talib.WMA(values, 10), "wma_10"),
        (rsi(close), talib.RSI(values, 14), "rsi_14"),
    ]:
        assert result.name == name
        np.testing.assert_array_equal(result, expected)


def test_bar_shortcuts_equal_talib(bars: pd.DataFrame) -> None:
    high, low, close, volume = (bars[c].to_numpy() for c in ("high", "low", "close", "volume"))

    np.testing.assert_array_equal(atr(bars), talib.ATR(high, low, close, 14))
    np.testing.assert_array_equal(adx(bars, 10), talib.ADX(high, low, close, 10))
    np.testing.assert_array_equal(cci(bars), talib.CCI(high, low, close, 14))
    np.testing.assert_array_equal(mfi(bars), talib.MFI(high, low, close, volume, 14))
    np.testing.assert_array_equal(willr(bars), talib.WILLR(high, low, close, 14))
    np.testing.assert_array_equal(obv(bars), talib.OBV(close, volume))
    assert atr(bars).name == "atr_14"


def test_multi_output_shortcuts_equal_talib(bars: pd.DataFrame) -> None:
    high, low, close = (bars[c].to_numpy() for c in ("high", "low", "close"))

    lines = macd(bars["close"])
    bands = bbands(bars, 20, 2.0)
    stochastic = stoch(bars)

    assert list(lines.columns) == ["macd_12_26_9", "macd_signal_12_26_9", "macd_hist_12_26_9"]
    assert list(bands.columns) == ["bb_upper_20_2", "bb_middle_20_2", "bb_lower_20_2"]
    assert list(stochastic.columns) == ["stoch_k_5_3_3", "stoch_d_5_3_3"]
    np.testing.assert_array_equal(lines.to_numpy().T, np.array(talib.MACD(close)))
    np.testing.assert_array_equal(bands.to_numpy().T, np.array(talib.BBANDS(close, 20, 2, 2)))
    np.testing.assert_array_equal(stochastic.to_numpy().T, np.array(talib.STOCH(high, low, close)))


def test_numpy_input_gives_arrays(bars: pd.DataFrame) -> None:
    close = bars["close"].to_numpy()

    average = sma(close, 5)
    line, signal, histogram = macd(close, 5, 13, 4)

    assert isinstance(average, np.ndarray)
    np.testing.assert_array_equal(histogram, talib.MACD(close, 5, 13, 4)[2])
    np.testing.assert_array_equal(line - signal, histogram)
