"""The condition language of rules: event fields compared with values, combined by all/any/not.

Declarative on purpose: a rule file can read the fields of one event and compare them, and
nothing else (no eval, no function calls). A condition is one of

- ``{field: signal.confidence, lt: 0.65}``: a `Comparison` of a field path (dots walk into
  nested values: ``signal.confidence``, ``order.bot_id``) with a value, by one operator:
  ``gt ge lt le eq ne in`` (``in`` takes a list);
- ``{all: [...]}``, ``{any: [...]}``: every / at least one of the listed conditions;
- ``{not: {...}}``: the negation of one condition.

A value is a literal or ``$name``, a setting looked up at evaluation time (a `Parameter`,
e.g. ``$min_confidence`` from `orchestrade.settings.RulesSettings`).

Comparisons follow the field's type, checked when the rule is built (an unknown field, a
literal of the wrong type or an ordering on text is refused then, not at trading time):

- numbers are compared in the field's own type: a float field as floats (so that a rule
  decides exactly like the float64 backtest kernel), a Decimal field exactly (a float
  literal or setting is taken at its shortest decimal text: 0.1 is Decimal("0.1"));
- enums compare by declaration order (`Severity`: low < medium < high < critical), and their
  literal is a member's value (``high``);
- text and booleans support ``eq``, ``ne`` and ``in`` only;
- a missing value (an optional field that is None, or a setting that is switched off)
  makes every comparison false except ``eq: null`` / ``ne: null``.
"""

from __future__ import annotations

import dataclasses
import difflib
import functools
import math
import operator as operator_module
import types
import typing
from collections.abc import Callable, Collection, Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from enum import Enum, StrEnum
from typing import Any

from orchestrade.orchestration.errors import RuleError


class Operator(StrEnum):
    """How a comparison relates the field to the value."""

    GT = "gt"
    GE = "ge"
    LT = "lt"
    LE = "le"
    EQ = "eq"
    NE = "ne"
    IN = "in"


ORDERINGS = frozenset({Operator.GT, Operator.GE, Operator.LT, Operator.LE})
_SYMBOLS = {
    Operator.GT: ">",
    Operator.GE: ">=",
    Operator.LT: "<",
    Operator.LE: "<=",
    Operator.EQ: "==",
    Operator.NE: "!=",
    Operator.IN: "in",
}


@dataclass(frozen=True, slots=True)
class Parameter:
    """``$name`` in a rule: the value of setting `name`, read when the rule is evaluated."""

    name: str

    def __str__(self) -> str:
        return f"${self.name}"


Scalar = str | int | float | Decimal | bool | None
"""A literal value in a condition."""

Operand = Scalar | Parameter | tuple[Scalar, ...]
"""What a comparison compares the field with; a tuple only for ``in``."""

ParameterValue = str | int | float | Decimal | bool | None
"""The value of a setting a rule refers to with ``$name``."""


@dataclass(frozen=True, slots=True)
class Comparison:
    """`field` (a dotted path into the event) `operator` `value`."""

    field: str
    operator: Operator
    value: Operand
    path: tuple[str, ...] = dataclasses.field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        if not isinstance(self.field, str) or not all(self.field.split(".")):
            raise RuleError(
                f"a field path is names joined by dots, got {self.field!r}", field="field"
            )
        try:
            operator = Operator(self.operator)
        except ValueError:
            raise RuleError(
                f"unknown operator {self.operator!r} (expected one of "
                f"{', '.join(op.value for op in Operator)})",
                field="operator",
            ) from None
        object.__setattr__(self, "operator", operator)
        if isinstance(self.value, list):
            object.__setattr__(self, "value", tuple(self.value))
        object.__setattr__(self, "path", tuple(self.field.split(".")))


@dataclass(frozen=True, slots=True)
class AllOf:
    """True when every one of `conditions` is."""

    conditions: tuple[Condition, ...]

    def __post_init__(self) -> None:
        object.__setattr__(self, "conditions", tuple(self.conditions))


@dataclass(frozen=True, slots=True)
class AnyOf:
    """True when at least one of `conditions` is."""

    conditions: tuple[Condition, ...]

    def __post_init__(self) -> None:
        object.__setattr__(self, "conditions", tuple(self.conditions))


@dataclass(frozen=True, slots=True)
class Not:
    """True when `condition` is false."""

    condition: Condition


Condition = Comparison | AllOf | AnyOf | Not
"""Any condition."""


