"""Rule files: YAML in, checked `Rule` values out, or an error that names the line and field.

The file is read as a YAML node tree (`yaml.compose`), not as plain data, so that every
value keeps its line: a typo fails at load with ``file:line: rules[2].when.all[0].field:
...``, never later in the middle of a trading day. The shape:

```yaml
rules:
  - name: min_signal_confidence        # unique; letters, digits, _ . -
    description: free text
    priority: 100                      # larger is tried first (default 0)
    event: SignalGenerated             # an event class of orchestrade.domain.EVENT_TYPES
    when:                              # optional; see orchestrade.orchestration.conditions
      all:
        - {field: signal.side, eq: buy}
        - {field: signal.confidence, lt: $min_confidence}
    action: reject                     # approve reject require_confirmation
                                       # stop_bot stop_all_bots notify
    params: {reason: too unsure}       # optional; see rules.ACTION_PARAMS
    enabled: true                      # optional (default true)
```

A value compared with a text or enum field is taken as written (``005930`` stays text);
``$name`` refers to a setting (`rules.PARAMETER_NAMES`).
"""

from __future__ import annotations

import difflib
from collections.abc import Collection
from importlib import resources
from pathlib import Path
from typing import Any

import yaml
from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

from orchestrade.domain import EVENT_TYPES
from orchestrade.orchestration.conditions import (
    AllOf,
    AnyOf,
    Comparison,
    Condition,
    FieldKind,
    Not,
    Operator,
    Parameter,
    check_operand,
    resolve_field,
)
from orchestrade.orchestration.errors import RuleError, RuleFileError
from orchestrade.orchestration.rules import PARAMETER_NAMES, Action, Rule

DEFAULT_RULES_FILE = "default_rules.yaml"
"""The desk's default policy, shipped inside this package."""

RULE_FIELDS = ("name", "description", "priority", "event", "when", "action", "params", "enabled")
"""The keys a rule may have; name, event and action are required."""

_REQUIRED = ("name", "event", "action")
_NULL_TAG = "tag:yaml.org,2002:null"
_STR_TAG = "tag:yaml.org,2002:str"


def load_rules(
    path: str | Path, *, parameters: Collection[str] = PARAMETER_NAMES
) -> tuple[Rule, ...]:
    """The rules of the YAML file at `path`, in file order.

    Args:
        parameters: the setting names ``$name`` may use.

    Raises:
        RuleFileError: the file cannot be read, is not YAML, or a rule is invalid; the
            message starts with ``path:line: field:``.
    """
    path = Path(path).expanduser()
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as error:
        raise RuleFileError(str(path), 0, "", f"cannot read rules: {error.strerror}") from error
    except UnicodeDecodeError as error:
        raise RuleFileError(str(path), 0, "", f"not UTF-8 text: {error.reason}") from error
    return parse_rules(text, source=str(path), parameters=parameters)


def default_rules(*, parameters: Collection[str] = PARAMETER_NAMES) -> tuple[Rule, ...]:
    """The default policy shipped with orchestrade (`default_rules.yaml` in this package)."""
    text = resources.files(__package__).joinpath(DEFAULT_RULES_FILE).read_text(encoding="utf-8")
    return parse_rules(text, source=DEFAULT_RULES_FILE, parameters=parameters)


def parse_rules(
    text: str, *, source: str = "<rules>", parameters: Collection[str] = PARAMETER_NAMES
) -> tuple[Rule, ...]:
    """The rules in YAML `text`; `source` names it in error messages.

    Raises:
        RuleFileError: as `load_rules`.
    """
    return _RuleFileReader(source, frozenset(parameters)).read(text)


