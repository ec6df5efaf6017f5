"""Orchestrator: signals through the desk's rules, approved decisions become order requests at
the next open, paused and stopped bots trade nothing, fills keep its ledger current."""

from __future__ import annotations

from collections.abc import AsyncIterator, Sequence
from datetime import timedelta
from decimal import Decimal

import pytest

from agents.support import Recorder
from fakes import DAY0, buy, daily_bar, sell
from orchestrade.backtest.config import SimulationConfig
from orchestrade.bus import InMemoryBus
from orchestrade.domain import (
    AnomalyDetected,
    BarsClosed,
    BarsOpened,
    BotId,
    BotState,
    BotStateChanged,
    CircuitBreakerTripped,
    Fill,
    FillId,
    Message,
    Order,
    OrderFilled,
    OrderId,
    OrdersRequested,
    Severity,
    Side,
    Signal,
    SignalApproved,
    SignalGenerated,
    SignalSide,
    StrategyId,
    Symbol,
)
from orchestrade.orchestration import RuleEngine, default_rules, rule_parameters
from orchestrade.orchestration.orchestrator import Orchestrator
from orchestrade.orchestration.order_planning import OrderPlanner
from orchestrade.portfolio import Ledger
from orchestrade.settings import RulesSettings
from orchestrade.storage import SignalDecision

pytestmark = pytest.mark.anyio

D = Decimal
BOT = BotId("bot-1")
OTHER = BotId("bot-2")
SAMSUNG = Symbol("005930")
DAY1 = DAY0 + timedelta(days=1)
CONFIG = SimulationConfig(cash=1_000_000.0, commission=0.001)


class Outbox:
    def __init__(self) -> None:
        self.requested = Recorder()
        self.approved = Recorder()
        self.states = Recorder()

    @property
    def orders(self) -> list[Order]:
        """Every order requested, in order (the orders of one open come in one message)."""
        return [order for batch in self.requested.payloads for order in batch.orders]  # type: ignore[attr-defined]

    @property
    def approvals(self) -> list[SignalApproved]:
        return self.approved.payloads  # type: ignore[return-value]

    @property
    def changes(self) -> list[BotStateChanged]:
        return self.states.payloads  # type: ignore[return-value]


@pytest.fixture
async def outbox(bus: InMemoryBus) -> Outbox:
    box = Outbox()
    await bus.subscribe(OrdersRequested, box.requested)
    await bus.subscribe(SignalApproved, box.approved)
    await bus.subscribe(BotStateChanged, box.states)
    return box


def build(bus: InMemoryBus, bots: Sequence[BotId] = (BOT,)) -> Orchestrator:
    ledger = Ledger(mode="isolated", track_days=True)
    planners = {}
    for bot in bots:
        ledger.open_account(ledger.account_id(bot, SAMSUNG), D(1_000_000), [SAMSUNG])
        planners[bot] = OrderPlanner(bot, CONFIG, [SAMSUNG], ledger)
    rules = RuleEngine(
        default_rules(), parameters=rule_parameters(RulesSettings(min_confidence=0.65))
    )
    return Orchestrator(bus, ledger, planners, rules, heartbeat_interval_s=3600)


@pytest.fixture
async def orchestrator(bus: InMemoryBus) -> AsyncIterator[Orchestrator]:
    agent = build(bus, (BOT, OTHER))
    await agent.start()
    try:
        yield agent
    finally:
        await agent.stop()


async def send(bus: InMemoryBus, *messages: Message) -> None:
    for message in messages:
        await bus.publish(message)
        await bus.wait_idle()


def signal(
    side: SignalSide, confidence: float, bot: BotId | None = BOT, day: int = 0
) -> SignalGenerated:
    return SignalGenerated(
        Signal(
            DAY0 + timedelta(days=day),
            SAMSUNG,
            side,
            confidence,
            StrategyId("sma_cross"),
            bot,
            ("golden_cross",),
        )
    )


async def open_day(bus: InMemoryBus, day: int, price: int = 10_000) -> None:
    bar = daily_bar(day, price)
    await send(bus, BarsOpened(bar.start, (bar,)))


async def close_day(bus: InMemoryBus, day: int, price: int = 10_000) -> None:
    bar = daily_bar(day, price)
    await send(bus, BarsClosed(bar.start, (bar,)))


