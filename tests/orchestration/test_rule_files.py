"""Rule files: YAML loads into rules, and every mistake is reported with its line and field."""

from __future__ import annotations

import re
import textwrap
from pathlib import Path

import pytest

from orchestrade.orchestration import (
    Action,
    AllOf,
    AnyOf,
    Comparison,
    Not,
    Operator,
    Parameter,
    RuleFileError,
    load_rules,
    parse_rules,
)


def yaml(text: str) -> str:
    return textwrap.dedent(text).lstrip("\n")


def error_of(text: str) -> RuleFileError:
    with pytest.raises(RuleFileError) as caught:
        parse_rules(yaml(text), source="desk.yaml")
    return caught.value


GOOD = """
rules:
  - name: floor
    description: no weak entries
    priority: 10
    event: SignalGenerated
    when:
      all:
        - {field: signal.side, eq: buy}
        - any:
            - {field: signal.confidence, lt: $min_confidence}
            - not: {field: signal.symbol, in: [005930, "000660"]}
    action: reject
    params: {reason: too weak}
    enabled: false
"""


def test_a_good_file_loads_every_field() -> None:
    (rule,) = parse_rules(yaml(GOOD))

    assert rule.name == "floor"
    assert rule.description == "no weak entries"
    assert rule.priority == 10
    assert rule.event == "SignalGenerated"
    assert rule.action is Action.REJECT
    assert rule.params == {"reason": "too weak"}
    assert rule.enabled is False
    assert rule.when == AllOf(
        (
            Comparison("signal.side", Operator.EQ, "buy"),
            AnyOf(
                (
                    Comparison("signal.confidence", Operator.LT, Parameter("min_confidence")),
                    Not(Comparison("signal.symbol", Operator.IN, ("005930", "000660"))),
                )
            ),
        )
    )


def test_defaults_apply_to_optional_fields() -> None:
    (rule,) = parse_rules("rules: [{name: r, event: RebalanceDue, action: approve}]")

    assert (rule.when, rule.priority, rule.enabled, rule.params, rule.description) == (
        None,
        0,
        True,
        {},
        "",
    )


def test_an_empty_list_of_rules_is_fine() -> None:
    assert parse_rules("rules: []") == ()


def test_load_rules_reads_a_file(tmp_path: Path) -> None:
    path = tmp_path / "desk.yaml"
    path.write_text(yaml(GOOD), encoding="utf-8")

    assert [rule.name for rule in load_rules(path)] == ["floor"]


def test_a_missing_file_is_reported_with_its_path(tmp_path: Path) -> None:
    path = tmp_path / "nope.yaml"

    with pytest.raises(RuleFileError, match=re.escape("nope.yaml: cannot read rules")) as caught:
        load_rules(path)

    assert caught.value.line == 0


# -- mistakes, each with its line and field -----------------------------------------------------


