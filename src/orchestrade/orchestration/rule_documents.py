"""Rules as documents: one rule written as in a rule file (a mapping from JSON or YAML) in,
a checked `Rule` out, and back to the same shape for people and programs (`RuleInfo`).

The document goes through the rule-file reader, so a rule added over the API is checked
exactly like one loaded from YAML, and a mistake names the field (``when.all[1].lt: ...``).
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from decimal import Decimal
from typing import Any

import yaml

from orchestrade.orchestration.conditions import (
    AllOf,
    AnyOf,
    Comparison,
    Condition,
    Not,
    Operand,
    Parameter,
)
from orchestrade.orchestration.control import RuleInfo
from orchestrade.orchestration.errors import RuleError, RuleFileError
from orchestrade.orchestration.rule_files import parse_rules
from orchestrade.orchestration.rules import PARAMETER_NAMES, Rule

_PREFIX = "rules[0]"


def rule_from_document(
    document: Mapping[str, Any], *, parameters: Collection[str] = PARAMETER_NAMES
) -> Rule:
    """The rule `document` describes (the keys of a rule file's entries).

    Raises:
        RuleError: the document is not a mapping or the rule is invalid; `field` and the
            message name the bad part (``when.all[0].field``), without a file or line.
    """
    if not isinstance(document, Mapping):
        raise RuleError(f"a rule is a mapping of its fields, got {type(document).__name__}")
    try:
        text = yaml.safe_dump({"rules": [dict(document)]}, sort_keys=False, allow_unicode=True)
    except yaml.YAMLError as error:
        raise RuleError(f"a rule holds text, numbers, lists and mappings only: {error}") from None
    try:
        (rule,) = parse_rules(text, source="rule", parameters=parameters)
    except RuleFileError as error:
        where = error.field.removeprefix(_PREFIX).removeprefix(".")
        message = f"{where}: {error.problem}" if where else error.problem
        raise RuleError(message, field=where) from None
    return rule


def rule_info(rule: Rule) -> RuleInfo:
    """`rule` in the shape of a rule file's entry (conditions as nested mappings)."""
    return RuleInfo(
        name=rule.name,
        description=rule.description,
        priority=rule.priority,
        event=rule.event,
        action=rule.action.value,
        enabled=rule.enabled,
        when=condition_document(rule.when) if rule.when is not None else {},
        params=dict(rule.params),
    )


def condition_document(condition: Condition) -> dict[str, Any]:
    """A condition as written in a rule file: ``{field, <operator>: value}``, ``{all:
    [...]}``, ``{any: [...]}`` or ``{not: {...}}``; settings as ``"$name"``."""
    if isinstance(condition, Comparison):
        return {"field": condition.field, condition.operator.value: _operand(condition.value)}
    if isinstance(condition, AllOf):
        return {"all": [condition_document(part) for part in condition.conditions]}
    if isinstance(condition, AnyOf):
        return {"any": [condition_document(part) for part in condition.conditions]}
    if isinstance(condition, Not):
        return {"not": condition_document(condition.condition)}
    raise RuleError(f"not a condition: {type(condition).__name__}")


def _operand(value: Operand) -> Any:
    if isinstance(value, Parameter):
        return str(value)
    if isinstance(value, tuple):
        return [_operand(item) for item in value]
    if isinstance(value, Decimal):
        return str(value)
    return value