def fill_of(bot: BotId, side: Side, quantity: int, price: int) -> OrderFilled:
    order = (buy if side is Side.BUY else sell)(f"{bot}-{side}", quantity, bot=bot)
    fill = Fill(
        FillId(f"{order.order_id}-1"), order.order_id, SAMSUNG, side, D(quantity), D(price), DAY0
    )
    return OrderFilled(order, fill)


# -- the rules ---------------------------------------------------------------------------------


async def test_an_entry_below_the_minimum_confidence_is_rejected(
    bus: InMemoryBus, orchestrator: Orchestrator, outbox: Outbox
) -> None:
    await close_day(bus, 0)
    await send(bus, signal(SignalSide.BUY, 0.64))

    await open_day(bus, 1)

    assert outbox.approvals == []
    assert outbox.orders == []
    assert orchestrator.decisions == {"rejected": 1}


async def test_an_entry_at_the_minimum_confidence_becomes_an_order_at_the_next_open(
    bus: InMemoryBus, orchestrator: Orchestrator, outbox: Outbox
) -> None:
    await close_day(bus, 0)
    generated = signal(SignalSide.BUY, 0.65)
    await send(bus, generated)
    assert outbox.approvals == [SignalApproved(generated.signal, ())]
    assert outbox.orders == []

    await open_day(bus, 1)

    (requested,) = outbox.orders
    order = requested
    # floor(1,000,000 / (10,000 x 1.001)) = 99
    assert (order.order_id, order.side, order.quantity, order.bot_id) == (
        OrderId("bot-1-005930-20240103T000000-entry"),
        Side.BUY,
        D(99),
        BOT,
    )
    assert orchestrator.decisions == {"approved": 1}


async def test_an_exit_passes_whatever_its_confidence(
    bus: InMemoryBus, orchestrator: Orchestrator, outbox: Outbox
) -> None:
    await send(bus, fill_of(BOT, Side.BUY, 42, 10_000))
    await close_day(bus, 0)
    await send(bus, signal(SignalSide.SELL, 0.0))

    await open_day(bus, 1)

    (requested,) = outbox.orders
    assert (requested.side, requested.quantity) == (Side.SELL, D(42))
    assert orchestrator.decisions == {"approved": 1}


async def test_signals_of_unknown_bots_or_of_no_bot_are_ignored(
    bus: InMemoryBus, orchestrator: Orchestrator, outbox: Outbox
) -> None:
    await send(bus, signal(SignalSide.BUY, 1.0, BotId("bot-9")), signal(SignalSide.BUY, 1.0, None))
    await open_day(bus, 1)

    assert outbox.approvals == []
    assert outbox.orders == []
    assert orchestrator.decisions == {"ignored": 2}


async def test_each_bot_gets_its_own_orders(
    bus: InMemoryBus, orchestrator: Orchestrator, outbox: Outbox
) -> None:
    await close_day(bus, 0)
    await send(bus, signal(SignalSide.BUY, 1.0, BOT), signal(SignalSide.BUY, 1.0, OTHER))

    await open_day(bus, 1)

    assert sorted(r.order_id for r in outbox.orders) == [
        "bot-1-005930-20240103T000000-entry",
        "bot-2-005930-20240103T000000-entry",
    ]


async def test_the_orders_of_one_open_follow_the_bars_then_the_bots(
    bus: InMemoryBus, outbox: Outbox
) -> None:
    hynix = Symbol("000660")
    ledger = Ledger(mode="isolated", track_days=True)
    planners = {}
    for bot in (BOT, OTHER):
        for symbol in (SAMSUNG, hynix):
            ledger.open_account(ledger.account_id(bot, symbol), D(1_000_000), [symbol])
        planners[bot] = OrderPlanner(bot, CONFIG, [SAMSUNG, hynix], ledger)
    agent = Orchestrator(bus, ledger, planners, RuleEngine(), heartbeat_interval_s=3600)
    await agent.start()
    try:
        decided = [(OTHER, SAMSUNG), (BOT, hynix), (BOT, SAMSUNG)]
        for bot, symbol in decided:
            buy_signal = Signal(DAY0, symbol, SignalSide.BUY, 1.0, StrategyId("s"), bot)
            await send(bus, SignalGenerated(buy_signal))
        bars = (daily_bar(1, 10_000), daily_bar(1, 5_000, symbol="000660"))

        await send(bus, BarsOpened(bars[0].start, bars))
    finally:
        await agent.stop()

    assert [r.order_id for r in outbox.orders] == [
        "bot-1-005930-20240103T000000-entry",
        "bot-2-005930-20240103T000000-entry",
        "bot-1-000660-20240103T000000-entry",
    ]
    assert [len(batch.orders) for batch in outbox.requested.payloads] == [3]  # type: ignore[attr-defined]


