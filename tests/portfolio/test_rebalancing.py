"""Rebalancing: the threshold on constructed cases (just under, at, above 5%), the schedule,
exact allocations, and proposals computed from returns."""

from __future__ import annotations

import math
from datetime import UTC, datetime
from decimal import Decimal

import numpy as np
import pandas as pd
import pytest

from orchestrade.domain import Allocation, BotId, RebalanceApplied, RebalanceDue
from orchestrade.orchestration.rule_files import default_rules
from orchestrade.orchestration.rules import RuleEngine, rule_parameters
from orchestrade.portfolio.errors import OptimizationError, RebalanceError
from orchestrade.portfolio.optimization import (
    CovarianceMethod,
    Objective,
    PortfolioEstimate,
    WeightBounds,
    estimate,
)
from orchestrade.portfolio.rebalancing import (
    RebalanceFrequency,
    RebalancePolicy,
    RebalanceProposal,
    RebalanceSchedule,
    ThresholdRule,
    propose,
    sharpe_improvement,
    to_allocations,
)

AT = datetime(2024, 3, 4, tzinfo=UTC)
BOTS = ("a", "b", "c", "d")


def proposal(before: float, after: float, *, threshold: float = 0.05) -> RebalanceProposal:
    weights = to_allocations(dict.fromkeys(BOTS, 0.25))
    return RebalanceProposal(
        proposed_at=AT,
        trigger="test",
        objective=Objective.MAX_SHARPE,
        covariance=CovarianceMethod.SAMPLE,
        bounds=WeightBounds(),
        risk_free=0.0,
        max_volatility=None,
        observations=100,
        current=weights,
        proposed=weights,
        before=PortfolioEstimate(0.1, 0.1, before),
        after=PortfolioEstimate(0.1, 0.1, after),
        threshold=threshold,
    )


def desk_rules() -> RuleEngine:
    return RuleEngine(default_rules(), parameters=rule_parameters())


# Sharpe 20 -> 21 is exactly +5% in binary floating point (1 / 20 rounds like 0.05).
@pytest.mark.parametrize(
    ("after", "improvement", "applied"),
    [(20.99, 0.0495, False), (21.0, 0.05, True), (21.01, 0.0505, True)],
    ids=["just-under-5%", "at-5%", "above-5%"],
)
def test_the_threshold_skips_under_5_percent_and_applies_from_5_percent(
    after: float, improvement: float, applied: bool
) -> None:
    made = proposal(20.0, after)

    assert made.sharpe_improvement == pytest.approx(improvement, abs=1e-12)
    assert made.worthwhile is applied
    assert desk_rules().evaluate(made.due_event()).approved is applied
    assert ThresholdRule().evaluate(made.due_event()).approved is applied


def test_exactly_five_percent_is_exactly_the_threshold() -> None:
    assert proposal(20.0, 21.0).sharpe_improvement == 0.05


def test_the_threshold_is_configurable() -> None:
    made = proposal(20.0, 21.0, threshold=0.10)

    assert not made.worthwhile
    verdict = ThresholdRule(0.10).evaluate(made.due_event())
    assert verdict == ThresholdRule(0.10).evaluate(RebalanceDue(AT, "test", 0.05))
    assert verdict.reasons == ("Sharpe improvement 5.00% is below 10.00%",)


@pytest.mark.parametrize(
    ("before", "after", "expected"),
    [(-0.5, 0.5, 2.0), (-0.5, -0.6, -0.2), (1.0, 0.9, -0.1), (0.0, 1.0, None)],
)
def test_the_improvement_is_relative_to_the_size_of_the_old_sharpe(
    before: float, after: float, expected: float | None
) -> None:
    found = sharpe_improvement(before, after)

    assert found == (None if expected is None else pytest.approx(expected))


def test_an_improvement_that_cannot_be_estimated_goes_ahead_like_with_the_rule() -> None:
    made = proposal(0.0, 1.0)

    assert made.due_event().sharpe_improvement is None
    assert made.worthwhile
    assert desk_rules().evaluate(made.due_event()).approved


@pytest.mark.parametrize(
    ("frequency", "previous", "now", "due"),
    [
        ("weekly", "2024-01-05", "2024-01-08", True),  # Friday -> Monday
        ("weekly", "2024-01-08", "2024-01-12", False),  # same ISO week
        ("weekly", "2024-12-30", "2025-01-02", False),  # ISO week 1 of 2025 across the year
        ("monthly", "2024-01-31", "2024-02-01", True),
        ("monthly", "2024-02-01", "2024-02-29", False),
        ("monthly", "2024-12-31", "2025-01-02", True),
        ("on_demand", "2024-01-31", "2024-02-01", False),
    ],
)
def test_the_schedule_is_due_at_the_first_close_of_a_new_period(
    frequency: str, previous: str, now: str, due: bool
) -> None:
    schedule = RebalanceSchedule(RebalanceFrequency(frequency))

    found = schedule.is_due(
        datetime.fromisoformat(previous).replace(tzinfo=UTC),
        datetime.fromisoformat(now).replace(tzinfo=UTC),
    )

    assert found is due


