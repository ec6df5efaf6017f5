"""The composition root: builds a trading node for replay or paper trading and runs it.

A node is the bus, the agents (data, strategy, orchestrator, risk, execution, portfolio), the
OMS with its journal (the application database) and the paper broker. It is built from a
`Backtest` (the loaded bars, the strategy and the cost and risk configuration), so a replay
and a backtest of the same options trade the same bars under the same settings, and its
result has the backtest's shape (`BacktestResult`).

Modes (ARCHITECTURE section 1):

* ``replay``: stored bars pushed as events on a simulated clock (the bars' own times), as
  fast as the stack goes or at a factor of real time;
* ``paper``: the wall clock stamps orders and the journal, and the bars arrive one slice every
  `interval_s` seconds, as a live feed would deliver them (this build has no live market-data
  feed yet: the stored bars stand in for it).

The paper broker keeps its own state file and the OMS its journal, so a node killed at any
instant and started again with the same files (and bot id) resumes: decisions are
regenerated under the same client order ids, the OMS sends none twice, and the recorded
fills rebuild every ledger.

Agents may run in several processes over the Redis bus: a node built with `remote` agents
leaves those out (`orchestrade agent run NAME` runs them elsewhere with the same options).
"""

from __future__ import annotations

import asyncio
import os
import signal
import time
from collections.abc import Callable, Collection, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any, Literal

import numpy as np
import pandas as pd

from orchestrade.agents.anomaly import AnomalyAgent
from orchestrade.agents.base import Agent
from orchestrade.agents.data import ReplayDataAgent
from orchestrade.agents.execution import ExecutionAgent
from orchestrade.agents.notifier import RULE_LOGGER, NotificationAgent, NotificationSink
from orchestrade.agents.portfolio import PortfolioAgent
from orchestrade.agents.rebalancing import RebalancingAgent
from orchestrade.agents.replay_feed import BarSlice, iter_slices, iter_tick_slices
from orchestrade.agents.risk import RiskAgent
from orchestrade.agents.strategy import StrategyAgent
from orchestrade.agents.system import SystemAgent
from orchestrade.anomaly import AnomalyThresholds
from orchestrade.backtest.config import SimulationConfig
from orchestrade.backtest.engine import Backtest
from orchestrade.backtest.periods import periods_per_year
from orchestrade.backtest.results import BacktestResult
from orchestrade.brokers.paper import PaperBroker, PaperSettings
from orchestrade.bus import Bus, InMemoryBus
from orchestrade.domain import (
    AgentHeartbeat,
    Bot,
    BotId,
    BotState,
    Envelope,
    Instrument,
    InstrumentKind,
    Market,
    OrderId,
    Symbol,
    Tick,
)
from orchestrade.execution.oms import OrderManager
from orchestrade.execution.reconciliation import NEVER_SENT_REASON, ReconciliationReport
from orchestrade.execution.resilience import ResilientBroker
from orchestrade.orchestration.errors import RuntimeConfigurationError
from orchestrade.orchestration.gc_policy import replay_collection
from orchestrade.orchestration.health import HealthMonitor
from orchestrade.orchestration.orchestrator import Orchestrator
from orchestrade.orchestration.order_planning import OrderPlanner, tick_rounding
from orchestrade.orchestration.rule_files import default_rules
from orchestrade.orchestration.rules import RuleEngine, rule_parameters
from orchestrade.portfolio import Ledger
from orchestrade.portfolio.rebalancing import RebalancePolicy, RebalanceSchedule
from orchestrade.risk import KrxPriceLimitCheck, RiskEngine, StopSettings
from orchestrade.settings import RulesSettings
from orchestrade.storage import (
    BotRepository,
    PortfolioRepository,
    SignalRepository,
    SqlOrderJournal,
    Store,
    open_store,
)
from orchestrade.storage.anomalies import AnomalyRepository
from orchestrade.storage.checkpoints import WalCheckpointer
from orchestrade.storage.rebalances import RebalanceRepository
from orchestrade.strategies import StrategySpec
from orchestrade.strategies.streaming import compile_streaming

