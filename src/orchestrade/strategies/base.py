"""Python strategies: subclass `Strategy`, declare parameters as class attributes, and
write `on_bar`.

The same class runs in a backtest (`run_strategy` feeds it a panel's bars in time order)
and live (an agent feeds it bars from a feed): it only ever sees one bar at a time and the
history it was given, so it cannot look ahead.

Example::

    class SmaCross(Strategy):
        fast = 10
        slow = 30

        def on_bar(self, bar: Bar) -> None:
            closes = self.closes(bar.symbol, self.slow + 1)
            fast, slow = sma(closes, self.fast), sma(closes, self.slow)
            if crossed_above(fast, slow):
                self.buy(bar.symbol, reasons=("golden_cross",))
            elif crossed_below(fast, slow):
                self.close(bar.symbol, reasons=("dead_cross",))
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any, ClassVar

import numpy as np
import numpy.typing as npt

from orchestrade.domain import Bar, Signal, SignalSide, StrategyId, Symbol
from orchestrade.strategies.errors import ParameterError, StrategyError
from orchestrade.strategies.spec import closest

ParameterValue = int | float | bool | str


class Strategy:
    """Base class of Python strategies.

    Parameters are the public class attributes holding an int, float, bool or str;
    keyword arguments of the constructor override them (an unknown name fails and names
    the closest valid one; a value must have the default's type, an int parameter takes
    integral numbers only).

    Signals: `buy` emits an entry, `close` an exit, both decided at the current bar's
    close and stamped with its start time. `position` is the position the signals imply:
    long from a buy until the next close (no quantities: sizing is the kernel's or the
    risk engine's job).
    """

    strategy_id: ClassVar[str | None] = None

    def __init__(self, **params: object) -> None:
        defaults = self.parameters()
        for name, value in params.items():
            if name not in defaults:
                valid = ", ".join(defaults) or "none"
                raise ParameterError(
                    f"{type(self).__name__} has no parameter {name!r}"
                    f"{closest(name, list(defaults))} (valid: {valid})"
                )
            setattr(self, name, _checked(type(self).__name__, name, value, defaults[name]))
        self._id = StrategyId(self.strategy_id or type(self).__name__)
        self._closes: dict[str, list[float]] = {}
        self._long: set[str] = set()
        self._pending: list[Signal] = []
        self._bar: Bar | None = None

    @classmethod
    def parameters(cls) -> dict[str, ParameterValue]:
        """The parameters and their class-level defaults, in definition order."""
        found: dict[str, ParameterValue] = {}
        for klass in reversed(cls.__mro__):
            if klass is object or klass is Strategy:
                continue
            for name, value in vars(klass).items():
                if not name.startswith("_") and isinstance(value, int | float | bool | str):
                    found[name] = value
        found.pop("strategy_id", None)
        return found

    def on_bar(self, bar: Bar) -> None:
        """The user hook: called once per bar, after the bar joined the history."""
        raise NotImplementedError(f"{type(self).__name__} must implement on_bar(bar)")

    def update(self, bar: Bar) -> list[Signal]:
        """Record `bar`, call `on_bar`, and return the signals it emitted."""
        self._closes.setdefault(bar.symbol, []).append(float(bar.close))
        self._bar = bar
        self._pending = []
        try:
            self.on_bar(bar)
        finally:
            self._bar = None
        return self._pending

    def closes(self, symbol: str, count: int) -> npt.NDArray[np.float64]:
        """The last `count` closes of `symbol` up to the current bar (fewer early on)."""
        if isinstance(count, bool) or not isinstance(count, int) or count < 1:
            raise StrategyError(f"closes count must be a positive integer, got {count!r}")
        history = self._closes.get(symbol, [])
        return np.array(history[-count:], dtype=np.float64)

    def bar_count(self, symbol: str) -> int:
        """How many bars of `symbol` the strategy has seen."""
        return len(self._closes.get(symbol, ()))

    def buy(self, symbol: str, confidence: float = 1.0, reasons: Iterable[str] = ()) -> Signal:
        """Emit an entry signal for `symbol` at the current bar."""
        self._long.add(symbol)
        return self._emit(symbol, SignalSide.BUY, confidence, reasons)

    def close(self, symbol: str, confidence: float = 1.0, reasons: Iterable[str] = ()) -> Signal:
        """Emit an exit signal for `symbol` at the current bar (whether or not long)."""
        self._long.discard(symbol)
        return self._emit(symbol, SignalSide.SELL, confidence, reasons)

    def position(self, symbol: str) -> bool:
        """True while the signals imply a long position in `symbol`."""
        return symbol in self._long

    def _emit(
        self, symbol: str, side: SignalSide, confidence: float, reasons: Iterable[str]
    ) -> Signal:
        bar = self._bar
        if bar is None:
            raise StrategyError("buy/close can only be called from on_bar")
        if symbol != bar.symbol:
            raise StrategyError(
                f"signals are decided at a bar of their own symbol: got {symbol!r} during a "
                f"bar of {bar.symbol!r}"
            )
        signal = Signal(
            time=bar.start,
            symbol=Symbol(symbol),
            side=side,
            confidence=confidence,
            strategy_id=self._id,
            reasons=tuple(reasons),
            reference_price=bar.close,
        )
        self._pending.append(signal)
        return signal


def _checked(owner: str, name: str, value: object, default: ParameterValue) -> Any:
    where = f"{owner} parameter {name!r}"
    if isinstance(default, bool):
        if not isinstance(value, bool):
            raise ParameterError(f"{where} must be a bool, got {value!r}")
        return value
    if isinstance(default, str):
        if not isinstance(value, str):
            raise ParameterError(f"{where} must be a string, got {value!r}")
        return value
    if isinstance(value, bool) or not isinstance(value, int | float | np.integer | np.floating):
        raise ParameterError(f"{where} must be a number, got {value!r}")
    if isinstance(default, int):
        if not float(value).is_integer():
            raise ParameterError(f"{where} must be an integer, got {value!r}")
        return int(value)
    return float(value)
