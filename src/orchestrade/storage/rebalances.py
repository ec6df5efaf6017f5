"""RebalanceRepository: every rebalance proposal, its reasoning and what became of it.

Proposals belong to a portfolio: a name that keeps the rebalances of one trading node (or of
the store's bots, for `orchestrade rebalance`) apart from the others in the same database.
A proposal is stored with the weights before and after, the model's expected return,
volatility and Sharpe ratio at both, the method (objective, covariance, bounds) and the
reasoning, as ``proposed``; it then ends ``skipped`` (with the rule's reason) or
``applied``. Applying sets the stored bots' allocations to the proposed weights in the same
transaction, so the bots and the record of why they changed never disagree.

Weights are kept as Decimal text in JSON ``[[bot, weight], ...]`` pairs: exact, and in the
proposal's order on both backends.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import Table, func, insert, select, update
from sqlalchemy.engine import Connection, Row

from orchestrade.data.errors import QueryError
from orchestrade.domain import Allocation, BotId
from orchestrade.domain.validation import require_str, require_text, require_utc
from orchestrade.portfolio.errors import RebalanceError
from orchestrade.portfolio.optimization import (
    CovarianceMethod,
    Objective,
    PortfolioEstimate,
    WeightBounds,
)
from orchestrade.portfolio.rebalancing import RebalanceProposal, RebalanceStatus
from orchestrade.storage.bots import BOTS
from orchestrade.storage.store import Store
from orchestrade.storage.tables import RebalanceRow
from orchestrade.storage.times import as_utc

REBALANCES: Table = RebalanceRow.__table__  # type: ignore[assignment]
MAX_RECENT = 1_000


@dataclass(frozen=True, slots=True)
class RebalanceRecord:
    """A stored proposal, its status, and the reason and time of the decision on it."""

    rebalance_id: int
    portfolio: str
    proposal: RebalanceProposal
    status: RebalanceStatus
    decision: str = ""
    decided_at: datetime | None = None


class RebalanceRepository:
    """Record, decide and list rebalances; every call is its own transaction."""

    def __init__(self, store: Store) -> None:
        self._store = store

    def record(
        self,
        proposal: RebalanceProposal,
        *,
        portfolio: str,
        status: RebalanceStatus = RebalanceStatus.PROPOSED,
        decision: str = "",
    ) -> int:
        """Store `proposal` of `portfolio` as proposed (or skipped at once); returns its id.

        Raises:
            RebalanceError: `status` is applied (only `apply` applies, with the bots).
            ValidationError: `portfolio` is blank.
        """
        status = RebalanceStatus(status)
        if status is RebalanceStatus.APPLIED:
            raise RebalanceError("record a proposal, then apply it with apply()")
        row = to_row(proposal)
        row["portfolio"] = require_text("portfolio", portfolio)
        row["status"] = status.value
        row["decision"] = require_str("decision", decision)
        row["decided_at"] = proposal.proposed_at if status is RebalanceStatus.SKIPPED else None
        with self._store.transaction() as transaction:
            result = transaction.connection.execute(
                insert(REBALANCES).values(row).returning(REBALANCES.c.id)
            )
            return int(result.scalar_one())

    def get(self, rebalance_id: int) -> RebalanceRecord | None:
        """The stored rebalance, or None."""
        with self._store.reading() as read:
            row = read.connection.execute(
                select(REBALANCES).where(REBALANCES.c.id == rebalance_id)
            ).first()
        return None if row is None else from_row(row)

    def recent(
        self,
        *,
        limit: int = 20,
        portfolio: str | None = None,
        status: RebalanceStatus | None = None,
    ) -> list[RebalanceRecord]:
        """The latest rebalances (of `portfolio`, with `status`, when given), newest
        proposal first.

        Raises:
            QueryError: `limit` is not within 1..1000.
        """
        if isinstance(limit, bool) or not isinstance(limit, int) or not 1 <= limit <= MAX_RECENT:
            raise QueryError(f"rebalance limit must be within 1..{MAX_RECENT}, got {limit!r}")
        query = (
            select(REBALANCES)
            .order_by(REBALANCES.c.proposed_at.desc(), REBALANCES.c.id.desc())
            .limit(limit)
        )
        if portfolio is not None:
            query = query.where(REBALANCES.c.portfolio == portfolio)
        if status is not None:
            query = query.where(REBALANCES.c.status == RebalanceStatus(status).value)
        with self._store.reading() as read:
            return [from_row(row) for row in read.connection.execute(query)]

    def recorded_until(self, portfolio: str) -> datetime | None:
        """The time of `portfolio`'s latest proposal (None: none yet): a resumed replay
        proposes up to there again without recording it twice."""
        query = select(func.max(REBALANCES.c.proposed_at)).where(
            REBALANCES.c.portfolio == portfolio
        )
        with self._store.reading() as read:
            latest = read.connection.execute(query).scalar_one_or_none()
        return None if latest is None else as_utc(latest)

    def skip(self, rebalance_id: int, *, decision: str, at: datetime) -> None:
        """Mark a proposed rebalance skipped because of `decision`.

        Raises:
            RebalanceError: no such rebalance, or it was decided already.
        """
        with self._store.transaction() as transaction:
            self._decide(
                transaction.connection, rebalance_id, RebalanceStatus.SKIPPED, decision, at
            )

    def apply(self, rebalance_id: int, *, decision: str, at: datetime) -> tuple[BotId, ...]:
        """Give every stored bot of a proposed rebalance its proposed allocation and mark the
        rebalance applied, in one transaction; returns the bots updated.

        Bots of the proposal that are not stored (a bot's per-symbol accounts, in isolated
        mode) keep their weight only in this record. A bot's `updated_at` becomes `at`, or
        its creation time when `at` is earlier (a replay applies rebalances at the replayed
        bars' times, before the bot was recorded).

        Raises:
            RebalanceError: no such rebalance, or it was decided already.
        """
        with self._store.transaction() as transaction:
            connection = transaction.connection
            record = self._decide(connection, rebalance_id, RebalanceStatus.APPLIED, decision, at)
            updated: list[BotId] = []
            for allocation in record.proposal.proposed:
                created = connection.execute(
                    select(BOTS.c.created_at).where(BOTS.c.bot_id == allocation.bot_id)
                ).scalar_one_or_none()
                if created is None:
                    continue
                connection.execute(
                    update(BOTS)
                    .where(BOTS.c.bot_id == allocation.bot_id)
                    .values(allocation=allocation.weight, updated_at=max(at, as_utc(created)))
                )
                updated.append(allocation.bot_id)
            return tuple(updated)

    def _decide(
        self,
        connection: Connection,
        rebalance_id: int,
        status: RebalanceStatus,
        decision: str,
        at: datetime,
    ) -> RebalanceRecord:
        at = require_utc("at", at)
        require_str("decision", decision)
        row = connection.execute(select(REBALANCES).where(REBALANCES.c.id == rebalance_id)).first()
        if row is None:
            raise RebalanceError(f"no rebalance {rebalance_id} is stored")
        if row.status != RebalanceStatus.PROPOSED.value:
            raise RebalanceError(f"rebalance {rebalance_id} is {row.status} already")
        connection.execute(
            update(REBALANCES)
            .where(REBALANCES.c.id == rebalance_id)
            .values(status=status.value, decision=decision, decided_at=at)
        )
        return from_row(row)


def to_row(proposal: RebalanceProposal) -> dict[str, Any]:
    """The column values of `proposal` (status and decision excepted)."""
    return {
        "proposed_at": proposal.proposed_at,
        "trigger": proposal.trigger,
        "objective": proposal.objective.value,
        "covariance": proposal.covariance.value,
        "lower_bound": proposal.bounds.lower,
        "upper_bound": proposal.bounds.upper,
        "risk_free": proposal.risk_free,
        "max_volatility": proposal.max_volatility,
        "observations": proposal.observations,
        "current": _pairs(proposal.current),
        "proposed": _pairs(proposal.proposed),
        "expected_return_before": _finite_or_none(proposal.before.expected_return),
        "volatility_before": _finite_or_none(proposal.before.volatility),
        "sharpe_before": _finite_or_none(proposal.before.sharpe),
        "expected_return_after": _finite_or_none(proposal.after.expected_return),
        "volatility_after": _finite_or_none(proposal.after.volatility),
        "sharpe_after": _finite_or_none(proposal.after.sharpe),
        "sharpe_improvement": proposal.sharpe_improvement,
        "threshold": proposal.threshold,
        "reasoning": proposal.reasoning,
    }


def from_row(row: Row[Any]) -> RebalanceRecord:
    """The rebalance stored in a `rebalances` row."""
    proposal = RebalanceProposal(
        proposed_at=as_utc(row.proposed_at),
        trigger=row.trigger,
        objective=Objective(row.objective),
        covariance=CovarianceMethod(row.covariance),
        bounds=WeightBounds(row.lower_bound, row.upper_bound),
        risk_free=row.risk_free,
        max_volatility=row.max_volatility,
        observations=row.observations,
        current=_allocations(row.current),
        proposed=_allocations(row.proposed),
        before=PortfolioEstimate(
            _nan_for_none(row.expected_return_before),
            _nan_for_none(row.volatility_before),
            _nan_for_none(row.sharpe_before),
        ),
        after=PortfolioEstimate(
            _nan_for_none(row.expected_return_after),
            _nan_for_none(row.volatility_after),
            _nan_for_none(row.sharpe_after),
        ),
        threshold=row.threshold,
    )
    return RebalanceRecord(
        rebalance_id=int(row.id),
        portfolio=row.portfolio,
        proposal=proposal,
        status=RebalanceStatus(row.status),
        decision=row.decision,
        decided_at=None if row.decided_at is None else as_utc(row.decided_at),
    )


def _pairs(allocations: tuple[Allocation, ...]) -> list[list[str]]:
    return [[allocation.bot_id, str(allocation.weight)] for allocation in allocations]


def _allocations(pairs: list[list[str]]) -> tuple[Allocation, ...]:
    return tuple(Allocation(BotId(bot), Decimal(weight)) for bot, weight in pairs)


def _finite_or_none(value: float) -> float | None:
    return value if math.isfinite(value) else None


def _nan_for_none(value: float | None) -> float:
    return math.nan if value is None else float(value)
