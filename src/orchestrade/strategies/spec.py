"""Strategy specs: a JSON document, validated, read into typed frozen values.

`load_spec` accepts a mapping, JSON text or a file path. The document is first checked
against the published JSON Schema (`strategy_spec_schema`), then for meaning: every
referenced indicator, price field and ``$param`` exists, indicator functions and their
parameters are known to TA-Lib (through `orchestrade.indicators`), parameter defaults lie
within their ranges. Every problem raises `SpecError` with the JSON path of the bad field
and what was expected; misspelt names come with the closest valid one.

Confidence (see also `compiler`): each signal's confidence is

* the *default rule* of its group: for an ``any`` group at the top of ``entry``
  (``exit``), the share of its reason-carrying conditions (all its conditions when none
  carries a reason) that are true at that bar; for anything else (``all``, a single
  condition) 1.0 when it fires;
* replaced by ``confidence.entry.base`` (``exit.base``) when given;
* plus the ``add`` of every ``confidence.entry.terms`` entry whose ``when`` condition is
  true at that bar (terms confirm or weaken a signal; they never create or block one);
* clipped to [0, 1].

Reasons: the ``reason`` of every condition of the firing group (at any depth) that is
true at that bar, plus the reasons of the true confidence terms.
"""

from __future__ import annotations

import copy
import difflib
import json
import math
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from types import MappingProxyType
from typing import Any, Literal

import numpy as np

from orchestrade.indicators import (
    IndicatorError,
    describe,
    indicator_names,
    resolve_parameters,
)
from orchestrade.indicators.batch import check_parameters
from orchestrade.strategies.conditions import (
    PRICE_FIELDS,
    Condition,
    Cross,
    Group,
    ParameterRef,
    Reference,
    operands_of,
    parse_condition,
    walk_conditions,
    walk_operands,
)
from orchestrade.strategies.errors import ParameterError, SpecError
from orchestrade.strategies.schema import json_path, validate_document

ParamValue = int | float
SizingMethod = Literal["all_cash", "fixed_qty", "percent_equity", "volatility_target"]
OrderKind = Literal["market", "limit", "stop"]


@dataclass(frozen=True, slots=True)
class Parameter:
    """A tunable value referenced as ``"$name"``, with its sweep range."""

    name: str
    default: ParamValue
    kind: Literal["int", "float"]
    minimum: ParamValue | None = None
    maximum: ParamValue | None = None
    step: ParamValue | None = None
    description: str = ""

    def check(self, value: object) -> ParamValue:
        """`value` as this parameter's type, or ParameterError naming the problem."""
        if isinstance(value, bool) or not isinstance(value, int | float | np.integer | np.floating):
            raise ParameterError(f"parameter {self.name!r} must be a number, got {value!r}")
        number: ParamValue
        if self.kind == "int":
            if not float(value).is_integer():
                raise ParameterError(f"parameter {self.name!r} must be an integer, got {value!r}")
            number = int(value)
        else:
            number = float(value)
            if not math.isfinite(number):
                raise ParameterError(f"parameter {self.name!r} must be finite, got {value!r}")
        if self.minimum is not None and number < self.minimum:
            raise ParameterError(
                f"parameter {self.name!r} = {number} is below its minimum {self.minimum}"
            )
        if self.maximum is not None and number > self.maximum:
            raise ParameterError(
                f"parameter {self.name!r} = {number} is above its maximum {self.maximum}"
            )
        return number


@dataclass(frozen=True, slots=True)
class Indicator:
    """One indicator: a TA-Lib function over a price field or another indicator.

    Attributes:
        id: the name conditions refer to.
        fn: TA-Lib's upper-case function name.
        input: the series a one-input function reads (price field, indicator id or
            ``id.output``); None for the function's own inputs (close; high/low/close...).
        output: the TA-Lib output a plain reference to `id` means (None: the only one).
        params: TA-Lib parameters as written: numbers, ``"$param"`` or MA names.
        outputs: every TA-Lib output of `fn`.
    """

    id: str
    fn: str
    input: str | None
    output: str | None
    params: Mapping[str, int | float | str]
    outputs: tuple[str, ...]
    path: str


