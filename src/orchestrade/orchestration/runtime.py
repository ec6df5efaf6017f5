"""The composition root: builds a trading node for replay and runs it to the end.

A node is the bus, the agents (data, strategy, orchestrator, risk, execution, portfolio),
the OMS with its journal (the application database) and the broker. `run_replay` takes a
`Backtest` (it holds the loaded bars, the strategy and the cost and risk configuration), so a
replay and a backtest of the same options trade the same bars under the same settings; the
result has the backtest's shape (`BacktestResult`).

Replay (ARCHITECTURE section 1): stored bars pushed as events on a simulated clock, against
the paper broker. The paper broker keeps its own state file and the OMS its journal, so a
replay killed at any instant and started again with the same files resumes: decisions are
regenerated under the same client order ids, the OMS sends none twice, and the recorded
fills rebuild every ledger.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import pandas as pd

from orchestrade.agents.base import Agent
from orchestrade.agents.data import ReplayDataAgent
from orchestrade.agents.execution import ExecutionAgent
from orchestrade.agents.portfolio import PortfolioAgent
from orchestrade.agents.replay_feed import iter_slices
from orchestrade.agents.risk import RiskAgent
from orchestrade.agents.strategy import StrategyAgent
from orchestrade.backtest.engine import Backtest
from orchestrade.backtest.periods import periods_per_year
from orchestrade.backtest.results import BacktestResult
from orchestrade.brokers.paper import PaperBroker, PaperSettings
from orchestrade.bus import Bus, InMemoryBus
from orchestrade.domain import (
    BotId,
    Instrument,
    InstrumentKind,
    Market,
    OrderId,
    Symbol,
)
from orchestrade.execution.oms import OrderManager
from orchestrade.execution.reconciliation import NEVER_SENT_REASON, ReconciliationReport
from orchestrade.orchestration.errors import RuntimeConfigurationError
from orchestrade.orchestration.orchestrator import Orchestrator
from orchestrade.orchestration.order_planning import OrderPlanner, tick_rounding
from orchestrade.orchestration.rule_files import default_rules
from orchestrade.orchestration.rules import RuleEngine, rule_parameters
from orchestrade.portfolio import Ledger
from orchestrade.risk import KrxPriceLimitCheck, RiskEngine, StopSettings
from orchestrade.settings import RulesSettings
from orchestrade.storage import SqlOrderJournal, open_store
from orchestrade.strategies import StrategySpec
from orchestrade.strategies.streaming import compile_streaming


@dataclass(slots=True)
class ReplayClock:
    """Simulated time: the start of the bar slice being replayed (aware UTC)."""

    now: datetime | None = None

    def __call__(self) -> datetime:
        if self.now is None:
            raise RuntimeConfigurationError("the replay clock was read before the first bar")
        return self.now


@dataclass(slots=True)
class ReplayOutcome:
    """What a replay produced: the backtest-shaped result and the node's counters."""

    result: BacktestResult
    reconciliation: ReconciliationReport | None
    bars: int
    seconds: float
    counters: dict[str, dict[str, int]] = field(default_factory=dict)

    @property
    def bars_per_second(self) -> float:
        """Replay throughput over the whole stack."""
        return self.bars / self.seconds if self.seconds > 0 else float("inf")