def test_the_first_close_only_starts_the_count() -> None:
    assert not RebalanceSchedule().is_due(None, AT)


def test_allocations_are_exact_decimals_adding_up_to_one() -> None:
    thirds = to_allocations({"a": 1.0, "b": 1.0, "c": 1.0})

    assert [item.weight for item in thirds] == [
        Decimal("0.333334"),
        Decimal("0.333333"),
        Decimal("0.333333"),
    ]
    assert sum(item.weight for item in thirds) == 1


def test_the_rounding_residue_goes_where_the_bounds_leave_room() -> None:
    bounds = WeightBounds(0.05, 0.40)

    allocations = to_allocations(
        {"a": 0.4, "b": 0.4, "c": 0.0666666666, "d": 0.0666666667, "e": 0.0666666667},
        bounds=bounds,
    )

    assert sum(item.weight for item in allocations) == 1
    assert all(Decimal("0.05") <= item.weight <= Decimal("0.4") for item in allocations)


def constructed_returns(days: int = 250) -> pd.DataFrame:
    rng = np.random.default_rng(21)
    index = pd.date_range("2023-01-02", periods=days, freq="B")
    means = np.array([0.0008, 0.0002, 0.0004, -0.0001])
    scales = np.array([0.010, 0.012, 0.006, 0.015])
    return pd.DataFrame(
        means + scales * rng.standard_normal((days, 4)), index=index, columns=list(BOTS)
    )


def test_a_proposal_compares_the_current_weights_with_the_optimized_ones() -> None:
    returns = constructed_returns()
    policy = RebalancePolicy(covariance=CovarianceMethod.SAMPLE, lookback=200, min_history=60)
    current = {"a": 1.0, "b": 1.0, "c": 1.0, "d": 1.0}

    made = propose(returns, current, policy=policy, at=AT, trigger="monthly schedule")

    window = returns.iloc[-200:]
    model = estimate(window, CovarianceMethod.SAMPLE)
    w = np.full(4, 0.25)
    assert made.observations == 200
    assert made.before.expected_return == pytest.approx(float(w @ model.expected_returns))
    assert made.before.volatility == pytest.approx(math.sqrt(w @ model.covariance @ w))
    assert made.after.sharpe > made.before.sharpe
    assert sum(item.weight for item in made.proposed) == 1
    assert all(Decimal("0.05") <= item.weight <= Decimal("0.4") for item in made.proposed)
    assert made.current == tuple(Allocation(BotId(bot), Decimal("0.25")) for bot in BOTS)
    assert made.reasoning.startswith("monthly schedule: max_sharpe over 200 daily returns of 4")


def test_applying_a_proposal_announces_the_new_and_the_previous_allocations() -> None:
    made = propose(
        constructed_returns(),
        {"a": 3.0, "b": 1.0, "c": 0.0, "d": 0.0},
        policy=RebalancePolicy(),
        at=AT,
        trigger="on demand",
    )

    event = made.applied_event(AT)

    assert isinstance(event, RebalanceApplied)
    assert event.allocations == made.proposed
    assert [item.weight for item in event.previous] == [
        Decimal("0.75"),
        Decimal("0.25"),
        Decimal("0"),
        Decimal("0"),
    ]
    assert event.reason == made.reasoning
    assert made.due_event() == RebalanceDue(AT, "on demand", made.sharpe_improvement)


def test_too_little_history_or_mismatched_weights_give_no_proposal() -> None:
    returns = constructed_returns(40)

    with pytest.raises(OptimizationError, match="39 daily returns; a rebalance needs at least 60"):
        propose(
            returns.iloc[1:], dict.fromkeys(BOTS, 1.0), policy=RebalancePolicy(), at=AT, trigger="t"
        )
    with pytest.raises(OptimizationError, match=r"unknown \['z'\], missing \['d'\]"):
        propose(
            constructed_returns(),
            {"a": 1.0, "b": 1.0, "c": 1.0, "z": 1.0},
            policy=RebalancePolicy(),
            at=AT,
            trigger="t",
        )


def test_bad_policies_and_schedules_are_refused() -> None:
    with pytest.raises(RebalanceError, match="min_history 300 is longer than the lookback 252"):
        RebalancePolicy(min_history=300)
    with pytest.raises(RebalanceError, match="unknown rebalance frequency 'daily'"):
        RebalanceSchedule("daily")  # type: ignore[arg-type]
    with pytest.raises(OptimizationError, match="unknown covariance 'shrunk'"):
        RebalancePolicy(covariance="shrunk")  # type: ignore[arg-type]
