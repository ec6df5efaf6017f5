"""The Agent base: lifecycle, heartbeat, supervised main task, subscriptions."""

from __future__ import annotations

import asyncio
import logging
from datetime import timedelta

import pytest

from agents.support import T0, FakeTime, Recorder, settle
from orchestrade.agents import Agent, AgentError, AgentStatus
from orchestrade.bus import InMemoryBus
from orchestrade.domain import AgentHeartbeat, AgentId, Envelope, RebalanceDue

pytestmark = pytest.mark.anyio


class ScriptedAgent(Agent):
    """An agent whose main task waits for the test to make it crash or finish."""

    def __init__(self, bus: InMemoryBus, time: FakeTime, **options: float) -> None:
        super().__init__("scripted", bus, clock=time.clock, sleep=time.sleep, **options)
        self.crash_with: asyncio.Future[BaseException | None] | None = None
        self.calls: list[str] = []
        self.fail_on_start = False
        self.handled: list[Envelope] = []

    async def on_start(self) -> None:
        self.calls.append("on_start")
        self.crash_with = asyncio.get_running_loop().create_future()
        if self.fail_on_start:
            raise RuntimeError("cannot open the feed")
        await self.subscribe(RebalanceDue, self.on_rebalance_due)

    async def on_stop(self) -> None:
        self.calls.append("on_stop")

    async def run(self) -> None:
        assert self.crash_with is not None
        error = await self.crash_with
        if error is not None:
            raise error

    async def on_rebalance_due(self, envelope: Envelope) -> None:
        self.handled.append(envelope)
        if envelope.payload.reason == "bad":  # type: ignore[union-attr]
            raise ValueError("handler bug")

    def crash(self, error: BaseException) -> None:
        assert self.crash_with is not None
        self.crash_with.set_result(error)

    def finish(self) -> None:
        assert self.crash_with is not None
        self.crash_with.set_result(None)


async def heartbeats(bus: InMemoryBus) -> Recorder:
    recorder = Recorder()
    await bus.subscribe(AgentHeartbeat, recorder)
    return recorder


async def test_a_new_agent_is_stopped_and_has_sent_no_heartbeat(
    bus: InMemoryBus, time: FakeTime
) -> None:
    agent = ScriptedAgent(bus, time)

    assert agent.agent_id == AgentId("scripted")
    assert agent.status is AgentStatus.STOPPED
    assert agent.last_heartbeat_at is None
    assert agent.heartbeats_sent == 0
    assert agent.failure is None


async def test_a_running_agent_beats_every_interval_with_increasing_sequence(
    bus: InMemoryBus, time: FakeTime
) -> None:
    recorder = await heartbeats(bus)
    agent = ScriptedAgent(bus, time, heartbeat_interval_s=1.0)

    await agent.start()
    await time.advance(2.5)

    assert agent.status is AgentStatus.RUNNING
    assert [(b.sequence, b.sent_at) for b in recorder.payloads] == [  # type: ignore[union-attr]
        (0, T0),
        (1, T0 + timedelta(seconds=1)),
        (2, T0 + timedelta(seconds=2)),
    ]
    assert {envelope.sender for envelope in recorder.envelopes} == {"scripted"}
    assert agent.last_heartbeat_at == T0 + timedelta(seconds=2)
    assert agent.heartbeats_sent == 3
    await agent.stop()


async def test_stop_ends_heartbeats_runs_on_stop_and_closes_subscriptions(
    bus: InMemoryBus, time: FakeTime
) -> None:
    recorder = await heartbeats(bus)
    agent = ScriptedAgent(bus, time)
    await agent.start()
    await time.advance(1.0)

    await agent.stop()
    await time.advance(5.0)
    await bus.publish(RebalanceDue(T0))
    await settle()

    assert agent.status is AgentStatus.STOPPED
    assert len(recorder.payloads) == 2
    assert agent.calls == ["on_start", "on_stop"]
    assert agent.handled == []


async def test_stop_is_idempotent(bus: InMemoryBus, time: FakeTime) -> None:
    agent = ScriptedAgent(bus, time)
    await agent.start()

    await agent.stop()
    await agent.stop()

    assert agent.status is AgentStatus.STOPPED
    assert agent.calls == ["on_start", "on_stop"]


async def test_a_crash_is_recorded_logged_and_silences_the_agent(
    bus: InMemoryBus, time: FakeTime, caplog: pytest.LogCaptureFixture
) -> None:
    recorder = await heartbeats(bus)
    agent = ScriptedAgent(bus, time)
    await agent.start()
    await time.advance(1.0)
    error = RuntimeError("feed broke")

    with caplog.at_level(logging.ERROR, logger="orchestrade.agents.base"):
        agent.crash(error)
        await settle()
    await time.advance(10.0)

    assert agent.status is AgentStatus.FAILED
    assert agent.failure is error
    assert agent.failed_at == T0 + timedelta(seconds=1)
    assert len(recorder.payloads) == 2
    assert agent.calls == ["on_start", "on_stop"]
    crash_logs = [r for r in caplog.records if "crashed" in r.getMessage()]
    assert len(crash_logs) == 1
    assert crash_logs[0].exc_info is not None
    assert crash_logs[0].exc_info[1] is error


