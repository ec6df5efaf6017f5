"""Compile a strategy spec to a streaming engine: one bar at a time, per symbol (live path).

The engine keeps, per symbol, one incremental indicator per spec indicator and the
previous bar's values (for crosses), and evaluates the conditions on plain floats with the
same semantics, the same confidence arithmetic and the same reasons as the array form in
`compiler`, so that a backtest and a live agent take the same decisions on the same bars.

Indicators: SMA, EMA, RSI, MACD, BBANDS (SMA middle band), STOCH (SMA smoothing), ATR
and OBV use the O(1) classes of `orchestrade.indicators.streaming`. Any other TA-Lib
function keeps a bounded window of its inputs and calls the TA-Lib batch function on the
window at every bar, taking the last value:

* functions that only pick, compare or combine the values of their last ``lookback + 1``
  bars (MIN, MAX, MIDPOINT, WILLR, AROON, MOM, ROC, ... see `EXACT_WINDOW`) keep exactly
  that many bars, and their value is the batch value bit for bit;
* every other function keeps ``41 * (lookback + 1)`` bars: the seed of a recursive
  function (EMA- or Wilder-smoothed, e.g. ADX, KAMA) then weighs less than float64
  resolution at the window's end, and running sums (WMA, CCI) are recomputed from the
  window. Their values equal the full-history batch values to rounding (about 1e-12
  relative) and exactly on integer-valued data such as KRX prices (tested on real data).

An indicator reading another indicator starts once its input is defined, as TA-Lib skips
leading NaNs.
"""

from __future__ import annotations

import math
import operator
from collections import deque
from collections.abc import Callable, Container, Iterable, Iterator, Mapping, Sequence
from datetime import datetime
from decimal import Decimal
from operator import attrgetter, itemgetter
from typing import Any, NamedTuple, Protocol

import numpy as np
import talib as _talib_module

from orchestrade.domain import Bar, BotId, Signal, SignalSide, StrategyId, Symbol
from orchestrade.indicators import (
    ATR,
    EMA,
    MACD,
    OBV,
    RSI,
    SMA,
    BollingerBands,
    IndicatorError,
    Stochastic,
    describe,
    lookback,
    resolve_parameters,
)
from orchestrade.strategies.compiler import scalar_arithmetic
from orchestrade.strategies.conditions import (
    PRICE_FIELDS,
    Arithmetic,
    Between,
    Comparison,
    Condition,
    Constant,
    Cross,
    Group,
    Negation,
    Operand,
    ParameterRef,
    Reference,
    operands_of,
    walk_conditions,
    walk_operands,
)
from orchestrade.strategies.errors import SpecError, StrategyError
from orchestrade.strategies.spec import (
    ConfidenceRule,
    Indicator,
    ParamValue,
    StrategySpec,
    default_confidence,
    resolved_params,
)

_TALIB: Any = _talib_module  # untyped C extension
NAN = float("nan")
WINDOW_MARGIN = 40
"""Extra window, in multiples of ``lookback + 1``, for functions without a streaming twin."""

EXACT_WINDOW = frozenset(
    {
        "MIN",
        "MAX",
        "MININDEX",
        "MAXINDEX",
        "MINMAX",
        "MINMAXINDEX",
        "MIDPOINT",
        "MIDPRICE",
        "WILLR",
        "AROON",
        "AROONOSC",
        "MOM",
        "ROC",
        "ROCP",
        "ROCR",
        "ROCR100",
        "TRANGE",
        "AVGPRICE",
        "MEDPRICE",
        "TYPPRICE",
        "WCLPRICE",
        "BOP",
    }
)
"""Functions whose value is a pick or a closed formula of their last ``lookback + 1`` bars."""

Values = dict[str, float]


