"""Python strategies: parameters, history helpers, implied positions, and the runner."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal

import numpy as np
import pytest

from orchestrade.data import BarPanel
from orchestrade.domain import Bar, SignalSide, Symbol
from orchestrade.indicators import crossed_above, crossed_below, sma
from orchestrade.strategies import (
    ParameterError,
    Strategy,
    StrategyError,
    builtin_spec,
    compile_signals,
    run_strategy,
)

from .conftest import make_panel, subpanel


class SmaCross(Strategy):
    """The sma_cross built-in written as a class, the way STYLE.md shows it."""

    fast = 10
    slow = 30

    def on_bar(self, bar: Bar) -> None:
        closes = self.closes(bar.symbol, self.slow + 1)
        if closes.size < self.slow + 1:
            return
        fast, slow = sma(closes, self.fast), sma(closes, self.slow)
        if crossed_above(fast, slow):
            self.buy(bar.symbol, reasons=("golden_cross",))
        elif crossed_below(fast, slow):
            self.close(bar.symbol, reasons=("dead_cross",))


class Recorder(Strategy):
    """Buys on the first bar, closes on the third, remembers what it saw."""

    window = 3
    label = "x"
    enabled = True
    ratio = 0.5

    def __init__(self, **params: object) -> None:
        super().__init__(**params)
        self.seen: list[tuple[list[float], bool]] = []

    def on_bar(self, bar: Bar) -> None:
        count = self.bar_count(bar.symbol)
        self.seen.append((self.closes(bar.symbol, self.window).tolist(), self.position(bar.symbol)))
        if count == 1:
            self.buy(bar.symbol, confidence=0.8, reasons=("first",))
        elif count == 3:
            self.close(bar.symbol)


def test_parameters_are_the_public_class_attributes() -> None:
    assert Recorder.parameters() == {"window": 3, "label": "x", "enabled": True, "ratio": 0.5}
    assert SmaCross.parameters() == {"fast": 10, "slow": 30}


def test_constructor_overrides_parameters_with_type_checks() -> None:
    strategy = SmaCross(fast=5, slow=20.0)

    assert (strategy.fast, strategy.slow) == (5, 20)
    assert isinstance(strategy.slow, int)
    assert SmaCross.fast == 10
    assert Recorder(ratio=1).ratio == 1.0


@pytest.mark.parametrize(
    ("params", "message"),
    [
        (
            {"fsat": 3},
            "SmaCross has no parameter 'fsat'; did you mean 'fast'\\? \\(valid: fast, slow\\)",
        ),
        ({"fast": 2.5}, "parameter 'fast' must be an integer"),
        ({"fast": "5"}, "parameter 'fast' must be a number"),
        ({"fast": True}, "parameter 'fast' must be a number"),
    ],
)
def test_bad_parameters_fail_fast(params: dict[str, object], message: str) -> None:
    with pytest.raises(ParameterError, match=message):
        SmaCross(**params)


def test_bool_and_str_parameters_keep_their_type() -> None:
    with pytest.raises(ParameterError, match="must be a bool"):
        Recorder(enabled=1)
    with pytest.raises(ParameterError, match="must be a string"):
        Recorder(label=1)


def day(n: int) -> datetime:
    return datetime(2024, 3, 1 + n, tzinfo=UTC)


def bar(n: int, close: float, symbol: str = "AAA") -> Bar:
    price = Decimal(repr(close))
    return Bar(Symbol(symbol), "1d", day(n), price, price, price, price, Decimal(1))


def test_history_signals_and_implied_position() -> None:
    strategy = Recorder()

    emitted = [strategy.update(bar(n, c)) for n, c in enumerate([10.0, 11.0, 12.0, 13.0])]

    assert strategy.seen == [
        ([10.0], False),
        ([10.0, 11.0], True),
        ([10.0, 11.0, 12.0], True),
        ([11.0, 12.0, 13.0], False),
    ]
    (buy,) = emitted[0]
    assert (buy.time, buy.side, buy.confidence, buy.reasons) == (
        day(0),
        SignalSide.BUY,
        0.8,
        ("first",),
    )
    assert buy.reference_price == Decimal("10.0")
    assert buy.strategy_id == "Recorder"
    assert [len(signals) for signals in emitted] == [1, 0, 1, 0]
    assert emitted[2][0].side is SignalSide.SELL
    assert not strategy.position("AAA")


def test_signals_only_from_on_bar_and_for_the_bars_symbol() -> None:
    class Wrong(Strategy):
        def on_bar(self, bar: Bar) -> None:
            self.buy("OTHER")

    with pytest.raises(StrategyError, match="only be called from on_bar"):
        Recorder().buy("AAA")
    with pytest.raises(StrategyError, match="got 'OTHER' during a bar of 'AAA'"):
        Wrong().update(bar(0, 1.0))
    with pytest.raises(StrategyError, match="positive integer"):
        Recorder().closes("AAA", 0)


def test_a_strategy_without_on_bar_says_so() -> None:
    with pytest.raises(NotImplementedError, match="Strategy must implement on_bar"):
        Strategy().update(bar(0, 1.0))


def test_runner_feeds_bars_in_time_order_and_skips_gaps() -> None:
    nan = np.nan
    panel = make_panel([[1.0, nan, 2.0, 3.0], [nan, 5.0, 6.0, 7.0]])
    strategy_seen: list[tuple[str, datetime]] = []

    class Spy(Strategy):
        def on_bar(self, bar: Bar) -> None:
            strategy_seen.append((bar.symbol, bar.start))
            if self.bar_count(bar.symbol) == 2:
                self.buy(bar.symbol, confidence=0.7, reasons=("second",))

    signals = run_strategy(Spy, panel)

    stamps = [datetime(2024, 1, 1 + n, tzinfo=UTC) for n in range(4)]
    assert strategy_seen == [
        ("S0", stamps[0]),
        ("S1", stamps[1]),
        ("S0", stamps[2]),
        ("S1", stamps[2]),
        ("S0", stamps[3]),
        ("S1", stamps[3]),
    ]
    assert signals.entries.tolist() == [[False, False, True, False], [False, False, True, False]]
    assert signals.reason_names == ("second",)
    assert signals.entry_confidence[0, 2] == 0.7


@pytest.mark.shared_data
def test_class_and_spec_give_identical_signal_arrays_on_real_data(krx_panel: BarPanel) -> None:
    panel = subpanel(krx_panel, ("069500", "229200", "305720"))

    from_class = run_strategy(SmaCross, panel, {"fast": 10, "slow": 30})
    from_spec = compile_signals(builtin_spec("sma_cross"), panel)

    assert from_class == from_spec
    assert from_spec.entries.sum() > 50