class FieldKind(StrEnum):
    """What a field holds, which decides the comparisons it supports."""

    NUMBER = "number"
    TEXT = "text"
    ENUM = "enum"
    BOOLEAN = "boolean"


@dataclass(frozen=True, slots=True)
class FieldInfo:
    """The type of a field path of an event, as the condition language sees it."""

    path: str
    kind: FieldKind
    optional: bool
    enum: type[Enum] | None = field(default=None)


def resolve_field(event_type: type, path: str) -> FieldInfo:
    """What `path` reads in an event of `event_type`.

    Raises:
        RuleError: no such field (the message names the closest valid one), the path stops
            at a nested value (``signal``) or walks into a plain one, or the field's type
            cannot be compared (times, lists).
    """
    parts = path.split(".")
    current: type = event_type
    optional = False
    for index, part in enumerate(parts):
        here = ".".join(parts[: index + 1])
        hints = _field_types(current)
        if part not in hints:
            prefix = ".".join(parts[:index])
            known = [f"{prefix}.{name}" if prefix else name for name in hints]
            raise RuleError(f"{event_type.__name__} has no field {here!r}{_suggest(here, known)}")
        annotation, nullable = _strip_optional(hints[part])
        optional = optional or nullable
        last = index == len(parts) - 1
        if dataclasses.is_dataclass(annotation) and isinstance(annotation, type):
            if last:
                names = ", ".join(f"{here}.{name}" for name in _field_types(annotation))
                raise RuleError(
                    f"{here!r} is a {annotation.__name__}; compare one of its fields: {names}"
                )
            current = annotation
            continue
        if not last:
            raise RuleError(f"{here!r} is a {_type_name(annotation)} and has no fields")
        kind, enum = _kind_of(path, annotation)
        return FieldInfo(path, kind, optional, enum)
    raise AssertionError("unreachable: the loop returns on the last part")  # pragma: no cover


def check_condition(
    event_type: type,
    condition: Condition,
    *,
    parameters: Collection[str] | None = None,
    at: str = "when",
) -> None:
    """Check every comparison of `condition` against the fields of `event_type`.

    Args:
        parameters: the setting names ``$name`` may use (None: any name).
        at: the path of `condition` in its rule, for error messages.

    Raises:
        RuleError: with `field` set to the path of the faulty part (``when.all[1].lt``).
    """
    if isinstance(condition, AllOf | AnyOf):
        key = "all" if isinstance(condition, AllOf) else "any"
        if not condition.conditions:
            raise RuleError(f"'{key}' needs at least one condition", field=f"{at}.{key}")
        for index, part in enumerate(condition.conditions):
            check_condition(event_type, part, parameters=parameters, at=f"{at}.{key}[{index}]")
    elif isinstance(condition, Not):
        check_condition(event_type, condition.condition, parameters=parameters, at=f"{at}.not")
    elif isinstance(condition, Comparison):
        try:
            info = resolve_field(event_type, condition.field)
        except RuleError as error:
            raise RuleError(str(error), field=f"{at}.field") from None
        try:
            check_operand(info, condition.operator, condition.value, parameters=parameters)
        except RuleError as error:
            raise RuleError(str(error), field=f"{at}.{condition.operator.value}") from None
    else:
        raise RuleError(
            f"a condition is a Comparison, AllOf, AnyOf or Not, got {type(condition).__name__}",
            field=at,
        )


def check_operand(
    info: FieldInfo,
    operator: Operator,
    value: object,
    *,
    parameters: Collection[str] | None = None,
) -> None:
    """Check that `value` can be compared with the field `info` by `operator`.

    Raises:
        RuleError: the message says what the field holds and what would be accepted.
    """
    if operator in ORDERINGS and info.kind in (FieldKind.TEXT, FieldKind.BOOLEAN):
        raise RuleError(
            f"{info.path} is {info.kind.value}, which supports eq, ne and in, not {operator.value}"
        )
    if isinstance(value, Parameter):
        if operator is Operator.IN:
            raise RuleError(f"'in' takes a list of values, not the setting {value}")
        if parameters is not None and value.name not in parameters:
            raise RuleError(
                f"unknown setting {value}{_suggest(value.name, parameters, prefix='$')}"
            )
        return
    if operator is Operator.IN:
        if not isinstance(value, tuple | list) or not value:
            raise RuleError(f"'in' takes a non-empty list of values, got {value!r}")
        for item in value:
            _check_literal(info, item, allow_null=True)
        return
    _check_literal(info, value, allow_null=operator in (Operator.EQ, Operator.NE))