def compile_streaming(
    spec: StrategySpec,
    params: Mapping[str, ParamValue] | None = None,
    *,
    strategy_id: str | None = None,
) -> StreamingSignalEngine:
    """A streaming engine for `spec` with the given parameter overrides.

    Raises:
        ParameterError: a bad parameter override.
        SpecError: an indicator rejected its parameters.
    """
    return StreamingSignalEngine(spec, params, strategy_id=strategy_id)


class StreamingSignalEngine:
    """Consumes bars one at a time (any number of symbols) and emits domain `Signal`s.

    Each signal is stamped with the bar's start time and symbol, side BUY (entry) or SELL
    (exit; it wins when both fire), the confidence and reasons of `spec`'s rules, the
    bar's close as reference price, and `strategy_id` (the spec's name by default).

    Only the price fields the spec reads (its indicators' inputs, its conditions' operands,
    and the close for the reference price) are converted to floats and checked finite: the
    conversion of a `Decimal` is most of the cost of a bar.
    """

    def __init__(
        self,
        spec: StrategySpec,
        params: Mapping[str, ParamValue] | None = None,
        *,
        strategy_id: str | None = None,
    ) -> None:
        self.spec = spec.with_params(**params) if params else spec
        self.strategy_id = StrategyId(strategy_id or self.spec.name)
        self.reason_names = self.spec.reason_names
        self._params = {name: float(value) for name, value in self.spec.values.items()}
        self._feeds = [
            (item, resolved_params(item, self.spec.values))
            for item in self.spec.indicators.values()
        ]
        for indicator, params_ in self._feeds:
            _make_feed(indicator, params_)  # fail now, not at the first bar
        self._symbols: dict[str, _SymbolState] = {}
        spec = self.spec
        self._read = _reader(_fields_read(spec))
        # Compiled once: the per-bar test of the exit and entry conditions. The interpreter
        # (`_ScalarEvaluator`) only runs on the bars where one fires, for confidence and
        # reasons; both evaluate the same expressions on the same floats.
        self._exit_fires = _compiled(spec.exit, self._params) if spec.exit is not None else _never
        self._entry_fires = _compiled(spec.entry, self._params)
        self._entry = _Side(self, SignalSide.BUY, spec.entry, spec.entry_confidence)
        self._exit = (
            _Side(self, SignalSide.SELL, spec.exit, spec.exit_confidence)
            if spec.exit is not None
            else None
        )

    def update(self, bar: Bar) -> list[Signal]:
        """Feed one bar; return the signal decided at its close (a list of zero or one)."""
        return list(self._signals((bar,), None, None))

    def signals(
        self,
        bars: Iterable[Bar],
        *,
        symbols: Container[str] | None = None,
        bot_id: BotId | None = None,
    ) -> Iterator[Signal]:
        """`update` over `bars` in order (one time slice, say): each signal as soon as its
        bar is done, stamped with `bot_id`; bars of symbols not in `symbols` are skipped."""
        return self._signals(bars, symbols, bot_id)

    def on_values(
        self,
        symbol: str,
        time: Any,
        open: float,
        high: float,
        low: float,
        close: float,
        volume: float,
    ) -> Signal | None:
        """`update` from plain numbers; `time` is an aware UTC datetime (the bar start).

        All five numbers must be finite, read by the spec or not.
        """
        isfinite = math.isfinite
        if not (
            isfinite(open)
            and isfinite(high)
            and isfinite(low)
            and isfinite(close)
            and isfinite(volume)
        ):
            bar = (open, high, low, close, volume)
            raise StrategyError(f"bar of {symbol!r} at {time} has a non-finite value: {bar}")
        numbers = _Numbers(Symbol(symbol), time, open, high, low, close, volume)
        return next(self._signals((numbers,), None, None), None)

    def _signals(
        self,
        bars: Iterable[_BarFields],
        symbols: Container[str] | None,
        bot_id: BotId | None,
    ) -> Iterator[Signal]:
        # One loop for every entry point: it runs for each bar of every slice, so the
        # per-symbol state is one lookup and nothing is called that need not be.
        read = self._read
        states = self._symbols
        exit_fires, entry_fires = self._exit_fires, self._entry_fires
        for bar in bars:
            symbol = bar.symbol
            if symbols is not None and symbol not in symbols:
                continue
            values = read(bar)
            if values is None:
                numbers = (
                    float(bar.open),
                    float(bar.high),
                    float(bar.low),
                    float(bar.close),
                    float(bar.volume),
                )
                raise StrategyError(
                    f"bar of {symbol!r} at {bar.start} has a non-finite value: {numbers}"
                )
            state = states.get(symbol)
            if state is None:
                state = states[symbol] = _SymbolState(
                    tuple(_make_feed(item, params) for item, params in self._feeds)
                )
            for feed in state.feeds:
                feed(values)
            previous = state.previous
            state.previous = values
            if exit_fires(values, previous):
                side = self._exit
                assert side is not None  # no exit: its test is `_never`
            elif entry_fires(values, previous):
                side = self._entry
            else:
                continue
            yield side.signal(symbol, bar.start, values, previous, bot_id)