@dataclass(frozen=True, slots=True)
class ConfidenceTerm:
    """Add `add` to the confidence when `when` is true at the signal's bar."""

    when: Condition
    add: float
    reason: str | None


@dataclass(frozen=True, slots=True)
class ConfidenceRule:
    """How one side's confidence is computed (see the module docstring)."""

    base: float | None = None
    terms: tuple[ConfidenceTerm, ...] = ()


@dataclass(frozen=True, slots=True)
class Sizing:
    """How much to buy on an entry; the backtest kernel and the risk engine apply it."""

    method: SizingMethod = "all_cash"
    quantity: float | None = None
    fraction: float | None = None
    annual_vol: float | None = None
    lookback: int = 20
    max_fraction: float = 1.0


@dataclass(frozen=True, slots=True)
class Stops:
    """Exit levels as fractions of the entry price (None: not used)."""

    stop_loss: float | None = None
    take_profit: float | None = None
    trailing_stop: float | None = None


@dataclass(frozen=True, slots=True)
class OrderSpec:
    """The entry order: market, or limit/stop at ``close * (1 + offset)`` of the signal bar."""

    type: OrderKind = "market"
    offset: float = 0.0


@dataclass(frozen=True, slots=True)
class Universe:
    """The instruments a strategy is meant for (informative; callers choose the data)."""

    symbols: tuple[str, ...] = ()
    market: str | None = None
    timeframe: str | None = None


@dataclass(frozen=True, slots=True)
class StrategySpec:
    """A validated strategy spec with its current parameter values.

    Attributes:
        values: the current value of every parameter (defaults until `with_params`).
        reason_names: every reason the spec can report, sorted; bit i of the reason
            masks of `SignalArrays` stands for ``reason_names[i]``.
        indicators: in computation order (an indicator follows the ones it reads).
    """

    name: str
    description: str
    version: int
    parameters: Mapping[str, Parameter]
    indicators: Mapping[str, Indicator]
    entry: Condition
    exit: Condition | None
    entry_confidence: ConfidenceRule
    exit_confidence: ConfidenceRule
    sizing: Sizing
    stops: Stops
    order: OrderSpec
    universe: Universe
    values: Mapping[str, ParamValue]
    reason_names: tuple[str, ...]
    document: Mapping[str, Any] = field(repr=False)

    def with_params(self, **overrides: object) -> StrategySpec:
        """A copy with some parameter values replaced.

        Raises:
            ParameterError: an unknown parameter (naming the closest valid one), a value
                of the wrong type or outside the parameter's min/max.
            SpecError: an indicator rejects the new values (e.g. a period of 1).
        """
        values = dict(self.values)
        for name, value in overrides.items():
            parameter = self.parameters.get(name)
            if parameter is None:
                valid = ", ".join(self.parameters) or "none"
                raise ParameterError(
                    f"strategy {self.name!r} has no parameter {name!r}"
                    f"{closest(name, list(self.parameters))} (valid: {valid})"
                )
            values[name] = parameter.check(value)
        for indicator in self.indicators.values():
            _probe(indicator, values)
        return replace(self, values=MappingProxyType(values))

    def indicator_params(self, indicator_id: str) -> dict[str, int | float | str]:
        """The TA-Lib parameters of an indicator with ``$param`` references resolved."""
        return resolved_params(self.indicators[indicator_id], self.values)

    def to_dict(self) -> dict[str, Any]:
        """The JSON document, with parameter defaults set to the current values."""
        document = copy.deepcopy(dict(self.document))
        for name, value in self.values.items():
            document["parameters"][name]["default"] = value
        return document


def load_spec(source: Mapping[str, Any] | str | Path) -> StrategySpec:
    """Read and validate a strategy spec.

    Args:
        source: the document as a mapping, JSON text (starting with ``{``), or the path
            of a JSON file.

    Raises:
        SpecError: unreadable file, invalid JSON, or an invalid spec (path of the bad field
            and what was expected in the message).
    """
    document = _document(source)
    validate_document(document)
    return _build(document)


def resolved_params(
    indicator: Indicator, values: Mapping[str, ParamValue]
) -> dict[str, int | float | str]:
    """`indicator`'s parameters with every ``"$param"`` replaced by its value."""
    resolved: dict[str, int | float | str] = {}
    for key, value in indicator.params.items():
        if isinstance(value, str) and value.startswith("$"):
            resolved[key] = values[value[1:]]
        else:
            resolved[key] = value
    return resolved