def holds(condition: Condition, event: object, parameters: Mapping[str, ParameterValue]) -> bool:
    """Whether `condition` is true of `event`, with ``$name`` read from `parameters`.

    Raises:
        RuleError: a ``$name`` is missing from `parameters`, or a setting's value cannot be
            compared with the field (a text setting for a number field).
    """
    if isinstance(condition, Comparison):
        return _compare(condition, _read(event, condition.path), parameters)
    if isinstance(condition, AllOf):
        return all(holds(part, event, parameters) for part in condition.conditions)
    if isinstance(condition, AnyOf):
        return any(holds(part, event, parameters) for part in condition.conditions)
    return not holds(condition.condition, event, parameters)


Predicate = Callable[[object, Mapping[str, ParameterValue]], bool]
"""A compiled condition: (event, parameters) -> whether it holds (`compile_condition`)."""


def compile_condition(condition: Condition) -> Predicate:
    """`condition` as a function of (event, parameters) with the answers and errors of
    `holds`, without its walk of the condition tree on every call: the rule engine runs one
    for every signal."""
    if isinstance(condition, Comparison):
        return _compiled_comparison(condition)
    if isinstance(condition, AllOf):
        every = tuple(compile_condition(part) for part in condition.conditions)
        if len(every) == 2:  # the usual shape, without a generator per call
            first, second = every

            def both(event: object, parameters: Mapping[str, ParameterValue]) -> bool:
                return first(event, parameters) and second(event, parameters)

            return both

        def all_of(event: object, parameters: Mapping[str, ParameterValue]) -> bool:
            return all(part(event, parameters) for part in every)

        return all_of
    if isinstance(condition, AnyOf):
        some = tuple(compile_condition(part) for part in condition.conditions)

        def any_of(event: object, parameters: Mapping[str, ParameterValue]) -> bool:
            return any(part(event, parameters) for part in some)

        return any_of
    negated = compile_condition(condition.condition)

    def not_(event: object, parameters: Mapping[str, ParameterValue]) -> bool:
        return not negated(event, parameters)

    return not_


def explain(condition: Condition, event: object, parameters: Mapping[str, ParameterValue]) -> str:
    """`condition` with the event's values, for a rule's reason.

    E.g. ``signal.side buy == buy and signal.confidence 0.6 < 0.65 ($min_confidence)``; of an
    ``any`` that holds only the parts that hold are shown.
    """
    if isinstance(condition, Comparison):
        actual = _read(event, condition.path)
        return (
            f"{condition.field} {_show(actual)} {_SYMBOLS[condition.operator]} "
            f"{_show_operand(condition.value, parameters)}"
        )
    if isinstance(condition, AllOf):
        return " and ".join(_grouped(part, event, parameters) for part in condition.conditions)
    if isinstance(condition, AnyOf):
        shown = [part for part in condition.conditions if holds(part, event, parameters)]
        return " or ".join(
            _grouped(part, event, parameters) for part in (shown or condition.conditions)
        )
    return f"not ({explain(condition.condition, event, parameters)})"


def parameter_names(condition: Condition | None) -> frozenset[str]:
    """Every setting name the condition refers to with ``$name``."""
    if condition is None:
        return frozenset()
    if isinstance(condition, Comparison):
        value = condition.value
        return frozenset({value.name}) if isinstance(value, Parameter) else frozenset()
    if isinstance(condition, Not):
        return parameter_names(condition.condition)
    names: frozenset[str] = frozenset()
    for part in condition.conditions:
        names |= parameter_names(part)
    return names


# -- evaluation ------------------------------------------------------------------------------


def _read(event: object, path: tuple[str, ...]) -> Any:
    value: Any = event
    for name in path:
        if value is None:
            return None
        value = getattr(value, name)
    return value


