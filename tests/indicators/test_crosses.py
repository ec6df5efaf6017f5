"""Crossovers signal exactly on the bar where one line passes the other, never on NaN."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from orchestrade.indicators import (
    IndicatorError,
    cross_above,
    cross_below,
    crossed_above,
    crossed_below,
)

NAN = float("nan")


def test_crossed_above_needs_last_above_and_previous_at_or_below() -> None:
    assert crossed_above([1.0, 3.0], [2.0, 2.0])
    assert crossed_above([2.0, 3.0], [2.0, 2.0])
    assert not crossed_above([3.0, 4.0], [2.0, 2.0])
    assert not crossed_above([1.0, 2.0], [2.0, 2.0])


def test_crossed_below_is_the_mirror() -> None:
    assert crossed_below([3.0, 1.0], [2.0, 2.0])
    assert crossed_below([2.0, 1.0], [2.0, 2.0])
    assert not crossed_below([1.0, 0.0], [2.0, 2.0])


def test_a_level_can_stand_for_either_side() -> None:
    assert crossed_above(np.array([25.0, 35.0]), 30)
    assert crossed_below(70.0, pd.Series([65.0, 75.0]))


def test_nan_or_too_short_history_never_crosses() -> None:
    assert not crossed_above([NAN, 3.0], [2.0, 2.0])
    assert not crossed_above([1.0, 3.0], [2.0, NAN])
    assert not crossed_below([3.0, NAN], [2.0, 2.0])
    assert not crossed_above([3.0], [2.0])
    assert not crossed_above([], [])


def test_only_the_last_two_bars_count() -> None:
    assert crossed_above([5.0, 1.0, 3.0], [2.0, 2.0, 2.0])
    assert not crossed_above([1.0, 3.0, 4.0], [2.0, 2.0, 2.0])


def test_vectorised_crosses_mark_every_crossing_bar() -> None:
    a = [1.0, 3.0, 3.0, 1.0, NAN, 3.0, 1.0, 3.0]
    b = 2.0

    above = cross_above(a, b)
    below = cross_below(a, b)

    np.testing.assert_array_equal(above, [False, True, False, False, False, False, False, True])
    np.testing.assert_array_equal(below, [False, False, False, True, False, False, True, False])


def test_vectorised_cross_agrees_with_the_last_bar_test() -> None:
    rng = np.random.default_rng(3)
    a, b = rng.normal(size=200), rng.normal(size=200)

    above = cross_above(a, b)

    assert [crossed_above(a[: i + 1], b[: i + 1]) for i in range(200)] == list(above)


def test_pandas_in_gives_a_boolean_series_on_the_same_index() -> None:
    index = pd.date_range("2024-01-01", periods=3, freq="D", tz="UTC")
    fast = pd.Series([1.0, 3.0, 1.0], index=index)
    slow = pd.Series([2.0, 2.0, 2.0], index=index)

    result = cross_above(fast, slow)

    assert isinstance(result, pd.Series)
    assert result.index.equals(index)
    assert result.tolist() == [False, True, False]


@pytest.mark.parametrize(
    ("a", "b", "message"),
    [
        ([1.0, 2.0], [1.0, 2.0, 3.0], "different lengths"),
        (1.0, 2.0, "at least one series"),
        (["x", "y"], [1.0, 2.0], "not numeric"),
    ],
)
def test_bad_inputs_raise(a: object, b: object, message: str) -> None:
    with pytest.raises(IndicatorError, match=message):
        crossed_above(a, b)  # type: ignore[arg-type]
    with pytest.raises(IndicatorError, match=message):
        cross_above(a, b)  # type: ignore[arg-type]


def test_series_with_different_indexes_are_rejected() -> None:
    a = pd.Series([1.0, 2.0], index=[0, 1])
    b = pd.Series([1.0, 2.0], index=[1, 2])

    with pytest.raises(IndicatorError, match="different indexes"):
        cross_above(a, b)
