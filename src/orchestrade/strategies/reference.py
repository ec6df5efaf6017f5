"""The plain array form of `compile_signals`: every series dense over (symbols, times).

`reference_signals` computes the same `SignalArrays` as `compile_signals` the obvious way:
indicators are scattered back into full (symbols, times) arrays, a symbol's previous bar
is looked up through its gaps, and every condition is evaluated over the whole panel. It
is kept as the executable statement of the semantics that the fast path in `compiler`
(each symbol's bars packed end to end) is tested against; nothing else uses it. Its
indicators are TA-Lib's own, also where the compiler computes them with
`orchestrade.indicators.native`.
"""

from __future__ import annotations

from collections.abc import Mapping
from functools import partial

import numpy as np
import numpy.typing as npt

from orchestrade.indicators import describe
from orchestrade.strategies.arrays import SignalArrays
from orchestrade.strategies.compiler import (
    COMPARE,
    BoolArray,
    Columns,
    FloatArray,
    Value,
    array_arithmetic,
    evaluate_indicator,
    fields_read,
    panel_fields,
    signal_scores,
)
from orchestrade.strategies.conditions import (
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
)
from orchestrade.strategies.ports import PanelLike
from orchestrade.strategies.spec import ParamValue, StrategySpec, resolved_params


def reference_signals(
    spec: StrategySpec, panel: PanelLike, params: Mapping[str, ParamValue] | None = None
) -> SignalArrays:
    """`compile_signals(spec, panel, params)`, computed over dense arrays."""
    if params:
        spec = spec.with_params(**params)
    fields, present = panel_fields(panel, fields_read(spec))
    series = indicator_series(spec, fields, present)
    evaluator = ArrayEvaluator(series, present, spec.values)
    bits = {name: 1 << i for i, name in enumerate(spec.reason_names)}
    shape = present.shape
    entry_confidence = np.full(shape, np.nan)
    exit_confidence = np.full(shape, np.nan)
    reasons = np.zeros(shape, dtype=np.int64)
    entries = evaluator.truth(spec.entry) & present
    if spec.exit is not None:
        exits = evaluator.truth(spec.exit) & present
        entries &= ~exits
    else:
        exits = np.zeros(shape, dtype=np.bool_)
    for fired, condition, rule, confidence in (
        (entries, spec.entry, spec.entry_confidence, entry_confidence),
        (exits, spec.exit, spec.exit_confidence, exit_confidence),
    ):
        if condition is None:
            continue
        cells = np.flatnonzero(fired)
        holds = partial(evaluator.at, cells=cells)
        values, masks = signal_scores(holds, condition, rule, bits, cells.size)
        confidence.ravel()[cells] = values
        reasons.ravel()[cells] = masks
    entry_limit = entry_stop = None
    if spec.order.type != "market":
        prices = np.where(entries, fields["close"] * (1.0 + spec.order.offset), np.nan)
        if spec.order.type == "limit":
            entry_limit = prices
        else:
            entry_stop = prices
    return SignalArrays(
        symbols=tuple(str(symbol) for symbol in panel.symbols),
        timestamps=np.asarray(panel.timestamps, dtype="datetime64[ns]"),
        entries=entries,
        exits=exits,
        entry_confidence=entry_confidence,
        exit_confidence=exit_confidence,
        reasons=reasons,
        reason_names=spec.reason_names,
        entry_limit=entry_limit,
        entry_stop=entry_stop,
    )


def indicator_series(
    spec: StrategySpec, fields: Mapping[str, FloatArray], present: BoolArray
) -> dict[str, FloatArray]:
    """Every series a condition can name, dense: the price fields, ``id`` and ``id.output``
    (NaN where the symbol has no bar)."""
    series: dict[str, FloatArray] = dict(fields)
    rows = [_bars_of(row) for row in present]
    for indicator in spec.indicators.values():
        params = resolved_params(indicator, spec.values)
        info = describe(indicator.fn)
        if indicator.input is not None:
            sources = {info.inputs[0]: series[indicator.input]}
        else:
            sources = {column: fields[column] for column in info.inputs}
        outputs = [np.full(present.shape, np.nan) for _ in indicator.outputs]
        for symbol, bars in enumerate(rows):
            if bars is None:
                continue
            data = {column: values[symbol, bars] for column, values in sources.items()}
            results = evaluate_indicator(indicator, data, params)
            for output, result in zip(outputs, results, strict=True):
                output[symbol, bars] = result
        for name, output in zip(indicator.outputs, outputs, strict=True):
            series[f"{indicator.id}.{name}"] = output
        chosen = indicator.output or (indicator.outputs[0] if len(indicator.outputs) == 1 else None)
        if chosen is not None:
            series[indicator.id] = series[f"{indicator.id}.{chosen}"]
    return series


