"""The desk's default rules, each on crafted events, and their agreement with the kernel."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from orchestrade.domain import (
    AnomalyDetected,
    BotId,
    CircuitBreakerTripped,
    RebalanceDue,
    Severity,
    Signal,
    SignalGenerated,
    SignalSide,
    StrategyId,
    Symbol,
)
from orchestrade.orchestration import (
    Action,
    RuleEngine,
    StopScope,
    default_rules,
    parse_rules,
    rule_parameters,
)
from orchestrade.settings import RiskSettings, RulesSettings

T0 = datetime(2024, 1, 2, tzinfo=UTC)
BOT = BotId("bot-1")
DEFAULTS = default_rules()


def signal(side: SignalSide, confidence: float) -> SignalGenerated:
    return SignalGenerated(
        Signal(T0, Symbol("005930"), side, confidence, StrategyId("sma_cross"), BOT)
    )


def anomaly(detector: str, severity: Severity, value: float) -> AnomalyDetected:
    return AnomalyDetected(T0, detector, severity, "bot-1", value, 0.0, "test", BOT)


def daily_loss(value: str, breaker: str = "daily_loss") -> CircuitBreakerTripped:
    return CircuitBreakerTripped(T0, breaker, Decimal(value), Decimal("0.10"), "test")


@pytest.fixture
def engine() -> RuleEngine:
    return RuleEngine(DEFAULTS)


def test_the_default_file_holds_the_five_rules_of_the_issue() -> None:
    assert [(rule.name, rule.event, rule.action.value) for rule in default_rules()] == [
        ("min_signal_confidence", "SignalGenerated", "reject"),
        ("stop_bot_on_high_anomaly", "AnomalyDetected", "stop_bot"),
        ("stop_bot_on_broker_errors", "AnomalyDetected", "stop_bot"),
        ("daily_loss_circuit_breaker", "CircuitBreakerTripped", "stop_all_bots"),
        ("skip_small_rebalance", "RebalanceDue", "reject"),
    ]


# -- minimum confidence ---------------------------------------------------------------------


def test_an_entry_below_the_minimum_confidence_is_rejected_with_the_numbers(
    engine: RuleEngine,
) -> None:
    outcome = engine.evaluate(signal(SignalSide.BUY, 0.6))

    assert outcome.decision is Action.REJECT
    assert not outcome.approved
    assert outcome.decided_by is not None
    assert outcome.decided_by.rule == "min_signal_confidence"
    assert outcome.reasons == (
        "min_signal_confidence: signal.side buy == buy and "
        "signal.confidence 0.6 < 0.65 ($min_confidence)",
    )
    assert outcome.bot_id == BOT


@pytest.mark.parametrize("confidence", [0.65, 0.650001, 1.0])
def test_an_entry_at_or_above_the_minimum_is_approved(
    engine: RuleEngine, confidence: float
) -> None:
    outcome = engine.evaluate(signal(SignalSide.BUY, confidence))

    assert outcome.approved
    assert outcome.decided_by is None
    assert outcome.matches == ()


def test_the_float_just_below_the_threshold_is_rejected(engine: RuleEngine) -> None:
    assert not engine.evaluate(signal(SignalSide.BUY, 0.6499999999999999)).approved


@pytest.mark.parametrize("side", [SignalSide.SELL, SignalSide.FLAT])
def test_exits_are_never_filtered_by_confidence(engine: RuleEngine, side: SignalSide) -> None:
    assert engine.evaluate(signal(side, 0.0)).approved


def test_the_minimum_comes_from_the_rules_settings() -> None:
    engine = RuleEngine(
        default_rules(), parameters=rule_parameters(RulesSettings(min_confidence=0.8))
    )

    assert not engine.evaluate(signal(SignalSide.BUY, 0.7)).approved
    assert engine.evaluate(signal(SignalSide.BUY, 0.8)).approved


@given(
    confidence=st.floats(min_value=0, max_value=1),
    minimum=st.floats(min_value=0, max_value=1),
)
def test_entries_are_decided_like_the_backtest_kernel(confidence: float, minimum: float) -> None:
    # The kernel (backtest/_kernel_loop.py, STEP_DECIDE) refuses an entry when
    # `level < min_confidence` in float64; exits pass whatever their confidence.
    engine = RuleEngine(DEFAULTS, parameters=rule_parameters(RulesSettings(min_confidence=minimum)))

    assert engine.evaluate(signal(SignalSide.BUY, confidence)).approved == (
        not confidence < minimum
    )
    assert engine.evaluate(signal(SignalSide.SELL, confidence)).approved


# -- anomalies ---------------------------------------------------------------------------------


@pytest.mark.parametrize("severity", [Severity.HIGH, Severity.CRITICAL])
def test_a_high_or_worse_anomaly_stops_its_bot(engine: RuleEngine, severity: Severity) -> None:
    outcome = engine.evaluate(anomaly("price_jump", severity, 0.2))

    assert [(m.rule, m.action) for m in outcome.effects] == [
        ("stop_bot_on_high_anomaly", Action.STOP_BOT)
    ]
    assert outcome.effects[0].reason == (
        f"stop_bot_on_high_anomaly: severity {severity.value} >= high"
    )
    assert outcome.bot_id == BOT


@pytest.mark.parametrize("severity", [Severity.LOW, Severity.MEDIUM])
def test_a_lesser_anomaly_stops_nothing(engine: RuleEngine, severity: Severity) -> None:
    assert engine.evaluate(anomaly("price_jump", severity, 0.2)).effects == ()


def test_a_broker_error_rate_above_30_percent_stops_the_bot(engine: RuleEngine) -> None:
    outcome = engine.evaluate(anomaly("api_error_rate", Severity.MEDIUM, 0.31))

    assert [m.rule for m in outcome.effects] == ["stop_bot_on_broker_errors"]
    assert outcome.effects[0].reason == (
        "stop_bot_on_broker_errors: detector api_error_rate == api_error_rate and value 0.31 > 0.3"
    )


@pytest.mark.parametrize("rate", [0.0, 0.29, 0.30])
def test_a_broker_error_rate_of_30_percent_or_less_stops_nothing(
    engine: RuleEngine, rate: float
) -> None:
    assert engine.evaluate(anomaly("api_error_rate", Severity.MEDIUM, rate)).effects == ()


def test_another_detectors_value_above_30_percent_stops_nothing(engine: RuleEngine) -> None:
    assert engine.evaluate(anomaly("volume_spike", Severity.LOW, 0.9)).effects == ()


def test_a_high_error_rate_anomaly_matches_both_stop_rules(engine: RuleEngine) -> None:
    outcome = engine.evaluate(anomaly("api_error_rate", Severity.HIGH, 0.5))

    assert [m.rule for m in outcome.effects] == [
        "stop_bot_on_high_anomaly",
        "stop_bot_on_broker_errors",
    ]


# -- daily-loss circuit breaker ----------------------------------------------------------------


def test_a_daily_loss_beyond_10_percent_stops_the_losing_bots(engine: RuleEngine) -> None:
    outcome = engine.evaluate(daily_loss("0.12"))

    assert [(m.rule, m.action, m.scope) for m in outcome.effects] == [
        ("daily_loss_circuit_breaker", Action.STOP_ALL_BOTS, StopScope.LOSING)
    ]
    assert outcome.effects[0].reason == (
        "daily_loss_circuit_breaker: breaker daily_loss == daily_loss and "
        "value 0.12 > 0.1 ($max_daily_loss_pct)"
    )


def test_a_daily_loss_of_exactly_10_percent_does_not_trip(engine: RuleEngine) -> None:
    # Decimal 0.10 against the float setting 0.1: compared exactly as decimals.
    assert engine.evaluate(daily_loss("0.10")).effects == ()
    assert engine.evaluate(daily_loss("0.1000000001")).effects != ()


def test_another_breaker_is_not_the_daily_loss_rule(engine: RuleEngine) -> None:
    assert engine.evaluate(daily_loss("0.5", breaker="weekly_loss")).effects == ()


def test_the_breaker_follows_the_risk_settings() -> None:
    tighter = RuleEngine(
        default_rules(), parameters=rule_parameters(risk=RiskSettings(max_daily_loss_pct=0.05))
    )
    without_risk = RuleEngine(
        default_rules(), parameters=rule_parameters(risk=RiskSettings.disabled())
    )

    assert tighter.evaluate(daily_loss("0.06")).effects != ()
    assert without_risk.evaluate(daily_loss("0.99")).effects == ()


def test_the_breaker_can_be_configured_to_stop_every_bot() -> None:
    text = """
rules:
  - name: daily_loss_circuit_breaker
    event: CircuitBreakerTripped
    when: {field: breaker, eq: daily_loss}
    action: stop_all_bots
    params: {scope: all}
"""
    engine = RuleEngine(parse_rules(text))

    assert engine.evaluate(daily_loss("0.12")).effects[0].scope is StopScope.ALL


# -- rebalancing -------------------------------------------------------------------------------


def test_a_rebalance_improving_sharpe_by_less_than_5_percent_is_skipped(
    engine: RuleEngine,
) -> None:
    outcome = engine.evaluate(RebalanceDue(T0, sharpe_improvement=0.049))

    assert outcome.decision is Action.REJECT
    assert outcome.reasons == ("skip_small_rebalance: sharpe_improvement 0.049 < 0.05",)


@pytest.mark.parametrize("improvement", [0.05, 0.2, None])
def test_a_rebalance_improving_sharpe_by_5_percent_or_unestimated_goes_ahead(
    engine: RuleEngine, improvement: float | None
) -> None:
    assert engine.evaluate(RebalanceDue(T0, sharpe_improvement=improvement)).approved