async def run_replay(
    backtest: Backtest,
    *,
    params: dict[str, Any] | None = None,
    database_url: str,
    broker_path: Path,
    bot_id: str = "bot-1",
    bus: Bus | None = None,
    speed: float | str = "max",
    rules: RuleEngine | None = None,
) -> ReplayOutcome:
    """Replay `backtest`'s bars through the agent stack against the paper broker.

    Args:
        backtest: the bars, strategy (a spec), costs and risk settings to trade.
        params: strategy parameter overrides, as for `Backtest.run`.
        database_url: the application database (orders, fills, audit), created if needed.
        broker_path: the paper broker's state file (created if needed).
        bot_id: the id of the bot the strategy runs as.
        bus: the bus (default: a new in-process bus).
        speed: "max" or a factor of real time.
        rules: the rule engine (default: the shipped rules with the backtest's
            min_confidence and risk limits).

    Raises:
        RuntimeConfigurationError: the strategy is not a spec, or the options cannot be
            traded by the stack (the message says which).
    """
    params = dict(params or {})
    spec = backtest.strategy
    if not isinstance(spec, StrategySpec):
        raise RuntimeConfigurationError(
            "replay runs strategy specs (JSON or built-in names); a Python Strategy class "
            "has no streaming form yet"
        )
    config = backtest.run_config(**params)
    prepared = backtest.bars
    panel = prepared.panel
    symbols = [Symbol(name) for name in panel.symbols]
    instruments = _instruments(symbols, prepared.markets, prepared.kinds)
    currency = instruments[symbols[0]].currency
    bot = BotId(bot_id)

    def new_ledger(*, track_days: bool = False) -> Ledger:
        ledger = Ledger(
            mode=config.mode, instruments=instruments, currency=currency, track_days=track_days
        )
        cash = Decimal(repr(config.cash))
        if config.mode == "isolated":
            for symbol in symbols:
                ledger.open_account(ledger.account_id(bot, symbol), cash, [symbol])
        else:
            ledger.open_account(ledger.account_id(bot, symbols[0]), cash, symbols)
        return ledger

    bus = bus if bus is not None else InMemoryBus(name="replay")
    first = pd.Timestamp(panel.timestamps[0]).tz_localize("UTC").to_pydatetime()
    clock = ReplayClock(first)
    store = open_store(database_url)
    journal = SqlOrderJournal(store)
    total_cash = config.cash * (len(symbols) if config.mode == "isolated" else 1)
    broker = PaperBroker.open(
        broker_path,
        PaperSettings.from_simulation(config, symbols),
        cash=Decimal(repr(total_cash)),
        currency=currency,
        clock=clock,
    )
    oms = OrderManager(broker, journal, clock=clock)
    engine = rules if rules is not None else _default_engine(backtest, config.min_confidence)
    planner = OrderPlanner(bot, config, symbols, new_ledger(track_days=True))
    risk = RiskEngine(
        backtest.risk,
        checks=(KrxPriceLimitCheck(),) if Market.KRX in prepared.markets else (),
    )
    feed = _clocked(iter_slices(panel, prepared.timeframe), clock)
    data = ReplayDataAgent(feed, bus, speed=speed)
    portfolio = PortfolioAgent(bus, new_ledger())
    agents: list[Agent] = [
        StrategyAgent(bot, compile_streaming(spec, params), symbols, bus),
        Orchestrator(bus, planner.ledger, {bot: planner}, engine),
        RiskAgent(
            bus,
            risk,
            new_ledger(track_days=True),
            stops=StopSettings(config.stop_loss, config.take_profit, config.trailing_stop),
            rounding=tick_rounding(config, symbols),
        ),
        ExecutionAgent(bus, oms, market=broker, never_sent=_never_sent(journal)),
        portfolio,
    ]
    started = time.perf_counter()
    try:
        report = await oms.start()
        await bus.start()
        for agent in agents:
            await agent.start()
        await data.start()
        await data.finished.wait()
        await _stop(bus, [data, *agents])
    finally:
        broker.close()
        store.close()
    seconds = time.perf_counter() - started
    counters = {
        "orchestrator": dict(agents[1].decisions),  # type: ignore[attr-defined]
        "risk": dict(agents[2].outcomes),  # type: ignore[attr-defined]
        "execution": dict(agents[3].outcomes),  # type: ignore[attr-defined]
    }
    result = _result(backtest, portfolio, bot_id, config.cash, params, seconds)
    return ReplayOutcome(result, report, data.bars_sent, seconds, counters)


def replay(backtest: Backtest, **options: Any) -> ReplayOutcome:
    """`run_replay` from synchronous code (its own event loop)."""
    return asyncio.run(run_replay(backtest, **options))


def _default_engine(backtest: Backtest, min_confidence: float) -> RuleEngine:
    parameters = rule_parameters(RulesSettings(min_confidence=min_confidence), backtest.risk)
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


def _clocked(slices: Any, clock: ReplayClock) -> Any:
    for item in slices:
        clock.now = item.start
        yield item


async def _stop(bus: Bus, agents: Sequence[Agent]) -> None:
    for agent in agents:
        await agent.stop()
    await bus.stop()


def _result(
    backtest: Backtest,
    portfolio: PortfolioAgent,
    bot_id: str,
    cash: float,
    params: dict[str, Any],
    seconds: float,
) -> BacktestResult:
    from orchestrade.orchestration.replay_summary import replay_result

    prepared = backtest.bars
    market = max(set(prepared.markets), key=list(prepared.markets).count)
    return replay_result(
        portfolio,
        prepared.panel,
        bot_id=bot_id,
        cash=cash,
        periods_per_year=float(periods_per_year(prepared.timeframe, market)),
        timing={"bars": prepared.bar_count, "seconds": seconds, "load_seconds": 0.0},
        parameters={**backtest.default_parameters(), **params},
        settings={"mode": "replay", "account_mode": backtest.config.mode},
    )
