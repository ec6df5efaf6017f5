"""Compile a strategy spec to signal arrays over a whole panel at once (the backtest path).

Indicators are computed per symbol with `orchestrade.indicators` on the bars the symbol
has (a panel row's NaN gaps are squeezed out first and the results scattered back), so a
symbol that starts late, or misses a session, is computed exactly as a stream of its own
bars would be. Conditions are then evaluated with numpy over (symbols, times) with the
semantics of `conditions`; confidence and reasons follow the rules in `spec`.
A bar without data never carries a signal. When entry and exit fire on the same bar the
exit wins and the entry is cleared.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from typing import Any

import numpy as np
import numpy.typing as npt

from orchestrade.indicators import IndicatorError, describe, evaluate
from orchestrade.strategies.arrays import SignalArrays
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
Value = FloatArray | float


def compile_signals(
    spec: StrategySpec, panel: PanelLike, params: Mapping[str, ParamValue] | None = None
) -> SignalArrays:
    """Entry and exit signals of `spec` for every symbol and bar of `panel`.

    Args:
        spec: a loaded strategy spec.
        panel: aligned OHLCV arrays (a `BarPanel` or anything shaped like `PanelLike`).
        params: parameter overrides (see `StrategySpec.with_params`).

    Raises:
        ParameterError: a bad parameter override.
        SpecError: an indicator rejected its parameters.
        SignalArraysError: the panel's arrays are malformed.
    """
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
    # Confidence and reasons are computed on the (few) signal cells only.
    for fired, condition, rule, confidence in (
        (entries, spec.entry, spec.entry_confidence, entry_confidence),
        (exits, spec.exit, spec.exit_confidence, exit_confidence),
    ):
        if condition is None:
            continue
        cells = np.flatnonzero(fired)
        values, masks = _scores(evaluator, condition, rule, bits, cells)
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


def panel_fields(
    panel: PanelLike, needed: Collection[str] = PRICE_FIELDS
) -> tuple[dict[str, FloatArray], BoolArray]:
    """The panel's price arrays by field name, and where a symbol has a bar (finite close).

    Raises:
        SignalArraysError: an array is not 2-D float64 of the panel's shape, or a bar with a
            close lacks one of the `needed` fields.
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
    present = ~np.isnan(fields["close"])
    for name in PRICE_FIELDS:
        if name not in needed:
            continue
        broken = present & ~np.isfinite(fields[name])
        if broken.any():
            row, col = (int(i[0]) for i in np.nonzero(broken))
            raise SignalArraysError(
                f"panel bar of {panel.symbols[row]!r} at {panel.timestamps[col]} has a close "
                f"but no finite {name}"
            )
    return fields, present


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


def indicator_series(
    spec: StrategySpec, fields: Mapping[str, FloatArray], present: BoolArray
) -> dict[str, FloatArray]:
    """Every series a condition can name: the price fields, ``id`` and ``id.output``."""
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
            results = _evaluate(indicator, data, params)
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

    def _condition(self, condition: Condition) -> BoolArray:
        if isinstance(condition, Comparison):
            left, right = self.value(condition.left), self.value(condition.right)
            return self._bool(_COMPARE[condition.op](left, right))
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
        return _arithmetic(operand.op, left, right)

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

    @property
    def shape(self) -> tuple[int, ...]:
        """(symbols, times)."""
        return self._present.shape

    def _bool(self, value: Any) -> BoolArray:
        return np.broadcast_to(np.asarray(value, dtype=np.bool_), self._present.shape)


def _arithmetic(op: str, left: Value, right: Value) -> Value:
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


_COMPARE: dict[str, Any] = {
    "gt": np.greater,
    "lt": np.less,
    "ge": np.greater_equal,
    "le": np.less_equal,
}


def _scores(
    evaluator: ArrayEvaluator,
    condition: Condition,
    rule: ConfidenceRule,
    bits: Mapping[str, int],
    cells: npt.NDArray[np.intp],
) -> tuple[FloatArray, npt.NDArray[np.int64]]:
    """Confidence and reason masks of the signals at the flat indices `cells`."""

    def holds(node: Condition) -> BoolArray:
        return np.broadcast_to(evaluator.truth(node), evaluator.shape).ravel()[cells]

    shares = default_confidence(condition)
    if rule.base is not None:
        confidence = np.full(cells.size, rule.base)
    elif shares is not None:
        counts = np.zeros(cells.size, dtype=np.int64)
        for item in shares:
            counts += holds(item)
        confidence = counts / len(shares)
    else:
        confidence = np.ones(cells.size)
    reasons = np.zeros(cells.size, dtype=np.int64)
    for node in walk_conditions(condition):
        if node.reason is not None:
            reasons[holds(node)] |= bits[node.reason]
    for term in rule.terms:
        term_holds = holds(term.when)
        confidence = confidence + np.where(term_holds, term.add, 0.0)
        if term.reason is not None:
            reasons[term_holds] |= bits[term.reason]
        for node in walk_conditions(term.when):
            if node.reason is not None and node.reason != term.reason:
                reasons[term_holds & holds(node)] |= bits[node.reason]
    return np.clip(confidence, 0.0, 1.0), reasons


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


def _bars_of(row: BoolArray) -> slice | npt.NDArray[np.intp] | None:
    """The positions of a symbol's bars: a slice when contiguous (no copy), else indices."""
    positions = np.flatnonzero(row)
    if positions.size == 0:
        return None
    first, last = int(positions[0]), int(positions[-1])
    if last - first + 1 == positions.size:
        return slice(first, last + 1)
    return positions


def _evaluate(
    indicator: Indicator, data: Mapping[str, FloatArray], params: Mapping[str, int | float | str]
) -> list[FloatArray]:
    try:
        result = evaluate(indicator.fn, data, params)
    except IndicatorError as error:
        raise SpecError(f"{indicator.path}.params", str(error)) from None
    outputs = list(result) if isinstance(result, tuple) else [result]
    return [np.asarray(output, dtype=np.float64) for output in outputs]
