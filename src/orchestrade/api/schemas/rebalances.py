"""Rebalance proposals: the weights before and after, the model's estimates, the outcome."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

from pydantic import BaseModel, Field

from orchestrade.api.schemas.portfolio import finite
from orchestrade.domain import Allocation
from orchestrade.portfolio.optimization import CovarianceMethod, Objective, PortfolioEstimate
from orchestrade.portfolio.rebalancing import RebalanceStatus
from orchestrade.storage.rebalances import RebalanceRecord


class WeightOut(BaseModel):
    """One bot's weight (a Decimal fraction; the weights of a proposal add up to 1)."""

    bot_id: str
    weight: Decimal

    @classmethod
    def of(cls, allocation: Allocation) -> WeightOut:
        return cls(bot_id=allocation.bot_id, weight=allocation.weight)


class EstimateOut(BaseModel):
    """The model's annualised expected return, volatility and Sharpe ratio at some weights
    (null: not estimable)."""

    expected_return: float | None
    volatility: float | None
    sharpe: float | None

    @classmethod
    def of(cls, estimate: PortfolioEstimate) -> EstimateOut:
        return cls(
            expected_return=finite(estimate.expected_return),
            volatility=finite(estimate.volatility),
            sharpe=finite(estimate.sharpe),
        )


class RebalanceOut(BaseModel):
    """A recorded proposal and what became of it (proposed, skipped or applied)."""

    id: int
    portfolio: str
    status: RebalanceStatus
    decision: str = Field(description="Why it was applied or skipped ('' while proposed).")
    decided_at: datetime | None
    proposed_at: datetime
    trigger: str
    objective: Objective
    covariance: CovarianceMethod
    lower_bound: float
    upper_bound: float
    risk_free: float
    max_volatility: float | None
    observations: int = Field(description="Daily returns the estimates come from.")
    current: list[WeightOut]
    proposed: list[WeightOut]
    before: EstimateOut
    after: EstimateOut
    sharpe_improvement: float | None = Field(description="(after - before) / |before|.")
    threshold: float = Field(description="Minimum relative Sharpe improvement worth applying.")
    worthwhile: bool
    reasoning: str

    @classmethod
    def of(cls, record: RebalanceRecord) -> RebalanceOut:
        proposal = record.proposal
        return cls(
            id=record.rebalance_id,
            portfolio=record.portfolio,
            status=record.status,
            decision=record.decision,
            decided_at=record.decided_at,
            proposed_at=proposal.proposed_at,
            trigger=proposal.trigger,
            objective=proposal.objective,
            covariance=proposal.covariance,
            lower_bound=proposal.bounds.lower,
            upper_bound=proposal.bounds.upper,
            risk_free=proposal.risk_free,
            max_volatility=proposal.max_volatility,
            observations=proposal.observations,
            current=[WeightOut.of(item) for item in proposal.current],
            proposed=[WeightOut.of(item) for item in proposal.proposed],
            before=EstimateOut.of(proposal.before),
            after=EstimateOut.of(proposal.after),
            sharpe_improvement=proposal.sharpe_improvement,
            threshold=proposal.threshold,
            worthwhile=proposal.worthwhile,
            reasoning=proposal.reasoning,
        )


class RebalanceAppliedOut(BaseModel):
    """The applied rebalance and the stored bots whose allocations it set."""

    rebalance: RebalanceOut
    updated_bots: list[str]