def closest(word: str, candidates: list[str]) -> str:
    """``"; did you mean 'x'?"`` for the closest candidate, or an empty string."""
    matches = difflib.get_close_matches(word, candidates, n=1, cutoff=0.5)
    return f"; did you mean {matches[0]!r}?" if matches else ""


def _document(source: Mapping[str, Any] | str | Path) -> Any:
    if isinstance(source, Mapping):
        return copy.deepcopy(dict(source))
    if isinstance(source, str) and source.lstrip().startswith("{"):
        return _parse_json(source, "spec text")
    if isinstance(source, str | Path):
        path = Path(source)
        try:
            text = path.read_text(encoding="utf-8")
        except OSError as error:
            raise SpecError("$", f"cannot read spec file {str(path)!r}: {error}") from error
        return _parse_json(text, str(path))
    raise SpecError("$", f"expected a mapping, JSON text or a path, got {type(source).__name__}")


def _parse_json(text: str, origin: str) -> Any:
    try:
        return json.loads(text)
    except json.JSONDecodeError as error:
        raise SpecError(
            "$",
            f"{origin} is not valid JSON: {error.msg} at line {error.lineno} column {error.colno}",
        ) from error


def _build(document: dict[str, Any]) -> StrategySpec:
    parameters = {
        name: _parameter(name, raw) for name, raw in document.get("parameters", {}).items()
    }
    values = {name: parameter.default for name, parameter in parameters.items()}
    indicators = _indicators(document.get("indicators", {}), parameters)
    entry = parse_condition(document["entry"], ("entry",))
    exit_ = parse_condition(document["exit"], ("exit",)) if "exit" in document else None
    confidence = document.get("confidence", {})
    entry_confidence = _confidence_rule(confidence.get("entry"), ("confidence", "entry"))
    exit_confidence = _confidence_rule(confidence.get("exit"), ("confidence", "exit"))
    conditions = [entry, *([exit_] if exit_ is not None else [])]
    conditions += [term.when for term in (*entry_confidence.terms, *exit_confidence.terms)]
    reasons: set[str] = set()
    for condition in conditions:
        for node in walk_conditions(condition):
            _check_operands(node, indicators, parameters)
            if node.reason is not None:
                reasons.add(node.reason)
    reasons.update(
        term.reason
        for term in (*entry_confidence.terms, *exit_confidence.terms)
        if term.reason is not None
    )
    if len(reasons) > 63:
        raise SpecError("$", f"at most 63 distinct reasons fit a signal mask, got {len(reasons)}")
    if "parameters" not in document:
        document["parameters"] = {}
    universe = document.get("universe", {})
    return StrategySpec(
        name=document["name"],
        description=document.get("description", ""),
        version=document.get("version", 1),
        parameters=MappingProxyType(parameters),
        indicators=MappingProxyType(indicators),
        entry=entry,
        exit=exit_,
        entry_confidence=entry_confidence,
        exit_confidence=exit_confidence,
        sizing=_sizing(document.get("sizing", {"method": "all_cash"})),
        stops=Stops(**document.get("stops", {})),
        order=OrderSpec(**document.get("order", {"type": "market"})),
        universe=Universe(
            symbols=tuple(universe.get("symbols", ())),
            market=universe.get("market"),
            timeframe=universe.get("timeframe"),
        ),
        values=MappingProxyType(values),
        reason_names=tuple(sorted(reasons)),
        document=document,
    )


