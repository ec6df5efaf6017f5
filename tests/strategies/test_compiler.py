"""compile_signals: every operator on hand-computed cases, NaN and gap handling,
confidence and reasons, order prices, and no look-ahead."""

from __future__ import annotations

from typing import Any

import hypothesis.strategies as st
import numpy as np
import pytest
import talib
from hypothesis import HealthCheck, given, settings

from orchestrade.data import BarPanel
from orchestrade.strategies import (
    SignalArrays,
    SignalArraysError,
    builtin_spec,
    compile_signals,
    load_spec,
)
from orchestrade.strategies.reference import previous_bars

from .conftest import make_panel

CLOSE = [1.0, 3.0, 2.0, 5.0, 4.0]


def compile_entry(entry: dict[str, Any], panel: BarPanel, **extra: Any) -> SignalArrays:
    document = {"name": "t", "entry": entry, **extra}
    return compile_signals(load_spec(document), panel)


def entries_of(entry: dict[str, Any], close: Any = CLOSE, **extra: Any) -> list[bool]:
    signals = compile_entry(entry, make_panel([close]), **extra)
    return list(signals.entries[0].tolist())


@pytest.mark.parametrize(
    ("entry", "expected"),
    [
        ({"gt": ["close", 2.5]}, [False, True, False, True, True]),
        ({"lt": ["close", 2.5]}, [True, False, True, False, False]),
        ({"ge": ["close", 2]}, [False, True, True, True, True]),
        ({"le": ["close", 2]}, [True, False, True, False, False]),
        ({"between": ["close", 2, 4]}, [False, True, True, False, True]),
        ({"cross_above": ["close", 2.5]}, [False, True, False, True, False]),
        ({"cross_below": ["close", 2.5]}, [False, False, True, False, False]),
        ({"cross_above": [2.5, "close"]}, [False, False, True, False, False]),
        (
            {"all": [{"gt": ["close", 1.5]}, {"lt": ["close", 4.5]}]},
            [False, True, True, False, True],
        ),
        (
            {"any": [{"lt": ["close", 1.5]}, {"gt": ["close", 4.5]}]},
            [True, False, False, True, False],
        ),
        ({"not": {"gt": ["close", 2.5]}}, [True, False, True, False, False]),
        ({"gt": [{"add": ["close", 1]}, 4.5]}, [False, False, False, True, True]),
        ({"gt": [{"sub": ["close", 1]}, 2.5]}, [False, False, False, True, True]),
        ({"gt": [{"mul": ["close", 2]}, 7]}, [False, False, False, True, True]),
        ({"lt": [{"div": [1, "close"]}, 0.3]}, [False, False, False, True, True]),
        ({"gt": ["close", "$level"]}, [False, False, False, True, True]),
    ],
)
def test_each_operator_on_a_hand_computed_series(
    entry: dict[str, Any], expected: list[bool]
) -> None:
    extra = {"parameters": {"level": {"default": 3.5, "type": "float"}}}

    assert entries_of(entry, **extra) == expected


def test_cross_needs_strictly_above_now_and_at_most_equal_before() -> None:
    close = [1.0, 2.0, 2.0, 3.0, 2.0, 2.0, 1.0]

    assert entries_of({"cross_above": ["close", 2]}, close) == [
        False,
        False,
        False,
        True,
        False,
        False,
        False,
    ]
    assert entries_of({"cross_below": ["close", 2]}, close) == [
        False,
        False,
        False,
        False,
        False,
        False,
        True,
    ]


def test_comparisons_with_nan_are_false_and_not_makes_them_true() -> None:
    panel = make_panel([CLOSE])
    entry = {"gt": ["ma", 0]}
    extra = {"indicators": {"ma": {"fn": "sma", "params": {"timeperiod": 3}}}}

    signals = compile_entry(entry, panel, **extra)
    negated = compile_entry({"not": entry}, panel, **extra)
    between = compile_entry({"between": ["close", "ma", 10]}, panel, **extra)

    assert signals.entries[0].tolist() == [False, False, True, True, True]
    assert negated.entries[0].tolist() == [True, True, False, False, False]
    assert between.entries[0].tolist() == [False, False, True, True, True]


def test_division_by_zero_gives_nan_not_an_error() -> None:
    zero = {"sub": ["close", "close"]}

    assert entries_of({"gt": [{"div": ["close", zero]}, 0]}) == [False] * 5
    assert entries_of({"lt": [{"div": ["close", zero]}, 0]}) == [False] * 5


def test_cross_needs_both_bars_defined() -> None:
    extra = {"indicators": {"ma": {"fn": "sma", "params": {"timeperiod": 2}}}}
    close = [5.0, 1.0, 3.0, 1.0, 3.0]
    # ma: nan, 3, 2, 2, 2 -> close above ma at t=2 (3 > 2, before 1 <= 3) and t=4

    assert entries_of({"cross_above": ["close", "ma"]}, close, **extra) == [
        False,
        False,
        True,
        False,
        True,
    ]
    # t=1 has ma defined but t=0 not: no cross even though close < ma there.
    assert entries_of({"cross_below": ["close", "ma"]}, close, **extra) == [
        False,
        False,
        False,
        True,
        False,
    ]