# -- fills and marks ---------------------------------------------------------------------------


async def test_fills_of_its_bots_keep_the_ledger_current_and_others_are_ignored(
    bus: InMemoryBus, orchestrator: Orchestrator
) -> None:
    await send(
        bus,
        fill_of(BOT, Side.BUY, 10, 10_000),
        fill_of(BotId("bot-9"), Side.BUY, 5, 10_000),
        OrderFilled(
            buy("x", 3, bot=None),
            Fill(FillId("x-1"), OrderId("x"), SAMSUNG, Side.BUY, D(3), D(1), DAY0),
        ),
    )
    await close_day(bus, 0, 10_500)

    ledger = orchestrator.ledger
    assert ledger.quantity("bot-1/005930", SAMSUNG) == 10
    assert ledger.quantity("bot-2/005930", SAMSUNG) == 0
    assert set(ledger.accounts) == {"bot-1/005930", "bot-2/005930"}
    assert ledger.equity("bot-1/005930") == D(1_005_000)  # 900,000 + 10 x 10,500


async def test_a_held_position_makes_an_entry_no_order(
    bus: InMemoryBus, orchestrator: Orchestrator, outbox: Outbox
) -> None:
    await send(bus, fill_of(BOT, Side.BUY, 10, 10_000))
    await close_day(bus, 0)
    await send(bus, signal(SignalSide.BUY, 1.0))

    await open_day(bus, 1)

    assert outbox.orders == []
    assert orchestrator.decisions == {"approved": 1}


# -- bot states --------------------------------------------------------------------------------


async def test_pausing_a_bot_publishes_the_change_and_drops_its_pending_decisions(
    bus: InMemoryBus, orchestrator: Orchestrator, outbox: Outbox
) -> None:
    await close_day(bus, 0)
    await send(bus, signal(SignalSide.BUY, 1.0, BOT), signal(SignalSide.BUY, 1.0, OTHER))

    await orchestrator.set_state(BOT, BotState.PAUSED, "desk review")
    await bus.wait_idle()
    await open_day(bus, 1)

    (change,) = outbox.changes
    assert (change.bot_id, change.previous, change.state, change.reason) == (
        BOT,
        BotState.RUNNING,
        BotState.PAUSED,
        "desk review",
    )
    assert change.changed_at.utcoffset() == timedelta(0)
    assert [r.bot_id for r in outbox.orders] == [OTHER]
    assert orchestrator.states == {BOT: BotState.PAUSED, OTHER: BotState.RUNNING}


async def test_a_paused_bots_signals_are_ignored_until_it_runs_again(
    bus: InMemoryBus, orchestrator: Orchestrator, outbox: Outbox
) -> None:
    await orchestrator.set_state(BOT, BotState.PAUSED)
    await close_day(bus, 0)
    await send(bus, signal(SignalSide.BUY, 1.0))
    await open_day(bus, 1)
    assert outbox.orders == []

    await orchestrator.set_state(BOT, BotState.RUNNING, "resumed")
    await close_day(bus, 1)
    await send(bus, signal(SignalSide.BUY, 1.0, day=1))
    await open_day(bus, 2)

    assert orchestrator.decisions == {"ignored": 1, "approved": 1}
    assert [r.order_id for r in outbox.orders] == ["bot-1-005930-20240104T000000-entry"]
    assert [(c.previous, c.state) for c in outbox.changes] == [
        (BotState.RUNNING, BotState.PAUSED),
        (BotState.PAUSED, BotState.RUNNING),
    ]


async def test_a_stopped_bot_sends_nothing_not_even_exits(
    bus: InMemoryBus, orchestrator: Orchestrator, outbox: Outbox
) -> None:
    await send(bus, fill_of(BOT, Side.BUY, 10, 10_000))
    await close_day(bus, 0)
    await orchestrator.set_state(BOT, BotState.STOPPED, "manual")
    await send(bus, signal(SignalSide.SELL, 1.0))

    await open_day(bus, 1)

    assert outbox.orders == []
    assert orchestrator.decisions == {"ignored": 1}