class _BarFields(Protocol):
    """What the engine reads of a bar: a domain `Bar`, or `_Numbers` (`on_values`)."""

    @property
    def symbol(self) -> Symbol: ...
    @property
    def start(self) -> datetime: ...
    @property
    def open(self) -> Decimal | float: ...
    @property
    def high(self) -> Decimal | float: ...
    @property
    def low(self) -> Decimal | float: ...
    @property
    def close(self) -> Decimal | float: ...
    @property
    def volume(self) -> Decimal | float: ...


class _Numbers(NamedTuple):
    symbol: Symbol
    start: datetime
    open: float
    high: float
    low: float
    close: float
    volume: float


Feed = Callable[[Values], None]
"""One indicator of one symbol: reads its inputs from the bar's values, writes its outputs."""


class _SymbolState:
    __slots__ = ("feeds", "previous")

    def __init__(self, feeds: tuple[Feed, ...]) -> None:
        self.feeds = feeds
        self.previous: Values | None = None


BarReader = Callable[[_BarFields], "Values | None"]


def _fields_read(spec: StrategySpec) -> tuple[str, ...]:
    """The price fields `spec` reads, in `PRICE_FIELDS` order; the close always (it is the
    signals' reference price)."""
    wanted = {"close"}
    for indicator in spec.indicators.values():
        if indicator.input is not None:
            wanted.add(indicator.input)
        else:
            wanted.update(describe(indicator.fn).inputs)
    conditions = [spec.entry, *([spec.exit] if spec.exit is not None else [])]
    for rule in (spec.entry_confidence, spec.exit_confidence):
        conditions += [term.when for term in rule.terms]
    for condition in conditions:
        for node in walk_conditions(condition):
            for operand in operands_of(node):
                for item in walk_operands(operand):
                    if isinstance(item, Reference):
                        wanted.add(item.key)
    return tuple(name for name in PRICE_FIELDS if name in wanted)


def _reader(fields: Sequence[str]) -> BarReader:
    """``bar -> {field: float}`` for `fields`, or None when one of them is not finite."""
    if tuple(fields) == ("close",):  # most specs: one conversion, no loop

        def read_close(bar: _BarFields) -> Values | None:
            close = float(bar.close)
            return {"close": close} if close - close == 0.0 else None

        return read_close
    getters = tuple((name, attrgetter(name)) for name in fields)

    def read(bar: _BarFields) -> Values | None:
        values: Values = {}
        for name, get in getters:
            value = float(get(bar))
            if value - value != 0.0:  # NaN or infinite
                return None
            values[name] = value
        return values

    return read