Mode = Literal["replay", "paper"]
AGENT_NAMES = ("data", "strategy", "orchestrator", "risk", "execution", "portfolio")
"""The agents of a trading node, in start order (data last: it drives the clock)."""


@dataclass(slots=True)
class NodeClock:
    """The node's time: the replayed slice's start (replay) or the wall clock (paper)."""

    mode: Mode = "replay"
    now: datetime | None = None

    def __call__(self) -> datetime:
        if self.mode == "paper" or self.now is None:
            return datetime.now(UTC)
        return self.now


@dataclass(frozen=True, slots=True)
class BotPlan:
    """One more bot for a node: its strategy (a backtest over the node's bars) and params.

    The node's own `backtest` and `bot_id` are its first bot; each plan adds one, trading
    the same bars with its own strategy, parameters, cash and stops through the same bus,
    OMS and broker account (whose costs are the node's: every bot's must be the same).
    """

    bot_id: str
    backtest: Backtest
    params: dict[str, Any] = field(default_factory=dict)


@dataclass(slots=True)
class _Bot:
    """A bot of the node with its resolved configuration."""

    bot_id: BotId
    backtest: Backtest
    params: dict[str, Any]
    config: SimulationConfig
    spec: StrategySpec


@dataclass(frozen=True, slots=True)
class NodeStatus:
    """A snapshot for a live status view."""

    mode: Mode
    bot_id: str
    slices: int
    bars: int
    seconds: float
    equity: float
    cash: float
    positions: dict[str, float]
    agents: dict[str, str]
    counters: dict[str, dict[str, int]]


@dataclass(slots=True)
class ReplayOutcome:
    """What a run produced: the backtest-shaped result and the node's counters."""

    result: BacktestResult | None
    reconciliation: ReconciliationReport | None
    bars: int
    seconds: float
    counters: dict[str, dict[str, int]] = field(default_factory=dict)
    interrupted: bool = False
    results: dict[str, BacktestResult] = field(default_factory=dict)
    """Every bot's result by bot id (`result` is the first bot's)."""

    def require_result(self) -> BacktestResult:
        """The result; raises when the portfolio agent ran in another process."""
        if self.result is None:
            raise RuntimeConfigurationError(
                "no result here: the portfolio agent ran in another process"
            )
        return self.result

    @property
    def bars_per_second(self) -> float:
        """Throughput over the whole stack."""
        return self.bars / self.seconds if self.seconds > 0 else float("inf")