def previous_bars(present: BoolArray) -> npt.NDArray[np.int64]:
    """For every cell, the time index of the symbol's previous bar, or -1 if none."""
    n_times = present.shape[1]
    positions = np.where(present, np.arange(n_times), -1)
    last = np.maximum.accumulate(positions, axis=1)
    previous = np.full(present.shape, -1, dtype=np.int64)
    previous[:, 1:] = last[:, :-1]
    return previous


class ArrayEvaluator:
    """Evaluates conditions over whole (symbols, times) arrays, remembering each node's
    truth so that reasons can be read afterwards."""

    def __init__(
        self,
        series: Mapping[str, FloatArray],
        present: BoolArray,
        values: Mapping[str, ParamValue],
    ) -> None:
        self._series = series
        self._present = present
        self._values = values
        self._gaps: tuple[npt.NDArray[np.intp], ...] | None = None
        self._previous: dict[str, FloatArray] = {}
        self._truth: dict[int, BoolArray] = {}

    def truth(self, condition: Condition) -> BoolArray:
        """Where `condition` holds; callers mask out bars without data (`present`)."""
        known = self._truth.get(id(condition))
        if known is not None:
            return known
        with np.errstate(all="ignore"):
            result = self._condition(condition)
        self._truth[id(condition)] = result
        return result

    def at(self, condition: Condition, cells: npt.NDArray[np.intp]) -> BoolArray:
        """Whether `condition` holds at the flat indices `cells`."""
        return np.broadcast_to(self.truth(condition), self._present.shape).ravel()[cells]

    def _condition(self, condition: Condition) -> BoolArray:
        if isinstance(condition, Comparison):
            left, right = self.value(condition.left), self.value(condition.right)
            return self._bool(COMPARE[condition.op](left, right))
        if isinstance(condition, Cross):
            now_left, now_right = self.value(condition.left), self.value(condition.right)
            was_left = self.value(condition.left, previous=True)
            was_right = self.value(condition.right, previous=True)
            if condition.direction == "cross_above":
                crossed = (now_left > now_right) & (was_left <= was_right)
            else:
                crossed = (now_left < now_right) & (was_left >= was_right)
            return self._bool(crossed)
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

    def value(self, operand: Operand, *, previous: bool = False) -> Value:
        """An operand's values at every bar (or at each symbol's previous bar)."""
        if isinstance(operand, Constant):
            return operand.value
        if isinstance(operand, ParameterRef):
            return float(self._values[operand.name])
        if isinstance(operand, Reference):
            return self._previous_series(operand.key) if previous else self._series[operand.key]
        assert isinstance(operand, Arithmetic)
        left = self.value(operand.left, previous=previous)
        right = self.value(operand.right, previous=previous)
        return array_arithmetic(operand.op, left, right)

    def _previous_series(self, key: str) -> FloatArray:
        known = self._previous.get(key)
        if known is None:
            values = self._series[key]
            known = np.empty_like(values)
            known[:, 0] = np.nan
            known[:, 1:] = values[:, :-1]
            if self._gaps is None:
                self._gaps = _gap_cells(self._present)
            rows, cols, sources = self._gaps
            if rows.size:
                known[rows, cols] = values[rows, sources]
            self._previous[key] = known
        return known

    def _bool(self, value: object) -> BoolArray:
        return np.broadcast_to(np.asarray(value, dtype=np.bool_), self._present.shape)


def _gap_cells(present: BoolArray) -> tuple[npt.NDArray[np.intp], ...]:
    """Bars whose symbol has no bar at the previous time but an earlier one: (rows,
    columns, column of the symbol's previous bar)."""
    n_times = present.shape[1]
    cells = np.flatnonzero(present)  # row-major: each symbol's bars in time order
    before = np.empty_like(cells)
    before[:1] = -1
    before[1:] = cells[:-1]
    rows = cells // n_times
    gap = (before >= 0) & (before // n_times == rows) & (before != cells - 1)
    return rows[gap], cells[gap] % n_times, before[gap] % n_times


def _bars_of(row: BoolArray) -> Columns | None:
    """The positions of a symbol's bars: a slice when contiguous (no copy), else indices."""
    positions = np.flatnonzero(row)
    if positions.size == 0:
        return None
    first, last = int(positions[0]), int(positions[-1])
    if last - first + 1 == positions.size:
        return slice(first, last + 1)
    return positions