def test_gaps_are_skipped_the_previous_bar_is_the_symbols_own() -> None:
    nan = np.nan
    panel = make_panel([[1.0, nan, 3.0, nan, 1.0], [1.0, 2.0, 3.0, 4.0, 5.0]])

    signals = compile_entry(
        {"cross_above": ["close", 2]}, panel, exit={"cross_below": ["close", 2]}
    )

    assert signals.entries.tolist() == [
        [False, False, True, False, False],
        [False, False, True, False, False],
    ]
    assert signals.exits.tolist() == [[False, False, False, False, True], [False] * 5]


def test_bars_without_data_never_signal() -> None:
    nan = np.nan
    panel = make_panel([[nan, 1.0, nan, 2.0]])

    signals = compile_entry({"not": {"gt": ["close", 100]}}, panel)

    assert signals.entries.tolist() == [[False, True, False, True]]


def test_indicators_are_computed_on_each_symbols_own_bars() -> None:
    rng = np.random.default_rng(3)
    late = np.concatenate([np.full(10, np.nan), 100 + rng.normal(0, 1, 40).cumsum()])
    gappy = 100 + rng.normal(0, 1, 50).cumsum()
    gappy[[20, 21, 35]] = np.nan
    panel = make_panel([late, gappy])
    spec = load_spec(
        {
            "name": "t",
            "indicators": {"ma": {"fn": "ema", "params": {"timeperiod": 5}}},
            "entry": {"cross_above": ["close", "ma"]},
        }
    )

    signals = compile_signals(spec, panel)

    for row, close in enumerate((late, gappy)):
        bars = np.flatnonzero(~np.isnan(close))
        ma = talib.EMA(close[bars], 5)
        own = close[bars]
        expected = np.zeros(close.size, dtype=bool)
        expected[bars[1:]] = (own[1:] > ma[1:]) & (own[:-1] <= ma[:-1])
        assert signals.entries[row].tolist() == expected.tolist()
    assert signals.entries.any()


def test_previous_bars_points_at_each_symbols_last_bar() -> None:
    present = np.array([[True, False, True, True], [False, True, False, True]])

    assert previous_bars(present).tolist() == [[-1, 0, 0, 2], [-1, -1, 1, 1]]


def test_exit_wins_over_entry_on_the_same_bar() -> None:
    signals = compile_entry({"gt": ["close", 0]}, make_panel([CLOSE]), exit={"gt": ["close", 3]})

    assert signals.entries[0].tolist() == [True, True, True, False, False]
    assert signals.exits[0].tolist() == [False, False, False, True, True]
    assert np.isnan(signals.entry_confidence[0, 3:]).all()


def test_default_confidence_of_an_any_group_is_the_share_of_reasons_that_hold() -> None:
    entry = {
        "any": [
            {"gt": ["close", 2.5], "reason": "above"},
            {"gt": ["close", 4.5], "reason": "high"},
            {"lt": ["close", 1.5]},
        ]
    }

    signals = compile_entry(entry, make_panel([CLOSE]))

    assert signals.entries[0].tolist() == [True, True, False, True, True]
    np.testing.assert_array_equal(signals.entry_confidence[0], [0.0, 0.5, np.nan, 1.0, 0.5])
    assert [signals.reasons_of(0, t) for t in range(5)] == [
        (),
        ("above",),
        (),
        ("above", "high"),
        ("above",),
    ]


def test_any_group_without_reasons_counts_every_condition() -> None:
    entry = {"any": [{"gt": ["close", 2.5]}, {"gt": ["close", 4.5]}, {"lt": ["close", 1.5]}]}

    signals = compile_entry(entry, make_panel([CLOSE]))

    np.testing.assert_array_equal(signals.entry_confidence[0], [1 / 3, 1 / 3, np.nan, 2 / 3, 1 / 3])


def test_all_group_fires_with_confidence_one_and_terms_adjust_it() -> None:
    entry = {"all": [{"gt": ["close", 1.5], "reason": "up"}]}
    confidence = {
        "entry": {
            "terms": [
                {"when": {"gt": ["close", 4.5]}, "add": 0.5, "reason": "strong"},
                {"when": {"lt": ["close", 2.5]}, "add": -0.25, "reason": "weak"},
            ]
        }
    }

    plain = compile_entry(entry, make_panel([CLOSE]))
    adjusted = compile_entry(entry, make_panel([CLOSE]), confidence=confidence)

    np.testing.assert_array_equal(plain.entry_confidence[0], [np.nan, 1, 1, 1, 1])
    np.testing.assert_array_equal(adjusted.entry_confidence[0], [np.nan, 1, 0.75, 1, 1])
    assert adjusted.reason_names == ("strong", "up", "weak")
    assert [adjusted.reasons_of(0, t) for t in range(5)] == [
        (),
        ("up",),
        ("up", "weak"),
        ("strong", "up"),
        ("up",),
    ]