class _RuleFileReader:
    """Walks the node tree of one file; every error carries the node's line."""

    def __init__(self, source: str, parameters: frozenset[str]) -> None:
        self._source = source
        self._parameters = parameters
        self._constructor = yaml.constructor.SafeConstructor()

    def read(self, text: str) -> tuple[Rule, ...]:
        try:
            root = yaml.compose(text, Loader=yaml.SafeLoader)
        except yaml.MarkedYAMLError as error:
            mark = error.problem_mark or error.context_mark
            line = mark.line + 1 if mark is not None else 0
            raise RuleFileError(
                self._source, line, "", f"not valid YAML: {error.problem or error}"
            ) from None
        except yaml.YAMLError as error:
            raise RuleFileError(self._source, 0, "", f"not valid YAML: {error}") from None
        if root is None:
            raise RuleFileError(self._source, 1, "", "empty file: expected 'rules:' and a list")
        top = self._mapping(root, "")
        for key, (key_node, _) in top.items():
            if key != "rules":
                raise self._error(key_node, key, f"unknown key {key!r} (expected 'rules')")
        if "rules" not in top:
            raise self._error(root, "", "expected 'rules:' with a list of rules")
        rules_node = top["rules"][1]
        if not isinstance(rules_node, SequenceNode):
            raise self._error(rules_node, "rules", "expected a list of rules")
        rules: list[Rule] = []
        names: dict[str, int] = {}
        for index, node in enumerate(rules_node.value):
            where = f"rules[{index}]"
            rule = self._rule(node, where)
            if rule.name in names:
                name_node = self._mapping(node, where)["name"][1]
                raise self._error(
                    name_node,
                    f"{where}.name",
                    f"rule name {rule.name!r} is already used by rules[{names[rule.name]}]",
                )
            names[rule.name] = index
            rules.append(rule)
        return tuple(rules)

    def _rule(self, node: Node, where: str) -> Rule:
        fields = self._mapping(node, where)
        for key, (key_node, _) in fields.items():
            if key not in RULE_FIELDS:
                raise self._error(
                    key_node,
                    f"{where}.{key}",
                    f"unknown field {key!r}{_suggest(key, RULE_FIELDS)} "
                    f"(a rule has: {', '.join(RULE_FIELDS)})",
                )
        for key in _REQUIRED:
            if key not in fields:
                raise self._error(node, f"{where}.{key}", f"missing required field {key!r}")
        name = self._text(fields["name"][1], f"{where}.name")
        event = self._text(fields["event"][1], f"{where}.event")
        if event not in EVENT_TYPES:
            raise self._error(
                fields["event"][1],
                f"{where}.event",
                f"unknown event type {event!r}{_suggest(event, EVENT_TYPES)}",
            )
        action = self._text(fields["action"][1], f"{where}.action")
        if action not in {member.value for member in Action}:
            raise self._error(
                fields["action"][1],
                f"{where}.action",
                f"unknown action {action!r}{_suggest(action, [a.value for a in Action])} "
                f"(expected one of {', '.join(a.value for a in Action)})",
            )
        when: Condition | None = None
        if "when" in fields:
            when = self._condition(fields["when"][1], EVENT_TYPES[event], f"{where}.when")
        arguments: dict[str, Any] = {
            "name": name,
            "event": event,
            "action": Action(action),
            "when": when,
        }
        if "priority" in fields:
            arguments["priority"] = self._typed(fields["priority"][1], f"{where}.priority", int)
        if "enabled" in fields:
            arguments["enabled"] = self._typed(fields["enabled"][1], f"{where}.enabled", bool)
        if "description" in fields:
            arguments["description"] = self._text(fields["description"][1], f"{where}.description")
        params_nodes: dict[str, Node] = {}
        if "params" in fields:
            params: dict[str, str] = {}
            for key, (_, value_node) in self._mapping(
                fields["params"][1], f"{where}.params"
            ).items():
                params[key] = self._text(value_node, f"{where}.params.{key}")
                params_nodes[f"params.{key}"] = value_node
            arguments["params"] = params
        try:
            return Rule(**arguments)
        except RuleError as error:
            bad = params_nodes.get(error.field) or fields.get(error.field, (None, node))[1]
            problem = str(error).removeprefix(f"rule {name}: ")
            raise self._error(
                bad, f"{where}.{error.field}" if error.field else where, problem
            ) from None

    def _condition(self, node: Node, event_type: type, where: str) -> Condition:
        fields = self._mapping(node, where)
        keys = list(fields)
        for combiner in ("all", "any", "not"):
            if combiner in fields:
                if len(keys) != 1:
                    others = ", ".join(key for key in keys if key != combiner)
                    raise self._error(
                        node,
                        where,
                        f"'{combiner}' stands alone in its mapping; also found {others}",
                    )
                inner = fields[combiner][1]
                if combiner == "not":
                    return Not(self._condition(inner, event_type, f"{where}.not"))
                if not isinstance(inner, SequenceNode) or not inner.value:
                    raise self._error(
                        inner, f"{where}.{combiner}", f"'{combiner}' takes a non-empty list"
                    )
                parts = tuple(
                    self._condition(part, event_type, f"{where}.{combiner}[{index}]")
                    for index, part in enumerate(inner.value)
                )
                return AllOf(parts) if combiner == "all" else AnyOf(parts)
        if "field" not in fields:
            raise self._error(
                node,
                where,
                "a condition is {field: <path>, <operator>: <value>}, {all: [...]}, "
                f"{{any: [...]}} or {{not: ...}}; found keys {', '.join(keys) or 'none'}",
            )
        operators = [key for key in keys if key != "field"]
        valid = [op.value for op in Operator]
        for key in operators:
            if key not in valid:
                raise self._error(
                    fields[key][0],
                    f"{where}.{key}",
                    f"unknown operator {key!r}{_suggest(key, valid)} "
                    f"(expected one of {', '.join(valid)})",
                )
        if len(operators) != 1:
            raise self._error(
                node,
                where,
                f"a comparison has exactly one operator ({', '.join(valid)}); "
                f"found {len(operators)}",
            )
        field_node = fields["field"][1]
        path = self._text(field_node, f"{where}.field")
        try:
            info = resolve_field(event_type, path)
        except RuleError as error:
            raise self._error(field_node, f"{where}.field", str(error)) from None
        operator = Operator(operators[0])
        value_node = fields[operators[0]][1]
        value = self._operand(value_node, info.kind, f"{where}.{operator.value}")
        try:
            check_operand(info, operator, value, parameters=self._parameters)
        except RuleError as error:
            raise self._error(value_node, f"{where}.{operator.value}", str(error)) from None
        return Comparison(path, operator, value)

    def _operand(self, node: Node, kind: FieldKind, where: str) -> Any:
        if isinstance(node, SequenceNode):
            return tuple(self._operand(item, kind, where) for item in node.value)
        if not isinstance(node, ScalarNode):
            raise self._error(node, where, "expected a value or a list of values, not a mapping")
        if node.tag == _STR_TAG and node.style is None and node.value.startswith("$"):
            return Parameter(node.value[1:])
        if node.tag == _NULL_TAG:
            return None
        if kind in (FieldKind.TEXT, FieldKind.ENUM):
            return node.value  # as written: 005930 and 1.0 stay text
        return self._constructor.construct_object(node)

    def _mapping(self, node: Node, where: str) -> dict[str, tuple[Node, Node]]:
        if not isinstance(node, MappingNode):
            raise self._error(node, where, f"expected a mapping, got {_node_kind(node)}")
        fields: dict[str, tuple[Node, Node]] = {}
        for key_node, value_node in node.value:
            if not isinstance(key_node, ScalarNode):
                raise self._error(key_node, where, "keys must be plain names")
            key = str(key_node.value)
            if key in fields:
                raise self._error(
                    key_node, _join(where, key), f"duplicate key {key!r} in the same mapping"
                )
            fields[key] = (key_node, value_node)
        return fields

    def _text(self, node: Node, where: str) -> str:
        if not isinstance(node, ScalarNode) or node.tag == _NULL_TAG:
            raise self._error(node, where, f"expected text, got {_node_kind(node)}")
        return str(node.value)

    def _typed(self, node: Node, where: str, kind: type) -> Any:
        value = self._constructor.construct_object(node) if isinstance(node, ScalarNode) else None
        if type(value) is not kind:
            expected = "an integer" if kind is int else "true or false"
            raise self._error(node, where, f"expected {expected}, got {_node_kind(node)}")
        return value

    def _error(self, node: Node, where: str, problem: str) -> RuleFileError:
        return RuleFileError(self._source, node.start_mark.line + 1, where, problem)


def _node_kind(node: Node) -> str:
    if isinstance(node, MappingNode):
        return "a mapping"
    if isinstance(node, SequenceNode):
        return "a list"
    tag = str(node.tag).rsplit(":", 1)[-1]
    return f"{tag} {node.value!r}"


def _join(where: str, key: str) -> str:
    return f"{where}.{key}" if where else key


def _suggest(name: str, candidates: Collection[str]) -> str:
    close = difflib.get_close_matches(name, list(candidates), n=1)
    return f" (did you mean {close[0]!r}?)" if close else ""
