"""ReplayDataAgent: each slice as BarsOpened, BarsTraded, BarsClosed; quiescent after each."""

from __future__ import annotations

import asyncio
from datetime import timedelta

import pytest

from fakes import DAY0, daily_bar
from orchestrade.agents.base import AgentError, AgentStatus
from orchestrade.agents.data import ReplayDataAgent
from orchestrade.agents.replay_feed import BarSlice
from orchestrade.bus import InMemoryBus
from orchestrade.domain import (
    BarsClosed,
    BarsOpened,
    BarsTraded,
    Envelope,
    RebalanceDue,
)

pytestmark = pytest.mark.anyio


def slices(days: int = 3) -> list[BarSlice]:
    return [
        BarSlice(
            DAY0 + timedelta(days=day),
            (daily_bar(day, 100 + day), daily_bar(day, 50 + day, symbol="000660")),
        )
        for day in range(days)
    ]


async def replay(bus: InMemoryBus, agent: ReplayDataAgent) -> None:
    await agent.start()
    await asyncio.wait_for(agent.finished.wait(), timeout=10)
    await bus.wait_idle()


async def test_each_slice_is_opened_then_closed_in_time_order(bus: InMemoryBus) -> None:
    log: list[tuple[str, int]] = []

    async def record(envelope: Envelope) -> None:
        event = envelope.payload
        assert isinstance(event, BarsOpened | BarsTraded | BarsClosed)
        log.append((type(event).__name__, (event.start - DAY0).days))

    await bus.subscribe(BarsOpened, record)
    await bus.subscribe(BarsTraded, record)
    await bus.subscribe(BarsClosed, record)
    agent = ReplayDataAgent(slices(), bus, heartbeat_interval_s=3600)

    await replay(bus, agent)

    assert log == [
        ("BarsOpened", 0),
        ("BarsTraded", 0),
        ("BarsClosed", 0),
        ("BarsOpened", 1),
        ("BarsTraded", 1),
        ("BarsClosed", 1),
        ("BarsOpened", 2),
        ("BarsTraded", 2),
        ("BarsClosed", 2),
    ]
    assert (agent.slices_sent, agent.bars_sent) == (3, 6)
    assert agent.finished.is_set()


async def test_the_slices_bars_travel_unchanged(bus: InMemoryBus) -> None:
    received: list[BarsClosed] = []

    async def record(envelope: Envelope) -> None:
        assert isinstance(envelope.payload, BarsClosed)
        received.append(envelope.payload)

    await bus.subscribe(BarsClosed, record)
    feed = slices(2)

    await replay(bus, ReplayDataAgent(feed, bus, heartbeat_interval_s=3600))

    assert [(event.start, event.bars) for event in received] == [
        (item.start, item.bars) for item in feed
    ]


async def test_what_a_phase_causes_is_finished_before_the_next_phase(bus: InMemoryBus) -> None:
    """A handler of the open publishes a follow-up after yielding to the loop a few times; the
    follow-up's handler also yields. Both finish before the close is published."""
    log: list[str] = []

    async def on_open(envelope: Envelope) -> None:
        assert isinstance(envelope.payload, BarsOpened)
        day = (envelope.payload.start - DAY0).days
        for _ in range(5):
            await asyncio.sleep(0)
        await bus.publish(RebalanceDue(envelope.payload.start, reason=f"day {day}"))

    async def on_follow_up(envelope: Envelope) -> None:
        assert isinstance(envelope.payload, RebalanceDue)
        for _ in range(5):
            await asyncio.sleep(0)
        log.append(f"handled {envelope.payload.reason}")

    async def on_close(envelope: Envelope) -> None:
        assert isinstance(envelope.payload, BarsClosed)
        log.append(f"closed day {(envelope.payload.start - DAY0).days}")

    await bus.subscribe(BarsOpened, on_open)
    await bus.subscribe(RebalanceDue, on_follow_up)
    await bus.subscribe(BarsClosed, on_close)

    await replay(bus, ReplayDataAgent(slices(2), bus, heartbeat_interval_s=3600))

    assert log == ["handled day 0", "closed day 0", "handled day 1", "closed day 1"]


async def test_the_agent_stops_by_itself_when_the_feed_ends(bus: InMemoryBus) -> None:
    agent = ReplayDataAgent(slices(1), bus, heartbeat_interval_s=3600)

    await replay(bus, agent)
    for _ in range(20):
        if agent.status is AgentStatus.STOPPED:
            break
        await asyncio.sleep(0)

    assert agent.status is AgentStatus.STOPPED
    assert agent.failure is None


async def test_an_empty_feed_finishes_at_once(bus: InMemoryBus) -> None:
    agent = ReplayDataAgent([], bus, heartbeat_interval_s=3600)

    await replay(bus, agent)

    assert (agent.slices_sent, agent.bars_sent) == (0, 0)


async def test_a_speed_factor_replays_the_same_events(bus: InMemoryBus) -> None:
    closed: list[BarsClosed] = []

    async def record(envelope: Envelope) -> None:
        assert isinstance(envelope.payload, BarsClosed)
        closed.append(envelope.payload)

    await bus.subscribe(BarsClosed, record)

    # a day of bar spacing per 1e-9 s of wall time: no measurable wait
    await replay(bus, ReplayDataAgent(slices(3), bus, speed=86_400e9, heartbeat_interval_s=3600))

    assert [event.start for event in closed] == [item.start for item in slices(3)]


@pytest.mark.parametrize("speed", [0, -1.5, "fast", "2", None])
def test_a_bad_speed_is_refused(speed: object) -> None:
    with pytest.raises(AgentError, match=r"speed must be 'max' or a number > 0, got "):
        ReplayDataAgent([], InMemoryBus(), speed=speed)  # type: ignore[arg-type]


def test_a_bad_interval_is_refused() -> None:
    with pytest.raises(AgentError, match=r"interval_s must be > 0, got 0"):
        ReplayDataAgent([], InMemoryBus(), interval_s=0)


async def test_a_full_run_is_complete(bus: InMemoryBus) -> None:
    agent = ReplayDataAgent(slices(2), bus, heartbeat_interval_s=3600)

    await replay(bus, agent)

    assert agent.completed is True


async def test_a_stop_request_ends_the_run_after_the_slice_in_progress(bus: InMemoryBus) -> None:
    agent = ReplayDataAgent(slices(3), bus, heartbeat_interval_s=3600)
    opened: list[int] = []

    async def on_open(envelope: Envelope) -> None:
        assert isinstance(envelope.payload, BarsOpened)
        opened.append((envelope.payload.start - DAY0).days)
        agent.request_stop()

    await bus.subscribe(BarsOpened, on_open)

    await replay(bus, agent)

    assert opened == [0]
    assert (agent.slices_sent, agent.bars_sent) == (1, 2)  # day 0 still closed
    assert agent.completed is False
    assert agent.finished.is_set()


async def test_an_interval_paces_the_slices_without_changing_them(bus: InMemoryBus) -> None:
    closed: list[BarsClosed] = []

    async def record(envelope: Envelope) -> None:
        assert isinstance(envelope.payload, BarsClosed)
        closed.append(envelope.payload)

    await bus.subscribe(BarsClosed, record)

    await replay(bus, ReplayDataAgent(slices(3), bus, interval_s=1e-6, heartbeat_interval_s=3600))

    assert [event.start for event in closed] == [item.start for item in slices(3)]
