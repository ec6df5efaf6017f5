"""RebalancingAgent: re-weights the portfolio's bots on a schedule, through the desk's rules.

It keeps its own ledger, fed by the same events as the other agents' (closes and fills), and
notes the equity of every sleeve at the last close of each day. A sleeve is a bot (the sum of
its accounts: one in portfolio mode, one per symbol in isolated mode), or, with
``sleeves="account"``, each account of the ledger (a single bot's symbols in isolated mode).

When a rebalance is due (`RebalanceSchedule`: the first close of a new week or month, read
from the bars' times so that a replay is deterministic; or the next close after
`request_rebalance`), it proposes new weights from the accounts' recent daily returns
(`orchestrade.portfolio.rebalancing.propose`), records the proposal, and publishes
`RebalanceDue` with the proposal's Sharpe improvement. The `rules` decide: the orchestrator's
rule engine (``skip_small_rebalance`` rejects an improvement under 5%), or, without one,
`ThresholdRule` at the policy's threshold. An approved proposal is applied: the journal sets
the stored bots' allocations and marks it applied, the agent takes the new weights as its
current ones, and publishes `RebalanceApplied`; a rejected one is recorded as skipped with
the rules' reasons.

A resumed run replays its earlier closes: proposals up to `recorded_until` (the journal's
latest for this portfolio) are computed and decided again, deterministically, and their
events published again, but they are not recorded twice.

Applying changes the target allocations (storage, events); moving cash between running
sleeves is the order planner's business, not this agent's.
"""

from __future__ import annotations

import logging
from collections import Counter
from dataclasses import dataclass
from datetime import date, datetime
from typing import Literal, Protocol

import pandas as pd

from orchestrade.agents.base import Agent, AgentError, Clock, utc_now
from orchestrade.bus import Bus
from orchestrade.domain import BarsClosed, Envelope, OrderFilled, RebalanceDue
from orchestrade.portfolio import Ledger
from orchestrade.portfolio.errors import OptimizationError
from orchestrade.portfolio.ports import RebalanceJournal
from orchestrade.portfolio.rebalancing import (
    RebalancePolicy,
    RebalanceProposal,
    RebalanceSchedule,
    RebalanceStatus,
    ThresholdRule,
    propose,
)

log = logging.getLogger(__name__)


class RulesVerdict(Protocol):
    """The part of a rule engine's outcome the agent reads."""

    @property
    def approved(self) -> bool: ...

    @property
    def reasons(self) -> tuple[str, ...]: ...


class RebalanceRules(Protocol):
    """Decides whether a due rebalance goes ahead: the orchestrator's `RuleEngine` (its
    ``evaluate`` takes any message) or a `ThresholdRule`."""

    def evaluate(self, event: RebalanceDue) -> RulesVerdict: ...


@dataclass(frozen=True, slots=True)
class RebalanceOutcome:
    """One proposal the agent made and what became of it."""

    proposal: RebalanceProposal
    status: RebalanceStatus
    decision: str
    rebalance_id: int | None = None