class _Side:
    """One side's signals: the confidence and reasons of its condition and rule, evaluated
    on the bars where the condition fires (the walks of the condition trees are done once,
    here)."""

    __slots__ = ("_engine", "_known", "_reasoned", "_rule", "_shares", "_terms", "side")

    def __init__(
        self,
        engine: StreamingSignalEngine,
        side: SignalSide,
        condition: Condition,
        rule: ConfidenceRule,
    ) -> None:
        self._engine = engine
        self.side = side
        self._rule = rule
        self._shares = default_confidence(condition)
        self._reasoned = _reasoned(condition)
        self._terms = tuple((term, _reasoned(term.when)) for term in rule.terms)
        self._known: tuple[float, tuple[str, ...]] | None = None
        if not isinstance(condition, Group | Negation) and not rule.terms:
            # One comparison or cross, and it fired: it is true, its reason is the only
            # one, and the confidence is the base (1.0 by default) on every signal.
            confidence = rule.base if rule.base is not None else 1.0
            reasons = tuple(name for name in engine.reason_names if name == condition.reason)
            self._known = (min(max(confidence, 0.0), 1.0), reasons)

    def signal(
        self,
        symbol: Symbol,
        time: datetime,
        now: Values,
        previous: Values | None,
        bot_id: BotId | None,
    ) -> Signal:
        engine = self._engine
        known = self._known
        confidence, reasons = (
            known if known is not None else self._confidence_and_reasons(now, previous)
        )
        return Signal(
            time=time,
            symbol=symbol,
            side=self.side,
            confidence=confidence,
            strategy_id=engine.strategy_id,
            bot_id=bot_id,
            reasons=reasons,
            reference_price=Decimal(repr(now["close"])),
        )

    def _confidence_and_reasons(
        self, now: Values, previous: Values | None
    ) -> tuple[float, tuple[str, ...]]:
        engine = self._engine
        truth = _ScalarEvaluator(now, previous, engine._params).truth
        rule, shares = self._rule, self._shares
        if rule.base is not None:
            confidence = rule.base
        elif shares is not None:
            confidence = sum(truth(item) for item in shares) / len(shares)
        else:
            confidence = 1.0
        reasons = {reason for node, reason in self._reasoned if truth(node)}
        for term, reasoned in self._terms:
            if truth(term.when):
                confidence = confidence + term.add
                if term.reason is not None:
                    reasons.add(term.reason)
                reasons.update(reason for node, reason in reasoned if truth(node))
        ordered = tuple(name for name in engine.reason_names if name in reasons)
        return min(max(confidence, 0.0), 1.0), ordered


def _reasoned(condition: Condition) -> tuple[tuple[Condition, str], ...]:
    """The nodes of `condition` that carry a reason, depth first, with their reason."""
    return tuple(
        (node, node.reason) for node in walk_conditions(condition) if node.reason is not None
    )


class _Feed:
    """One indicator of one symbol: reads its inputs from `values`, writes its outputs."""

    def __init__(
        self,
        indicator: Indicator,
        columns: Sequence[str],
        step: Callable[[Sequence[float]], Sequence[float] | None],
    ) -> None:
        self._columns = list(columns)
        self._step = step
        self._names = [f"{indicator.id}.{output}" for output in indicator.outputs]
        chosen = indicator.output or (indicator.outputs[0] if len(indicator.outputs) == 1 else None)
        self._alias = None if chosen is None else (indicator.id, indicator.outputs.index(chosen))

    def update(self, values: Values) -> None:
        result = self._step([values[column] for column in self._columns])
        names = self._names
        if result is None:
            for name in names:
                values[name] = NAN
            if self._alias is not None:
                values[self._alias[0]] = NAN
            return
        for name, value in zip(names, result, strict=True):
            values[name] = value
        if self._alias is not None:
            values[self._alias[0]] = result[self._alias[1]]


