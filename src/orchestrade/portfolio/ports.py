"""What rebalancing needs from outside the portfolio context (storage implements it)."""

from __future__ import annotations

from datetime import datetime
from typing import Protocol

from orchestrade.domain import BotId
from orchestrade.portfolio.rebalancing import RebalanceProposal, RebalanceStatus


class RebalanceJournal(Protocol):
    """Where proposals, their reasoning and their outcome are kept, and where applying a
    proposal sets the stored bots' allocations (`orchestrade.storage.RebalanceRepository`)."""

    def record(
        self,
        proposal: RebalanceProposal,
        *,
        portfolio: str,
        status: RebalanceStatus = RebalanceStatus.PROPOSED,
        decision: str = "",
    ) -> int:
        """Store `proposal` of `portfolio`; returns its id."""
        ...

    def skip(self, rebalance_id: int, *, decision: str, at: datetime) -> None:
        """Mark a proposed rebalance skipped, and why."""
        ...

    def apply(self, rebalance_id: int, *, decision: str, at: datetime) -> tuple[BotId, ...]:
        """Set every stored bot of the proposal to its proposed allocation and mark the
        proposal applied, at once; returns the bots whose allocation was stored."""
        ...