class RebalancingAgent(Agent):
    """Proposes, submits to the rules, and applies rebalances across the portfolio's sleeves.

    Args:
        bus: where it listens to closes and fills and publishes `RebalanceDue` and
            `RebalanceApplied`.
        ledger: a ledger with the portfolio's accounts (its own: the agent feeds it).
        policy: objective, covariance, bounds, threshold, lookback (`RebalancePolicy`).
        schedule: weekly, monthly or on demand (`RebalanceSchedule`).
        rules: the decision on each `RebalanceDue` (default: `ThresholdRule` at the
            policy's `min_sharpe_improvement`).
        journal: where proposals are recorded and applied (`RebalanceRepository`); None
            keeps them only in `outcomes`.
        sleeves: what is re-weighted: "bot" (each bot's accounts together) or "account"
            (each ledger account on its own).
        portfolio: the name its proposals are recorded under (default: the agent id); nodes
            that share a database need different names.
        recorded_until: proposals at or before this time are on record already (a resumed
            run): decided and announced again, not recorded again.
    """

    def __init__(
        self,
        bus: Bus,
        ledger: Ledger,
        *,
        policy: RebalancePolicy | None = None,
        schedule: RebalanceSchedule | None = None,
        rules: RebalanceRules | None = None,
        journal: RebalanceJournal | None = None,
        sleeves: Literal["bot", "account"] = "bot",
        portfolio: str | None = None,
        recorded_until: datetime | None = None,
        agent_id: str = "rebalancing",
        heartbeat_interval_s: float = 1.0,
        clock: Clock = utc_now,
    ) -> None:
        super().__init__(agent_id, bus, heartbeat_interval_s=heartbeat_interval_s, clock=clock)
        self.ledger = ledger
        self.policy = policy if policy is not None else RebalancePolicy()
        self.schedule = schedule if schedule is not None else RebalanceSchedule()
        self.rules: RebalanceRules = (
            rules if rules is not None else ThresholdRule(self.policy.min_sharpe_improvement)
        )
        self.journal = journal
        self.portfolio = portfolio if portfolio is not None else str(self.agent_id)
        self._recorded_until = recorded_until
        if sleeves not in ("bot", "account"):
            raise AgentError(f"sleeves must be bot or account, got {sleeves!r}")
        self._sleeves: dict[str, list[str]] = {}
        for account_id in ledger.accounts:
            # Ledger account ids are "bot" (portfolio mode) or "bot/symbol" (isolated mode).
            sleeve = account_id if sleeves == "account" else account_id.split("/", 1)[0]
            self._sleeves.setdefault(sleeve, []).append(account_id)
        self.weights: dict[str, float] | None = None
        """The weights of the last applied rebalance (None: each sleeve's equity share)."""
        self.outcomes: list[RebalanceOutcome] = []
        self.counts: Counter[str] = Counter()
        self._days: list[date] = []
        self._equity: dict[str, list[float]] = {name: [] for name in self._sleeves}
        self._last_close: datetime | None = None
        self._requested: str | None = None

    async def on_start(self) -> None:
        group = self.agent_id
        await self.subscribe(BarsClosed, self.on_bars_closed, group=group)
        await self.subscribe(OrderFilled, self.on_order_filled, group=group)

    def request_rebalance(self, reason: str = "on demand") -> None:
        """Propose a rebalance at the next close, whatever the schedule says."""
        self._requested = reason

    async def on_order_filled(self, envelope: Envelope) -> None:
        event = envelope.payload
        assert isinstance(event, OrderFilled)
        order = event.order
        if order.bot_id is None:
            return
        account_id = self.ledger.account_id(order.bot_id, order.symbol)
        if account_id in self.ledger.accounts:
            self.ledger.apply_fill(account_id, event.fill)

    async def on_bars_closed(self, envelope: Envelope) -> None:
        event = envelope.payload
        assert isinstance(event, BarsClosed)
        for bar in event.bars:
            self.ledger.on_close(bar)
        self._note_equity(event.start)
        trigger = None
        if self._requested is not None:
            trigger, self._requested = f"on demand: {self._requested}", None
        elif self.schedule.is_due(self._last_close, event.start):
            trigger = f"{self.schedule.frequency.value} schedule"
        self._last_close = event.start
        if trigger is not None:
            await self.rebalance(event.start, trigger)

    def returns(self) -> pd.DataFrame:
        """Daily returns of every sleeve over the days noted so far (one column each)."""
        equity = pd.DataFrame(self._equity, index=pd.DatetimeIndex(self._days))
        return equity.pct_change().iloc[1:]

    def current_weights(self) -> dict[str, float]:
        """The last applied weights, else each sleeve's share of the equity today."""
        if self.weights is not None:
            return dict(self.weights)
        return {name: self._sleeve_equity(name) for name in self._sleeves}

    async def rebalance(self, at: datetime, trigger: str) -> RebalanceOutcome | None:
        """Propose, submit to the rules and apply or skip; None when no proposal could be
        made (too little history, or the optimizer found none: logged)."""
        returns = self.returns()
        if len(returns) < self.policy.min_history:
            self.counts["waiting"] += 1
            log.info(
                "rebalance at %s waits: %d daily returns of %d",
                at.isoformat(),
                len(returns),
                self.policy.min_history,
            )
            return None
        try:
            proposal = propose(
                returns, self.current_weights(), policy=self.policy, at=at, trigger=trigger
            )
        except OptimizationError as error:
            self.counts["no_proposal"] += 1
            log.warning("no rebalance proposal at %s: %s", at.isoformat(), error)
            return None
        journal = self.journal
        if self._recorded_until is not None and at <= self._recorded_until:
            journal = None  # on record already: a resumed run decides it again
            self.counts["resumed"] += 1
        rebalance_id = (
            journal.record(proposal, portfolio=self.portfolio) if journal is not None else None
        )
        due = proposal.due_event()
        await self.publish(due)
        verdict = self.rules.evaluate(due)
        decision = "; ".join(verdict.reasons) or "approved by the rules"
        if verdict.approved:
            if journal is not None and rebalance_id is not None:
                journal.apply(rebalance_id, decision=decision, at=at)
            self.weights = proposal.weights()
            await self.publish(proposal.applied_event(at))
            status = RebalanceStatus.APPLIED
        else:
            if journal is not None and rebalance_id is not None:
                journal.skip(rebalance_id, decision=decision, at=at)
            status = RebalanceStatus.SKIPPED
        outcome = RebalanceOutcome(proposal, status, decision, rebalance_id)
        self.outcomes.append(outcome)
        self.counts[status.value] += 1
        log.info("rebalance %s: %s (%s)", status.value, proposal.reasoning, decision)
        return outcome

    def _note_equity(self, at: datetime) -> None:
        """Keep every sleeve's equity at the last close of each UTC day (the last
        `lookback` + 1 days)."""
        day = at.date()
        if self._days and self._days[-1] == day:
            for name, values in self._equity.items():
                values[-1] = self._sleeve_equity(name)
            return
        self._days.append(day)
        for name, values in self._equity.items():
            values.append(self._sleeve_equity(name))
        keep = self.policy.lookback + 1
        if len(self._days) > 2 * keep:  # trim now and then, not at every close
            del self._days[:-keep]
            for values in self._equity.values():
                del values[:-keep]

    def _sleeve_equity(self, sleeve: str) -> float:
        return float(sum(self.ledger.equity(account) for account in self._sleeves[sleeve]))