class TradingNode:
    """The agents of one bot over one bus, wired to the OMS and the paper broker.

    Args:
        backtest: the bars, strategy (a spec), costs and risk settings to trade.
        params: strategy parameter overrides, as for `Backtest.run`.
        database_url: the application database (orders, fills, audit), created if needed.
        broker_path: the paper broker's state file (created if needed).
        bot_id: the bot the strategy runs as (the prefix of its client order ids).
        bus: the bus (default: a new in-process bus).
        mode: "replay" (simulated clock) or "paper" (wall clock).
        speed: replay only: "max" or a factor of real time.
        interval_s: paper only: seconds between two bar slices.
        rules: the rule engine (default: the shipped rules with the backtest's
            min_confidence and risk limits).
        remote: agents that run in another process (left out of this node).
        supervise: also run the health monitor (restarts silent or crashed agents) and the
            system agent (machine health, risk-file reload).
        risk_file: the risk settings file the system agent reloads when it changes.
        ticks: replay these trade prints (oldest first) instead of the backtest's bars: the
            data agent aggregates them into bars of the backtest's timeframe as a live feed
            would. The backtest should hold the bars of the same prints (`ticks_to_bars`).
        more_bots: further bots on the same bars (`BotPlan`), each with its own strategy
            agent, planner, accounts and result.
        rebalance: run the rebalancing agent on this schedule (None: no rebalancing): it
            proposes weights across the bots (across the first bot's symbol accounts when it
            runs alone) from their daily returns, puts each proposal to the rules and
            records it; applying sets target allocations, it moves no cash.
        rebalance_policy: objective, covariance, bounds and threshold of the proposals.
        notifier: hand the notifiable events and the rules' notify effects to this
            service (`orchestrade.notify.NotificationService`); None: no notifications.
        notify_rules: also hand over the rules' notify effects (they are records of one
            process-wide logger: with several nodes in a process, one bridge must do it).
        anomalies: run the anomaly agent (with the OMS): bot and market detectors and the
            daily-loss circuit breaker at the risk settings' max daily loss; its findings go
            through the rules (a HIGH one stops the bot: the backtest has no such detectors,
            so a replay may then trade less than the backtest) and into the anomalies table.
        anomaly_thresholds: the detectors' thresholds (default: the desk's).

    Raises:
        RuntimeConfigurationError: the strategy is not a spec, an agent name is unknown, or
            the options cannot be traded by the stack (the message says which).
    """

    def __init__(
        self,
        backtest: Backtest,
        *,
        params: dict[str, Any] | None = None,
        database_url: str,
        broker_path: Path,
        bot_id: str = "bot-1",
        bus: Bus | None = None,
        mode: Mode = "replay",
        speed: float | str = "max",
        interval_s: float = 1.0,
        rules: RuleEngine | None = None,
        remote: Collection[str] = (),
        supervise: bool = True,
        risk_file: Path | None = None,
        ticks: Iterable[Tick] | None = None,
        more_bots: Sequence[BotPlan] = (),
        rebalance: RebalanceSchedule | None = None,
        rebalance_policy: RebalancePolicy | None = None,
        notifier: NotificationSink | None = None,
        notify_rules: bool = True,
        anomalies: bool = True,
        anomaly_thresholds: AnomalyThresholds | None = None,
    ) -> None:
        unknown = sorted(set(remote) - set(AGENT_NAMES))
        if unknown:
            raise RuntimeConfigurationError(
                f"unknown agent(s) {', '.join(unknown)}; agents are {', '.join(AGENT_NAMES)}"
            )
        if mode not in ("replay", "paper"):
            raise RuntimeConfigurationError(f"mode must be replay or paper, got {mode!r}")
        if not interval_s > 0:
            raise RuntimeConfigurationError(f"interval_s must be > 0, got {interval_s!r}")
        spec = backtest.strategy
        if not isinstance(spec, StrategySpec):
            raise RuntimeConfigurationError(
                "the trading stack runs strategy specs (JSON or built-in names); a Python "
                "Strategy class has no streaming form yet"
            )
        self.backtest = backtest
        self.params = dict(params or {})
        self.mode: Mode = mode
        self.bot_id = BotId(bot_id)
        self.remote = frozenset(remote)
        self.config = backtest.run_config(**self.params)
        if more_bots and remote:
            raise RuntimeConfigurationError(
                "a node with several bots runs all its agents in one process (no --remote)"
            )
        self.bot_plans = [_Bot(self.bot_id, backtest, self.params, self.config, spec)]
        self.bot_plans += [self._checked_plan(plan) for plan in more_bots]
        prepared = backtest.bars
        self.panel = prepared.panel
        self.symbols = [Symbol(name) for name in self.panel.symbols]
        self.instruments = _instruments(self.symbols, prepared.markets, prepared.kinds)
        self.currency = self.instruments[self.symbols[0]].currency
        self.bus = bus if bus is not None else InMemoryBus(name=f"node-{bot_id}")
        first = pd.Timestamp(self.panel.timestamps[0]).tz_localize("UTC").to_pydatetime()
        self.clock = NodeClock(mode, first)
        self._database_url = database_url
        self._broker_path = broker_path
        self._rules = rules if rules is not None else _default_engine(backtest, self.config)
        self._pace: dict[str, Any] = (
            {"speed": speed} if mode == "replay" else {"speed": "max", "interval_s": interval_s}
        )
        self.store: Store | None = None
        self.broker: PaperBroker | None = None
        self.checkpointers: list[WalCheckpointer] = []
        """Checkpoints of the SQLite files written on the order path (journal, broker), off
        the event loop's thread (see `storage.checkpoints`)."""
        self.oms: OrderManager | None = None
        self.agents: dict[str, Agent] = {}
        self.data: ReplayDataAgent | None = None
        self.portfolio: PortfolioAgent | None = None
        self.reconciliation: ReconciliationReport | None = None
        self.monitor: HealthMonitor | None = None
        self.bots: BotRepository | None = None
        self.system: SystemAgent | None = None
        self._supervise = supervise
        self._risk_file = risk_file
        self._ticks = ticks
        self._rebalance = rebalance
        self._rebalance_policy = rebalance_policy
        self._notifier = notifier
        self._notify_rules = notify_rules
        self._anomalies = anomalies
        self._anomaly_thresholds = anomaly_thresholds
        self.anomaly: AnomalyAgent | None = None
        self.rebalancing: RebalancingAgent | None = None
        self.notifications: NotificationAgent | None = None
        self._started_at = 0.0
        self._spec = spec
        self._stopping: asyncio.Event | None = None

    # -- building --------------------------------------------------------------------------

    def new_ledger(self, *, track_days: bool = False) -> Ledger:
        """A ledger with the bot's accounts (one per symbol when isolated) at their cash."""
        config = self.config
        ledger = Ledger(
            mode=config.mode,
            instruments=self.instruments,
            currency=self.currency,
            track_days=track_days,
        )
        for bot in self.bot_plans:
            cash = Decimal(repr(bot.config.cash))
            if config.mode == "isolated":
                for symbol in self.symbols:
                    ledger.open_account(ledger.account_id(bot.bot_id, symbol), cash, [symbol])
            else:
                account_id = ledger.account_id(bot.bot_id, self.symbols[0])
                ledger.open_account(account_id, cash, self.symbols)
        return ledger

    def _checked_plan(self, plan: BotPlan) -> _Bot:
        """`plan` resolved, or a clear error when it cannot share this node."""
        bot_id = BotId(plan.bot_id)
        if bot_id in {known.bot_id for known in self.bot_plans}:
            raise RuntimeConfigurationError(f"bot id {plan.bot_id!r} is given twice")
        spec = plan.backtest.strategy
        if not isinstance(spec, StrategySpec):
            raise RuntimeConfigurationError(
                f"bot {plan.bot_id}: the trading stack runs strategy specs, not Python classes"
            )
        mine, theirs = self.backtest.bars.panel, plan.backtest.bars.panel
        if list(mine.symbols) != list(theirs.symbols) or not np.array_equal(
            mine.timestamps, theirs.timestamps
        ):
            raise RuntimeConfigurationError(
                f"bot {plan.bot_id} trades other bars than the node's first bot: every bot of "
                "a node trades the same symbols over the same times"
            )
        config = plan.backtest.run_config(**plan.params)
        if config.mode != self.config.mode:
            raise RuntimeConfigurationError(
                f"bot {plan.bot_id} uses {config.mode} accounts, the node {self.config.mode}"
            )
        if PaperSettings.from_simulation(config, self.symbols_of(theirs)) != (
            PaperSettings.from_simulation(self.config, self.symbols_of(mine))
        ):
            raise RuntimeConfigurationError(
                f"bot {plan.bot_id} has other costs (fees, taxes, slippage, ticks) than the "
                "node's first bot: the bots of a node share one broker account"
            )
        return _Bot(bot_id, plan.backtest, dict(plan.params), config, spec)

    @staticmethod
    def symbols_of(panel: Any) -> list[Symbol]:
        """The panel's symbols."""
        return [Symbol(name) for name in panel.symbols]

    def build(self) -> None:
        """Open the database and the broker (when execution runs here) and make the agents."""
        config, bus, bot = self.config, self.bus, self.bot_id
        wanted = [name for name in AGENT_NAMES if name not in self.remote]
        if "execution" in wanted:
            self.store = open_store(self._database_url)
            # Its own bots' orders only: other accounts may share the database.
            journal = SqlOrderJournal(self.store, bot_ids=[plan.bot_id for plan in self.bot_plans])
            accounts = len(self.symbols) if config.mode == "isolated" else 1
            cash = sum((Decimal(repr(p.config.cash)) for p in self.bot_plans), Decimal(0))
            cash *= accounts
            self.broker = PaperBroker.open(
                self._broker_path,
                PaperSettings.from_simulation(config, self.symbols),
                cash=cash,
                currency=self.currency,
                clock=self.clock,
            )
            journal_file = self.store.sqlite_file
            files = [self._broker_path] + ([journal_file] if journal_file is not None else [])
            self.checkpointers = [WalCheckpointer(path) for path in files]
            # Every OMS call to the broker goes through the retry policies and the circuit
            # breaker (submits may be retried: brokers are idempotent on client order ids).
            resilient = ResilientBroker(self.broker)
            self.oms = OrderManager(resilient, journal, clock=self.clock)
            self._save_bot(self.store)
            self.agents["execution"] = ExecutionAgent(
                bus,
                self.oms,
                market=self.broker,
                never_sent=_never_sent(journal),
                fill_timing=config.fill,
            )
        if "execution" in wanted and self._anomalies and self.store is not None:
            risk = self.backtest.risk
            thresholds = self._anomaly_thresholds or AnomalyThresholds(
                max_daily_loss_pct=risk.max_daily_loss_pct if risk.enabled else None
            )
            self.anomaly = AnomalyAgent(
                bus,
                thresholds=thresholds,
                ledger=self.new_ledger(),
                bots=[plan.bot_id for plan in self.bot_plans],
                broker_calls={plan.bot_id: resilient.stats for plan in self.bot_plans},
                journal=AnomalyRepository(self.store),
            )
            self.agents["anomaly"] = self.anomaly
        if "strategy" in wanted:
            for plan in self.bot_plans:
                engine = compile_streaming(plan.spec, plan.params)
                name = "strategy" if plan.bot_id == bot else f"strategy-{plan.bot_id}"
                self.agents[name] = StrategyAgent(plan.bot_id, engine, self.symbols, bus)
        if "orchestrator" in wanted:
            ledger = self.new_ledger(track_days=True)
            planners = {
                plan.bot_id: OrderPlanner(plan.bot_id, plan.config, self.symbols, ledger)
                for plan in self.bot_plans
            }
            signals = SignalRepository(self.store) if self.store is not None else None
            recorded_until = {}
            for plan in self.bot_plans:
                recorded = signals.recent(limit=1, bot_id=plan.bot_id) if signals else []
                if recorded:
                    recorded_until[plan.bot_id] = recorded[0].signal.time
            self.agents["orchestrator"] = Orchestrator(
                bus,
                ledger,
                planners,
                self._rules,
                bots=self.bots,
                signals=signals,
                signals_recorded_until=recorded_until,
            )
        if "risk" in wanted:
            markets = self.backtest.bars.markets
            checks = (KrxPriceLimitCheck(),) if Market.KRX in markets else ()
            self.agents["risk"] = RiskAgent(
                bus,
                RiskEngine(self.backtest.risk, checks=checks),
                self.new_ledger(track_days=True),
                stops={
                    plan.bot_id: StopSettings(
                        plan.config.stop_loss, plan.config.take_profit, plan.config.trailing_stop
                    )
                    for plan in self.bot_plans
                },
                rounding=tick_rounding(config, self.symbols),
            )
        if "portfolio" in wanted:
            snapshots = PortfolioRepository(self.store) if self.store is not None else None
            self.portfolio = PortfolioAgent(bus, self.new_ledger(), journal=snapshots)
            self.agents["portfolio"] = self.portfolio
        if self._rebalance is not None:
            proposals = RebalanceRepository(self.store) if self.store is not None else None
            self.rebalancing = RebalancingAgent(
                bus,
                self.new_ledger(),
                policy=self._rebalance_policy,
                schedule=self._rebalance,
                rules=self._rules,
                journal=proposals,
                sleeves="bot" if len(self.bot_plans) > 1 else "account",
                portfolio=str(bot),
                recorded_until=proposals.recorded_until(str(bot)) if proposals else None,
            )
            self.agents["rebalancing"] = self.rebalancing
        if self._notifier is not None:
            # Outside `agents`: it starts with the bus and stops after it, so that it still
            # hands over the last events of the run.
            self.notifications = NotificationAgent(
                bus, self._notifier, rule_logger=RULE_LOGGER if self._notify_rules else None
            )
        if "data" in wanted:
            timeframe = self.backtest.bars.timeframe
            slices = (
                iter_slices(self.panel, timeframe)
                if self._ticks is None
                else iter_tick_slices(self._ticks, timeframe, market=self._main_market())
            )
            feed = self._clocked(slices)
            self.data = ReplayDataAgent(feed, bus, **self._pace)
            self.agents["data"] = self.data
        if self._supervise:
            store = self.store
            # Several processes of one bot share the bus: name their own helpers apart.
            suffix = f"-{os.getpid()}" if self.remote else ""
            self.system = SystemAgent(
                bus,
                home=self._broker_path.parent,
                probe=store.ping if store is not None else None,
                risk_file=self._risk_file,
                agent_id=f"system{suffix}",
            )
            self.monitor = HealthMonitor(bus, agent_id=f"health-monitor{suffix}")
            for agent in [*self.agents.values(), self.system]:
                if agent is not self.data:
                    self.monitor.watch(agent)

    def _save_bot(self, store: Store) -> None:
        """Record each bot (strategy, parameters, symbols, state, its share of the node's
        cash as allocation) unless it is known."""
        bots = BotRepository(store)
        total = sum((Decimal(repr(plan.config.cash)) for plan in self.bot_plans), Decimal(0))
        for plan in self.bot_plans:
            if bots.get(plan.bot_id) is None:
                bots.save(
                    Bot(
                        bot_id=plan.bot_id,
                        name=f"{plan.spec.name} ({self.mode})",
                        strategy=plan.spec.to_dict(),
                        params=plan.params,
                        symbols=tuple(self.symbols),
                        allocation=Decimal(repr(plan.config.cash)) / total,
                        state=BotState.RUNNING,
                        created_at=datetime.now(UTC),
                    )
                )
        self.bots = bots

    # -- running ---------------------------------------------------------------------------

    async def start(self) -> None:
        """Build, reconcile the OMS with the broker, start the bus and the agents."""
        self.build()
        self._stopping = asyncio.Event()
        self._started_at = time.perf_counter()
        for checkpointer in self.checkpointers:
            checkpointer.start()
        if self.oms is not None:
            self.reconciliation = await self.oms.start()
        await self.bus.start()
        if self.notifications is not None:
            await self.notifications.start()
        for name, agent in self.agents.items():
            if name != "data":
                await agent.start()
        if self.system is not None:
            await self.system.start()
        if self.monitor is not None:
            await self.monitor.start()
        if self.data is not None:
            await self._await_remote_agents()
            await self.data.start()

    async def _await_remote_agents(self, timeout_s: float = 30.0) -> None:
        """Before the first bar, wait for a heartbeat of every agent run elsewhere: an agent
        that is not subscribed yet would miss the bars and the orders (Redis groups start at
        the newest entry).

        Raises:
            RuntimeConfigurationError: an agent sent no heartbeat within `timeout_s`.
        """
        expected = {self.agent_id_of(name) for name in self.remote if name != "data"}
        if not expected:
            return
        seen: set[str] = set()
        arrived = asyncio.Event()

        async def on_heartbeat(envelope: Envelope) -> None:
            beat = envelope.payload
            if isinstance(beat, AgentHeartbeat) and beat.agent_id in expected:
                seen.add(beat.agent_id)
                if seen >= expected:
                    arrived.set()

        subscription = await self.bus.subscribe(AgentHeartbeat, on_heartbeat)
        try:
            await asyncio.wait_for(arrived.wait(), timeout_s)
        except TimeoutError:
            missing = ", ".join(sorted(expected - seen))
            raise RuntimeConfigurationError(
                f"no heartbeat from {missing} within {timeout_s:.0f} s: start them first "
                f"(`orchestrade agent run NAME --bus ... --bot-id {self.bot_id}`)"
            ) from None
        finally:
            await subscription.close()

    def agent_id_of(self, name: str) -> str:
        """The bus identity of the agent called `name` in this node's bot."""
        return f"strategy-{self.bot_id}" if name == "strategy" else name

    async def run(self, *, on_status: Callable[[NodeStatus], None] | None = None) -> bool:
        """Start, run until the data ends (or until `request_stop`), stop; True when the data
        ran to its end. With `on_status`, a snapshot is handed over about twice a second."""
        await self.start()
        reporter = None
        if on_status is not None:
            reporter = asyncio.get_running_loop().create_task(self._report(on_status))
        try:
            if self.data is not None:
                await self.data.finished.wait()
            elif self._stopping is not None:
                await self._stopping.wait()
        finally:
            if reporter is not None:
                reporter.cancel()
            await self.stop()
        return self.data is not None and self.data.completed

    def request_stop(self) -> None:
        """Finish the slice in progress, then shut down cleanly (Ctrl-C, SIGTERM)."""
        if self.data is not None:
            self.data.request_stop()
        if self._stopping is not None:
            self._stopping.set()

    async def stop(self) -> None:
        """Stop the agents (data first), drain the bus, flush and close the broker and DB."""
        try:
            if self.monitor is not None:
                await self.monitor.stop()  # first: it must not restart what stops now
            if self.data is not None:
                await self.data.stop()
            for name, agent in self.agents.items():
                if name != "data":
                    await agent.stop()
            if self.system is not None:
                await self.system.stop()
            await self.bus.stop()
            if self.notifications is not None:
                await self.notifications.stop()
        finally:
            for checkpointer in self.checkpointers:
                checkpointer.stop()
            if self.broker is not None:
                self.broker.close()
            if self.store is not None:
                self.store.close()

    def status(self) -> NodeStatus:
        """What the node is doing now (cheap: read from the agents' own state)."""
        equity = cash = 0.0
        positions: dict[str, float] = {}
        if self.portfolio is not None:
            ledger = self.portfolio.ledger
            for account_id, state in ledger.accounts.items():
                equity += float(ledger.equity(account_id))
                cash += float(state.cash)
                for symbol, position in state.account.positions.items():
                    if position.quantity:
                        positions[symbol] = positions.get(symbol, 0.0) + float(position.quantity)
        return NodeStatus(
            mode=self.mode,
            bot_id=self.bot_id,
            slices=self.data.slices_sent if self.data is not None else 0,
            bars=self.data.bars_sent if self.data is not None else 0,
            seconds=time.perf_counter() - self._started_at,
            equity=equity,
            cash=cash,
            positions=positions,
            agents={name: agent.status.value for name, agent in self.agents.items()},
            counters=self.counters(),
        )

    def counters(self) -> dict[str, dict[str, int]]:
        """Decisions of the orchestrator, outcomes of risk and execution."""
        counters: dict[str, dict[str, int]] = {}
        for name, attribute in (
            ("orchestrator", "decisions"),
            ("risk", "outcomes"),
            ("execution", "outcomes"),
        ):
            agent = self.agents.get(name)
            if agent is not None:
                counters[name] = dict(getattr(agent, attribute))
        if self.rebalancing is not None:
            counters["rebalancing"] = dict(self.rebalancing.counts)
        if self.anomaly is not None:
            counters["anomaly"] = dict(self.anomaly.found)
        return counters

    def result(self, seconds: float) -> BacktestResult | None:
        """The first bot's result in the backtest's shape (needs the portfolio agent here)."""
        return self.results(seconds).get(self.bot_id)

    def results(self, seconds: float) -> dict[str, BacktestResult]:
        """Every bot's result in the backtest's shape (none without the portfolio agent)."""
        if self.portfolio is None:
            return {}
        from orchestrade.orchestration.replay_summary import replay_result

        prepared = self.backtest.bars
        market = max(set(prepared.markets), key=list(prepared.markets).count)
        return {
            plan.bot_id: replay_result(
                self.portfolio,
                prepared.panel,
                bot_id=plan.bot_id,
                cash=plan.config.cash,
                periods_per_year=float(periods_per_year(prepared.timeframe, market)),
                timing={"bars": prepared.bar_count, "seconds": seconds, "load_seconds": 0.0},
                parameters={**plan.backtest.default_parameters(), **plan.params},
                settings={"mode": self.mode, "account_mode": plan.config.mode},
            )
            for plan in self.bot_plans
        }

    def _main_market(self) -> Market:
        markets = list(self.backtest.bars.markets)
        return max(set(markets), key=markets.count)

    def _clocked(self, slices: Iterator[BarSlice]) -> Iterator[BarSlice]:
        for item in slices:
            self.clock.now = item.start
            yield item

    async def _report(self, on_status: Callable[[NodeStatus], None]) -> None:
        while True:
            on_status(self.status())
            await asyncio.sleep(0.5)


