"""The streaming engine gives exactly the array form's signals, bar by bar."""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime
from decimal import Decimal

import numpy as np
import pytest

from orchestrade.data import BarPanel
from orchestrade.domain import Bar, BotId, SignalSide, Symbol
from orchestrade.strategies import (
    StrategyError,
    StrategySpec,
    builtin_names,
    builtin_spec,
    compile_signals,
    compile_streaming,
    load_spec,
    replay_signals,
)

from .conftest import make_panel, subpanel

PARITY_SYMBOLS = ("035420", "122630", "252670", "360750")
"""NAVER (2002-2023), a leveraged and an inverse ETF, and a late listing (2020)."""


def assert_same_signals(spec_name_or_spec: str | StrategySpec, panel: BarPanel) -> int:
    spec = (
        builtin_spec(spec_name_or_spec) if isinstance(spec_name_or_spec, str) else spec_name_or_spec
    )
    arrays = compile_signals(spec, panel)
    streamed = replay_signals(compile_streaming(spec), panel, reason_names=spec.reason_names)

    assert list(streamed.rows()) == list(arrays.rows())
    assert streamed == arrays
    return int(arrays.entries.sum() + arrays.exits.sum())


@pytest.mark.shared_data
@pytest.mark.parametrize("name", builtin_names())
def test_streaming_equals_arrays_for_every_builtin_on_real_krx_data(
    name: str, krx_panel: BarPanel
) -> None:
    panel = subpanel(krx_panel, PARITY_SYMBOLS)

    signals = assert_same_signals(name, panel)

    assert signals > 20


WINDOWED = {
    "name": "windowed",
    "parameters": {"level": {"default": 20, "type": "float"}},
    "indicators": {
        "adx": {"fn": "adx", "params": {"timeperiod": 14}},
        "cci": {"fn": "cci", "params": {"timeperiod": 20}},
        "wma": {"fn": "wma", "params": {"timeperiod": 10}},
        "ema": {"fn": "ema", "params": {"timeperiod": 10}},
        "stoch": {"fn": "stoch"},
        "atr": {"fn": "atr"},
        "obv": {"fn": "obv"},
        "obv_ma": {"fn": "sma", "input": "obv", "params": {"timeperiod": 10}},
        "kama": {"fn": "kama", "params": {"timeperiod": 10}},
        "rsi": {"fn": "rsi", "params": {"timeperiod": 14}},
        "rsi_top": {"fn": "max", "input": "rsi", "params": {"timeperiod": 5}},
    },
    "entry": {
        "all": [
            {"gt": ["adx", "$level"], "reason": "trending"},
            {"cross_above": ["cci", -100], "reason": "cci_turn"},
        ]
    },
    "exit": {
        "any": [
            {"cross_below": ["stoch.slowk", "stoch.slowd"], "reason": "stoch_down"},
            {"cross_below": ["wma", "ema"], "reason": "wma_below_ema"},
            {"cross_below": ["close", "kama"], "reason": "below_kama"},
        ]
    },
    "confidence": {
        "entry": {
            "base": 0.5,
            "terms": [
                {"when": {"gt": ["obv", "obv_ma"]}, "add": 0.2, "reason": "obv_rising"},
                {"when": {"lt": ["atr", {"mul": ["close", 0.03]}]}, "add": 0.2},
                {"when": {"lt": ["rsi_top", 70]}, "add": 0.1, "reason": "not_overbought"},
            ],
        }
    },
}


@pytest.mark.shared_data
def test_window_feeds_and_other_twins_equal_the_batch_values_on_real_data(
    krx_panel: BarPanel,
) -> None:
    panel = subpanel(krx_panel, ("252670", "360750"))

    signals = assert_same_signals(load_spec(WINDOWED), panel)

    assert signals > 100


def day(n: int) -> datetime:
    return datetime(2024, 1, 1 + n, tzinfo=UTC)


def bar(symbol: str, n: int, close: float) -> Bar:
    price = Decimal(repr(close))
    return Bar(Symbol(symbol), "1d", day(n), price, price, price, price, Decimal(100))


def test_engine_emits_domain_signals_with_confidence_reasons_and_price() -> None:
    engine = compile_streaming(
        builtin_spec("sma_cross"), {"fast": 2, "slow": 3}, strategy_id="bot-a"
    )
    closes = [5.0, 4.0, 3.0, 4.0, 6.0, 3.0, 2.0]

    signals = [s for n, c in enumerate(closes) for s in engine.update(bar("AAA", n, c))]

    assert [(s.time, s.side, s.confidence, s.reasons) for s in signals] == [
        (day(4), SignalSide.BUY, 1.0, ("golden_cross",)),
        (day(6), SignalSide.SELL, 1.0, ("dead_cross",)),
    ]
    assert {s.strategy_id for s in signals} == {"bot-a"}
    assert signals[0].reference_price == Decimal("6.0")