def _scalar_feed(
    indicator: Indicator, column: str, update: Callable[[float], float | None]
) -> Feed:
    """A one-input, one-output streaming twin (SMA, EMA, RSI): the common case, kept lean
    (a closure: no attribute lookups per bar).

    Same results as `_Feed` around `_skip_undefined(_single(...))`: an undefined (NaN) input
    is not fed and gives NaN.
    """
    name = f"{indicator.id}.{indicator.outputs[0]}"
    alias = indicator.id

    def feed(values: Values) -> None:
        x = values[column]
        result = None if x != x else update(x)
        value = NAN if result is None else result
        values[name] = value
        values[alias] = value

    return feed


_SCALAR_TWINS: dict[str, Callable[[int], Any]] = {"SMA": SMA, "EMA": EMA, "RSI": RSI}


def _make_feed(indicator: Indicator, params: Mapping[str, int | float | str]) -> Feed:
    info = describe(indicator.fn)
    columns = [indicator.input] if indicator.input is not None else list(info.inputs)
    scalar = _SCALAR_TWINS.get(indicator.fn)
    if scalar is not None and len(columns) == 1 and len(indicator.outputs) == 1:
        merged = {**info.parameters, **params}
        return _scalar_feed(indicator, columns[0], scalar(int(merged["timeperiod"])).update)
    twin = _twin(indicator.fn, {**info.parameters, **params})
    if twin is not None:
        return _Feed(indicator, columns, _skip_undefined(twin)).update
    try:
        size = lookback(indicator.fn, **params) + 1
    except IndicatorError as error:
        raise SpecError(f"{indicator.path}.params", str(error)) from None
    return _Feed(indicator, columns, _window(indicator, params, info.inputs, size)).update


def _twin(fn: str, params: Mapping[str, Any]) -> Callable[[Sequence[float]], Any] | None:
    """The O(1) streaming twin of a TA-Lib call, as ``inputs -> outputs | None``."""
    p = params
    if fn == "SMA":
        return _single(SMA(int(p["timeperiod"])).update)
    if fn == "EMA":
        return _single(EMA(int(p["timeperiod"])).update)
    if fn == "RSI":
        return _single(RSI(int(p["timeperiod"])).update)
    if fn == "MACD":
        macd = MACD(int(p["fastperiod"]), int(p["slowperiod"]), int(p["signalperiod"]))
        return lambda inputs: macd.update(inputs[0])
    if fn == "BBANDS" and int(p["matype"]) == 0:
        bands = BollingerBands(int(p["timeperiod"]), float(p["nbdevup"]), float(p["nbdevdn"]))
        return lambda inputs: bands.update(inputs[0])
    if fn == "STOCH" and int(p["slowk_matype"]) == 0 and int(p["slowd_matype"]) == 0:
        stoch = Stochastic(int(p["fastk_period"]), int(p["slowk_period"]), int(p["slowd_period"]))
        return lambda inputs: stoch.update(inputs[0], inputs[1], inputs[2])
    if fn == "ATR":
        atr = ATR(int(p["timeperiod"]))
        return _single_of_many(lambda i: atr.update(i[0], i[1], i[2]))
    if fn == "OBV":
        obv = OBV()
        return _single_of_many(lambda i: obv.update(i[0], i[1]))
    return None


def _single(update: Callable[[float], float | None]) -> Callable[[Sequence[float]], Any]:
    def step(inputs: Sequence[float]) -> tuple[float] | None:
        value = update(inputs[0])
        return None if value is None else (value,)

    return step


def _single_of_many(
    update: Callable[[Sequence[float]], float | None],
) -> Callable[[Sequence[float]], Any]:
    def step(inputs: Sequence[float]) -> tuple[float] | None:
        value = update(inputs)
        return None if value is None else (value,)

    return step


def _skip_undefined(
    step: Callable[[Sequence[float]], Any],
) -> Callable[[Sequence[float]], Sequence[float] | None]:
    """Feed the twin only once its inputs are defined (TA-Lib skips leading NaNs)."""

    def guarded(inputs: Sequence[float]) -> Sequence[float] | None:
        if any(math.isnan(value) for value in inputs):
            return None
        result = step(inputs)
        return None if result is None else tuple(result)

    return guarded


