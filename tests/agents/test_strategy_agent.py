"""StrategyAgent: the bot's closed bars in, its strategy's signals out, stamped with the bot."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from decimal import Decimal

import pytest

from agents.support import Recorder
from fakes import daily_bar
from orchestrade.agents.base import Agent
from orchestrade.agents.strategy import StrategyAgent
from orchestrade.bus import InMemoryBus
from orchestrade.domain import (
    BarsClosed,
    BotId,
    Signal,
    SignalGenerated,
    SignalSide,
    StrategyId,
    Symbol,
)
from orchestrade.strategies import resolve_spec
from orchestrade.strategies.streaming import compile_streaming

pytestmark = pytest.mark.anyio

BOT = BotId("bot-7")
SAMSUNG = Symbol("005930")
# SMA(2) vs SMA(3) of these closes: day 4 (12) crosses above (10.5 > 9.67 after 8.5 <= 8.67),
# day 5 (4) crosses below (8 < 8.33 after 10.5 > 9.67).
CLOSES = [10, 9, 8, 9, 12, 4]


@asynccontextmanager
async def running(*agents: Agent) -> AsyncIterator[None]:
    for agent in agents:
        await agent.start()
    try:
        yield
    finally:
        for agent in agents:
            await agent.stop()


def strategy_agent(bus: InMemoryBus, symbols: tuple[str, ...] = ("005930",)) -> StrategyAgent:
    engine = compile_streaming(resolve_spec("sma_cross"), {"fast": 2, "slow": 3})
    return StrategyAgent(BOT, engine, symbols, bus, heartbeat_interval_s=3600)


async def close_days(bus: InMemoryBus, closes: list[int], symbol: str = "005930") -> None:
    for day, close in enumerate(closes):
        bar = daily_bar(day, close, symbol=symbol)
        await bus.publish(BarsClosed(bar.start, (bar,)))
        await bus.wait_idle()


async def signals_of(bus: InMemoryBus) -> Recorder:
    recorder = Recorder()
    await bus.subscribe(SignalGenerated, recorder)
    return recorder


async def test_the_agent_publishes_each_signal_stamped_with_its_bot(bus: InMemoryBus) -> None:
    recorder = await signals_of(bus)
    agent = strategy_agent(bus)

    async with running(agent):
        await close_days(bus, CLOSES)

    entry, exit_ = (event.signal for event in recorder.payloads)  # type: ignore[union-attr]
    assert entry == Signal(
        time=daily_bar(4, 12).start,
        symbol=SAMSUNG,
        side=SignalSide.BUY,
        confidence=1.0,
        strategy_id=StrategyId("sma_cross"),
        bot_id=BOT,
        reasons=("golden_cross",),
        reference_price=Decimal(12),
    )
    assert (exit_.time, exit_.side, exit_.reasons) == (
        daily_bar(5, 4).start,
        SignalSide.SELL,
        ("dead_cross",),
    )
    assert exit_.bot_id == BOT
    assert agent.signals_sent == 2
    assert {envelope.sender for envelope in recorder.envelopes} == {"strategy-bot-7"}


async def test_bars_of_symbols_outside_the_bots_universe_are_not_fed(bus: InMemoryBus) -> None:
    recorder = await signals_of(bus)
    agent = strategy_agent(bus)

    async with running(agent):
        await close_days(bus, CLOSES, symbol="000660")

    assert recorder.payloads == []
    assert agent.signals_sent == 0


async def test_each_symbol_of_a_slice_feeds_its_own_indicators(bus: InMemoryBus) -> None:
    recorder = await signals_of(bus)
    agent = strategy_agent(bus, ("005930", "000660"))
    flat = [10, 10, 10, 10, 10, 10]

    async with running(agent):
        for day, (first, second) in enumerate(zip(CLOSES, flat, strict=True)):
            bars = (daily_bar(day, first), daily_bar(day, second, symbol="000660"))
            await bus.publish(BarsClosed(bars[0].start, bars))
            await bus.wait_idle()

    signals = [event.signal for event in recorder.payloads]  # type: ignore[union-attr]
    assert [(s.symbol, s.side) for s in signals] == [
        (SAMSUNG, SignalSide.BUY),
        (SAMSUNG, SignalSide.SELL),
    ]


async def test_a_stopped_agent_hears_no_more_bars(bus: InMemoryBus) -> None:
    recorder = await signals_of(bus)
    agent = strategy_agent(bus)

    async with running(agent):
        await close_days(bus, CLOSES[:4])
    await close_days(bus, CLOSES)

    assert recorder.payloads == []


def test_the_agent_is_named_after_its_bot_unless_told_otherwise() -> None:
    bus = InMemoryBus()
    engine = compile_streaming(resolve_spec("sma_cross"))

    assert StrategyAgent(BOT, engine, ["005930"], bus).agent_id == "strategy-bot-7"
    assert StrategyAgent(BOT, engine, ["005930"], bus, agent_id="s1").agent_id == "s1"