def _parameter(name: str, raw: Mapping[str, Any]) -> Parameter:
    path = json_path(("parameters", name))
    numbers = {key: raw[key] for key in ("default", "min", "max", "step") if key in raw}
    kind: Literal["int", "float"] = raw.get("type") or (
        "int" if all(float(v).is_integer() for v in numbers.values()) else "float"
    )
    if kind == "int":
        for key, value in numbers.items():
            if not float(value).is_integer():
                raise SpecError(f"{path}.{key}", f"expected an integer, got {value!r}")
        numbers = {key: int(value) for key, value in numbers.items()}
    else:
        numbers = {key: float(value) for key, value in numbers.items()}
    low, high = numbers.get("min"), numbers.get("max")
    if low is not None and high is not None and low > high:
        raise SpecError(f"{path}.min", f"expected min <= max, got min {low} > max {high}")
    default = numbers["default"]
    if low is not None and default < low:
        raise SpecError(f"{path}.default", f"expected a default >= min {low}, got {default}")
    if high is not None and default > high:
        raise SpecError(f"{path}.default", f"expected a default <= max {high}, got {default}")
    return Parameter(
        name=name,
        default=default,
        kind=kind,
        minimum=low,
        maximum=high,
        step=numbers.get("step"),
        description=raw.get("description", ""),
    )


def _indicators(
    raw: Mapping[str, Mapping[str, Any]], parameters: Mapping[str, Parameter]
) -> dict[str, Indicator]:
    defined: dict[str, Indicator] = {}
    for indicator_id, item in raw.items():
        path = json_path(("indicators", indicator_id))
        if indicator_id in PRICE_FIELDS:
            raise SpecError(
                path, f"expected an indicator id other than a price field, got {indicator_id!r}"
            )
        try:
            info = describe(item["fn"])
        except IndicatorError:
            names = [name.lower() for name in indicator_names()]
            raise SpecError(
                f"{path}.fn",
                f"unknown indicator function {item['fn']!r}{closest(item['fn'].lower(), names)}",
            ) from None
        outputs = info.outputs
        output = item.get("output")
        if output is not None and output not in outputs:
            raise SpecError(
                f"{path}.output",
                f"expected one of {', '.join(outputs)} for {info.name}, got {output!r}"
                f"{closest(output, list(outputs))}",
            )
        source = item.get("input")
        if source is not None and len(info.inputs) != 1:
            raise SpecError(
                f"{path}.input",
                f"{info.name} reads {', '.join(info.inputs)}; 'input' applies only to "
                "functions of one series",
            )
        params = dict(item.get("params", {}))
        for key, value in params.items():
            if isinstance(value, str) and value.startswith("$") and value[1:] not in parameters:
                raise SpecError(
                    f"{path}.params.{key}",
                    f"unknown parameter {value!r}{_closest_parameter(value[1:], parameters)}"
                    f" (parameters: {', '.join(parameters) or 'none'})",
                )
        defined[indicator_id] = Indicator(
            id=indicator_id,
            fn=info.name,
            input=source,
            output=output,
            params=MappingProxyType(params),
            outputs=outputs,
            path=path,
        )
    for indicator in defined.values():
        if indicator.input is not None:
            _check_input(indicator, defined)
    ordered = _topological(defined)
    values = {name: parameter.default for name, parameter in parameters.items()}
    for indicator in ordered.values():
        _probe(indicator, values)
    return ordered


def _check_input(indicator: Indicator, defined: Mapping[str, Indicator]) -> None:
    assert indicator.input is not None
    name, _, output = indicator.input.partition(".")
    where = f"{indicator.path}.input"
    if name in PRICE_FIELDS:
        if output:
            raise SpecError(where, f"a price field has no outputs, got {indicator.input!r}")
        return
    source = defined.get(name)
    if source is None:
        candidates = [*PRICE_FIELDS, *defined]
        raise SpecError(
            where,
            f"expected a price field ({', '.join(PRICE_FIELDS)}) or an indicator id, got "
            f"{name!r}{closest(name, candidates)}",
        )
    _check_output(source, output or None, where)


def _check_output(indicator: Indicator, output: str | None, where: str) -> None:
    if output is None:
        if indicator.output is None and len(indicator.outputs) > 1:
            choices = " or ".join(f"'{indicator.id}.{o}'" for o in indicator.outputs)
            raise SpecError(
                where,
                f"indicator {indicator.id!r} ({indicator.fn}) has several outputs: write "
                f"{choices}, or set its 'output'",
            )
        return
    if output not in indicator.outputs:
        raise SpecError(
            where,
            f"indicator {indicator.id!r} ({indicator.fn}) has outputs "
            f"{', '.join(indicator.outputs)}, got {output!r}"
            f"{closest(output, list(indicator.outputs))}",
        )