def test_symbols_have_independent_state() -> None:
    engine = compile_streaming(builtin_spec("sma_cross"), {"fast": 2, "slow": 3})
    closes = [5.0, 4.0, 3.0, 4.0, 6.0]

    emitted = []
    for n, close in enumerate(closes):
        emitted += engine.update(bar("AAA", n, close))
        emitted += engine.update(bar("BBB", n, 10.0))

    assert [(s.symbol, s.time) for s in emitted] == [("AAA", day(4))]


def test_non_finite_bar_values_are_refused() -> None:
    engine = compile_streaming(builtin_spec("sma_cross"))

    with pytest.raises(StrategyError, match="non-finite value"):
        engine.on_values("AAA", day(0), 1.0, 1.0, 1.0, float("nan"), 1.0)


def test_replay_of_a_small_panel_with_gaps_matches_the_arrays() -> None:
    rng = np.random.default_rng(11)
    close = 100 + rng.normal(0, 1, (3, 120)).cumsum(axis=1)
    close[0, :30] = np.nan
    close[1, [40, 41, 90]] = np.nan
    panel = make_panel(close, spread=0.7)

    for name in builtin_names():
        spec = builtin_spec(name)
        small = {key: 5 for key in spec.values if key.endswith(("period", "slow"))}
        tuned = spec.with_params(
            **{k: max(v, spec.parameters[k].minimum or 0) for k, v in small.items()}
        )
        assert_same_signals(tuned, panel)


def test_non_finite_values_are_refused_in_fields_the_spec_does_not_read() -> None:
    engine = compile_streaming(builtin_spec("sma_cross"))  # reads only the close

    with pytest.raises(StrategyError, match="non-finite value"):
        engine.on_values("AAA", day(0), 1.0, 1.0, 1.0, 1.0, float("inf"))


def test_the_signals_of_a_slice_are_those_of_update_stamped_with_the_bot() -> None:
    params = {"fast": 2, "slow": 3}
    by_bar = compile_streaming(builtin_spec("sma_cross"), params)
    by_slice = compile_streaming(builtin_spec("sma_cross"), params)
    rows = {"AAA": [5.0, 4.0, 3.0, 4.0, 6.0, 3.0, 2.0], "BBB": [1.0, 2.0, 3.0, 2.0, 1.0, 1.0, 3.0]}

    expected, emitted = [], []
    for n in range(7):
        bars = [bar(symbol, n, closes[n]) for symbol, closes in rows.items()]
        expected += [
            dataclasses.replace(signal, bot_id=BotId("bot-1"))
            for item in bars
            for signal in by_bar.update(item)
        ]
        emitted += by_slice.signals(bars, bot_id=BotId("bot-1"))

    assert emitted == expected
    assert {signal.symbol for signal in emitted} == {"AAA", "BBB"}


def test_bars_of_symbols_left_out_of_a_slice_do_not_feed_the_engine() -> None:
    engine = compile_streaming(builtin_spec("sma_cross"), {"fast": 2, "slow": 3})
    closes = [5.0, 4.0, 3.0, 4.0, 6.0]

    skipped = [
        signal
        for n, close in enumerate(closes)
        for signal in engine.signals([bar("AAA", n, close)], symbols={"BBB"})
    ]
    fed = [s for n, c in enumerate(closes) for s in engine.update(bar("AAA", n, c))]

    assert skipped == []
    assert [(s.symbol, s.time) for s in fed] == [("AAA", day(4))]  # a fresh history


SHAPES = {
    "name": "shapes",
    "parameters": {"level": {"default": 55, "type": "float"}},
    "indicators": {
        "rsi": {"fn": "rsi", "params": {"timeperiod": 5}},
        "ma": {"fn": "sma", "params": {"timeperiod": 4}},
    },
    "entry": {
        "any": [
            {"lt": [70, "rsi"], "reason": "number_left"},
            {"cross_above": ["rsi", "$level"], "reason": "cross_parameter"},
            {
                "all": [
                    {"ge": ["close", "ma"]},
                    {"not": {"between": ["close", {"sub": ["ma", 1]}, {"add": ["ma", 1]}]}},
                ],
                "reason": "above_band",
            },
        ]
    },
    "exit": {"cross_below": ["close", 100], "reason": "below_100"},
    "confidence": {"exit": {"base": 0.4}},
}
"""Every operand shape the streaming conditions specialize (a reference against a reference,
a number or a parameter, a number on the left, arithmetic), groups, a negation, and a lone
exit condition with a fixed confidence."""


def test_every_condition_shape_equals_the_arrays() -> None:
    rng = np.random.default_rng(5)
    close = 100 + rng.normal(0, 1.5, (2, 150)).cumsum(axis=1)
    panel = make_panel(close, spread=0.5)

    signals = assert_same_signals(load_spec(SHAPES), panel)

    assert signals > 20
