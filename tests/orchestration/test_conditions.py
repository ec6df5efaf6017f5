"""The condition language: how each kind of field compares, and how a match is explained."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from decimal import Decimal

import pytest

from orchestrade.domain import (
    AnomalyDetected,
    BotId,
    CircuitBreakerTripped,
    RebalanceDue,
    Severity,
)
from orchestrade.orchestration import AllOf, AnyOf, Comparison, Not, Operator, Parameter, RuleError
from orchestrade.orchestration.conditions import (
    FieldKind,
    check_condition,
    compile_condition,
    explain,
    holds,
    parameter_names,
    resolve_field,
)

T0 = datetime(2024, 1, 2, tzinfo=UTC)
NO_SETTINGS: dict[str, object] = {}


def anomaly(severity: Severity = Severity.MEDIUM, bot: str | None = None) -> AnomalyDetected:
    return AnomalyDetected(
        T0, "price_jump", severity, "005930", 0.25, 0.2, "jump", None if bot is None else BotId(bot)
    )


def breaker(value: str) -> CircuitBreakerTripped:
    return CircuitBreakerTripped(T0, "daily_loss", Decimal(value), Decimal("0.1"), "loss")


def check(condition: object, event: object, settings: dict[str, object] = NO_SETTINGS) -> bool:
    """`holds`, checked against the compiled predicate the rule engine runs: the same answer,
    or the same error."""
    compiled = compile_condition(condition)  # type: ignore[arg-type]
    try:
        answer = holds(condition, event, settings)  # type: ignore[arg-type]
    except RuleError as error:
        with pytest.raises(RuleError, match=re.escape(str(error))):
            compiled(event, settings)  # type: ignore[arg-type]
        raise
    assert compiled(event, settings) is answer  # type: ignore[arg-type]
    return answer


@pytest.mark.parametrize(
    ("severity", "expected"),
    [
        (Severity.LOW, False),
        (Severity.MEDIUM, False),
        (Severity.HIGH, True),
        (Severity.CRITICAL, True),
    ],
)
def test_enums_order_by_declaration(severity: Severity, expected: bool) -> None:
    condition = Comparison("severity", Operator.GE, "high")

    assert check(condition, anomaly(severity)) is expected


def test_enum_equality_and_membership_use_the_member_values() -> None:
    event = anomaly(Severity.CRITICAL)

    assert check(Comparison("severity", Operator.EQ, "critical"), event)
    assert check(Comparison("severity", Operator.NE, "high"), event)
    assert check(Comparison("severity", Operator.IN, ("high", "critical")), event)
    assert not check(Comparison("severity", Operator.IN, ("low",)), event)


@pytest.mark.parametrize(
    ("operator", "expected"),
    [
        (Operator.GT, False),
        (Operator.GE, True),
        (Operator.LT, False),
        (Operator.LE, True),
        (Operator.EQ, True),
        (Operator.NE, False),
    ],
)
def test_a_decimal_field_compares_exactly_with_a_float_literal(
    operator: Operator, expected: bool
) -> None:
    # As binary floats 0.1 is slightly more than Decimal("0.1"); the rule means one tenth.
    assert check(Comparison("value", operator, 0.1), breaker("0.1")) is expected


def test_a_float_field_compares_as_floats_like_the_kernel() -> None:
    event = anomaly()  # value 0.25

    assert check(Comparison("value", Operator.LE, 0.25), event)
    assert check(Comparison("value", Operator.EQ, Decimal("0.25")), event)
    assert not check(Comparison("value", Operator.LT, 0.25), event)
    assert check(Comparison("value", Operator.GT, 0), event)


def test_settings_are_read_at_evaluation_time() -> None:
    condition = Comparison("value", Operator.GT, Parameter("limit"))

    assert check(condition, breaker("0.12"), {"limit": 0.1})
    assert not check(condition, breaker("0.12"), {"limit": 0.2})


def test_a_setting_without_a_value_is_an_error() -> None:
    with pytest.raises(RuleError, match=r"setting \$limit has no value"):
        check(Comparison("value", Operator.GT, Parameter("limit")), breaker("0.1"))


def test_missing_values_only_match_null() -> None:
    unestimated = RebalanceDue(T0)

    assert not check(Comparison("sharpe_improvement", Operator.LT, 0.05), unestimated)
    assert not check(Comparison("sharpe_improvement", Operator.GE, 0.05), unestimated)
    assert check(Comparison("sharpe_improvement", Operator.EQ, None), unestimated)
    assert not check(Comparison("sharpe_improvement", Operator.NE, None), unestimated)
    assert check(Comparison("bot_id", Operator.EQ, None), anomaly())
    assert check(Comparison("bot_id", Operator.IN, ("b1", None)), anomaly())
    assert check(Comparison("bot_id", Operator.EQ, "b1"), anomaly(bot="b1"))


def test_a_switched_off_setting_matches_nothing() -> None:
    condition = Comparison("value", Operator.GT, Parameter("limit"))

    assert not check(condition, breaker("0.5"), {"limit": None})


def test_all_any_and_not_combine() -> None:
    event = anomaly(Severity.HIGH)
    high = Comparison("severity", Operator.GE, "high")
    small = Comparison("value", Operator.LT, 0.1)

    assert not check(AllOf((high, small)), event)
    assert check(AnyOf((small, high)), event)
    assert check(Not(small), event)
    assert check(AllOf((high, Not(small))), event)


def test_a_match_is_explained_with_the_event_values() -> None:
    event = anomaly(Severity.HIGH)
    condition = AllOf(
        (
            Comparison("severity", Operator.GE, "high"),
            AnyOf(
                (
                    Comparison("value", Operator.GT, Parameter("limit")),
                    Comparison("subject", Operator.IN, ("005930", "000660")),
                )
            ),
            Not(Comparison("bot_id", Operator.NE, None)),
        )
    )

    assert explain(condition, event, {"limit": 0.5}) == (
        "severity high >= high and (subject 005930 in [005930, 000660]) "
        "and not (bot_id null != null)"
    )


def test_resolve_field_reports_the_kind_and_whether_it_can_be_null() -> None:
    severity = resolve_field(AnomalyDetected, "severity")
    bot = resolve_field(AnomalyDetected, "bot_id")
    confidence = resolve_field(AnomalyDetected, "value")

    assert (severity.kind, severity.enum, severity.optional) == (FieldKind.ENUM, Severity, False)
    assert (bot.kind, bot.optional) == (FieldKind.TEXT, True)
    assert (confidence.kind, confidence.optional) == (FieldKind.NUMBER, False)


def test_a_path_cannot_walk_into_a_plain_value() -> None:
    with pytest.raises(RuleError, match="'severity' is a Severity and has no fields"):
        resolve_field(AnomalyDetected, "severity.level")


def test_check_condition_names_the_faulty_part() -> None:
    condition = AnyOf((Comparison("value", Operator.GT, 1), Not(Comparison("value", "in", 2))))

    with pytest.raises(RuleError) as caught:
        check_condition(AnomalyDetected, condition)

    assert caught.value.field == "when.any[1].not.in"
    assert "'in' takes a non-empty list of values, got 2" in str(caught.value)


@pytest.mark.parametrize("path", ["", "signal..confidence", ".value"])
def test_a_malformed_path_is_refused(path: str) -> None:
    with pytest.raises(RuleError, match="a field path is names joined by dots"):
        Comparison(path, Operator.EQ, 1)


def test_an_unknown_operator_is_refused() -> None:
    with pytest.raises(RuleError, match="unknown operator 'like'"):
        Comparison("value", "like", 1)  # type: ignore[arg-type]


def test_parameter_names_lists_every_setting_a_condition_uses() -> None:
    condition = AllOf(
        (
            Comparison("value", Operator.GT, Parameter("a")),
            Not(Comparison("threshold", Operator.LT, Parameter("b"))),
            Comparison("severity", Operator.EQ, "high"),
        )
    )

    assert parameter_names(condition) == {"a", "b"}
    assert parameter_names(None) == frozenset()


@pytest.mark.parametrize(
    ("condition", "expected"),
    [
        (AllOf((Comparison("severity", Operator.GE, "high"),)), True),
        (
            AllOf((Comparison("value", Operator.GT, 0.2), Comparison("value", Operator.LT, 0.3))),
            True,
        ),
        (
            AllOf(
                (
                    Comparison("value", Operator.GT, 0.2),
                    Comparison("severity", Operator.NE, "high"),
                    Comparison("subject", Operator.EQ, "005930"),
                )
            ),
            False,
        ),
        (
            AnyOf((Comparison("value", Operator.LT, 0.2), Comparison("detector", "in", ("x",)))),
            False,
        ),
        (Comparison("value", Operator.GT, 0), True),  # an int literal for a float field
        (Comparison("value", Operator.LE, Decimal("0.25")), True),
        (Comparison("severity", Operator.EQ, Severity.HIGH), True),
        (Not(Comparison("bot_id", Operator.EQ, None)), False),
    ],
)
def test_the_compiled_condition_answers_like_holds(condition: object, expected: bool) -> None:
    event = anomaly(Severity.HIGH)  # value 0.25, threshold 0.2, subject 005930, no bot

    assert check(condition, event) is expected


def test_a_compiled_enum_comparison_answers_for_each_member() -> None:
    is_high = compile_condition(Comparison("severity", Operator.EQ, "high"))
    not_high = compile_condition(Comparison("severity", Operator.NE, "high"))

    answers = [
        (is_high(anomaly(severity), {}), not_high(anomaly(severity), {}))
        for severity in (Severity.HIGH, Severity.LOW, Severity.HIGH, Severity.CRITICAL)
    ]

    assert answers == [(True, False), (False, True), (True, False), (False, True)]


def test_a_compiled_comparison_with_a_setting_reads_it_at_every_call() -> None:
    above = compile_condition(Comparison("value", Operator.GT, Parameter("limit")))

    assert above(breaker("0.12"), {"limit": 0.1})
    assert not above(breaker("0.12"), {"limit": 0.2})
    assert not above(breaker("0.12"), {"limit": None})
    with pytest.raises(RuleError, match=r"setting \$limit has no value"):
        above(breaker("0.12"), {})
    with pytest.raises(RuleError, match="cannot compare value"):
        above(breaker("0.12"), {"limit": "high"})
