"""The health monitor: failures seen, restarts with backoff, giving up, each step an event."""

from __future__ import annotations

import asyncio
import re
from datetime import timedelta

import pytest

from agents.support import T0, FakeTime, Recorder, settle
from orchestrade.agents import Agent, AgentStatus
from orchestrade.bus import InMemoryBus
from orchestrade.domain import AgentFailed, AgentHeartbeat, AgentId, AgentRestarted
from orchestrade.orchestration import (
    AgentHealth,
    HealthConfigurationError,
    HealthMonitor,
    HealthPolicy,
)

pytestmark = pytest.mark.anyio


class CrashyAgent(Agent):
    """Runs until the test makes it crash; can be told to fail its next starts."""

    def __init__(self, bus: InMemoryBus, time: FakeTime, *, heartbeat_interval_s: float = 1.0):
        super().__init__(
            "worker",
            bus,
            heartbeat_interval_s=heartbeat_interval_s,
            clock=time.clock,
            sleep=time.sleep,
        )
        self._crash: asyncio.Future[None] | None = None
        self.failing_starts = 0

    async def on_start(self) -> None:
        if self.failing_starts:
            self.failing_starts -= 1
            raise OSError("port in use")
        self._crash = asyncio.get_running_loop().create_future()

    async def run(self) -> None:
        assert self._crash is not None
        await self._crash

    def crash(self, message: str = "boom") -> None:
        assert self._crash is not None
        self._crash.set_exception(RuntimeError(message))


async def events(bus: InMemoryBus) -> Recorder:
    recorder = Recorder()
    await bus.subscribe(AgentFailed, recorder)
    await bus.subscribe(AgentRestarted, recorder)
    return recorder


def at(seconds: float) -> object:
    return T0 + timedelta(seconds=seconds)


def monitor_for(bus: InMemoryBus, time: FakeTime, **policy: float) -> HealthMonitor:
    return HealthMonitor(
        bus,
        policy=HealthPolicy(**policy),  # type: ignore[arg-type]
        heartbeat_interval_s=1.0,
        clock=time.clock,
        sleep=time.sleep,
    )


async def test_a_crashed_agent_is_restarted_after_the_backoff_and_both_steps_are_events(
    bus: InMemoryBus, time: FakeTime
) -> None:
    recorder = await events(bus)
    agent = CrashyAgent(bus, time)
    monitor = monitor_for(bus, time, max_restarts=3, backoff_base_s=1.0, check_interval_s=0.5)
    monitor.watch(agent)
    await agent.start()
    await monitor.start()
    await settle()

    agent.crash()
    await time.advance(0.5)
    failed_health = monitor.health("worker")
    await time.advance(1.0)

    assert failed_health is AgentHealth.RESTARTING
    assert recorder.payloads == [
        AgentFailed(
            AgentId("worker"),
            at(0.5),  # type: ignore[arg-type]
            "crashed: RuntimeError: boom; restart 1 of 3 in 1 s",
            restart_attempt=0,
        ),
        AgentRestarted(
            AgentId("worker"),
            at(1.5),  # type: ignore[arg-type]
            attempt=1,
            delay_s=1.0,
            reason="crashed: RuntimeError: boom",
        ),
    ]
    assert {envelope.sender for envelope in recorder.envelopes} == {"health-monitor"}
    assert agent.status is AgentStatus.RUNNING
    assert agent.starts == 2
    assert monitor.health("worker") is AgentHealth.HEALTHY
    assert monitor.restarts("worker") == 1
    await monitor.stop()
    await agent.stop()


async def test_repeated_crashes_back_off_exponentially_then_the_agent_is_given_up(
    bus: InMemoryBus, time: FakeTime
) -> None:
    recorder = await events(bus)
    agent = CrashyAgent(bus, time)
    monitor = monitor_for(
        bus, time, max_restarts=2, backoff_base_s=1.0, backoff_factor=2.0, check_interval_s=0.5
    )
    monitor.watch(agent)
    await agent.start()
    await monitor.start()
    await settle()

    agent.crash()  # t=0, seen at 0.5, restarted at 1.5
    await time.advance(1.5)
    agent.crash()  # seen at 2.0, restarted at 4.0
    await time.advance(2.5)
    agent.crash()  # seen at 4.5: no restarts left
    await time.advance(0.5)
    await time.advance(60.0)

    summary = [
        (type(e).__name__, e.failed_at if isinstance(e, AgentFailed) else e.restarted_at)
        for e in recorder.payloads
    ]
    assert summary == [
        ("AgentFailed", at(0.5)),
        ("AgentRestarted", at(1.5)),
        ("AgentFailed", at(2.0)),
        ("AgentRestarted", at(4.0)),
        ("AgentFailed", at(4.5)),
    ]
    failed = [e for e in recorder.payloads if isinstance(e, AgentFailed)]
    restarted = [e for e in recorder.payloads if isinstance(e, AgentRestarted)]
    assert [e.restart_attempt for e in failed] == [0, 1, 2]
    assert [e.error for e in failed] == [
        "crashed: RuntimeError: boom; restart 1 of 2 in 1 s",
        "crashed: RuntimeError: boom; restart 2 of 2 in 2 s",
        "gave up after 2 restart(s): crashed: RuntimeError: boom",
    ]
    assert [(e.attempt, e.delay_s) for e in restarted] == [(1, 1.0), (2, 2.0)]
    assert monitor.health("worker") is AgentHealth.GAVE_UP
    assert agent.status is AgentStatus.STOPPED
    assert agent.starts == 3
    await monitor.stop()


