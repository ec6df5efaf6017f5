"""Named shortcuts for the indicators strategies use most, over `batch.compute`.

Each takes what `compute` takes (a Series, array or list for close-only indicators; a
DataFrame or mapping of arrays with high/low/close[/volume] columns otherwise) and returns
aligned outputs with the names of the registry's scheme (``sma_20``, ``bb_upper_20_2``, ...).
Parameters have short names here; `compute` takes TA-Lib's own names.
"""

from __future__ import annotations

from typing import TypeAlias, cast, overload

import pandas as pd

from orchestrade.indicators.batch import FloatArray, NumpyData, PandasData, evaluate
from orchestrade.indicators.registry import ParamValue

SingleResult: TypeAlias = "pd.Series[float] | FloatArray"
MultiResult: TypeAlias = "pd.DataFrame | tuple[FloatArray, ...]"


@overload
def sma(data: PandasData, period: int) -> pd.Series[float]: ...
@overload
def sma(data: NumpyData, period: int) -> FloatArray: ...
def sma(data: PandasData | NumpyData, period: int) -> pd.Series[float] | FloatArray:
    """Simple moving average of the close (or of the one series given)."""
    return _single("SMA", data, timeperiod=period)


@overload
def ema(data: PandasData, period: int) -> pd.Series[float]: ...
@overload
def ema(data: NumpyData, period: int) -> FloatArray: ...
def ema(data: PandasData | NumpyData, period: int) -> pd.Series[float] | FloatArray:
    """Exponential moving average, seeded like TA-Lib with the SMA of the first `period` values."""
    return _single("EMA", data, timeperiod=period)


@overload
def wma(data: PandasData, period: int) -> pd.Series[float]: ...
@overload
def wma(data: NumpyData, period: int) -> FloatArray: ...
def wma(data: PandasData | NumpyData, period: int) -> pd.Series[float] | FloatArray:
    """Linearly weighted moving average."""
    return _single("WMA", data, timeperiod=period)


@overload
def rsi(data: PandasData, period: int = 14) -> pd.Series[float]: ...
@overload
def rsi(data: NumpyData, period: int = 14) -> FloatArray: ...
def rsi(data: PandasData | NumpyData, period: int = 14) -> pd.Series[float] | FloatArray:
    """Wilder's relative strength index, 0..100."""
    return _single("RSI", data, timeperiod=period)


@overload
def atr(data: PandasData, period: int = 14) -> pd.Series[float]: ...
@overload
def atr(data: NumpyData, period: int = 14) -> FloatArray: ...
def atr(data: PandasData | NumpyData, period: int = 14) -> pd.Series[float] | FloatArray:
    """Wilder's average true range; reads high, low, close."""
    return _single("ATR", data, timeperiod=period)


@overload
def adx(data: PandasData, period: int = 14) -> pd.Series[float]: ...
@overload
def adx(data: NumpyData, period: int = 14) -> FloatArray: ...
def adx(data: PandasData | NumpyData, period: int = 14) -> pd.Series[float] | FloatArray:
    """Average directional movement index; reads high, low, close."""
    return _single("ADX", data, timeperiod=period)


@overload
def obv(data: PandasData) -> pd.Series[float]: ...
@overload
def obv(data: NumpyData) -> FloatArray: ...
def obv(data: PandasData | NumpyData) -> pd.Series[float] | FloatArray:
    """On-balance volume; reads close and volume."""
    return _single("OBV", data)


@overload
def cci(data: PandasData, period: int = 14) -> pd.Series[float]: ...
@overload
def cci(data: NumpyData, period: int = 14) -> FloatArray: ...
def cci(data: PandasData | NumpyData, period: int = 14) -> pd.Series[float] | FloatArray:
    """Commodity channel index; reads high, low, close."""
    return _single("CCI", data, timeperiod=period)


@overload
def mfi(data: PandasData, period: int = 14) -> pd.Series[float]: ...
@overload
def mfi(data: NumpyData, period: int = 14) -> FloatArray: ...
def mfi(data: PandasData | NumpyData, period: int = 14) -> pd.Series[float] | FloatArray:
    """Money flow index, 0..100; reads high, low, close, volume."""
    return _single("MFI", data, timeperiod=period)


@overload
def willr(data: PandasData, period: int = 14) -> pd.Series[float]: ...
@overload
def willr(data: NumpyData, period: int = 14) -> FloatArray: ...
def willr(data: PandasData | NumpyData, period: int = 14) -> pd.Series[float] | FloatArray:
    """Williams' %R, -100..0; reads high, low, close."""
    return _single("WILLR", data, timeperiod=period)


@overload
def macd(data: PandasData, fast: int = 12, slow: int = 26, signal: int = 9) -> pd.DataFrame: ...
@overload
def macd(
    data: NumpyData, fast: int = 12, slow: int = 26, signal: int = 9
) -> tuple[FloatArray, ...]: ...
def macd(
    data: PandasData | NumpyData, fast: int = 12, slow: int = 26, signal: int = 9
) -> pd.DataFrame | tuple[FloatArray, ...]:
    """MACD line, signal line and histogram.

    Columns: ``macd_12_26_9``, ``macd_signal_12_26_9``, ``macd_hist_12_26_9``.
    """
    return _multi("MACD", data, fastperiod=fast, slowperiod=slow, signalperiod=signal)


@overload
def bbands(data: PandasData, period: int = 20, nbdev: float = 2.0) -> pd.DataFrame: ...
@overload
def bbands(data: NumpyData, period: int = 20, nbdev: float = 2.0) -> tuple[FloatArray, ...]: ...
def bbands(
    data: PandasData | NumpyData, period: int = 20, nbdev: float = 2.0
) -> pd.DataFrame | tuple[FloatArray, ...]:
    """Bollinger bands: SMA middle band +/- `nbdev` population standard deviations.

    Columns: ``bb_upper_20_2``, ``bb_middle_20_2``, ``bb_lower_20_2``. The default period
    is Bollinger's 20 and the bands are symmetric; `compute("BBANDS", ...)` allows more.
    """
    return _multi("BBANDS", data, timeperiod=period, nbdevup=nbdev, nbdevdn=nbdev)


@overload
def stoch(data: PandasData, fastk: int = 5, slowk: int = 3, slowd: int = 3) -> pd.DataFrame: ...
@overload
def stoch(
    data: NumpyData, fastk: int = 5, slowk: int = 3, slowd: int = 3
) -> tuple[FloatArray, ...]: ...
def stoch(
    data: PandasData | NumpyData, fastk: int = 5, slowk: int = 3, slowd: int = 3
) -> pd.DataFrame | tuple[FloatArray, ...]:
    """Slow stochastic %K and %D with SMA smoothing; reads high, low, close.

    Columns: ``stoch_k_5_3_3``, ``stoch_d_5_3_3``.
    """
    return _multi("STOCH", data, fastk_period=fastk, slowk_period=slowk, slowd_period=slowd)


def _single(name: str, data: PandasData | NumpyData, **params: ParamValue) -> SingleResult:
    return cast(SingleResult, evaluate(name, data, params))


def _multi(name: str, data: PandasData | NumpyData, **params: ParamValue) -> MultiResult:
    return cast(MultiResult, evaluate(name, data, params))