def _window(
    indicator: Indicator,
    params: Mapping[str, int | float | str],
    inputs: Sequence[str],
    size: int,
) -> Callable[[Sequence[float]], Sequence[float] | None]:
    length = size if indicator.fn in EXACT_WINDOW else size + WINDOW_MARGIN * size
    windows: list[deque[float]] = [deque(maxlen=length) for _ in inputs]
    try:  # checked once here, so that each bar can call TA-Lib directly
        resolved = resolve_parameters(describe(indicator.fn), params)
    except IndicatorError as error:
        raise SpecError(f"{indicator.path}.params", str(error)) from None
    function = getattr(_TALIB, indicator.fn)

    def step(values: Sequence[float]) -> Sequence[float] | None:
        for window, value in zip(windows, values, strict=True):
            window.append(value)
        if len(windows[0]) < size:
            return None
        arrays = [np.fromiter(window, np.float64, len(window)) for window in windows]
        result = function(*arrays, **resolved)
        outputs = result if isinstance(result, tuple | list) else (result,)
        return tuple(float(output[-1]) for output in outputs)

    return step


Test = Callable[[Values, Values | None], bool]
"""A compiled condition: (this bar's values, the previous bar's or None) -> fires."""

Read = Callable[[Values], float]


def _never(_now: Values, _previous: Values | None) -> bool:
    return False


def _compiled(condition: Condition, params: Mapping[str, float]) -> Test:
    """`condition` as a closure with `_ScalarEvaluator`'s semantics (NaN compares false).

    Comparisons and crosses of two references (``fast_ma`` against ``slow_ma``) or of a
    reference and a number, the usual cases, read the values directly: one call per
    condition and bar.
    """
    if isinstance(condition, Comparison):
        compare = _COMPARE[condition.op]
        left, right = condition.left, condition.right
        left_key, right_key = _key(left), _key(right)
        if left_key is not None and right_key is not None:
            return lambda now, _previous: compare(now[left_key], now[right_key])
        left_number, right_number = _number(left, params), _number(right, params)
        if left_key is not None and right_number is not None:
            return lambda now, _previous: compare(now[left_key], right_number)
        if left_number is not None and right_key is not None:
            return lambda now, _previous: compare(left_number, now[right_key])
        read_left, read_right = _operand(left, params), _operand(right, params)
        return lambda now, _previous: compare(read_left(now), read_right(now))
    if isinstance(condition, Cross):
        return _cross(condition, params)
    if isinstance(condition, Between):
        x, low = _operand(condition.value, params), _operand(condition.low, params)
        high = _operand(condition.high, params)
        return lambda now, _previous: low(now) <= x(now) <= high(now)
    if isinstance(condition, Group):
        parts = tuple(_compiled(item, params) for item in condition.items)
        if condition.kind == "all":

            def every(now: Values, previous: Values | None) -> bool:
                for part in parts:  # noqa: SIM110 (a loop: no generator per bar)
                    if not part(now, previous):
                        return False
                return True

            return every

        def some(now: Values, previous: Values | None) -> bool:
            for part in parts:  # noqa: SIM110 (a loop: no generator per bar)
                if part(now, previous):
                    return True
            return False

        return some
    assert isinstance(condition, Negation)
    inner = _compiled(condition.item, params)
    return lambda now, previous: not inner(now, previous)