async def test_a_silent_agent_fails_once_the_heartbeat_timeout_has_passed(
    bus: InMemoryBus, time: FakeTime
) -> None:
    recorder = await events(bus)
    # One heartbeat at start, the next only after 100 s: silent from the monitor's view.
    agent = CrashyAgent(bus, time, heartbeat_interval_s=100.0)
    monitor = monitor_for(bus, time, heartbeat_timeout_s=3.0, check_interval_s=0.5)
    monitor.watch(agent)
    await agent.start()
    await monitor.start()
    await settle()

    await time.advance(2.5)
    quiet_so_far = list(recorder.payloads)
    await time.advance(0.5)

    assert quiet_so_far == []
    assert monitor.last_heartbeat("worker") == T0
    assert [e.error for e in recorder.payloads] == [  # type: ignore[union-attr]
        "no heartbeat for 3 s (timeout 3 s); restart 1 of 5 in 1 s"
    ]
    await time.advance(1.0)
    assert [type(e).__name__ for e in recorder.payloads] == ["AgentFailed", "AgentRestarted"]
    assert agent.status is AgentStatus.RUNNING
    assert agent.starts == 2
    await monitor.stop()
    await agent.stop()


async def test_heartbeats_on_the_bus_keep_an_agent_healthy(
    bus: InMemoryBus, time: FakeTime
) -> None:
    recorder = await events(bus)
    agent = CrashyAgent(bus, time, heartbeat_interval_s=1.0)
    monitor = monitor_for(bus, time, heartbeat_timeout_s=3.0)
    monitor.watch(agent)
    await agent.start()
    await monitor.start()

    await time.advance(30.0)

    assert recorder.payloads == []
    assert monitor.health("worker") is AgentHealth.HEALTHY
    assert monitor.last_heartbeat("worker") == at(30.0)
    assert monitor.last_heartbeat("health-monitor") == at(30.0)
    await monitor.stop()
    await agent.stop()


async def test_a_restart_that_fails_counts_as_an_attempt_and_is_retried_with_more_backoff(
    bus: InMemoryBus, time: FakeTime
) -> None:
    recorder = await events(bus)
    agent = CrashyAgent(bus, time)
    monitor = monitor_for(bus, time, max_restarts=3, backoff_base_s=1.0, backoff_factor=3.0)
    monitor.watch(agent)
    await agent.start()
    await settle()
    agent.crash()
    await settle()
    agent.failing_starts = 1

    await monitor.check()  # t=0: restart 1 planned for t=1
    await time.advance(1.0)  # restart 1 fails at once; restart 2 planned for t=4
    await time.advance(3.0)

    assert [(type(e).__name__, getattr(e, "error", None)) for e in recorder.payloads] == [
        ("AgentFailed", "crashed: RuntimeError: boom; restart 1 of 3 in 1 s"),
        ("AgentFailed", "restart 1 failed: OSError: port in use; restart 2 of 3 in 3 s"),
        ("AgentRestarted", None),
    ]
    restarted = recorder.payloads[-1]
    assert isinstance(restarted, AgentRestarted)
    assert (restarted.attempt, restarted.delay_s, restarted.restarted_at) == (2, 3.0, at(4.0))
    assert agent.status is AgentStatus.RUNNING
    await agent.stop()


async def test_a_long_healthy_run_after_a_restart_resets_the_restart_count(
    bus: InMemoryBus, time: FakeTime
) -> None:
    agent = CrashyAgent(bus, time)
    monitor = monitor_for(bus, time, healthy_reset_s=60.0, check_interval_s=1.0)
    monitor.watch(agent)
    await agent.start()
    await monitor.start()
    await settle()
    agent.crash()
    await time.advance(2.0)  # seen at 1.0, restarted at 2.0
    assert monitor.restarts("worker") == 1

    await time.advance(59.0)
    count_before = monitor.restarts("worker")
    await time.advance(1.0)

    assert count_before == 1
    assert monitor.restarts("worker") == 0
    await monitor.stop()
    await agent.stop()


async def test_a_stopped_agent_is_left_alone_and_its_silence_is_not_counted(
    bus: InMemoryBus, time: FakeTime
) -> None:
    recorder = await events(bus)
    agent = CrashyAgent(bus, time)
    monitor = monitor_for(bus, time, heartbeat_timeout_s=3.0)
    monitor.watch(agent)  # watched before it starts

    await monitor.check()
    await time.advance(10.0)
    await monitor.check()
    await agent.start()
    await monitor.check()

    assert recorder.payloads == []
    assert monitor.health("worker") is AgentHealth.HEALTHY
    await agent.stop()


