"""The compiled loops of `orchestrade.indicators.native`, imported on first use (numba).

Each loop repeats TA-Lib's C code operation for operation (IEEE-754 arithmetic, no
fast-math, so numba keeps that order), behind the conventions of TA-Lib's Python wrapper:
the output has the input's length; the computation starts at the first value that is not
NaN (all NaN: at the last value), and the outputs before that start plus the function's
lookback are NaN.
"""

from __future__ import annotations

import numba
import numpy as np


@numba.njit(cache=True, nogil=True, error_model="numpy")
def sma(values: np.ndarray, period: int) -> np.ndarray:
    """talib.SMA(values, period) for a `period` TA-Lib accepts (1 to 100,000).

    TA-Lib keeps a running window sum: it adds the new value, divides the sum, then
    subtracts the value that leaves the window (so a NaN or an infinity stays in the sum
    for good, as it does in TA-Lib).
    """
    n = values.size
    out = np.empty(n)
    if n == 0:
        return out
    begin = 0
    while begin < n - 1 and values[begin] != values[begin]:
        begin += 1
    lookback = begin + period - 1
    for i in range(lookback if lookback < n else n):
        out[i] = np.nan
    total = 0.0
    trailing = begin
    i = begin
    while i < lookback and i < n:
        total += values[i]
        i += 1
    while i < n:
        total += values[i]
        average = total / period
        total -= values[trailing]
        trailing += 1
        out[i] = average
        i += 1
    return out