def _cross(condition: Cross, params: Mapping[str, float]) -> Test:
    left_key, right_key = _key(condition.left), _key(condition.right)
    if left_key is not None and right_key is not None:
        if condition.direction == "cross_above":

            def keys_above(now: Values, previous: Values | None) -> bool:
                return (
                    previous is not None
                    and now[left_key] > now[right_key]
                    and previous[left_key] <= previous[right_key]
                )

            return keys_above

        def keys_below(now: Values, previous: Values | None) -> bool:
            return (
                previous is not None
                and now[left_key] < now[right_key]
                and previous[left_key] >= previous[right_key]
            )

        return keys_below
    left, right = _operand(condition.left, params), _operand(condition.right, params)
    if condition.direction == "cross_above":

        def above(now: Values, previous: Values | None) -> bool:
            return (
                previous is not None
                and left(now) > right(now)
                and left(previous) <= right(previous)
            )

        return above

    def below(now: Values, previous: Values | None) -> bool:
        return previous is not None and left(now) < right(now) and left(previous) >= right(previous)

    return below


def _key(operand: Operand) -> str | None:
    """The key a reference reads (None for other operands)."""
    return operand.key if isinstance(operand, Reference) else None


def _number(operand: Operand, params: Mapping[str, float]) -> float | None:
    """The value of a number or parameter (None for other operands)."""
    if isinstance(operand, Constant):
        return operand.value
    if isinstance(operand, ParameterRef):
        return params[operand.name]
    return None


def _operand(operand: Operand, params: Mapping[str, float]) -> Read:
    number = _number(operand, params)
    if number is not None:
        return lambda _values: number
    if isinstance(operand, Reference):
        read: Read = itemgetter(operand.key)
        return read
    assert isinstance(operand, Arithmetic)
    left, right = _operand(operand.left, params), _operand(operand.right, params)
    op = operand.op
    return lambda values: scalar_arithmetic(op, left(values), right(values))


_COMPARE: dict[str, Callable[[float, float], bool]] = {
    "gt": operator.gt,
    "lt": operator.lt,
    "ge": operator.ge,
    "le": operator.le,
}


class _ScalarEvaluator:
    """Evaluates conditions on one bar's floats (and the previous bar's, for crosses)."""

    __slots__ = ("_now", "_params", "_previous", "_truth")

    def __init__(self, now: Values, previous: Values | None, params: Mapping[str, float]) -> None:
        self._now = now
        self._previous = previous
        self._params = params
        self._truth: dict[int, bool] = {}

    def truth(self, condition: Condition) -> bool:
        known = self._truth.get(id(condition))
        if known is not None:
            return known
        result = self._condition(condition)
        self._truth[id(condition)] = result
        return result

    def _condition(self, condition: Condition) -> bool:
        if isinstance(condition, Comparison):
            left, right = self.value(condition.left), self.value(condition.right)
            op = condition.op
            if op == "gt":
                return left > right
            if op == "lt":
                return left < right
            if op == "ge":
                return left >= right
            return left <= right
        if isinstance(condition, Cross):
            if self._previous is None:
                return False
            now_left, now_right = self.value(condition.left), self.value(condition.right)
            was_left = self.value(condition.left, self._previous)
            was_right = self.value(condition.right, self._previous)
            if condition.direction == "cross_above":
                return now_left > now_right and was_left <= was_right
            return now_left < now_right and was_left >= was_right
        if isinstance(condition, Between):
            x = self.value(condition.value)
            return self.value(condition.low) <= x <= self.value(condition.high)
        if isinstance(condition, Group):
            parts = [self.truth(item) for item in condition.items]  # all evaluated: reasons
            return all(parts) if condition.kind == "all" else any(parts)
        assert isinstance(condition, Negation)
        return not self.truth(condition.item)

    def value(self, operand: Operand, values: Values | None = None) -> float:
        if isinstance(operand, Constant):
            return operand.value
        if isinstance(operand, ParameterRef):
            return self._params[operand.name]
        if isinstance(operand, Reference):
            return (self._now if values is None else values)[operand.key]
        assert isinstance(operand, Arithmetic)
        left = self.value(operand.left, values)
        right = self.value(operand.right, values)
        return scalar_arithmetic(operand.op, left, right)
