"""The rule engine's policy (priority, verdicts, effects), run-time changes and rule checks."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from decimal import Decimal

import pytest

from orchestrade.domain import (
    AgentId,
    AnomalyDetected,
    BotId,
    Order,
    OrderId,
    OrderRequested,
    OrderType,
    RebalanceDue,
    Severity,
    Side,
    Signal,
    SignalGenerated,
    SignalSide,
    StrategyId,
    Symbol,
)
from orchestrade.domain.events import AgentHeartbeat
from orchestrade.orchestration import (
    Action,
    AllOf,
    Comparison,
    Operator,
    Parameter,
    Rule,
    RuleEngine,
    RuleError,
)

T0 = datetime(2024, 1, 2, tzinfo=UTC)


def generated(confidence: float, side: SignalSide = SignalSide.BUY) -> SignalGenerated:
    return SignalGenerated(
        Signal(T0, Symbol("005930"), side, confidence, StrategyId("s"), BotId("bot-7"))
    )


def confidence(operator: str, value: object) -> Comparison:
    return Comparison("signal.confidence", Operator(operator), value)  # type: ignore[arg-type]


def rule(name: str, action: str, when: object = None, priority: int = 0, **options: object) -> Rule:
    return Rule(
        name,
        "SignalGenerated",
        action,  # type: ignore[arg-type]
        when,  # type: ignore[arg-type]
        priority=priority,
        **options,  # type: ignore[arg-type]
    )


# -- decision policy ---------------------------------------------------------------------------


def test_the_first_matching_verdict_by_priority_decides_and_later_ones_are_listed() -> None:
    engine = RuleEngine(
        [
            rule("reject_buys", "reject", Comparison("signal.side", Operator.EQ, "buy"), 5),
            rule("approve_sure", "approve", confidence("ge", 0.9), 10),
        ]
    )

    outcome = engine.evaluate(generated(0.95))

    assert outcome.decision is Action.APPROVE
    assert outcome.decided_by is not None
    assert outcome.decided_by.rule == "approve_sure"
    assert [m.rule for m in outcome.matches] == ["approve_sure", "reject_buys"]


def test_rules_of_equal_priority_are_tried_in_the_order_they_were_added() -> None:
    engine = RuleEngine(
        [rule("first", "require_confirmation", priority=1), rule("second", "reject", priority=1)]
    )

    outcome = engine.evaluate(generated(0.5))

    assert outcome.decision is Action.REQUIRE_CONFIRMATION
    assert not outcome.approved
    assert [r.name for r in engine.rules] == ["first", "second"]


def test_effects_accumulate_and_without_a_verdict_the_event_is_approved() -> None:
    engine = RuleEngine(
        [
            rule("tell", "notify", confidence("lt", 0.5), params={"message": "weak signal"}),
            rule("halt", "stop_bot", confidence("lt", 0.2)),
            rule("halt_all", "stop_all_bots", confidence("lt", 0.1)),
        ]
    )

    outcome = engine.evaluate(generated(0.15))

    assert outcome.approved
    assert outcome.decided_by is None
    assert [(m.rule, m.action) for m in outcome.effects] == [
        ("tell", Action.NOTIFY),
        ("halt", Action.STOP_BOT),
    ]
    assert outcome.effects[0].params == {"message": "weak signal"}


def test_a_rule_without_condition_matches_every_event_of_its_type() -> None:
    engine = RuleEngine([rule("hold_everything", "require_confirmation")])

    assert engine.evaluate(generated(1.0)).decision is Action.REQUIRE_CONFIRMATION
    assert engine.evaluate(RebalanceDue(T0)).approved


def test_a_reason_param_leads_the_match_reason() -> None:
    engine = RuleEngine(
        [rule("floor", "reject", confidence("lt", 0.5), params={"reason": "desk floor"})]
    )

    assert engine.evaluate(generated(0.4)).reasons == (
        "floor: desk floor; signal.confidence 0.4 < 0.5",
    )


def test_the_outcome_names_the_bot_of_the_event_signal_or_order() -> None:
    order = Order(
        OrderId("o1"), Symbol("005930"), Side.BUY, OrderType.MARKET, Decimal(1), T0,
        bot_id=BotId("bot-3"),
    )  # fmt: skip
    engine = RuleEngine()
    anomaly = AnomalyDetected(T0, "d", Severity.LOW, "x", 1.0, 0.5, "r", BotId("bot-2"))

    assert engine.evaluate(generated(0.9)).bot_id == "bot-7"
    assert engine.evaluate(anomaly).bot_id == "bot-2"
    assert engine.evaluate(OrderRequested(order)).bot_id == "bot-3"
    assert engine.evaluate(AgentHeartbeat(AgentId("a"), T0, 0)).bot_id is None


def test_events_no_rule_matches_are_approved_for_their_own_bot() -> None:
    engine = RuleEngine([rule("floor", "reject", confidence("lt", 0.5))])
    other_bot = SignalGenerated(
        Signal(T0, Symbol("005930"), SignalSide.BUY, 0.9, StrategyId("s"), BotId("bot-8"))
    )

    outcomes = [engine.evaluate(event) for event in (generated(0.9), other_bot, generated(0.8))]
    refused = engine.evaluate(generated(0.4))

    assert [(o.decision, o.bot_id, o.matches) for o in outcomes] == [
        (Action.APPROVE, "bot-7", ()),
        (Action.APPROVE, "bot-8", ()),
        (Action.APPROVE, "bot-7", ()),
    ]
    assert outcomes[0].effects == outcomes[0].reasons == ()
    assert (refused.decision, refused.bot_id) == (Action.REJECT, "bot-7")


# -- run-time changes --------------------------------------------------------------------------


def test_a_rule_added_at_run_time_applies_to_the_next_event() -> None:
    engine = RuleEngine()
    assert engine.evaluate(generated(0.3)).approved

    engine.add(rule("floor", "reject", confidence("lt", 0.5)))

    assert not engine.evaluate(generated(0.3)).approved


def test_a_disabled_rule_is_kept_but_not_tried_until_enabled_again() -> None:
    engine = RuleEngine([rule("floor", "reject", confidence("lt", 0.5))])

    engine.disable("floor")
    disabled = engine.evaluate(generated(0.3))
    engine.enable("floor")
    enabled = engine.evaluate(generated(0.3))

    assert disabled.approved
    assert not enabled.approved
    assert engine.rule("floor").enabled


def test_disabling_keeps_the_rule_visible_and_its_place_in_the_order() -> None:
    engine = RuleEngine([rule("a", "notify"), rule("b", "notify"), rule("c", "notify")])

    engine.disable("a")
    engine.enable("a")

    assert [r.name for r in engine.rules] == ["a", "b", "c"]
    engine.disable("b")
    assert [r.enabled for r in engine.rules] == [True, False, True]


def test_a_removed_rule_no_longer_applies() -> None:
    engine = RuleEngine([rule("floor", "reject", confidence("lt", 0.5))])

    removed = engine.remove("floor")

    assert removed.name == "floor"
    assert engine.rules == ()
    assert engine.evaluate(generated(0.3)).approved


def test_a_rule_name_is_unique() -> None:
    engine = RuleEngine([rule("floor", "reject")])

    with pytest.raises(RuleError, match="a rule named 'floor' already exists"):
        engine.add(rule("floor", "approve"))


@pytest.mark.parametrize("change", ["enable", "disable", "remove", "rule"])
def test_an_unknown_rule_name_is_refused_with_the_closest_one(change: str) -> None:
    engine = RuleEngine([rule("min_confidence_floor", "reject")])

    with pytest.raises(RuleError, match="no rule named 'min_confidence_flor' \\(did you mean"):
        getattr(engine, change)("min_confidence_flor")


def test_settings_changed_at_run_time_move_the_threshold() -> None:
    engine = RuleEngine(
        [rule("floor", "reject", confidence("lt", Parameter("min_confidence")))],
        parameters={"min_confidence": 0.5},
    )
    assert engine.evaluate(generated(0.55)).approved

    engine.set_parameters({"min_confidence": 0.6})

    assert not engine.evaluate(generated(0.55)).approved
    assert engine.parameters == {"min_confidence": 0.6}


def test_a_rule_naming_an_unknown_setting_is_refused() -> None:
    engine = RuleEngine(parameters={"min_confidence": 0.5})

    with pytest.raises(RuleError, match=r"unknown setting\(s\) \$min_conf "):
        engine.add(rule("floor", "reject", confidence("lt", Parameter("min_conf"))))


def test_settings_a_rule_needs_cannot_be_dropped() -> None:
    engine = RuleEngine(
        [rule("floor", "reject", confidence("lt", Parameter("min_confidence")))],
        parameters={"min_confidence": 0.5},
    )

    with pytest.raises(RuleError, match=r"rule floor needs setting\(s\) \$min_confidence"):
        engine.set_parameters({"other": 1})

    assert engine.parameters == {"min_confidence": 0.5}


def test_a_setting_of_the_wrong_type_fails_the_evaluation_naming_the_rule() -> None:
    engine = RuleEngine(
        [rule("floor", "reject", confidence("lt", Parameter("min_confidence")))],
        parameters={"min_confidence": "high"},
    )

    with pytest.raises(RuleError, match=re.escape("rule floor: cannot compare signal.confidence")):
        engine.evaluate(generated(0.5))


def test_a_setting_that_is_switched_off_matches_nothing() -> None:
    engine = RuleEngine(
        [rule("floor", "reject", confidence("lt", Parameter("min_confidence")))],
        parameters={"min_confidence": None},
    )

    assert engine.evaluate(generated(0.0)).approved


# -- checks when a rule is built ---------------------------------------------------------------


@pytest.mark.parametrize(
    ("build", "field", "message"),
    [
        (lambda: rule("has space", "reject"), "name", "a rule name is letters, digits"),
        (
            lambda: Rule("r", "SignalGenerate", Action.REJECT),
            "event",
            "unknown event type 'SignalGenerate' (did you mean 'SignalGenerated'?)",
        ),
        (lambda: rule("r", "halt"), "action", "unknown action 'halt'"),
        (lambda: rule("r", "reject", priority=1.5), "priority", "priority must be an integer"),
        (lambda: rule("r", "reject", enabled="yes"), "enabled", "enabled must be true or false"),
        (
            lambda: rule("r", "reject", params={"scope": "all"}),
            "params.scope",
            "action reject takes no param 'scope' (it takes: reason)",
        ),
        (
            lambda: Rule("r", "AnomalyDetected", Action.STOP_ALL_BOTS, params={"scope": "some"}),
            "params.scope",
            "param scope must be one of all, losing, got 'some'",
        ),
        (
            lambda: rule("r", "reject", AllOf((confidence("lt", 0.5), confidence("lt", "x")))),
            "when.all[1].lt",
            "signal.confidence is a number; got str 'x'",
        ),
        (
            lambda: rule("r", "reject", Comparison("signal.confidance", Operator.LT, 0.5)),
            "when.field",
            "SignalGenerated has no field 'signal.confidance' (did you mean 'signal.confidence'?)",
        ),
    ],
)
def test_a_bad_rule_is_refused_naming_the_field(build: object, field: str, message: str) -> None:
    with pytest.raises(RuleError) as caught:
        build()  # type: ignore[operator]

    assert caught.value.field == field
    assert message in str(caught.value)


def test_rules_are_checked_against_the_event_class_registry() -> None:
    built = Rule("r", "RebalanceDue", Action.REJECT)

    assert built.event_type is RebalanceDue