def _compiled_comparison(comparison: Comparison) -> Predicate:
    """`_compare` of the field, specialised for the two usual shapes: (in)equality with a
    literal (an enum field's answer kept per member) and an ordering."""
    read = _reader(comparison.path)
    operator, value = comparison.operator, comparison.value
    if operator in (Operator.EQ, Operator.NE) and not isinstance(value, Parameter):
        negate = operator is Operator.NE
        by_member: dict[Enum, bool] = {}

        def equal(event: object, parameters: Mapping[str, ParameterValue]) -> bool:
            actual = read(event)
            if isinstance(actual, Enum):
                answer = by_member.get(actual)
                if answer is None:
                    answer = by_member[actual] = _equal(actual, value) is not negate
                return answer
            return _equal(actual, value) is not negate

        return equal
    if operator in ORDERINGS:
        holds_for = _ORDERED[operator]
        name = value.name if isinstance(value, Parameter) else None

        def ordered(event: object, parameters: Mapping[str, ParameterValue]) -> bool:
            actual = read(event)
            expected = (
                _operand(value, parameters) if name is None else parameters.get(name, _MISSING)
            )
            if expected is _MISSING:
                expected = _operand(value, parameters)  # raises: the setting has no value
            if actual is None or expected is None:
                return False
            kind = type(actual)
            if kind is type(expected) and kind in _SAME_TYPE_NUMBERS:
                return bool(holds_for(actual, expected))  # what `_aligned` leaves as it is
            left, right = _aligned(actual, expected, comparison)
            return bool(holds_for(left, right))

        return ordered

    def compare(event: object, parameters: Mapping[str, ParameterValue]) -> bool:
        return _compare(comparison, read(event), parameters)

    return compare


_MISSING = object()
_SAME_TYPE_NUMBERS = frozenset({int, float, Decimal})
"""Number types `_aligned` passes through unchanged when both sides have the same one."""

_ORDERED: dict[Operator, Callable[[Any, Any], Any]] = {
    Operator.GT: operator_module.gt,
    Operator.GE: operator_module.ge,
    Operator.LT: operator_module.lt,
    Operator.LE: operator_module.le,
}


def _reader(path: tuple[str, ...]) -> Callable[[object], Any]:
    """`_read` of `path`, unrolled for the usual one or two names."""
    if len(path) == 1:
        (name,) = path

        def read_one(event: object) -> Any:
            return None if event is None else getattr(event, name)

        return read_one
    if len(path) == 2:
        first, second = path

        def read_two(event: object) -> Any:
            if event is None:
                return None
            value = getattr(event, first)
            return None if value is None else getattr(value, second)

        return read_two
    return functools.partial(_read_path, path=path)


def _read_path(event: object, *, path: tuple[str, ...]) -> Any:
    return _read(event, path)


def _compare(comparison: Comparison, actual: Any, parameters: Mapping[str, ParameterValue]) -> bool:
    operator = comparison.operator
    expected = _operand(comparison.value, parameters)
    if operator is Operator.IN:
        assert isinstance(expected, tuple)
        return any(_equal(actual, item) for item in expected)
    if operator is Operator.EQ:
        return _equal(actual, expected)
    if operator is Operator.NE:
        return not _equal(actual, expected)
    if actual is None or expected is None:
        return False
    left, right = _aligned(actual, expected, comparison)
    if operator is Operator.GT:
        return bool(left > right)
    if operator is Operator.GE:
        return bool(left >= right)
    if operator is Operator.LT:
        return bool(left < right)
    return bool(left <= right)


def _operand(value: Operand, parameters: Mapping[str, ParameterValue]) -> Any:
    if isinstance(value, Parameter):
        try:
            return parameters[value.name]
        except KeyError:
            raise RuleError(f"setting {value} has no value", field=str(value)) from None
    return value


def _equal(actual: Any, expected: Any) -> bool:
    if actual is None or expected is None:
        return actual is None and expected is None
    if isinstance(actual, Enum):
        return bool(actual.value == (expected.value if isinstance(expected, Enum) else expected))
    if isinstance(actual, bool) or isinstance(expected, bool):
        return actual is expected
    if isinstance(actual, Decimal) and isinstance(expected, float):
        return actual == _decimal(expected)
    if isinstance(actual, float) and isinstance(expected, Decimal):
        return actual == float(expected)
    return bool(actual == expected)


def _aligned(actual: Any, expected: Any, comparison: Comparison) -> tuple[Any, Any]:
    """Both sides in the field's own terms: enum positions, floats, or exact decimals."""
    try:
        if isinstance(actual, Enum):
            return _rank(actual), _rank(type(actual)(expected))
        if isinstance(expected, bool) or not isinstance(expected, int | float | Decimal):
            raise TypeError(f"{expected!r} is not a number")
        if isinstance(actual, Decimal) and isinstance(expected, float):
            return actual, _decimal(expected)
        if isinstance(actual, float) and isinstance(expected, Decimal):
            return actual, float(expected)
        return actual, expected
    except (TypeError, ValueError) as error:
        raise RuleError(
            f"cannot compare {comparison.field} ({_show(actual)}) with "
            f"{comparison.value} ({expected!r}): {error}",
            field=comparison.field,
        ) from None