async def run_replay(
    backtest: Backtest,
    *,
    on_status: Callable[[NodeStatus], None] | None = None,
    handle_signals: bool = False,
    **options: Any,
) -> ReplayOutcome:
    """Build a `TradingNode` from `options` (its arguments), run it, and summarise the run.

    With `handle_signals`, Ctrl-C and SIGTERM stop the node cleanly after the slice in
    progress (no order lost, broker state and journal flushed); the outcome says so.
    """
    node = TradingNode(backtest, **options)
    loop = asyncio.get_running_loop()
    if handle_signals:
        for number in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(number, node.request_stop)
    try:
        completed = await node.run(on_status=on_status)
    finally:
        if handle_signals:
            for number in (signal.SIGINT, signal.SIGTERM):
                loop.remove_signal_handler(number)
    seconds = time.perf_counter() - node._started_at
    bars = node.data.bars_sent if node.data is not None else 0
    results = node.results(seconds)
    return ReplayOutcome(
        results.get(node.bot_id),
        node.reconciliation,
        bars,
        seconds,
        node.counters(),
        interrupted=not completed,
        results=results,
    )


def replay(backtest: Backtest, **options: Any) -> ReplayOutcome:
    """`run_replay` from synchronous code (its own event loop, the collector's replay
    policy: `gc_policy.replay_collection`)."""
    with replay_collection():
        return asyncio.run(run_replay(backtest, **options))


def _default_engine(backtest: Backtest, config: Any) -> RuleEngine:
    parameters = rule_parameters(RulesSettings(min_confidence=config.min_confidence), backtest.risk)
    return RuleEngine(default_rules(), parameters=parameters)


def _instruments(
    symbols: Sequence[Symbol], markets: Sequence[Market], kinds: Sequence[InstrumentKind]
) -> dict[Symbol, Instrument]:
    instruments: dict[Symbol, Instrument] = {}
    for symbol, market, kind in zip(symbols, markets, kinds, strict=True):
        if market is Market.KRX:
            instruments[symbol] = Instrument.krx(symbol, kind=kind)
        elif market is Market.US:
            instruments[symbol] = Instrument.us(symbol, kind=kind)
        else:
            instruments[symbol] = Instrument.crypto(
                symbol, tick_size=Decimal("1e-8"), lot_size=Decimal("1e-8"), kind=kind
            )
    return instruments


def _never_sent(journal: SqlOrderJournal) -> Callable[[OrderId], bool]:
    """Whether reconciliation marked the journaled order `order_id` as never sent."""

    def check(order_id: OrderId) -> bool:
        return any(event.reason == NEVER_SENT_REASON for event in journal.order_events(order_id))

    return check
