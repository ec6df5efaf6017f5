"""RebalancingAgent: on the bars' clock it proposes, asks the desk's rules, and applies or
skips; the same bars give the same rebalances."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal

import numpy as np
import pytest

from agents.support import Recorder
from fakes import DAY0, buy, daily_bar
from orchestrade.agents.base import AgentError
from orchestrade.agents.rebalancing import RebalancingAgent
from orchestrade.bus import InMemoryBus
from orchestrade.domain import (
    BarsClosed,
    BotId,
    Fill,
    FillId,
    OrderFilled,
    RebalanceApplied,
    RebalanceDue,
    Side,
    Symbol,
)
from orchestrade.orchestration.rule_files import default_rules
from orchestrade.orchestration.rules import RuleEngine, rule_parameters
from orchestrade.portfolio import Ledger
from orchestrade.portfolio.optimization import CovarianceMethod
from orchestrade.portfolio.rebalancing import (
    RebalanceFrequency,
    RebalancePolicy,
    RebalanceProposal,
    RebalanceSchedule,
    RebalanceStatus,
)

pytestmark = pytest.mark.anyio

BOTS = {"a": "S1", "b": "S2", "c": "S3", "d": "S4"}
DAYS = 300
POLICY = RebalancePolicy(covariance=CovarianceMethod.SAMPLE, lookback=120, min_history=60)


@dataclass
class MemoryJournal:
    """An in-memory `RebalanceJournal`."""

    proposals: list[RebalanceProposal] = field(default_factory=list)
    statuses: list[tuple[RebalanceStatus, str]] = field(default_factory=list)
    portfolios: set[str] = field(default_factory=set)

    def record(
        self,
        proposal: RebalanceProposal,
        *,
        portfolio: str,
        status: RebalanceStatus = RebalanceStatus.PROPOSED,
        decision: str = "",
    ) -> int:
        self.portfolios.add(portfolio)
        self.proposals.append(proposal)
        self.statuses.append((status, decision))
        return len(self.proposals)

    def skip(self, rebalance_id: int, *, decision: str, at: datetime) -> None:
        self.statuses[rebalance_id - 1] = (RebalanceStatus.SKIPPED, decision)

    def apply(self, rebalance_id: int, *, decision: str, at: datetime) -> tuple[BotId, ...]:
        self.statuses[rebalance_id - 1] = (RebalanceStatus.APPLIED, decision)
        return self.proposals[rebalance_id - 1].bots


def closes() -> dict[str, list[float]]:
    """Random walks of the four symbols (fixed seed): different drifts and volatilities."""
    rng = np.random.default_rng(8)
    drift = {"S1": 0.0010, "S2": 0.0002, "S3": 0.0005, "S4": -0.0003}
    scale = {"S1": 0.015, "S2": 0.008, "S3": 0.010, "S4": 0.020}
    paths = {}
    for symbol in BOTS.values():
        steps = 1 + drift[symbol] + scale[symbol] * rng.standard_normal(DAYS)
        paths[symbol] = [round(float(value), 2) for value in 100 * np.cumprod(steps)]
    return paths


def ledger() -> Ledger:
    book = Ledger(mode="portfolio")
    for bot, symbol in BOTS.items():
        book.open_account(bot, Decimal(1_000_000), [Symbol(symbol)])
    return book


def fill(bot: str, symbol: str, price: float) -> OrderFilled:
    order = buy(f"{bot}-entry", 9_000, symbol=symbol, bot=bot)
    return OrderFilled(
        order,
        Fill(
            FillId(f"{bot}-1"),
            order.order_id,
            Symbol(symbol),
            Side.BUY,
            Decimal(9_000),
            Decimal(repr(price)),
            DAY0,
        ),
    )


@dataclass
class Run:
    agent: RebalancingAgent
    journal: MemoryJournal
    published: Recorder


async def replay(
    *,
    days: int = DAYS,
    rules: RuleEngine | None = None,
    schedule: RebalanceSchedule | None = None,
    before_day: dict[int, str] | None = None,
    recorded_until: datetime | None = None,
) -> Run:
    bus = InMemoryBus(name="rebalance-test")
    journal = MemoryJournal()
    published = Recorder()
    await bus.subscribe(RebalanceDue, published)
    await bus.subscribe(RebalanceApplied, published)
    agent = RebalancingAgent(
        bus,
        ledger(),
        policy=POLICY,
        schedule=schedule or RebalanceSchedule(RebalanceFrequency.MONTHLY),
        rules=rules,
        journal=journal,
        portfolio="node-1",
        recorded_until=recorded_until,
        heartbeat_interval_s=3600,
    )
    await bus.start()
    await agent.start()
    paths = closes()
    for bot, symbol in BOTS.items():
        await bus.publish(fill(bot, symbol, paths[symbol][0]))
    for day in range(days):
        if before_day and day in before_day:
            agent.request_rebalance(before_day[day])
        bars = tuple(daily_bar(day, paths[symbol][day], symbol=symbol) for symbol in BOTS.values())
        await bus.publish(BarsClosed(bars[0].start, bars))
        await bus.wait_idle()
    await agent.stop()
    await bus.stop(timeout_s=1.0)
    return Run(agent, journal, published)


def desk_rules() -> RuleEngine:
    return RuleEngine(default_rules(), parameters=rule_parameters())


async def test_monthly_rebalances_go_through_the_desk_rules_and_the_applied_ones_stick() -> None:
    run = await replay(rules=desk_rules())

    outcomes = run.agent.outcomes
    dues = [p for p in run.published.payloads if isinstance(p, RebalanceDue)]
    applied = [p for p in run.published.payloads if isinstance(p, RebalanceApplied)]
    # the first close of each month from April (60 daily returns by then) to October
    assert [outcome.proposal.proposed_at.date().isoformat() for outcome in outcomes] == [
        f"2024-{month:02d}-01" for month in range(4, 11)
    ]
    assert dues == [outcome.proposal.due_event() for outcome in outcomes]
    for outcome in outcomes:
        improvement = outcome.proposal.sharpe_improvement
        assert improvement is not None
        expected = RebalanceStatus.APPLIED if improvement >= 0.05 else RebalanceStatus.SKIPPED
        assert outcome.status is expected
    statuses = [outcome.status for outcome in outcomes]
    assert RebalanceStatus.APPLIED in statuses
    assert RebalanceStatus.SKIPPED in statuses
    assert run.journal.statuses == [(o.status, o.decision) for o in outcomes]
    skipped = next(o for o in outcomes if o.status is RebalanceStatus.SKIPPED)
    assert skipped.decision.startswith("skip_small_rebalance")
    assert [event.allocations for event in applied] == [
        outcome.proposal.proposed
        for outcome in outcomes
        if outcome.status is RebalanceStatus.APPLIED
    ]
    # after a rebalance is applied, the next proposal starts from its weights
    first = statuses.index(RebalanceStatus.APPLIED)
    assert outcomes[first + 1].proposal.current == outcomes[first].proposal.proposed
    assert sum(item.weight for item in applied[-1].allocations) == 1


async def test_the_same_bars_give_the_same_rebalances() -> None:
    first = await replay(rules=desk_rules())
    second = await replay(rules=desk_rules())

    assert [o.proposal for o in first.agent.outcomes] == [o.proposal for o in second.agent.outcomes]
    assert [o.status for o in first.agent.outcomes] == [o.status for o in second.agent.outcomes]


async def test_a_resumed_run_decides_its_past_rebalances_again_without_recording_them() -> None:
    first = await replay(days=200, rules=desk_rules())
    until = first.journal.proposals[-1].proposed_at

    resumed = await replay(rules=desk_rules(), recorded_until=until)

    full = await replay(rules=desk_rules())
    assert [o.proposal for o in resumed.agent.outcomes] == [o.proposal for o in full.agent.outcomes]
    assert resumed.published.payloads == full.published.payloads
    assert resumed.journal.proposals == [
        o.proposal for o in full.agent.outcomes if o.proposal.proposed_at > until
    ]
    assert resumed.agent.counts["resumed"] == len(first.journal.proposals)
    assert first.journal.portfolios == {"node-1"}


async def test_without_rules_the_policy_threshold_decides() -> None:
    with_rules = await replay(days=200, rules=desk_rules())
    without = await replay(days=200)

    assert [o.status for o in without.agent.outcomes] == [
        o.status for o in with_rules.agent.outcomes
    ]
    assert without.agent.outcomes[0].decision.startswith("Sharpe improvement")


async def test_on_demand_a_rebalance_comes_at_the_next_close_once_there_is_history() -> None:
    run = await replay(
        days=120,
        schedule=RebalanceSchedule(RebalanceFrequency.ON_DEMAND),
        before_day={30: "too early", 100: "operator asked"},
    )

    assert run.agent.counts["waiting"] == 1
    (outcome,) = run.agent.outcomes
    assert outcome.proposal.trigger == "on demand: operator asked"
    assert outcome.proposal.proposed_at == daily_bar(100, 1).start
    assert outcome.proposal.observations == 100


async def test_a_bots_accounts_make_one_sleeve_unless_accounts_are_asked_for() -> None:
    def isolated() -> Ledger:
        book = Ledger(mode="isolated")
        for bot, cash in (("x", 300), ("y", 500)):
            for symbol in ("S1", "S2"):
                account = book.account_id(BotId(bot), Symbol(symbol))
                book.open_account(account, Decimal(cash), [Symbol(symbol)])
        return book

    bus = InMemoryBus(name="sleeves")
    by_bot = RebalancingAgent(bus, isolated(), heartbeat_interval_s=3600)
    by_account = RebalancingAgent(
        bus, isolated(), sleeves="account", agent_id="by-account", heartbeat_interval_s=3600
    )
    await bus.start()
    for agent in (by_bot, by_account):
        await agent.start()
    bars = (daily_bar(0, 10, symbol="S1"), daily_bar(0, 20, symbol="S2"))

    await bus.publish(BarsClosed(bars[0].start, bars))
    await bus.wait_idle()

    assert by_bot.current_weights() == {"x": 600.0, "y": 1000.0}
    assert by_account.current_weights() == {
        "x/S1": 300.0,
        "x/S2": 300.0,
        "y/S1": 500.0,
        "y/S2": 500.0,
    }
    for agent in (by_bot, by_account):
        await agent.stop()
    await bus.stop(timeout_s=1.0)
    with pytest.raises(AgentError, match="sleeves must be bot or account, got 'symbol'"):
        RebalancingAgent(bus, isolated(), sleeves="symbol")  # type: ignore[arg-type]
