"""Crossover tests between two series (or a series and a level) that strategies signal on.

A cross above at bar ``i`` means ``a[i] > b[i]`` and ``a[i-1] <= b[i-1]``; a cross below is
the mirror. Any NaN among the four values means no cross, so warm-up bars never signal.
Either side may be a number (a fixed level such as RSI 30); two series must have the same
length, and two pandas Series the same index.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, TypeAlias, overload

import numpy as np
import numpy.typing as npt
import pandas as pd

from orchestrade.indicators.errors import IndicatorError

Level: TypeAlias = int | float | np.floating[Any] | np.integer[Any]
Line: TypeAlias = "pd.Series[Any] | npt.NDArray[Any] | Sequence[float] | Level"
BoolArray: TypeAlias = npt.NDArray[np.bool_]


def crossed_above(a: Line, b: Line) -> bool:
    """True when `a` crossed above `b` on the last bar: ``a[-1] > b[-1] and a[-2] <= b[-2]``."""
    last = _last_two(a, b)
    if last is None:
        return False
    a_before, a_now, b_before, b_now = last
    return a_now > b_now and a_before <= b_before


def crossed_below(a: Line, b: Line) -> bool:
    """True when `a` crossed below `b` on the last bar: ``a[-1] < b[-1] and a[-2] >= b[-2]``."""
    last = _last_two(a, b)
    if last is None:
        return False
    a_before, a_now, b_before, b_now = last
    return a_now < b_now and a_before >= b_before


@overload
def cross_above(a: pd.Series[Any], b: Line) -> pd.Series[bool]: ...
@overload
def cross_above(a: Line, b: pd.Series[Any]) -> pd.Series[bool]: ...
@overload
def cross_above(a: Line, b: Line) -> BoolArray | pd.Series[bool]: ...
def cross_above(a: Line, b: Line) -> BoolArray | pd.Series[bool]:
    """For every bar, whether `a` crossed above `b` there; the first bar is always False.

    pandas in gives a boolean Series on the input's index; otherwise a boolean array.
    """
    a_values, b_values, index = _aligned(a, b)
    crossed = np.zeros(len(a_values), dtype=np.bool_)
    crossed[1:] = (a_values[1:] > b_values[1:]) & (a_values[:-1] <= b_values[:-1])
    return crossed if index is None else pd.Series(crossed, index=index, name="cross_above")


@overload
def cross_below(a: pd.Series[Any], b: Line) -> pd.Series[bool]: ...
@overload
def cross_below(a: Line, b: pd.Series[Any]) -> pd.Series[bool]: ...
@overload
def cross_below(a: Line, b: Line) -> BoolArray | pd.Series[bool]: ...
def cross_below(a: Line, b: Line) -> BoolArray | pd.Series[bool]:
    """For every bar, whether `a` crossed below `b` there; the first bar is always False."""
    a_values, b_values, index = _aligned(a, b)
    crossed = np.zeros(len(a_values), dtype=np.bool_)
    crossed[1:] = (a_values[1:] < b_values[1:]) & (a_values[:-1] >= b_values[:-1])
    return crossed if index is None else pd.Series(crossed, index=index, name="cross_below")


def _is_level(value: object) -> bool:
    return isinstance(value, int | float | np.floating | np.integer) and not isinstance(
        value, bool | np.bool_
    )


def _values(line: Line, side: str) -> npt.NDArray[np.float64]:
    try:
        if isinstance(line, pd.Series):
            values = line.to_numpy(dtype=np.float64, na_value=np.nan)
        else:
            values = np.asarray(line, dtype=np.float64)
    except (TypeError, ValueError) as error:
        raise IndicatorError(f"cross input {side} is not numeric: {error}") from error
    if values.ndim != 1:
        raise IndicatorError(f"cross input {side} must be one-dimensional, got {values.shape}")
    return values


def _last_two(a: Line, b: Line) -> tuple[float, float, float, float] | None:
    """The last two values of each side, read without converting whole histories."""
    if _is_level(a) and _is_level(b):
        raise IndicatorError("cross needs at least one series; got two numbers")
    if not _is_level(a) and not _is_level(b):
        length_a, length_b = len(a), len(b)  # type: ignore[arg-type]
        if length_a != length_b:
            raise IndicatorError(
                f"cross inputs have different lengths: a has {length_a}, b {length_b}"
            )
    a_values, b_values, _ = _aligned(_tail(a), _tail(b), check_index=False)
    if len(a_values) < 2:
        return None
    return float(a_values[-2]), float(a_values[-1]), float(b_values[-2]), float(b_values[-1])


def _tail(line: Line) -> Line:
    if _is_level(line):
        return line
    if isinstance(line, pd.Series):
        return line.iloc[-2:]
    if isinstance(line, np.ndarray):
        return line[-2:]
    return list(line[-2:])  # type: ignore[index]


def _aligned(
    a: Line, b: Line, *, check_index: bool = True
) -> tuple[npt.NDArray[np.float64], npt.NDArray[np.float64], pd.Index[Any] | None]:
    if _is_level(a) and _is_level(b):
        raise IndicatorError("cross needs at least one series; got two numbers")
    index = a.index if isinstance(a, pd.Series) else b.index if isinstance(b, pd.Series) else None
    if (
        check_index
        and isinstance(a, pd.Series)
        and isinstance(b, pd.Series)
        and not a.index.equals(b.index)
    ):
        raise IndicatorError("cross inputs are Series with different indexes")
    if _is_level(a):
        b_values = _values(b, "b")
        return np.full(len(b_values), _level(a)), b_values, index
    a_values = _values(a, "a")
    if _is_level(b):
        return a_values, np.full(len(a_values), _level(b)), index
    b_values = _values(b, "b")
    if len(a_values) != len(b_values):
        raise IndicatorError(
            f"cross inputs have different lengths: a has {len(a_values)}, b {len(b_values)}"
        )
    return a_values, b_values, index


def _level(value: Line) -> float:
    return float(value)  # type: ignore[arg-type]