async def test_setting_the_state_a_bot_is_in_publishes_nothing(
    bus: InMemoryBus, orchestrator: Orchestrator, outbox: Outbox
) -> None:
    await orchestrator.set_state(BOT, BotState.RUNNING)
    await orchestrator.set_state(BOT, BotState.STOPPED)
    await orchestrator.set_state(BOT, BotState.STOPPED)
    await bus.wait_idle()

    assert [(c.previous, c.state) for c in outbox.changes] == [(BotState.RUNNING, BotState.STOPPED)]


async def test_a_high_anomaly_about_a_bot_stops_that_bot(
    bus: InMemoryBus, orchestrator: Orchestrator, outbox: Outbox
) -> None:
    anomaly = AnomalyDetected(DAY1, "price_jump", Severity.HIGH, "005930", 0.4, 0.2, "gap", BOT)

    await send(bus, anomaly)

    assert orchestrator.states == {BOT: BotState.STOPPED, OTHER: BotState.RUNNING}
    (change,) = outbox.changes
    assert change.reason.startswith("stop_bot_on_high_anomaly")


# -- the record of decisions -------------------------------------------------------------------


class DecisionSink:
    """Stands in for the SignalRepository: keeps each `record_many` batch."""

    def __init__(self) -> None:
        self.batches: list[list[tuple[float, bool]]] = []

    def record_many(self, decisions: Sequence[SignalDecision]) -> None:
        self.batches.append([(d.signal.confidence, d.approved) for d in decisions])


def recording(bus: InMemoryBus, sink: DecisionSink, interval_s: float) -> Orchestrator:
    agent = build(bus)
    agent.signals = sink  # type: ignore[assignment]
    agent.decision_flush_interval_s = interval_s
    return agent


async def test_decisions_are_written_after_the_close_when_the_interval_has_passed(
    bus: InMemoryBus,
) -> None:
    sink = DecisionSink()
    agent = recording(bus, sink, interval_s=0.0)
    await agent.start()
    try:
        await send(bus, signal(SignalSide.BUY, 0.9), signal(SignalSide.BUY, 0.1))
        assert sink.batches == []  # nothing is written on the way to the next open
        await open_day(bus, 1)
        assert sink.batches == []
        await close_day(bus, 1)
        assert sink.batches == [[(0.9, True), (0.1, False)]]
        await close_day(bus, 2)  # nothing new: no empty transaction
        assert len(sink.batches) == 1
    finally:
        await agent.stop()


async def test_decisions_wait_for_the_interval_and_the_rest_is_written_at_stop(
    bus: InMemoryBus,
) -> None:
    sink = DecisionSink()
    agent = recording(bus, sink, interval_s=3600.0)
    await agent.start()
    try:
        for day in range(3):
            await send(bus, signal(SignalSide.SELL, 0.5, day=day))
            await close_day(bus, day)
        assert sink.batches == []
    finally:
        await agent.stop()
    assert sink.batches == [[(0.5, True), (0.5, True), (0.5, True)]]


# -- the circuit breaker's entry block ---------------------------------------------------------


def tripped(bot: BotId | None = None) -> CircuitBreakerTripped:
    return CircuitBreakerTripped(
        DAY0, "daily_loss", D("0.12"), D("0.10"), "portfolio lost 12% today", bot
    )


async def test_a_tripped_breaker_blocks_entries_for_the_rest_of_its_day(
    bus: InMemoryBus, orchestrator: Orchestrator
) -> None:
    await send(bus, tripped())

    await send(bus, signal(SignalSide.BUY, 0.9), signal(SignalSide.SELL, 0.9))
    assert orchestrator.decisions == {"rejected": 1, "approved": 1}  # the exit goes through
    assert orchestrator.entries_blocked(BOT, DAY0)
    assert orchestrator.entries_blocked(OTHER, DAY0)

    await send(bus, signal(SignalSide.BUY, 0.9, day=1))  # the next session
    assert orchestrator.decisions == {"rejected": 1, "approved": 2}


async def test_a_bots_breaker_blocks_only_that_bot_and_a_reset_lifts_it(
    bus: InMemoryBus, orchestrator: Orchestrator
) -> None:
    await send(bus, tripped(OTHER))
    await send(bus, signal(SignalSide.BUY, 0.9, OTHER), signal(SignalSide.BUY, 0.9, BOT))
    assert orchestrator.decisions == {"rejected": 1, "approved": 1}

    orchestrator.reset_circuit_breaker()
    await send(bus, signal(SignalSide.BUY, 0.9, OTHER))
    assert orchestrator.decisions == {"rejected": 1, "approved": 2}