def _rank(member: Enum) -> int:
    """The member's position in its enum's declaration order (enums compare by it)."""
    rank = _ranks(type(member)).get(member)
    if rank is None:  # a pseudo-member (a combination of flags): no place of its own
        raise ValueError(f"{member!r} is not in list")
    return rank


@functools.cache
def _ranks(enum: type[Enum]) -> dict[Enum, int]:
    return {member: rank for rank, member in enumerate(enum)}


def _decimal(value: float) -> Decimal:
    # The shortest text that reads back as this float: what the user wrote, e.g. 0.1.
    return Decimal(repr(value))


def _grouped(condition: Condition, event: object, parameters: Mapping[str, Any]) -> str:
    text = explain(condition, event, parameters)
    return f"({text})" if isinstance(condition, AllOf | AnyOf) else text


def _show(value: Any) -> str:
    if isinstance(value, Enum):
        return str(value.value)
    if value is None:
        return "null"
    return str(value)


def _show_operand(value: Operand, parameters: Mapping[str, Any]) -> str:
    if isinstance(value, Parameter):
        return f"{_show(parameters.get(value.name))} ({value})"
    if isinstance(value, tuple):
        return "[" + ", ".join(_show(item) for item in value) + "]"
    return _show(value)


# -- static checks -----------------------------------------------------------------------------


@functools.cache
def _field_types(cls: type) -> dict[str, Any]:
    if not dataclasses.is_dataclass(cls):
        return {}
    hints = typing.get_type_hints(cls)
    return {item.name: hints[item.name] for item in dataclasses.fields(cls)}


def _strip_optional(annotation: Any) -> tuple[Any, bool]:
    origin = typing.get_origin(annotation)
    if origin is typing.Union or origin is types.UnionType:
        members = [arg for arg in typing.get_args(annotation) if arg is not type(None)]
        nullable = len(members) < len(typing.get_args(annotation))
        if len(members) == 1:
            return _unwrap_newtype(members[0]), nullable
        return annotation, nullable
    return _unwrap_newtype(annotation), False


def _unwrap_newtype(annotation: Any) -> Any:
    while hasattr(annotation, "__supertype__"):
        annotation = annotation.__supertype__
    return annotation


def _kind_of(path: str, annotation: Any) -> tuple[FieldKind, type[Enum] | None]:
    if isinstance(annotation, type):
        if issubclass(annotation, Enum):
            return FieldKind.ENUM, annotation
        if issubclass(annotation, bool):
            return FieldKind.BOOLEAN, None
        if issubclass(annotation, int | float | Decimal):
            return FieldKind.NUMBER, None
        if issubclass(annotation, str):
            return FieldKind.TEXT, None
    raise RuleError(
        f"{path} is a {_type_name(annotation)}; rules compare numbers, text, enums and booleans"
    )


def _check_literal(info: FieldInfo, value: object, *, allow_null: bool) -> None:
    if value is None:
        if not allow_null:
            raise RuleError(f"{info.path}: null can only be compared with eq or ne")
        if not info.optional:
            raise RuleError(f"{info.path} is never null")
        return
    if info.kind is FieldKind.NUMBER:
        if isinstance(value, bool) or not isinstance(value, int | float | Decimal):
            raise RuleError(f"{info.path} is a number; got {_literal(value)}")
        if not math.isfinite(value):
            raise RuleError(f"{info.path}: the value must be finite, got {value}")
    elif info.kind is FieldKind.BOOLEAN:
        if not isinstance(value, bool):
            raise RuleError(f"{info.path} is true or false; got {_literal(value)}")
    elif info.kind is FieldKind.ENUM:
        assert info.enum is not None
        allowed = [str(member.value) for member in info.enum]
        text = value.value if isinstance(value, Enum) else value
        if text not in allowed:
            raise RuleError(
                f"{info.path} is one of {', '.join(allowed)}; got {_literal(value)}"
                f"{_suggest(str(text), allowed)}"
            )
    elif not isinstance(value, str):
        raise RuleError(f"{info.path} is text; got {_literal(value)}")


def _literal(value: object) -> str:
    return f"{type(value).__name__} {value!r}"


def _type_name(annotation: Any) -> str:
    return getattr(annotation, "__name__", None) or str(annotation)


def _suggest(name: str, candidates: Collection[str], *, prefix: str = "") -> str:
    close = difflib.get_close_matches(name, list(candidates), n=1)
    return f" (did you mean {prefix + close[0]!r}?)" if close else ""