BAD_FILES = [
    pytest.param(
        """
        rules:
          - name: floor
            event: SignalGenerated
            acton: reject
        """,
        "acton: reject",
        "rules[0].acton",
        "unknown field 'acton' (did you mean 'action'?)",
        id="wrong field",
    ),
    pytest.param(
        """
        rules:
          - name: floor
            event: SignalGenerated
            action: halt_trading
        """,
        "action: halt_trading",
        "rules[0].action",
        "unknown action 'halt_trading'",
        id="unknown action",
    ),
    pytest.param(
        """
        rules:
          - name: ok
            event: RebalanceDue
            action: approve
          - name: floor
            event: SignalGenerate
            action: reject
        """,
        "event: SignalGenerate",
        "rules[1].event",
        "unknown event type 'SignalGenerate' (did you mean 'SignalGenerated'?)",
        id="unknown event type",
    ),
    pytest.param(
        """
        rules:
          - name: floor
            event: SignalGenerated
            when:
              all:
                - {field: signal.side, eq: buy}
                - {field: signal.confidance, lt: 0.5}
            action: reject
        """,
        "signal.confidance",
        "rules[0].when.all[1].field",
        "SignalGenerated has no field 'signal.confidance' (did you mean 'signal.confidence'?)",
        id="unknown field path",
    ),
    pytest.param(
        """
        rules:
          - name: floor
            event: SignalGenerated
            when: {field: signal, eq: x}
            action: reject
        """,
        "when: {field: signal, eq: x}",
        "rules[0].when.field",
        "'signal' is a Signal; compare one of its fields: signal.time",
        id="path stops at a nested value",
    ),
    pytest.param(
        """
        rules:
          - name: floor
            event: SignalGenerated
            when: {field: signal.time, gt: 1}
            action: reject
        """,
        "when: {field: signal.time, gt: 1}",
        "rules[0].when.field",
        "signal.time is a datetime; rules compare numbers, text, enums and booleans",
        id="field of an unsupported type",
    ),
    pytest.param(
        """
        rules:
          - name: floor
            event: SignalGenerated
            when:
              field: signal.confidence
              lte: 0.5
            action: reject
        """,
        "lte: 0.5",
        "rules[0].when.lte",
        "unknown operator 'lte' (did you mean 'lt'?) (expected one of gt, ge, lt, le, eq, ne, in)",
        id="unknown operator",
    ),
    pytest.param(
        """
        rules:
          - name: floor
            event: SignalGenerated
            when: {field: signal.confidence, lt: 0.5, gt: 0.1}
            action: reject
        """,
        "when: {field: signal.confidence, lt: 0.5, gt: 0.1}",
        "rules[0].when",
        "a comparison has exactly one operator",
        id="two operators",
    ),
    pytest.param(
        """
        rules:
          - name: floor
            event: SignalGenerated
            when:
              field: signal.confidence
              lt: high
            action: reject
        """,
        "lt: high",
        "rules[0].when.lt",
        "signal.confidence is a number; got str 'high'",
        id="text where a number is due",
    ),
    pytest.param(
        """
        rules:
          - name: stop
            event: AnomalyDetected
            when: {field: severity, ge: hihg}
            action: stop_bot
        """,
        "when: {field: severity, ge: hihg}",
        "rules[0].when.ge",
        "severity is one of low, medium, high, critical; got str 'hihg' (did you mean 'high'?)",
        id="unknown enum value",
    ),
    pytest.param(
        """
        rules:
          - name: stop
            event: AnomalyDetected
            when: {field: detector, gt: abc}
            action: stop_bot
        """,
        "when: {field: detector, gt: abc}",
        "rules[0].when.gt",
        "detector is text, which supports eq, ne and in, not gt",
        id="ordering on text",
    ),
    pytest.param(
        """
        rules:
          - name: floor
            event: SignalGenerated
            when: {field: signal.confidence, lt: $min_confidense}
            action: reject
        """,
        "$min_confidense",
        "rules[0].when.lt",
        "unknown setting $min_confidense (did you mean '$min_confidence'?)",
        id="unknown setting",
    ),
    pytest.param(
        """
        rules:
          - name: floor
            event: SignalGenerated
            when: {field: signal.confidence, eq: null}
            action: reject
        """,
        "eq: null",
        "rules[0].when.eq",
        "signal.confidence is never null",
        id="null for a required field",
    ),
    pytest.param(
        """
        rules:
          - name: floor
            event: SignalGenerated
            when: {all: []}
            action: reject
        """,
        "when: {all: []}",
        "rules[0].when.all",
        "'all' takes a non-empty list",
        id="empty all",
    ),
    pytest.param(
        """
        rules:
          - name: floor
            event: SignalGenerated
            when:
              any:
                - {field: signal.confidence, lt: 0.5}
              field: signal.side
            action: reject
        """,
        "any:",
        "rules[0].when",
        "'any' stands alone in its mapping; also found field",
        id="combiner with extra keys",
    ),
    pytest.param(
        """
        rules:
          - name: floor
            event: SignalGenerated
            when: {signal.confidence: {lt: 0.5}}
            action: reject
        """,
        "when: {signal.confidence: {lt: 0.5}}",
        "rules[0].when",
        "a condition is {field: <path>, <operator>: <value>}",
        id="not a condition",
    ),
    pytest.param(
        """
        rules:
          - name: floor
            event: SignalGenerated
            when: {field: signal.symbol, in: 005930}
            action: reject
        """,
        "in: 005930",
        "rules[0].when.in",
        "'in' takes a non-empty list of values",
        id="in without a list",
    ),
    pytest.param(
        """
        rules:
          - event: SignalGenerated
            action: reject
        """,
        "- event: SignalGenerated",
        "rules[0].name",
        "missing required field 'name'",
        id="missing name",
    ),
    pytest.param(
        """
        rules:
          - name: floor
            event: SignalGenerated
            action: reject
          - name: floor
            event: RebalanceDue
            action: reject
        """,
        "- name: floor",
        "rules[1].name",
        "rule name 'floor' is already used by rules[0]",
        id="duplicate rule name",
    ),
    pytest.param(
        """
        rules:
          - name: floor
            event: SignalGenerated
            action: reject
            action: approve
        """,
        "action: approve",
        "rules[0].action",
        "duplicate key 'action' in the same mapping",
        id="duplicate key",
    ),
    pytest.param(
        """
        rules:
          - name: floor
            event: SignalGenerated
            action: reject
            priority: high
        """,
        "priority: high",
        "rules[0].priority",
        "expected an integer, got str 'high'",
        id="priority not an integer",
    ),
    pytest.param(
        """
        rules:
          - name: floor
            event: SignalGenerated
            action: reject
            enabled: maybe
        """,
        "enabled: maybe",
        "rules[0].enabled",
        "expected true or false, got str 'maybe'",
        id="enabled not a boolean",
    ),
    pytest.param(
        """
        rules:
          - name: breaker
            event: CircuitBreakerTripped
            action: stop_all_bots
            params:
              scope: winners
        """,
        "scope: winners",
        "rules[0].params.scope",
        "param scope must be one of all, losing, got 'winners'",
        id="bad scope",
    ),
    pytest.param(
        """
        rules:
          - name: breaker
            event: CircuitBreakerTripped
            action: stop_bot
            params: {scope: all}
        """,
        "params: {scope: all}",
        "rules[0].params.scope",
        "action stop_bot takes no param 'scope' (it takes: reason)",
        id="param the action does not take",
    ),
    pytest.param(
        """
        rules:
          - name: has space
            event: SignalGenerated
            action: reject
        """,
        "- name: has space",
        "rules[0].name",
        "a rule name is letters, digits, '_', '.' or '-', got 'has space'",
        id="bad name",
    ),
    pytest.param(
        """
        rulez:
          - name: floor
        """,
        "rulez:",
        "rulez",
        "unknown key 'rulez' (expected 'rules')",
        id="unknown top-level key",
    ),
    pytest.param(
        """
        rules: {name: floor}
        """,
        "rules: {name: floor}",
        "rules",
        "expected a list of rules",
        id="rules not a list",
    ),
    pytest.param(
        """
        rules:
          - name: floor
            event: [SignalGenerated]
            action: reject
        """,
        "event: [SignalGenerated]",
        "rules[0].event",
        "expected text, got a list",
        id="event not text",
    ),
    pytest.param(
        """
        rules:
          - name: floor
            event: SignalGenerated
            action: reject: x
        """,
        "action: reject: x",
        "",
        "not valid YAML",
        id="yaml syntax error",
    ),
]


