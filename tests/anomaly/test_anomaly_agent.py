"""AnomalyAgent on the bus: bars, fills, heartbeats and broker counters in, findings out,
through the orchestrator's default rules (a HIGH finding or a breaker trip stops bots)."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal

import pytest

from agents.support import FakeTime, Recorder, settle
from anomaly.builders import T0, bar, fill, order
from orchestrade.agents.anomaly import AnomalyAgent
from orchestrade.anomaly import AnomalyThresholds
from orchestrade.backtest.config import SimulationConfig
from orchestrade.bus import InMemoryBus
from orchestrade.domain import (
    AgentHeartbeat,
    AgentId,
    AnomalyDetected,
    Bar,
    BarsClosed,
    BarsOpened,
    BotId,
    BotState,
    CircuitBreakerTripped,
    Message,
    OrderFilled,
    Severity,
    Side,
    Symbol,
)
from orchestrade.orchestration import RuleEngine, default_rules, rule_parameters
from orchestrade.orchestration.orchestrator import Orchestrator
from orchestrade.orchestration.order_planning import OrderPlanner
from orchestrade.portfolio import Ledger

pytestmark = pytest.mark.anyio

BOT, OTHER = BotId("bot-1"), BotId("bot-2")
SAMSUNG = Symbol("005930")


class Journal:
    """Stands in for the AnomalyRepository: keeps each finding once."""

    def __init__(self) -> None:
        self.kept: list[AnomalyDetected | CircuitBreakerTripped] = []

    def record(self, event: AnomalyDetected | CircuitBreakerTripped) -> bool:
        if event in self.kept:
            return False
        self.kept.append(event)
        return True

    def record_many(self, events: Iterable[AnomalyDetected | CircuitBreakerTripped]) -> int:
        return sum(self.record(event) for event in events)


@dataclass
class Counts:
    """Stands in for `ResilienceStats`."""

    tries: int = 0
    failures: int = 0
    short_circuited: int = 0


def accounts(*bots: BotId, cash: int = 1000, track_days: bool = False) -> Ledger:
    ledger = Ledger(mode="isolated", track_days=track_days)
    for bot in bots:
        ledger.open_account(ledger.account_id(bot, SAMSUNG), Decimal(cash), [SAMSUNG])
    return ledger


async def started(bus: InMemoryBus, time: FakeTime, **options: object) -> AnomalyAgent:
    agent = AnomalyAgent(
        bus,
        heartbeat_interval_s=3600,
        clock=time.clock,
        sleep=time.sleep,
        **options,  # type: ignore[arg-type]
    )
    await agent.start()
    return agent


async def send(bus: InMemoryBus, *messages: Message) -> None:
    for message in messages:
        await bus.publish(message, sender="test")
        await bus.wait_idle()
    await settle()


async def listen(bus: InMemoryBus) -> Recorder:
    recorder = Recorder()
    await bus.subscribe(AnomalyDetected, recorder)
    await bus.subscribe(CircuitBreakerTripped, recorder)
    return recorder


def closed(*bars: Bar) -> BarsClosed:
    return BarsClosed(bars[0].start, bars)


def opened(*bars: Bar) -> BarsOpened:
    return BarsOpened(bars[0].start, bars)


def filled(
    fill_id: str, side: Side, price: str, *, bot: BotId = BOT, seconds: float = 0
) -> OrderFilled:
    order_id = f"{bot}-{fill_id}"
    return OrderFilled(
        order(order_id, side, bot=bot),
        fill(fill_id, seconds, side=side, price=price, quantity="10", order_id=order_id),
    )


def day(offset: int) -> datetime:
    return T0 + timedelta(days=offset)


async def test_a_crash_minute_is_published_and_kept(bus: InMemoryBus, time: FakeTime) -> None:
    inbox = await listen(bus)
    journal = Journal()
    agent = await started(bus, time, journal=journal)
    start = day(0)

    await send(
        bus,
        closed(bar(start, "100")),
        closed(bar(start + timedelta(minutes=1), "94")),  # -6% within the minute
    )

    (finding,) = inbox.payloads
    assert isinstance(finding, AnomalyDetected)
    assert (finding.detector, finding.subject, finding.severity) == (
        "price_move",
        "BTCUSDT",
        Severity.HIGH,
    )
    assert finding.value == 0.06
    assert finding.detected_at == start + timedelta(minutes=1)  # the crash bar's start
    assert journal.kept == []  # written in batches, at most once a second...
    agent.keep()
    assert journal.kept == [finding]  # ...or when asked (and at stop)
    assert agent.found == {"price_move": 1}
    await agent.stop()


async def test_losing_round_trips_are_a_loss_streak(bus: InMemoryBus, time: FakeTime) -> None:
    inbox = await listen(bus)
    agent = await started(bus, time, ledger=accounts(BOT, cash=10_000))
    trips: list[OrderFilled] = []
    for i, exit_price in enumerate(["99", "101", "99", "99", "99", "99", "99", "99"]):
        trips.append(filled(f"in{i}", Side.BUY, "100", seconds=100 * i))
        trips.append(filled(f"out{i}", Side.SELL, exit_price, seconds=100 * i + 50))

    await send(bus, *trips)

    (finding,) = [p for p in inbox.payloads if isinstance(p, AnomalyDetected)]
    assert (finding.detector, finding.bot_id, finding.severity) == (
        "loss_streak",
        BOT,
        Severity.MEDIUM,
    )
    assert (finding.value, finding.threshold) == (7.0, 7.0)
    assert "the last one -10.00 on 005930" in finding.reason  # 10 shares, 1 lower
    assert finding.detected_at == fill("x", 750).filled_at
    await agent.stop()


async def test_a_market_order_filled_far_from_the_open_is_slippage(
    bus: InMemoryBus, time: FakeTime
) -> None:
    inbox = await listen(bus)
    agent = await started(bus, time, ledger=accounts(BOT))
    morning = bar(day(0), "100", open_="100", symbol="005930", timeframe="1d")

    await send(bus, opened(morning), filled("in", Side.BUY, "100.6"))

    (finding,) = inbox.payloads
    assert isinstance(finding, AnomalyDetected)
    assert (finding.detector, finding.subject, finding.bot_id) == ("slippage", "005930", BOT)
    assert finding.value == pytest.approx(0.006, abs=1e-15)
    await agent.stop()


def orchestrator(bus: InMemoryBus, bots: Sequence[BotId], ledger: Ledger) -> Orchestrator:
    config = SimulationConfig(cash=1000.0)
    planners = {bot: OrderPlanner(bot, config, [SAMSUNG], ledger) for bot in bots}
    rules = RuleEngine(default_rules(), parameters=rule_parameters())
    return Orchestrator(bus, ledger, planners, rules, heartbeat_interval_s=3600)


async def test_a_daily_loss_beyond_ten_percent_trips_and_stops_only_the_losing_bot(
    bus: InMemoryBus, time: FakeTime
) -> None:
    inbox = await listen(bus)
    desk = orchestrator(bus, (BOT, OTHER), accounts(BOT, OTHER, track_days=True))
    await desk.start()
    agent = await started(bus, time, ledger=accounts(BOT, OTHER))
    morning = bar(day(0), "100", symbol="005930", timeframe="1d")

    # BOT buys 10 at 100 and the day closes at 79: 210 lost of 2,000 = 10.5%.
    await send(bus, opened(morning), filled("in", Side.BUY, "100"))
    await send(bus, closed(bar(day(0), "79", open_="100", symbol="005930", timeframe="1d")))

    (trip,) = [p for p in inbox.payloads if isinstance(p, CircuitBreakerTripped)]
    assert (trip.breaker, trip.value, trip.limit) == (
        "daily_loss",
        Decimal("0.105"),
        Decimal("0.1"),
    )
    assert "losing: bot-1 -21.00%" in trip.reason
    assert desk.states == {BOT: BotState.STOPPED, OTHER: BotState.RUNNING}
    assert agent.blocks_entries(day(0) + timedelta(hours=5))
    assert not agent.blocks_entries(day(1))
    agent.reset_circuit_breaker()
    assert not agent.blocks_entries(day(0) + timedelta(hours=5))
    await agent.stop()
    await desk.stop()


async def test_a_broker_error_rate_above_thirty_percent_stops_the_bot(
    bus: InMemoryBus, time: FakeTime
) -> None:
    inbox = await listen(bus)
    desk = orchestrator(bus, (BOT, OTHER), accounts(BOT, OTHER, track_days=True))
    await desk.start()
    counts = Counts(tries=5, failures=5)  # before the agent started: not its business
    agent = await started(bus, time, broker_calls={BOT: counts}, bots=(BOT, OTHER))

    counts.tries, counts.failures, counts.short_circuited = 13, 7, 1  # 3 of 9 failed
    await agent.check()
    await settle()
    assert inbox.payloads == []
    counts.short_circuited = 2  # 4 of 10: judged now
    await agent.check()
    await send(bus)

    (finding,) = inbox.payloads
    assert isinstance(finding, AnomalyDetected)
    assert (finding.detector, finding.value, finding.bot_id) == ("api_error_rate", 0.4, BOT)
    assert desk.states == {BOT: BotState.STOPPED, OTHER: BotState.RUNNING}
    assert agent.inactivity.watched == frozenset({OTHER})  # a stopped bot is not watched
    await agent.stop()
    await desk.stop()


async def test_a_bot_silent_for_fifteen_minutes_is_reported_by_the_timer(
    bus: InMemoryBus, time: FakeTime
) -> None:
    inbox = await listen(bus)
    agent = await started(bus, time, bots=(BOT, OTHER), check_interval_s=10)

    for _ in range(100):  # OTHER's strategy beats every 10 s, BOT's never
        await time.advance(10)
        await send(bus, AgentHeartbeat(AgentId("strategy-bot-2"), time.now, 0))

    findings = [p for p in inbox.payloads if isinstance(p, AnomalyDetected)]
    assert [(f.detector, f.bot_id, f.value) for f in findings] == [("inactivity", BOT, 900.0)]
    assert findings[0].detected_at == time.now - timedelta(seconds=100)
    await agent.stop()


async def test_anomalies_of_other_agents_are_kept_too(bus: InMemoryBus, time: FakeTime) -> None:
    journal = Journal()
    agent = await started(bus, time, journal=journal)
    memory = AnomalyDetected(
        day(0), "system_memory", Severity.MEDIUM, "system", 5000.0, 4096.0, "memory 5,000 MB"
    )

    await send(bus, memory, memory)
    await agent.stop()

    assert journal.kept == [memory]  # kept at stop, once


async def test_without_a_ledger_there_is_no_breaker_and_no_loss_streak(
    bus: InMemoryBus, time: FakeTime
) -> None:
    agent = await started(bus, time, thresholds=AnomalyThresholds(max_trades=1))
    inbox = await listen(bus)

    await send(bus, filled("a", Side.BUY, "100"), filled("b", Side.SELL, "50", seconds=1))

    assert agent.breaker is None
    assert [p.detector for p in inbox.payloads if isinstance(p, AnomalyDetected)] == ["trade_rate"]
    await agent.stop()