def _topological(defined: Mapping[str, Indicator]) -> dict[str, Indicator]:
    ordered: dict[str, Indicator] = {}
    visiting: set[str] = set()

    def visit(indicator: Indicator) -> None:
        if indicator.id in ordered:
            return
        if indicator.id in visiting:
            raise SpecError(f"{indicator.path}.input", "indicator inputs form a cycle")
        visiting.add(indicator.id)
        if indicator.input is not None:
            name = indicator.input.partition(".")[0]
            if name in defined:
                visit(defined[name])
        visiting.discard(indicator.id)
        ordered[indicator.id] = indicator

    for indicator in defined.values():
        visit(indicator)
    return ordered


def _probe(indicator: Indicator, values: Mapping[str, ParamValue]) -> None:
    """Let TA-Lib's limits check the parameters (names, types, ranges)."""
    params = resolved_params(indicator, values)
    info = describe(indicator.fn)
    for key, value in params.items():
        try:
            resolve_parameters(info, {key: value})
        except IndicatorError as error:
            raise SpecError(f"{indicator.path}.params.{key}", str(error)) from None
    try:
        check_parameters(indicator.fn, params)
    except IndicatorError as error:
        where = f"{indicator.path}.params" + (f".{next(iter(params))}" if len(params) == 1 else "")
        raise SpecError(where, str(error)) from None


def _check_operands(
    condition: Condition,
    indicators: Mapping[str, Indicator],
    parameters: Mapping[str, Parameter],
) -> None:
    operands = operands_of(condition)
    if isinstance(condition, Cross) and not any(
        isinstance(node, Reference) for operand in operands for node in walk_operands(operand)
    ):
        raise SpecError(
            condition.path,
            f"{condition.direction} needs a series (price field or indicator) on one side",
        )
    for operand in operands:
        for node in walk_operands(operand):
            if isinstance(node, ParameterRef) and node.name not in parameters:
                raise SpecError(
                    node.path,
                    f"unknown parameter '${node.name}'{_closest_parameter(node.name, parameters)}"
                    f" (parameters: {', '.join(parameters) or 'none'})",
                )
            if isinstance(node, Reference):
                _check_reference(node, indicators)


def _check_reference(node: Reference, indicators: Mapping[str, Indicator]) -> None:
    if node.name in PRICE_FIELDS:
        if node.output is not None:
            raise SpecError(node.path, f"a price field has no outputs, got {node.key!r}")
        return
    indicator = indicators.get(node.name)
    if indicator is None:
        candidates = [*PRICE_FIELDS, *indicators]
        raise SpecError(
            node.path,
            f"expected an indicator id ({', '.join(indicators) or 'none defined'}) or a price "
            f"field ({', '.join(PRICE_FIELDS)}), got {node.name!r}"
            f"{closest(node.name, candidates)}",
        )
    _check_output(indicator, node.output, node.path)


def _closest_parameter(name: str, parameters: Mapping[str, Parameter]) -> str:
    return closest(f"${name}", [f"${known}" for known in parameters])


def _confidence_rule(raw: Mapping[str, Any] | None, parts: tuple[str, ...]) -> ConfidenceRule:
    if raw is None:
        return ConfidenceRule()
    terms = tuple(
        ConfidenceTerm(
            when=parse_condition(term["when"], (*parts, "terms", i, "when")),
            add=float(term["add"]),
            reason=term.get("reason"),
        )
        for i, term in enumerate(raw.get("terms", []))
    )
    base = raw.get("base")
    return ConfidenceRule(base=None if base is None else float(base), terms=terms)


def _sizing(raw: Mapping[str, Any]) -> Sizing:
    values = {key: value for key, value in raw.items() if key != "method"}
    return Sizing(method=raw["method"], **values)


def default_confidence(condition: Condition) -> tuple[Condition, ...] | None:
    """The conditions whose share of truth is the default confidence of `condition`
    (the reason-carrying items of a top-level ``any`` group, or all its items when none
    carries a reason), or None when the default confidence is 1.0."""
    if not isinstance(condition, Group) or condition.kind != "any":
        return None
    with_reason = tuple(item for item in condition.items if item.reason is not None)
    return with_reason or condition.items