async def test_max_restarts_zero_gives_up_at_the_first_failure(
    bus: InMemoryBus, time: FakeTime
) -> None:
    recorder = await events(bus)
    agent = CrashyAgent(bus, time)
    monitor = monitor_for(bus, time, max_restarts=0)
    monitor.watch(agent)
    await agent.start()
    await settle()
    agent.crash("disk full")
    await settle()

    await monitor.check()
    await time.advance(100.0)

    assert recorder.payloads == [
        AgentFailed(
            AgentId("worker"),
            T0,
            "gave up after 0 restart(s): crashed: RuntimeError: disk full",
            restart_attempt=0,
        )
    ]
    assert monitor.health("worker") is AgentHealth.GAVE_UP


async def test_a_restart_by_hand_revives_an_agent_given_up_on_and_it_is_judged_again(
    bus: InMemoryBus, time: FakeTime
) -> None:
    recorder = await events(bus)
    agent = CrashyAgent(bus, time)
    monitor = monitor_for(bus, time, max_restarts=0, backoff_base_s=1.0)
    monitor.watch(agent)
    await agent.start()
    await settle()
    agent.crash("disk full")
    await settle()
    await monitor.check()
    given_up = monitor.health("worker")

    await monitor.restart_now("worker", reason="restarted on request")
    await settle()
    agent.crash("disk full again")
    await settle()
    await monitor.check()
    await settle()

    assert given_up is AgentHealth.GAVE_UP
    assert [type(e).__name__ for e in recorder.payloads] == [
        "AgentFailed",
        "AgentRestarted",
        "AgentFailed",
    ]
    restarted = recorder.payloads[1]
    assert restarted == AgentRestarted(
        AgentId("worker"), T0, attempt=1, delay_s=0.0, reason="restarted on request"
    )
    assert agent.starts == 2
    assert monitor.health("worker") is AgentHealth.GAVE_UP  # judged again: no restarts left
    with pytest.raises(KeyError):
        await monitor.restart_now("nobody", reason="x")


async def test_unwatch_cancels_a_planned_restart(bus: InMemoryBus, time: FakeTime) -> None:
    agent = CrashyAgent(bus, time)
    monitor = monitor_for(bus, time)
    monitor.watch(agent)
    await agent.start()
    await settle()
    agent.crash()
    await settle()
    await monitor.check()

    monitor.unwatch("worker")
    await time.advance(10.0)

    assert agent.status is AgentStatus.FAILED
    assert monitor.watched == ()


async def test_an_agent_is_watched_once(bus: InMemoryBus, time: FakeTime) -> None:
    agent = CrashyAgent(bus, time)
    monitor = monitor_for(bus, time)
    monitor.watch(agent)

    with pytest.raises(HealthConfigurationError, match="agent worker is already watched"):
        monitor.watch(agent)


async def test_heartbeats_of_unwatched_agents_are_noted(bus: InMemoryBus, time: FakeTime) -> None:
    monitor = monitor_for(bus, time)
    await monitor.start()

    await time.advance(2.0)
    await bus.publish(AgentHeartbeat(AgentId("remote"), T0, 7))
    await settle()

    assert monitor.last_heartbeat("remote") == at(2.0)
    assert monitor.last_heartbeat("nobody") is None
    await monitor.stop()


@pytest.mark.parametrize(
    ("attempt", "expected"),
    [(1, 0.5), (2, 1.5), (3, 4.5), (4, 10.0), (5, 10.0), (10_000, 10.0)],
)
def test_backoff_grows_by_the_factor_up_to_the_cap(attempt: int, expected: float) -> None:
    policy = HealthPolicy(backoff_base_s=0.5, backoff_factor=3.0, backoff_max_s=10.0)

    assert policy.backoff_s(attempt) == expected


def test_the_default_policy_matches_the_issue() -> None:
    policy = HealthPolicy()

    assert policy.heartbeat_timeout_s == 3.0
    assert [policy.backoff_s(n) for n in range(1, 7)] == [1.0, 2.0, 4.0, 8.0, 16.0, 30.0]


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"heartbeat_timeout_s": 0}, "heartbeat_timeout_s must be a finite number > 0, got 0"),
        ({"backoff_base_s": -1.0}, "backoff_base_s must be a finite number >= 0, got -1.0"),
        ({"backoff_factor": 0.5}, "backoff_factor must be >= 1 (waits never shrink), got 0.5"),
        ({"backoff_max_s": 0.5}, "backoff_max_s (0.5) must be >= backoff_base_s (1.0)"),
        ({"max_restarts": -1}, "max_restarts must be an integer >= 0, got -1"),
        ({"max_restarts": 2.0}, "max_restarts must be an integer >= 0, got 2.0"),
        ({"check_interval_s": float("nan")}, "check_interval_s must be a finite number > 0"),
    ],
)
def test_a_bad_policy_is_refused_with_the_field_and_value(
    options: dict[str, float], message: str
) -> None:
    with pytest.raises(HealthConfigurationError, match=re.escape(message)):
        HealthPolicy(**options)  # type: ignore[arg-type]
