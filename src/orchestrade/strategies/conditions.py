"""The condition language of strategy specs as typed trees, parsed from JSON.

Operands: numbers, price fields (``open``, ``high``, ``low``, ``close``, ``volume``),
indicator ids (``"rsi"``, or ``"bb.lowerband"`` for one output of a multi-output
indicator), ``"$param"`` references, and arithmetic ``{"add" | "sub" | "mul" | "div": [a,
b]}``. Conditions: ``cross_above``, ``cross_below``, ``gt``, ``lt``, ``ge``, ``le`` over two
operands, ``between: [x, low, high]`` (inclusive), and ``all``, ``any``, ``not`` over
conditions. Any condition may carry a ``reason``: the name reported when it is true.

Semantics, identical in the array and the streaming form:

* a comparison with NaN on either side is false (so warm-up bars never signal);
* ``cross_above: [a, b]`` at bar t is ``a[t] > b[t] and a[t-1] <= b[t-1]`` where t-1 is the
  symbol's previous bar (gaps in a panel are skipped); false when any of the four values
  is NaN or the bar is the symbol's first; ``cross_below`` is the mirror;
* ``div`` by zero gives NaN (hence false comparisons), never an error.

Every node remembers the JSON path it was read from, for error messages.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any, Literal, TypeAlias, cast

from orchestrade.strategies.schema import json_path

PRICE_FIELDS = ("open", "high", "low", "close", "volume")
COMPARISONS = ("gt", "lt", "ge", "le")
CROSSES = ("cross_above", "cross_below")
GROUPS = ("all", "any")
ARITHMETIC = ("add", "sub", "mul", "div")

Comparator: TypeAlias = Literal["gt", "lt", "ge", "le"]
Direction: TypeAlias = Literal["cross_above", "cross_below"]
GroupKind: TypeAlias = Literal["all", "any"]
ArithmeticOp: TypeAlias = Literal["add", "sub", "mul", "div"]


@dataclass(frozen=True, slots=True)
class Constant:
    """A number."""

    value: float
    path: str


@dataclass(frozen=True, slots=True)
class Reference:
    """A price field, or one output of an indicator (`output` None: its only or chosen one)."""

    name: str
    output: str | None
    path: str

    @property
    def key(self) -> str:
        """``name`` or ``name.output``, as written."""
        return self.name if self.output is None else f"{self.name}.{self.output}"


@dataclass(frozen=True, slots=True)
class ParameterRef:
    """A ``"$name"`` reference to a strategy parameter."""

    name: str
    path: str


@dataclass(frozen=True, slots=True)
class Arithmetic:
    """``left <op> right``."""

    op: ArithmeticOp
    left: Operand
    right: Operand
    path: str


Operand: TypeAlias = Constant | Reference | ParameterRef | Arithmetic


@dataclass(frozen=True, slots=True)
class Comparison:
    """``left <op> right`` for gt, lt, ge, le."""

    op: Comparator
    left: Operand
    right: Operand
    reason: str | None
    path: str


@dataclass(frozen=True, slots=True)
class Cross:
    """``left`` crosses above (below) ``right`` at this bar."""

    direction: Direction
    left: Operand
    right: Operand
    reason: str | None
    path: str


@dataclass(frozen=True, slots=True)
class Between:
    """``low <= value <= high``."""

    value: Operand
    low: Operand
    high: Operand
    reason: str | None
    path: str


@dataclass(frozen=True, slots=True)
class Group:
    """All (any) of `items` are true."""

    kind: GroupKind
    items: tuple[Condition, ...]
    reason: str | None
    path: str


@dataclass(frozen=True, slots=True)
class Negation:
    """`item` is false."""

    item: Condition
    reason: str | None
    path: str


Condition: TypeAlias = Comparison | Cross | Between | Group | Negation


def parse_condition(document: Mapping[str, Any], parts: tuple[str | int, ...]) -> Condition:
    """The condition tree of a schema-valid condition object found at `parts`."""
    path = json_path(parts)
    reason = document.get("reason")
    op = next(key for key in document if key != "reason")
    value = document[op]
    inner = (*parts, op)
    if op in COMPARISONS:
        left, right = (parse_operand(item, (*inner, i)) for i, item in enumerate(value))
        return Comparison(cast(Comparator, op), left, right, reason, path)
    if op in CROSSES:
        left, right = (parse_operand(item, (*inner, i)) for i, item in enumerate(value))
        return Cross(cast(Direction, op), left, right, reason, path)
    if op == "between":
        x, low, high = (parse_operand(item, (*inner, i)) for i, item in enumerate(value))
        return Between(x, low, high, reason, path)
    if op in GROUPS:
        items = tuple(parse_condition(item, (*inner, i)) for i, item in enumerate(value))
        return Group(cast(GroupKind, op), items, reason, path)
    return Negation(parse_condition(value, inner), reason, path)


def parse_operand(value: object, parts: tuple[str | int, ...]) -> Operand:
    """The operand tree of a schema-valid operand found at `parts`."""
    path = json_path(parts)
    if isinstance(value, int | float) and not isinstance(value, bool):
        return Constant(float(value), path)
    if isinstance(value, str):
        if value.startswith("$"):
            return ParameterRef(value[1:], path)
        name, _, output = value.partition(".")
        return Reference(name, output or None, path)
    assert isinstance(value, Mapping)  # the schema allows nothing else
    op, pair = next(iter(value.items()))
    left, right = (parse_operand(item, (*parts, op, i)) for i, item in enumerate(pair))
    return Arithmetic(cast(ArithmeticOp, op), left, right, path)


def walk_conditions(condition: Condition) -> Iterator[Condition]:
    """`condition` and every condition nested in it, depth first."""
    yield condition
    if isinstance(condition, Group):
        for item in condition.items:
            yield from walk_conditions(item)
    elif isinstance(condition, Negation):
        yield from walk_conditions(condition.item)


def operands_of(condition: Condition) -> tuple[Operand, ...]:
    """The operands a single condition compares (none for groups and negations)."""
    if isinstance(condition, Comparison | Cross):
        return (condition.left, condition.right)
    if isinstance(condition, Between):
        return (condition.value, condition.low, condition.high)
    return ()


def walk_operands(operand: Operand) -> Iterator[Operand]:
    """`operand` and every operand nested in it."""
    yield operand
    if isinstance(operand, Arithmetic):
        yield from walk_operands(operand.left)
        yield from walk_operands(operand.right)