async def test_a_main_task_that_returns_stops_the_agent(bus: InMemoryBus, time: FakeTime) -> None:
    agent = ScriptedAgent(bus, time)
    await agent.start()

    agent.finish()
    await settle()

    assert agent.status is AgentStatus.STOPPED
    assert agent.failure is None
    assert agent.calls == ["on_start", "on_stop"]


async def test_restart_after_a_crash_runs_again_and_keeps_counting_heartbeats(
    bus: InMemoryBus, time: FakeTime
) -> None:
    recorder = await heartbeats(bus)
    agent = ScriptedAgent(bus, time)
    await agent.start()
    agent.crash(RuntimeError("boom"))
    await settle()

    await agent.restart()
    await settle()

    assert agent.status is AgentStatus.RUNNING
    assert agent.failure is None
    assert agent.failed_at is None
    assert agent.starts == 2
    assert agent.calls == ["on_start", "on_stop", "on_start"]
    assert [b.sequence for b in recorder.payloads] == [0, 1]  # type: ignore[union-attr]
    await agent.stop()


async def test_restart_of_a_running_agent_stops_it_first(bus: InMemoryBus, time: FakeTime) -> None:
    agent = ScriptedAgent(bus, time)
    await agent.start()

    await agent.restart()

    assert agent.status is AgentStatus.RUNNING
    assert agent.calls == ["on_start", "on_stop", "on_start"]
    await agent.stop()


async def test_starting_a_running_agent_is_refused(bus: InMemoryBus, time: FakeTime) -> None:
    agent = ScriptedAgent(bus, time)
    await agent.start()

    with pytest.raises(AgentError, match="agent scripted is already running"):
        await agent.start()

    await agent.stop()


async def test_a_failing_on_start_fails_the_agent_and_raises(
    bus: InMemoryBus, time: FakeTime
) -> None:
    agent = ScriptedAgent(bus, time)
    agent.fail_on_start = True

    with pytest.raises(RuntimeError, match="cannot open the feed"):
        await agent.start()

    assert agent.status is AgentStatus.FAILED
    assert isinstance(agent.failure, RuntimeError)
    assert agent.starts == 0
    assert agent.calls == ["on_start", "on_stop"]


async def test_a_failing_handler_is_the_bus_business_not_a_crash(
    bus: InMemoryBus, time: FakeTime
) -> None:
    agent = ScriptedAgent(bus, time)
    await agent.start()

    await bus.publish(RebalanceDue(T0, reason="bad"))
    await bus.publish(RebalanceDue(T0, reason="good"))
    await settle()

    assert agent.status is AgentStatus.RUNNING
    assert [e.payload.reason for e in agent.handled] == ["bad", "good"]  # type: ignore[union-attr]
    assert bus.stats.failed == 1
    await agent.stop()


async def test_a_heartbeat_the_bus_refuses_is_logged_and_the_agent_keeps_running(
    time: FakeTime, caplog: pytest.LogCaptureFixture
) -> None:
    bus = InMemoryBus(clock=time.clock)
    await bus.start()
    agent = ScriptedAgent(bus, time)
    await agent.start()
    await settle()
    await bus.stop()

    with caplog.at_level(logging.ERROR, logger="orchestrade.agents.base"):
        await time.advance(2.0)

    assert agent.status is AgentStatus.RUNNING
    assert agent.heartbeats_sent == 1
    assert sum("could not publish its heartbeat" in r.getMessage() for r in caplog.records) == 2
    await agent.stop()


async def test_publish_sends_as_the_agent(bus: InMemoryBus, time: FakeTime) -> None:
    recorder = Recorder()
    await bus.subscribe(RebalanceDue, recorder)
    agent = ScriptedAgent(bus, time)

    envelope = await agent.publish(RebalanceDue(T0))
    await settle()

    assert envelope.sender == "scripted"
    assert recorder.envelopes == [envelope]


@pytest.mark.parametrize("interval", [0, -1.0, float("inf"), float("nan"), True, "1"])
async def test_a_bad_heartbeat_interval_is_refused(bus: InMemoryBus, interval: object) -> None:
    with pytest.raises(AgentError, match="heartbeat_interval_s must be a finite number > 0"):
        Agent("a", bus, heartbeat_interval_s=interval)  # type: ignore[arg-type]


@pytest.mark.parametrize("agent_id", ["", "  ", None])
async def test_a_blank_agent_id_is_refused(bus: InMemoryBus, agent_id: object) -> None:
    with pytest.raises(AgentError, match="agent_id must be non-blank text"):
        Agent(agent_id, bus)  # type: ignore[arg-type]


async def test_the_default_main_task_waits_until_stopped(bus: InMemoryBus, time: FakeTime) -> None:
    agent = Agent("plain", bus, clock=time.clock, sleep=time.sleep)
    await agent.start()

    await time.advance(30.0)

    assert agent.status is AgentStatus.RUNNING
    assert agent.heartbeats_sent == 31
    await agent.stop()
    assert agent.status is AgentStatus.STOPPED
