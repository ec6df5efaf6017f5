"""RebalanceRepository: proposals round-trip exactly; skipping and applying (which sets the
stored bots' allocations in the same transaction) on SQLite and PostgreSQL."""

from __future__ import annotations

import math
from datetime import timedelta
from decimal import Decimal

import pytest

from orchestrade.data.errors import QueryError
from orchestrade.domain import BotId
from orchestrade.portfolio.errors import RebalanceError
from orchestrade.portfolio.optimization import (
    CovarianceMethod,
    Objective,
    PortfolioEstimate,
    WeightBounds,
)
from orchestrade.portfolio.rebalancing import RebalanceProposal, RebalanceStatus, to_allocations
from orchestrade.storage import BotRepository, Store
from orchestrade.storage.rebalances import RebalanceRecord, RebalanceRepository

from .trading import T0, at, bot


@pytest.fixture
def journal(store: Store) -> RebalanceRepository:
    return RebalanceRepository(store)


def proposal(seconds: float = 0, **changes: object) -> RebalanceProposal:
    fields: dict[str, object] = {
        "proposed_at": at(seconds),
        "trigger": "monthly schedule",
        "objective": Objective.MAX_RETURN,
        "covariance": CovarianceMethod.LEDOIT_WOLF,
        "bounds": WeightBounds(0.05, 0.4),
        "risk_free": 0.015,
        "max_volatility": 0.2,
        "observations": 252,
        "current": to_allocations({"b-1": 0.5, "b-2": 0.3, "b-1/005930": 0.2}),
        "proposed": to_allocations({"b-1": 0.4, "b-2": 0.2, "b-1/005930": 0.4}),
        "before": PortfolioEstimate(0.08, 0.11, 0.1 + 0.2),
        "after": PortfolioEstimate(0.09, 0.105, 0.7),
        "threshold": 0.05,
    }
    return RebalanceProposal(**{**fields, **changes})  # type: ignore[arg-type]


def test_a_proposal_reads_back_equal_with_its_reasoning(journal: RebalanceRepository) -> None:
    made = proposal()

    rebalance_id = journal.record(made, portfolio="node-1")

    assert journal.get(rebalance_id) == RebalanceRecord(
        rebalance_id, "node-1", made, RebalanceStatus.PROPOSED
    )
    loaded = journal.get(rebalance_id)
    assert loaded is not None
    assert loaded.proposal.before.sharpe == 0.30000000000000004
    assert [str(item.weight) for item in loaded.proposal.proposed] == [
        "0.400000",
        "0.200000",
        "0.400000",
    ]
    assert loaded.proposal.reasoning == made.reasoning
    assert "max_return at most 20.0% volatility" in made.reasoning
    assert journal.get(rebalance_id + 100) is None


def test_undefined_estimates_are_kept_as_undefined(journal: RebalanceRepository) -> None:
    made = proposal(before=PortfolioEstimate(0.0, 0.0, math.nan))

    loaded = journal.get(journal.record(made, portfolio="node-1"))

    assert loaded is not None
    assert math.isnan(loaded.proposal.before.sharpe)
    assert loaded.proposal.sharpe_improvement is None


def test_applying_sets_the_stored_bots_allocations_and_the_status(
    store: Store, journal: RebalanceRepository
) -> None:
    bots = BotRepository(store)
    bots.save(bot("b-1"))
    bots.save(bot("b-2", allocation=Decimal("0.75")))
    bots.save(bot("b-3", allocation=Decimal("0.5")))
    rebalance_id = journal.record(proposal(), portfolio="node-1")

    updated = journal.apply(rebalance_id, decision="Sharpe improvement 133% reaches 5%", at=at(60))

    assert updated == (BotId("b-1"), BotId("b-2"))  # b-1/005930 is an account, not a bot
    assert [(b.bot_id, b.allocation, b.updated_at) for b in bots.list()] == [
        ("b-1", Decimal("0.400000"), at(60)),
        ("b-2", Decimal("0.200000"), at(60)),
        ("b-3", Decimal("0.5"), T0),
    ]
    record = journal.get(rebalance_id)
    assert record is not None
    assert (record.status, record.decision, record.decided_at) == (
        RebalanceStatus.APPLIED,
        "Sharpe improvement 133% reaches 5%",
        at(60),
    )


def test_a_replayed_rebalance_before_the_bot_was_recorded_keeps_updated_at_valid(
    store: Store, journal: RebalanceRepository
) -> None:
    BotRepository(store).save(bot("b-1"))
    rebalance_id = journal.record(proposal(seconds=-86_400), portfolio="node-1")

    journal.apply(rebalance_id, decision="ok", at=T0 - timedelta(days=1))

    stored = BotRepository(store).get(BotId("b-1"))
    assert stored is not None
    assert (stored.allocation, stored.updated_at) == (Decimal("0.400000"), T0)


def test_a_decided_rebalance_cannot_be_decided_again(journal: RebalanceRepository) -> None:
    skipped = journal.record(proposal(), portfolio="node-1")
    journal.skip(skipped, decision="Sharpe improvement 2.00% is below 5.00%", at=at(1))

    with pytest.raises(RebalanceError, match=f"rebalance {skipped} is skipped already"):
        journal.apply(skipped, decision="late", at=at(2))
    with pytest.raises(RebalanceError, match="no rebalance 999 is stored"):
        journal.skip(999, decision="x", at=at(2))
    with pytest.raises(RebalanceError, match="apply it with apply"):
        journal.record(proposal(), status=RebalanceStatus.APPLIED, portfolio="node-1")
    record = journal.get(skipped)
    assert record is not None
    assert record.status is RebalanceStatus.SKIPPED


def test_recent_is_newest_first_limited_and_filtered(journal: RebalanceRepository) -> None:
    first = journal.record(proposal(0), portfolio="node-1")
    second = journal.record(
        proposal(60), status=RebalanceStatus.SKIPPED, decision="small", portfolio="node-1"
    )
    third = journal.record(proposal(120), portfolio="node-1")
    journal.apply(third, decision="ok", at=at(121))

    assert [record.rebalance_id for record in journal.recent()] == [third, second, first]
    assert [record.rebalance_id for record in journal.recent(limit=1)] == [third]
    skipped = journal.recent(status=RebalanceStatus.SKIPPED)
    assert [(record.rebalance_id, record.decided_at) for record in skipped] == [(second, at(60))]
    with pytest.raises(QueryError, match=r"within 1\.\.1000, got 0"):
        journal.recent(limit=0)


def test_portfolios_keep_their_rebalances_apart(journal: RebalanceRepository) -> None:
    mine = journal.record(proposal(0), portfolio="node-1")
    journal.record(proposal(600), portfolio="node-2")
    latest = journal.record(proposal(60), portfolio="node-1")

    assert [r.rebalance_id for r in journal.recent(portfolio="node-1")] == [latest, mine]
    assert journal.recorded_until("node-1") == at(60)
    assert journal.recorded_until("node-2") == at(600)
    assert journal.recorded_until("node-3") is None
