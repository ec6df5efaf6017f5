"""Rules as documents: checked like the rule files, errors name the field, and a rule turned
into its document and back is the same rule."""

from __future__ import annotations

from dataclasses import asdict
from typing import Any

import pytest

from orchestrade.orchestration import RuleError, default_rules
from orchestrade.orchestration.rule_documents import rule_from_document, rule_info

NESTED = {
    "name": "odd_anomaly",
    "description": "every kind of condition at once",
    "priority": 7,
    "event": "AnomalyDetected",
    "when": {
        "any": [
            {"not": {"field": "severity", "lt": "high"}},
            {
                "all": [
                    {"field": "detector", "in": ["volume_spike", "loss_streak"]},
                    {"field": "value", "gt": 0.3},
                    {"field": "subject", "eq": "005930"},
                ]
            },
        ]
    },
    "action": "notify",
    "params": {"message": "look at it"},
    "enabled": False,
}


def document_of(info: Any) -> dict[str, Any]:
    return {key: value for key, value in asdict(info).items() if value not in ({}, "")}


@pytest.mark.parametrize("rule", [*default_rules(), rule_from_document(NESTED)])
def test_a_rule_turned_into_its_document_and_back_is_the_same_rule(rule: Any) -> None:
    again = rule_from_document(document_of(rule_info(rule)))

    assert again == rule


def test_the_document_has_the_rule_files_shape() -> None:
    info = rule_info(rule_from_document(NESTED))

    assert document_of(info) == NESTED


@pytest.mark.parametrize(
    ("changes", "field", "message"),
    [
        ({"action": "alert"}, "action", "action: unknown action 'alert'"),
        ({"event": "Nope"}, "event", "event: unknown event type 'Nope'"),
        ({"when": {"field": "severty", "lt": "high"}}, "when.field", "when.field: "),
        (
            {"when": {"all": [{"field": "value", "gt": "$nope"}]}},
            "when.all[0].gt",
            "when.all[0].gt: unknown setting $nope",
        ),
        ({"priority": "high"}, "priority", "priority: expected an integer"),
        ({"colour": "red"}, "colour", "colour: unknown field 'colour'"),
    ],
)
def test_a_bad_rule_names_the_field_without_a_file_or_line(
    changes: dict[str, Any], field: str, message: str
) -> None:
    with pytest.raises(RuleError) as refused:
        rule_from_document({**NESTED, **changes})

    assert refused.value.field == field
    assert str(refused.value).startswith(message)


def test_a_rule_is_a_mapping() -> None:
    with pytest.raises(RuleError, match="a rule is a mapping of its fields, got list"):
        rule_from_document(["name", "x"])  # type: ignore[arg-type]
