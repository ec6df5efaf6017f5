"""Rebalancing across bots: when to look again, what to propose, and whether it is worth it.

A `RebalanceSchedule` says when a rebalance is due (the first close of each new week or
month, in UTC dates of the bars, or only on demand): it reads the market data's clock, never
the wall clock, so a replay proposes the same rebalances every time. `propose` optimizes the
bots' weights on their recent daily returns (`RebalancePolicy`: objective, covariance,
bounds, lookback) and compares the model's Sharpe ratio and volatility at the current
weights and at the proposed ones. The relative Sharpe improvement ((new - old) / |old|)
decides: under `min_sharpe_improvement` (5% by default, like the desk's rule
``skip_small_rebalance``) the rebalance is skipped. Applying it sets the bots' allocations
and is announced by a `RebalanceApplied` event.

Allocations are Decimal fractions with `ALLOCATION_PLACES` places that add up to exactly 1,
so that the bots' stored allocations do too.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from enum import StrEnum

import numpy as np
import pandas as pd

from orchestrade.domain import Allocation, BotId, RebalanceApplied, RebalanceDue
from orchestrade.domain.validation import require_utc
from orchestrade.portfolio.errors import OptimizationError, RebalanceError
from orchestrade.portfolio.optimization import (
    CovarianceMethod,
    Objective,
    PortfolioEstimate,
    WeightBounds,
    estimate,
    optimize_estimates,
    parse_covariance,
    parse_objective,
)

ALLOCATION_PLACES = 6
"""Decimal places of a stored allocation (0.000001 = 0.0001%)."""
DEFAULT_MIN_SHARPE_IMPROVEMENT = 0.05
"""Skip rebalances that improve the Sharpe ratio by less than this (relative): 5%."""


class RebalanceFrequency(StrEnum):
    """How often a rebalance is due on its own."""

    WEEKLY = "weekly"
    MONTHLY = "monthly"
    ON_DEMAND = "on_demand"


class RebalanceStatus(StrEnum):
    """Where a proposal ended: still proposed (a dry run), skipped, or applied."""

    PROPOSED = "proposed"
    SKIPPED = "skipped"
    APPLIED = "applied"


@dataclass(frozen=True, slots=True)
class RebalanceSchedule:
    """When a rebalance is due: at the first close of each new ISO week or calendar month
    (UTC dates of the closes), or never by itself (``on_demand``)."""

    frequency: RebalanceFrequency = RebalanceFrequency.MONTHLY

    def __post_init__(self) -> None:
        try:
            object.__setattr__(self, "frequency", RebalanceFrequency(self.frequency))
        except ValueError:
            names = ", ".join(item.value for item in RebalanceFrequency)
            raise RebalanceError(
                f"unknown rebalance frequency {self.frequency!r}; use one of {names}"
            ) from None

    def period(self, at: datetime) -> tuple[int, int] | None:
        """The week (ISO year, week) or month (year, month) `at` falls in; None on demand."""
        day = require_utc("at", at).date()
        if self.frequency is RebalanceFrequency.WEEKLY:
            iso = day.isocalendar()
            return (iso.year, iso.week)
        if self.frequency is RebalanceFrequency.MONTHLY:
            return (day.year, day.month)
        return None

    def is_due(self, previous: datetime | None, now: datetime) -> bool:
        """True when the close at `now` is the first of a new period since the close at
        `previous` (None: the first close seen, which only starts the count)."""
        if previous is None or self.frequency is RebalanceFrequency.ON_DEMAND:
            return False
        return self.period(now) != self.period(previous)


@dataclass(frozen=True, slots=True)
class RebalancePolicy:
    """How a rebalance is computed and when it is worth applying.

    Attributes:
        objective: min_variance (conservative), max_sharpe (moderate) or max_return
            (aggressive, at `max_volatility`).
        covariance: sample or ledoit_wolf.
        bounds: every bot's weight range (5% to 40%).
        risk_free: annual risk-free rate of the Sharpe ratios.
        max_volatility: max_return's annual volatility cap (None: no cap).
        min_sharpe_improvement: skip a rebalance whose relative Sharpe gain is below this.
        lookback: the most recent daily returns the estimates use.
        min_history: no proposal before this many daily returns.
    """

    objective: Objective = Objective.MAX_SHARPE
    covariance: CovarianceMethod = CovarianceMethod.LEDOIT_WOLF
    bounds: WeightBounds = field(default_factory=WeightBounds)
    risk_free: float = 0.0
    max_volatility: float | None = 0.20
    min_sharpe_improvement: float = DEFAULT_MIN_SHARPE_IMPROVEMENT
    lookback: int = 252
    min_history: int = 60

    def __post_init__(self) -> None:
        object.__setattr__(self, "objective", parse_objective(self.objective))
        object.__setattr__(self, "covariance", parse_covariance(self.covariance))
        if not isinstance(self.bounds, WeightBounds):
            raise RebalanceError(f"bounds must be WeightBounds, got {self.bounds!r}")
        for name in ("risk_free", "min_sharpe_improvement"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int | float):
                raise RebalanceError(f"{name} must be a number, got {value!r}")
            if not math.isfinite(value):
                raise RebalanceError(f"{name} must be finite, got {value}")
        if self.max_volatility is not None and not (
            isinstance(self.max_volatility, int | float)
            and math.isfinite(self.max_volatility)
            and self.max_volatility > 0
        ):
            raise RebalanceError(f"max_volatility must be > 0 or None, got {self.max_volatility}")
        for name in ("lookback", "min_history"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int) or value < 2:
                raise RebalanceError(f"{name} must be an int >= 2, got {value!r}")
        if self.min_history > self.lookback:
            raise RebalanceError(
                f"min_history {self.min_history} is longer than the lookback {self.lookback}"
            )


@dataclass(frozen=True, slots=True)
class RebalanceProposal:
    """New weights for the bots, and what the model expects before and after.

    `current` and `proposed` name the same bots, in the same order; `before` and `after`
    are the annualised estimates at those weights, from the same returns.
    """

    proposed_at: datetime
    trigger: str
    objective: Objective
    covariance: CovarianceMethod
    bounds: WeightBounds
    risk_free: float
    max_volatility: float | None
    observations: int
    current: tuple[Allocation, ...]
    proposed: tuple[Allocation, ...]
    before: PortfolioEstimate
    after: PortfolioEstimate
    threshold: float = DEFAULT_MIN_SHARPE_IMPROVEMENT

    def __post_init__(self) -> None:
        object.__setattr__(self, "proposed_at", require_utc("proposed_at", self.proposed_at))
        current = [allocation.bot_id for allocation in self.current]
        proposed = [allocation.bot_id for allocation in self.proposed]
        if current != proposed:
            raise RebalanceError(
                f"a proposal must re-weight the bots it starts from: {current} vs {proposed}"
            )

    @property
    def bots(self) -> tuple[BotId, ...]:
        """The bots re-weighted, in order."""
        return tuple(allocation.bot_id for allocation in self.proposed)

    @property
    def sharpe_improvement(self) -> float | None:
        """(after - before) / |before| of the Sharpe ratios (see `sharpe_improvement`)."""
        return sharpe_improvement(self.before.sharpe, self.after.sharpe)

    @property
    def worthwhile(self) -> bool:
        """Whether the improvement reaches the threshold (`ThresholdRule`'s verdict)."""
        return ThresholdRule(self.threshold).evaluate(self.due_event()).approved

    @property
    def reasoning(self) -> str:
        """Why and what, in one paragraph: the trigger, the method, the before and after."""
        improvement = self.sharpe_improvement
        gain = "n/a" if improvement is None else f"{improvement:+.1%}"
        cap = (
            f" at most {self.max_volatility:.1%} volatility"
            if self.objective is Objective.MAX_RETURN and self.max_volatility is not None
            else ""
        )
        verdict = "worth applying" if self.worthwhile else "not worth applying"
        return (
            f"{self.trigger}: {self.objective.value}{cap} over {self.observations} daily "
            f"returns of {len(self.proposed)} bots ({self.covariance.value} covariance, "
            f"weights {self.bounds}, risk-free {self.risk_free:.2%}); Sharpe "
            f"{_number(self.before.sharpe)} -> {_number(self.after.sharpe)} ({gain}), "
            f"volatility {self.before.volatility:.2%} -> {self.after.volatility:.2%}, "
            f"expected return {self.before.expected_return:.2%} -> "
            f"{self.after.expected_return:.2%}; threshold {self.threshold:.1%}: {verdict}"
        )

    def due_event(self) -> RebalanceDue:
        """The `RebalanceDue` announcing this proposal to the rules."""
        return RebalanceDue(self.proposed_at, self.trigger, self.sharpe_improvement)

    def applied_event(self, at: datetime) -> RebalanceApplied:
        """The `RebalanceApplied` that announces this proposal in force from `at`."""
        return RebalanceApplied(at, self.proposed, self.current, self.reasoning)

    def weights(self) -> dict[str, float]:
        """The proposed weights as floats, by bot."""
        return {allocation.bot_id: float(allocation.weight) for allocation in self.proposed}


@dataclass(frozen=True, slots=True)
class RebalanceVerdict:
    """Whether a due rebalance goes ahead, and why (the shape of a rule engine's outcome)."""

    approved: bool
    reasons: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class ThresholdRule:
    """The desk's ``skip_small_rebalance`` rule without the rule engine: reject a rebalance
    whose Sharpe improvement is below `min_sharpe_improvement`; one not estimated (None)
    goes ahead, as with the rule."""

    min_sharpe_improvement: float = DEFAULT_MIN_SHARPE_IMPROVEMENT

    def evaluate(self, event: RebalanceDue) -> RebalanceVerdict:
        """Approve or reject `event` after its `sharpe_improvement`."""
        improvement = event.sharpe_improvement
        if improvement is not None and improvement < self.min_sharpe_improvement:
            return RebalanceVerdict(
                False,
                (
                    f"Sharpe improvement {improvement:.2%} is below "
                    f"{self.min_sharpe_improvement:.2%}",
                ),
            )
        if improvement is None:
            return RebalanceVerdict(True, ("Sharpe improvement not estimated",))
        return RebalanceVerdict(
            True,
            (f"Sharpe improvement {improvement:.2%} reaches {self.min_sharpe_improvement:.2%}",),
        )


def sharpe_improvement(before: float, after: float) -> float | None:
    """(after - before) / |before|; None when either is not finite or `before` is 0 (the
    relative gain is undefined there)."""
    if not (math.isfinite(before) and math.isfinite(after)) or before == 0:
        return None
    return (after - before) / abs(before)


def propose(
    returns: pd.DataFrame,
    current: Mapping[str, float],
    *,
    policy: RebalancePolicy,
    at: datetime,
    trigger: str,
) -> RebalanceProposal:
    """Optimize the bots' weights on the last `policy.lookback` daily `returns` (one column
    per bot) and compare with the `current` weights (normalised to add up to 1).

    Raises:
        OptimizationError: fewer than `policy.min_history` returns, current weights that do
            not name the same bots or add up to 0, or anything `optimize` refuses.
    """
    frame = returns.iloc[-policy.lookback :]
    if len(frame) < policy.min_history:
        raise OptimizationError(
            f"{len(frame)} daily returns; a rebalance needs at least {policy.min_history}"
        )
    estimates = estimate(frame, policy.covariance)
    start = _normalised(estimates.weights_array(current))
    cap = policy.max_volatility if policy.objective is Objective.MAX_RETURN else None
    result = optimize_estimates(
        estimates,
        objective=policy.objective,
        bounds=policy.bounds,
        risk_free=policy.risk_free,
        max_volatility=cap,
    )
    return RebalanceProposal(
        proposed_at=at,
        trigger=trigger,
        objective=policy.objective,
        covariance=policy.covariance,
        bounds=policy.bounds,
        risk_free=policy.risk_free,
        max_volatility=cap,
        observations=estimates.observations,
        current=to_allocations(dict(zip(estimates.assets, start.tolist(), strict=True))),
        proposed=to_allocations(result.weights, bounds=policy.bounds),
        before=estimates.estimate(start, risk_free=policy.risk_free),
        after=result.estimate,
        threshold=policy.min_sharpe_improvement,
    )


def to_allocations(
    weights: Mapping[str, float], *, bounds: WeightBounds | None = None
) -> tuple[Allocation, ...]:
    """Weights as Decimal allocations with `ALLOCATION_PLACES` places adding up to exactly 1.

    The rounding residue goes to the weight with the most room for it within `bounds`.

    Raises:
        OptimizationError: a weight is negative or not finite, or they add up to 0.
    """
    names = list(weights)
    values = np.array([float(weights[name]) for name in names], dtype=np.float64)
    if not (np.isfinite(values).all() and (values >= 0).all() and values.sum() > 0):
        raise OptimizationError(f"weights must be finite, >= 0 and not all 0, got {weights}")
    step = Decimal(1).scaleb(-ALLOCATION_PLACES)
    rounded = [Decimal(repr(float(value))).quantize(step) for value in _normalised(values)]
    residue = Decimal(1) - sum(rounded, Decimal(0))
    if residue:
        lower = Decimal(repr(bounds.lower)) if bounds is not None else Decimal(0)
        upper = Decimal(repr(bounds.upper)) if bounds is not None else Decimal(1)
        room = [(upper - value) if residue > 0 else (value - lower) for value in rounded]
        chosen = max(range(len(rounded)), key=lambda index: (room[index], -index))
        rounded[chosen] += residue
    return tuple(
        Allocation(BotId(name), weight) for name, weight in zip(names, rounded, strict=True)
    )


def _normalised(values: np.ndarray) -> np.ndarray:
    total = float(values.sum())
    if not (math.isfinite(total) and total > 0) or (values < 0).any():
        raise OptimizationError(f"current weights must be >= 0 and add up to more than 0: {values}")
    return values / total


def _number(value: float) -> str:
    return f"{value:.2f}" if math.isfinite(value) else "n/a"