@pytest.mark.parametrize(("text", "line_text", "field", "problem"), BAD_FILES)
def test_a_bad_rule_file_fails_at_load_with_line_and_field(
    text: str, line_text: str, field: str, problem: str
) -> None:
    error = error_of(text)

    assert (error.source, error.field) == ("desk.yaml", field)
    assert line_text in yaml(text).splitlines()[error.line - 1]
    assert problem in error.problem
    prefix = f"desk.yaml:{error.line}: {field}: " if field else f"desk.yaml:{error.line}: "
    assert str(error).startswith(prefix)


def test_the_line_is_counted_from_1_at_the_top_of_the_file() -> None:
    text = "rules:\n  - name: floor\n    event: SignalGenerated\n    action: halt\n"

    with pytest.raises(RuleFileError) as caught:
        parse_rules(text, source="desk.yaml")

    assert caught.value.line == 4
    assert str(caught.value).startswith("desk.yaml:4: rules[0].action: unknown action 'halt'")


def test_an_empty_file_is_refused() -> None:
    error = error_of("")

    assert error.line == 1
    assert "empty file" in str(error)


def test_text_and_enum_values_are_taken_as_written() -> None:
    (rule,) = parse_rules(
        yaml(
            """
            rules:
              - name: r
                event: AnomalyDetected
                when:
                  any:
                    - {field: subject, eq: 005930}
                    - {field: subject, eq: 1.50}
                    - {field: subject, in: [000660, 123]}
                action: stop_bot
            """
        )
    )

    assert rule.when == AnyOf(
        (
            Comparison("subject", Operator.EQ, "005930"),
            Comparison("subject", Operator.EQ, "1.50"),
            Comparison("subject", Operator.IN, ("000660", "123")),
        )
    )


def test_a_quoted_dollar_is_text_not_a_setting() -> None:
    (rule,) = parse_rules(
        "rules: [{name: r, event: AnomalyDetected, action: notify,"
        " when: {field: subject, eq: '$cash'}}]"
    )

    assert rule.when == Comparison("subject", Operator.EQ, "$cash")