def test_base_confidence_plus_terms_is_clipped_to_the_unit_interval() -> None:
    confidence = {
        "entry": {
            "base": 0.6,
            "terms": [
                {"when": {"gt": ["close", 2.5]}, "add": 0.3},
                {"when": {"gt": ["close", 4.5]}, "add": 0.3},
                {"when": {"lt": ["close", 1.5]}, "add": -0.7},
            ],
        },
        "exit": {"base": 0.4},
    }

    signals = compile_entry(
        {"gt": ["close", 0]},
        make_panel([CLOSE]),
        exit={"gt": ["close", 100]},
        confidence=confidence,
    )

    np.testing.assert_allclose(signals.entry_confidence[0], [0.0, 0.9, 0.6, 1.0, 0.9])


def test_limit_and_stop_orders_price_the_entry_off_the_signal_close() -> None:
    entry = {"gt": ["close", 2.5]}
    panel = make_panel([CLOSE])

    market = compile_entry(entry, panel)
    limit = compile_entry(entry, panel, order={"type": "limit", "offset": -0.1})
    stop = compile_entry(entry, panel, order={"type": "stop", "offset": 0.02})

    assert market.entry_limit is None
    assert market.entry_stop is None
    assert limit.entry_stop is None
    assert stop.entry_limit is None
    assert limit.entry_limit is not None
    assert stop.entry_stop is not None
    np.testing.assert_allclose(limit.entry_limit[0], [np.nan, 2.7, np.nan, 4.5, 3.6])
    np.testing.assert_allclose(stop.entry_stop[0], [np.nan, 3.06, np.nan, 5.1, 4.08])


def test_parameter_overrides_change_the_signals() -> None:
    spec = builtin_spec("sma_cross")
    rng = np.random.default_rng(5)
    panel = make_panel([100 + rng.normal(0, 1, 200).cumsum()])

    default = compile_signals(spec, panel)
    faster = compile_signals(spec, panel, {"fast": 3, "slow": 8})

    assert faster == compile_signals(spec.with_params(fast=3, slow=8), panel)
    assert faster.entries.sum() > default.entries.sum()


def test_malformed_panels_are_rejected() -> None:
    panel = make_panel([CLOSE])
    spec = builtin_spec("sma_cross")
    broken_volume = panel.volume.copy()
    broken_volume[0, 2] = np.nan

    class Short:
        symbols = ("S0",)
        timestamps = panel.timestamps
        open = high = low = close = panel.close
        volume = panel.volume[:, :3]

    class Holey(Short):
        volume = broken_volume

    with pytest.raises(SignalArraysError, match=r"panel volume must be float64 shaped \(1, 5\)"):
        compile_signals(spec, Short())
    with pytest.raises(SignalArraysError, match="has a close but no finite volume"):
        compile_signals(builtin_spec("nasdaq_growth"), Holey())
    assert not compile_signals(spec, Holey()).entries.any()  # sma_cross reads only closes


LOOKAHEAD_SPECS = [
    ("sma_cross", {"fast": 3, "slow": 5}),
    ("nasdaq_growth", {"fast": 2, "slow": 5, "rsi_period": 3, "rsi_window": 3, "volume_period": 5}),
    ("nyse_value", {"bb_period": 5, "rsi_period": 3}),
    ("bollinger_bounce", {"bb_period": 5}),
    ("macd_momentum", {"fast": 3, "slow": 6, "signal": 3, "trend_period": 10}),
    ("rsi_reversion", {"rsi_period": 3, "trend_period": 50}),
]


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    steps=st.lists(st.floats(-0.08, 0.08), min_size=30, max_size=60),
    volumes=st.lists(st.integers(0, 5_000), min_size=60, max_size=60),
    start=st.integers(0, 5),
    cut=st.integers(5, 29),
    future=st.lists(st.floats(-0.3, 0.3), min_size=60, max_size=60),
)
def test_changing_future_bars_never_changes_past_signals(
    steps: list[float],
    volumes: list[int],
    start: int,
    cut: int,
    future: list[float],
) -> None:
    n = len(steps)
    close = 100 * np.exp(np.cumsum(steps))
    close[:start] = np.nan
    other = close.copy()
    other[cut + 1 :] *= np.exp(np.asarray(future[: n - cut - 1]))
    volume = np.where(np.isnan(close), np.nan, np.asarray(volumes[:n], dtype=float))
    other_volume = volume.copy()
    other_volume[cut + 1 :] = np.asarray(volumes[::-1][: n - cut - 1], dtype=float)
    original = make_panel([close], volume=[volume], spread=0.5)
    changed = make_panel([other], volume=[other_volume], spread=0.5)

    for name, params in LOOKAHEAD_SPECS:
        spec = builtin_spec(name).with_params(**params)
        before, after = compile_signals(spec, original), compile_signals(spec, changed)
        past = slice(0, cut + 1)
        for field in ("entries", "exits", "entry_confidence", "exit_confidence", "reasons"):
            np.testing.assert_array_equal(
                getattr(before, field)[:, past], getattr(after, field)[:, past], err_msg=name
            )
