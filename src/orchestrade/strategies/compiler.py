"""Compile a strategy spec to signal arrays over a whole panel at once (the backtest path).

Each symbol's bars are packed end to end (`PackedBars`: the panel's cells that have a
close, row after row, in time order), so a symbol's previous bar is simply the packed
bar before it and no work is spent on the cells of a panel where a symbol has no bar.
Indicators are computed per symbol with `orchestrade.indicators` on the bars the symbol
has, so a symbol that starts late, or misses a session, is computed exactly as a stream of
its own bars would be; the functions `orchestrade.indicators.native` has are computed by
its compiled loops (TA-Lib's values bit for bit, without loading TA-Lib and pandas: the
compiler runs beside the numba kernel). Conditions are then evaluated with numpy over the
packed bars with the semantics of `conditions`; confidence and reasons follow the rules in
`spec` and are computed on the signal bars only; the results are scattered into (symbols,
times) arrays.
The panel is compiled in blocks of whole rows (`BLOCK_CELLS`) so that each block's arrays
stay in the CPU cache from the indicators to the scatter.
`compile_trading_signals` runs the same steps but keeps only what a simulation reads
(`TradingSignals`): it computes no reasons and no exit confidence, and keeps the entry
confidence packed, one value per entry, instead of a (symbols, times) array.
A bar without data never carries a signal. When entry and exit fire on the same bar the
exit wins and the entry is cleared. `reference.reference_signals` computes the same
arrays over dense (symbols, times) arrays; the tests hold the two equal.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Mapping
from dataclasses import dataclass
from functools import partial
from typing import Any

import numpy as np
import numpy.typing as npt

from orchestrade.indicators import IndicatorError, describe, evaluate
from orchestrade.strategies.arrays import SignalArrays, TradingSignals
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
from orchestrade.strategies.errors import SignalArraysError, SpecError
from orchestrade.strategies.ports import PanelLike
from orchestrade.strategies.spec import (
    ConfidenceRule,
    Indicator,
    ParamValue,
    StrategySpec,
    default_confidence,
    resolved_params,
)

FloatArray = npt.NDArray[np.float64]
BoolArray = npt.NDArray[np.bool_]
IndexArray = npt.NDArray[np.intp]
Value = FloatArray | float
Columns = slice | IndexArray


BLOCK_CELLS = 1 << 18
"""About how many panel cells (whole symbols' rows) are compiled together: a block's
arrays stay in the CPU cache, and its scratch memory is reused by the next block."""


def compile_signals(
    spec: StrategySpec, panel: PanelLike, params: Mapping[str, ParamValue] | None = None
) -> SignalArrays:
    """Entry and exit signals of `spec` for every symbol and bar of `panel`.

    Args:
        spec: a loaded strategy spec.
        panel: aligned OHLCV arrays (a `BarPanel` or anything shaped like `PanelLike`),
            NaN in every field where a symbol has no bar.
        params: parameter overrides (see `StrategySpec.with_params`).

    Raises:
        ParameterError: a bad parameter override.
        SpecError: an indicator rejected its parameters.
        SignalArraysError: the panel's arrays are malformed.
    """
    out = _compile(spec, panel, params, lean=False)
    assert out.entry_confidence is not None
    assert out.exit_confidence is not None
    assert out.reasons is not None
    return SignalArrays(
        symbols=tuple(str(symbol) for symbol in panel.symbols),
        timestamps=np.asarray(panel.timestamps, dtype="datetime64[ns]"),
        entries=out.entries,
        exits=out.exits,
        entry_confidence=out.entry_confidence,
        exit_confidence=out.exit_confidence,
        reasons=out.reasons,
        reason_names=out.spec.reason_names,
        entry_limit=out.entry_price if out.spec.order.type == "limit" else None,
        entry_stop=out.entry_price if out.spec.order.type == "stop" else None,
    )


def compile_trading_signals(
    spec: StrategySpec, panel: PanelLike, params: Mapping[str, ParamValue] | None = None
) -> TradingSignals:
    """What a simulation reads of `compile_signals(spec, panel, params)`: the same entries,
    exits, entry confidences and order prices, without computing reasons or exit
    confidence (see `TradingSignals`).

    Raises:
        ParameterError, SpecError, SignalArraysError: as `compile_signals`.
    """
    out = _compile(spec, panel, params, lean=True)
    scores = np.concatenate(out.scores) if out.scores else np.zeros(0)
    return TradingSignals(
        symbols=tuple(str(symbol) for symbol in panel.symbols),
        timestamps=np.asarray(panel.timestamps, dtype="datetime64[ns]"),
        entries=out.entries,
        exits=out.exits,
        entry_scores=scores,
        entry_limit=out.entry_price if out.spec.order.type == "limit" else None,
        entry_stop=out.entry_price if out.spec.order.type == "stop" else None,
    )


def _compile(
    spec: StrategySpec, panel: PanelLike, params: Mapping[str, ParamValue] | None, *, lean: bool
) -> _Signals:
    """Run the compiler over `panel`, block by block; `lean`: see `_Signals`."""
    if params:
        spec = spec.with_params(**params)
    fields = panel_arrays(panel)
    needed = fields_read(spec)
    shape = fields["close"].shape
    out = _Signals(
        spec=spec,
        entries=np.zeros(shape, dtype=np.bool_),
        exits=np.zeros(shape, dtype=np.bool_),
        # NaN block by block, see _compile_block
        entry_confidence=None if lean else np.empty(shape),
        exit_confidence=None if lean else np.empty(shape),
        reasons=None if lean else np.zeros(shape, dtype=np.int64),
        entry_price=None if spec.order.type == "market" else np.empty(shape),
        scores=[],
    )
    step = max(1, BLOCK_CELLS // max(1, shape[1]))
    for first in range(0, shape[0], step):
        rows = slice(first, first + step)
        block = {name: values[rows] for name, values in fields.items()}
        present = bars_present(block, needed, panel, first)
        _compile_block(block, PackedBars(present), out.rows(rows))
    return out


@dataclass(frozen=True, slots=True)
class _Signals:
    """What `_compile` fills: the (symbols, times) arrays, and in lean mode (confidences
    and reasons None) each block's entry confidences, in row-major order, in `scores`.
    `entry_price` is the limit or stop price of the entry orders (None for market orders).
    """

    spec: StrategySpec
    entries: BoolArray
    exits: BoolArray
    entry_confidence: FloatArray | None
    exit_confidence: FloatArray | None
    reasons: npt.NDArray[np.int64] | None
    entry_price: FloatArray | None
    scores: list[FloatArray]

    def rows(self, rows: slice) -> _Signals:
        """Views of the rows `rows` (contiguous: whole rows of C-ordered arrays); the same
        `scores` list."""
        return _Signals(
            self.spec,
            self.entries[rows],
            self.exits[rows],
            None if self.entry_confidence is None else self.entry_confidence[rows],
            None if self.exit_confidence is None else self.exit_confidence[rows],
            None if self.reasons is None else self.reasons[rows],
            None if self.entry_price is None else self.entry_price[rows],
            self.scores,
        )

    def fill_nan(self) -> None:
        """Set the float arrays (confidences, entry price) to NaN everywhere."""
        for array in (self.entry_confidence, self.exit_confidence, self.entry_price):
            if array is not None:
                array.fill(np.nan)


def _compile_block(fields: Mapping[str, FloatArray], bars: PackedBars, out: _Signals) -> None:
    """Fill `out` (rows of the panel) with the signals of those rows' bars `bars`."""
    spec = out.spec
    out.fill_nan()  # here, so that the block's arrays are in the cache when written
    evaluator = PackedEvaluator(packed_indicators(spec, fields, bars), fields, bars, spec.values)
    entry_truth = evaluator.truth(spec.entry)
    if spec.exit is not None:
        exit_truth = evaluator.truth(spec.exit)
        exit_hits = np.flatnonzero(exit_truth)
        entry_hits = np.flatnonzero(entry_truth & ~exit_truth)
    else:
        exit_hits = np.zeros(0, dtype=np.intp)
        entry_hits = np.flatnonzero(entry_truth)
    bits = {name: 1 << i for i, name in enumerate(spec.reason_names)}
    for entry, hits, condition, rule, fired, confidence in (
        (True, entry_hits, spec.entry, spec.entry_confidence, out.entries, out.entry_confidence),
        (False, exit_hits, spec.exit, spec.exit_confidence, out.exits, out.exit_confidence),
    ):
        if condition is None:
            continue
        cells = bars.cells(hits)
        fired.ravel()[cells] = True
        holds = partial(evaluator.at, bars=hits)
        if confidence is None or out.reasons is None:  # lean: the entries' confidence only
            if entry:
                out.scores.append(signal_confidence(holds, condition, rule, hits.size))
            continue
        values, masks = signal_scores(holds, condition, rule, bits, hits.size)
        confidence.ravel()[cells] = values
        out.reasons.ravel()[cells] = masks
    if out.entry_price is not None:
        cells = bars.cells(entry_hits)
        close = fields["close"].ravel()[cells]
        out.entry_price.ravel()[cells] = close * (1.0 + spec.order.offset)


def panel_fields(
    panel: PanelLike, needed: Collection[str] = PRICE_FIELDS
) -> tuple[dict[str, FloatArray], BoolArray]:
    """The panel's price arrays by field name, and where a symbol has a bar (finite close).

    Raises:
        SignalArraysError: an array is not 2-D float64 of the panel's shape, or a bar with a
            close lacks one of the `needed` fields.
    """
    fields = panel_arrays(panel)
    return fields, bars_present(fields, needed, panel)


def panel_arrays(panel: PanelLike) -> dict[str, FloatArray]:
    """The panel's price arrays by field name.

    Raises:
        SignalArraysError: an array is not 2-D float64 of the panel's shape.
    """
    shape = (len(panel.symbols), len(panel.timestamps))
    fields: dict[str, FloatArray] = {}
    for name in PRICE_FIELDS:
        array = np.asarray(getattr(panel, name))
        if array.shape != shape or array.dtype != np.float64:
            raise SignalArraysError(
                f"panel {name} must be float64 shaped {shape} (symbols, timestamps), "
                f"got {array.dtype} {array.shape}"
            )
        fields[name] = array
    return fields


def bars_present(
    fields: Mapping[str, FloatArray], needed: Collection[str], panel: PanelLike, first_row: int = 0
) -> BoolArray:
    """Where a symbol has a bar (a close that is not NaN) in `fields`, rows ``first_row``
    onwards of `panel`.

    Raises:
        SignalArraysError: a bar lacks a finite value of one of the `needed` fields.
    """
    present = np.isnan(fields["close"])
    np.logical_not(present, out=present)
    for name in PRICE_FIELDS:
        if name not in needed:
            continue
        if name == "close":  # a close that is not NaN but not finite either
            broken = np.isinf(fields[name])
        else:
            broken = np.less(np.isfinite(fields[name]), present)
        if broken.any():
            row, col = (int(i[0]) for i in np.nonzero(broken))
            raise SignalArraysError(
                f"panel bar of {panel.symbols[first_row + row]!r} at {panel.timestamps[col]} "
                f"has a close but no finite {name}"
            )
    return present


def fields_read(spec: StrategySpec) -> set[str]:
    """The price fields `spec` reads, directly or through its indicators (always close)."""
    needed = {"close"}
    for indicator in spec.indicators.values():
        if indicator.input is None:
            needed.update(describe(indicator.fn).inputs)
        elif indicator.input in PRICE_FIELDS:
            needed.add(indicator.input)
    conditions = [spec.entry, *([spec.exit] if spec.exit is not None else [])]
    conditions += [t.when for t in (*spec.entry_confidence.terms, *spec.exit_confidence.terms)]
    for condition in conditions:
        for node in walk_conditions(condition):
            for operand in operands_of(node):
                for leaf in walk_operands(operand):
                    if isinstance(leaf, Reference) and leaf.name in PRICE_FIELDS:
                        needed.add(leaf.name)
    return needed


class PackedBars:
    """The bars of a panel packed end to end: symbol after symbol, each in time order.

    Symbol ``i`` owns the packed bars ``offsets[i]:offsets[i + 1]``; ``columns[i]`` are
    their time indices (a slice when the symbol has no gap, None when it has no bar).
    """

    def __init__(self, present: BoolArray) -> None:
        n_symbols, n_times = present.shape
        counts = np.count_nonzero(present, axis=1)
        starts = np.argmax(present, axis=1) if n_times else np.zeros(n_symbols, dtype=np.intp)
        columns: list[Columns | None] = []
        gapped = False
        for symbol, (count, start) in enumerate(zip(counts.tolist(), starts.tolist(), strict=True)):
            if count == 0:
                columns.append(None)
            elif present[symbol, start : start + count].all():
                columns.append(slice(start, start + count))
            else:
                columns.append(np.flatnonzero(present[symbol]))
                gapped = True
        self.present = present
        self.offsets = np.zeros(n_symbols + 1, dtype=np.intp)
        np.cumsum(counts, out=self.offsets[1:])
        self.columns = tuple(columns)
        self.size = int(self.offsets[-1])
        self._starts = starts.astype(np.intp)
        self._gapped = gapped
        self._cells: IndexArray | None = None
        begins = self.offsets[:-1]
        self.firsts = begins[counts > 0]
        """The packed index of each symbol's first bar (symbols with bars only)."""

    def cells(self, bars: IndexArray) -> IndexArray:
        """The flat (row-major) panel indices of the packed bars `bars`."""
        if self._gapped:
            if self._cells is None:
                self._cells = np.flatnonzero(self.present)
            return self._cells[bars]
        n_times = self.present.shape[1]
        rows = np.searchsorted(self.offsets, bars, side="right") - 1
        cells: IndexArray = rows * n_times + self._starts[rows] + (bars - self.offsets[rows])
        return cells

    def pack(self, values: FloatArray) -> FloatArray:
        """The values of a (symbols, times) array at the packed bars."""
        return values[self.present]


def packed_indicators(
    spec: StrategySpec, fields: Mapping[str, FloatArray], bars: PackedBars
) -> dict[str, FloatArray]:
    """Every indicator series over the packed bars, as ``id.output`` and (when one output
    is chosen or the only one) ``id``."""
    series: dict[str, FloatArray] = {}
    for indicator in spec.indicators.values():
        params = resolved_params(indicator, spec.values)
        info = describe(indicator.fn)
        dense: dict[str, FloatArray] = {}
        packed: dict[str, FloatArray] = {}
        if indicator.input is None:
            dense = {column: fields[column] for column in info.inputs}
        elif indicator.input in PRICE_FIELDS:
            dense = {info.inputs[0]: fields[indicator.input]}
        else:
            packed = {info.inputs[0]: series[indicator.input]}
        outputs = [np.empty(bars.size) for _ in indicator.outputs]
        offsets = bars.offsets.tolist()
        for symbol, columns in enumerate(bars.columns):
            if columns is None:
                continue
            start, stop = offsets[symbol], offsets[symbol + 1]
            data = {column: values[symbol, columns] for column, values in dense.items()}
            data.update({column: values[start:stop] for column, values in packed.items()})
            results = evaluate_indicator(indicator, data, params, compiled=True)
            for output, result in zip(outputs, results, strict=True):
                output[start:stop] = result
        for name, output in zip(indicator.outputs, outputs, strict=True):
            series[f"{indicator.id}.{name}"] = output
        chosen = indicator.output or (indicator.outputs[0] if len(indicator.outputs) == 1 else None)
        if chosen is not None:
            series[indicator.id] = series[f"{indicator.id}.{chosen}"]
    return series


class PackedEvaluator:
    """Evaluates conditions over the packed bars, remembering each node's truth so that
    confidence and reasons can be read afterwards at the signal bars."""

    def __init__(
        self,
        indicators: Mapping[str, FloatArray],
        fields: Mapping[str, FloatArray],
        bars: PackedBars,
        values: Mapping[str, ParamValue],
    ) -> None:
        self._series = dict(indicators)
        self._fields = fields
        self._bars = bars
        self._values = values
        self._truth: dict[int, BoolArray] = {}

    def truth(self, condition: Condition) -> BoolArray:
        """Whether `condition` holds at each packed bar."""
        known = self._truth.get(id(condition))
        if known is not None:
            return known
        with np.errstate(all="ignore"):
            result = self._condition(condition)
        self._truth[id(condition)] = result
        return result

    def at(self, condition: Condition, bars: IndexArray) -> BoolArray:
        """Whether `condition` holds at the packed bars `bars`."""
        return self.truth(condition)[bars]

    def _condition(self, condition: Condition) -> BoolArray:
        if isinstance(condition, Comparison):
            left, right = self.value(condition.left), self.value(condition.right)
            return self._bool(COMPARE[condition.op](left, right))
        if isinstance(condition, Cross):
            left, right = self.value(condition.left), self.value(condition.right)
            if condition.direction == "cross_above":
                now, was = np.greater(left, right), np.less_equal(left, right)
            else:
                now, was = np.less(left, right), np.greater_equal(left, right)
            # The previous bar of a symbol is the packed bar before, except at its first.
            crossed = np.zeros(self._bars.size, dtype=np.bool_)
            np.logical_and(self._bool(now)[1:], self._bool(was)[:-1], out=crossed[1:])
            crossed[self._bars.firsts] = False
            return crossed
        if isinstance(condition, Between):
            x = self.value(condition.value)
            low, high = self.value(condition.low), self.value(condition.high)
            return self._bool((x >= low) & (x <= high))
        if isinstance(condition, Group):
            parts = [self.truth(item) for item in condition.items]
            combine = np.logical_and if condition.kind == "all" else np.logical_or
            return self._bool(combine.reduce(parts))
        assert isinstance(condition, Negation)
        return ~self.truth(condition.item)

    def value(self, operand: Operand) -> Value:
        """An operand's values at every packed bar."""
        if isinstance(operand, Constant):
            return operand.value
        if isinstance(operand, ParameterRef):
            return float(self._values[operand.name])
        if isinstance(operand, Reference):
            known = self._series.get(operand.key)
            if known is None:  # a price field, packed on first use
                known = self._series[operand.key] = self._bars.pack(self._fields[operand.key])
            return known
        assert isinstance(operand, Arithmetic)
        left, right = self.value(operand.left), self.value(operand.right)
        return array_arithmetic(operand.op, left, right)

    def _bool(self, value: object) -> BoolArray:
        return np.broadcast_to(np.asarray(value, dtype=np.bool_), (self._bars.size,))


def signal_scores(
    holds: Callable[[Condition], BoolArray],
    condition: Condition,
    rule: ConfidenceRule,
    bits: Mapping[str, int],
    count: int,
) -> tuple[FloatArray, npt.NDArray[np.int64]]:
    """Confidence and reason masks of `count` signals of `condition`.

    Args:
        holds: whether a condition holds at each of the signals' bars.
        condition: the entry or exit condition that fired.
        rule: how that side's confidence is computed (see `spec`).
        bits: the bit of each reason name.
        count: the number of signals.
    """
    reasons = np.zeros(count, dtype=np.int64)
    for node in walk_conditions(condition):
        if node.reason is not None:
            reasons[holds(node)] |= bits[node.reason]
    for term in rule.terms:
        term_holds = holds(term.when)
        if term.reason is not None:
            reasons[term_holds] |= bits[term.reason]
        for node in walk_conditions(term.when):
            if node.reason is not None and node.reason != term.reason:
                reasons[term_holds & holds(node)] |= bits[node.reason]
    return signal_confidence(holds, condition, rule, count), reasons


def signal_confidence(
    holds: Callable[[Condition], BoolArray],
    condition: Condition,
    rule: ConfidenceRule,
    count: int,
) -> FloatArray:
    """The confidence of `count` signals of `condition` (see `signal_scores`)."""
    shares = default_confidence(condition)
    if rule.base is not None:
        confidence = np.full(count, rule.base)
    elif shares is not None:
        counts = np.zeros(count, dtype=np.int64)
        for item in shares:
            counts += holds(item)
        confidence = counts / len(shares)
    else:
        confidence = np.ones(count)
    for term in rule.terms:
        confidence = confidence + np.where(holds(term.when), term.add, 0.0)
    clipped: FloatArray = np.clip(confidence, 0.0, 1.0)
    return clipped


def array_arithmetic(op: str, left: Value, right: Value) -> Value:
    """One arithmetic operation on arrays or floats (see `scalar_arithmetic`)."""
    if isinstance(left, float) and isinstance(right, float):
        return scalar_arithmetic(op, left, right)
    if op == "add":
        return np.add(left, right)
    if op == "sub":
        return np.subtract(left, right)
    if op == "mul":
        return np.multiply(left, right)
    quotient = np.divide(left, right)
    return np.where(np.equal(right, 0.0), np.nan, quotient)


def scalar_arithmetic(op: str, left: float, right: float) -> float:
    """One arithmetic operation on floats, with the array form's results: IEEE-754
    rounding, overflow to infinity, and NaN for a division by zero."""
    if op == "add":
        return left + right
    if op == "sub":
        return left - right
    if op == "mul":
        return left * right
    if right == 0.0:
        return float("nan")
    try:
        return left / right
    except OverflowError:
        return float("inf") if (left > 0) == (right > 0) else float("-inf")


COMPARE: dict[str, Any] = {
    "gt": np.greater,
    "lt": np.less,
    "ge": np.greater_equal,
    "le": np.less_equal,
}
"""The numpy ufunc of each comparison."""


def evaluate_indicator(
    indicator: Indicator,
    data: Mapping[str, FloatArray],
    params: Mapping[str, int | float | str],
    *,
    compiled: bool = False,
) -> list[FloatArray]:
    """`indicator`'s outputs over one symbol's bars (`compiled`: see
    `orchestrade.indicators.evaluate`; the same values either way).

    Raises:
        SpecError: the indicator rejected its parameters.
    """
    # A single input goes as a bare array: the same values, with less lookup per call.
    source: Mapping[str, FloatArray] | FloatArray = (
        next(iter(data.values())) if len(data) == 1 else data
    )
    try:
        result = evaluate(indicator.fn, source, params, compiled=compiled)
    except IndicatorError as error:
        raise SpecError(f"{indicator.path}.params", str(error)) from None
    outputs = list(result) if isinstance(result, tuple) else [result]
    return [np.asarray(output, dtype=np.float64) for output in outputs]
