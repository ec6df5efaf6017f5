"""The health monitor: a crashed or silent agent is restarted with backoff, then given up on.

Every agent publishes `AgentHeartbeat` (see `orchestrade.agents.base`). The monitor listens
to them on the bus and, every `HealthPolicy.check_interval_s`, looks at each agent it
watches:

- an agent whose main task crashed (status FAILED), or that is running but sent no
  heartbeat for `heartbeat_timeout_s` (3 s by default), has failed;
- a failed agent is restarted after a backoff of ``min(base * factor ** (n - 1), max)``
  seconds for its n-th restart, up to `max_restarts`; after that it is stopped and left
  failed ("gave up");
- an agent that stays healthy for `healthy_reset_s` after a restart has its restart count
  reset, so that rare failures days apart never add up to giving up.

Each step is an event on the bus, published by the monitor:

1. failure seen, restart planned: `AgentFailed` with `restart_attempt` = restarts so far and
   an `error` that ends with ``restart n of max in d s``;
2. restart done: `AgentRestarted` with `attempt` = n and `delay_s` = d;
3. giving up: `AgentFailed` with `restart_attempt` = `max_restarts` and an `error` that
   starts with ``gave up after``; `HealthMonitor.health` then says GAVE_UP.

A restart that raises counts as that attempt and is itself a failure (step 1 or 3 again).
Agents that are stopped (or not yet started) are not judged; silence is counted only while
an agent runs. Heartbeats are taken from the bus, not from the agent object, so a monitor
sees what the rest of the system sees; its subscription drops the oldest heartbeats when
it lags rather than blocking the agents that send them.
"""

from __future__ import annotations

import asyncio
import logging
import math
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Protocol

from orchestrade.agents.base import Agent, AgentStatus, Clock, Sleep, utc_now
from orchestrade.bus import Bus, Overflow
from orchestrade.domain import AgentFailed, AgentHeartbeat, AgentId, AgentRestarted, Envelope
from orchestrade.orchestration.errors import HealthConfigurationError

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class HealthPolicy:
    """When an agent counts as failed, and how it is restarted.

    Attributes:
        heartbeat_timeout_s: a running agent silent this long has failed.
        backoff_base_s: wait before the first restart.
        backoff_factor: each further restart waits this many times longer (>= 1).
        backoff_max_s: the longest wait.
        max_restarts: restarts before giving up (0: never restart).
        healthy_reset_s: running this long after a restart resets the restart count.
        check_interval_s: how often the monitor looks.
    """

    heartbeat_timeout_s: float = 3.0
    backoff_base_s: float = 1.0
    backoff_factor: float = 2.0
    backoff_max_s: float = 30.0
    max_restarts: int = 5
    healthy_reset_s: float = 60.0
    check_interval_s: float = 0.5

    def __post_init__(self) -> None:
        _positive("heartbeat_timeout_s", self.heartbeat_timeout_s)
        _positive("backoff_base_s", self.backoff_base_s, allow_zero=True)
        _positive("backoff_factor", self.backoff_factor)
        if self.backoff_factor < 1:
            raise HealthConfigurationError(
                f"backoff_factor must be >= 1 (waits never shrink), got {self.backoff_factor}"
            )
        _positive("backoff_max_s", self.backoff_max_s, allow_zero=True)
        if self.backoff_max_s < self.backoff_base_s:
            raise HealthConfigurationError(
                f"backoff_max_s ({self.backoff_max_s}) must be >= backoff_base_s "
                f"({self.backoff_base_s})"
            )
        if (
            isinstance(self.max_restarts, bool)
            or not isinstance(self.max_restarts, int)
            or self.max_restarts < 0
        ):
            raise HealthConfigurationError(
                f"max_restarts must be an integer >= 0, got {self.max_restarts!r}"
            )
        _positive("healthy_reset_s", self.healthy_reset_s)
        _positive("check_interval_s", self.check_interval_s)

    def backoff_s(self, attempt: int) -> float:
        """Seconds to wait before restart number `attempt` (1 for the first)."""
        if attempt < 1:
            raise HealthConfigurationError(f"restart attempts count from 1, got {attempt}")
        # Cap the exponent first: factor ** attempt overflows long before it matters.
        exponent = min(attempt - 1, 1024)
        try:
            delay = self.backoff_base_s * self.backoff_factor**exponent
        except OverflowError:
            return self.backoff_max_s
        return min(delay, self.backoff_max_s)


class Supervised(Protocol):
    """What the monitor needs from an agent (`orchestrade.agents.Agent` has it)."""

    @property
    def agent_id(self) -> AgentId: ...

    @property
    def status(self) -> AgentStatus: ...

    @property
    def failure(self) -> BaseException | None: ...

    async def restart(self) -> None: ...

    async def stop(self) -> None: ...


class AgentHealth(StrEnum):
    """The monitor's view of one watched agent."""

    HEALTHY = "healthy"
    """Not failed as far as the monitor knows (it may be stopped on purpose)."""
    RESTARTING = "restarting"
    """Failed; a restart is waiting for its backoff."""
    GAVE_UP = "gave_up"
    """Failed after `max_restarts` restarts; stopped and left alone."""


@dataclass(slots=True)
class _Watch:
    agent: Supervised
    last_seen: datetime
    health: AgentHealth = AgentHealth.HEALTHY
    restarts: int = 0
    last_restart_at: datetime | None = None
    pending: asyncio.Task[None] | None = None


class HealthMonitor(Agent):
    """Watches agents' heartbeats and tasks; restarts the failed ones (module docstring).

    Args:
        bus: where heartbeats arrive and the monitor's events go.
        policy: timeouts, backoff and limits.
        agent_id: the monitor's own name (it is an agent too, with its own heartbeat).
        clock, sleep: time and waiting (inject fakes in tests).
    """

    def __init__(
        self,
        bus: Bus,
        *,
        policy: HealthPolicy | None = None,
        agent_id: str = "health-monitor",
        heartbeat_interval_s: float = 1.0,
        clock: Clock = utc_now,
        sleep: Sleep = asyncio.sleep,
    ) -> None:
        super().__init__(
            agent_id, bus, heartbeat_interval_s=heartbeat_interval_s, clock=clock, sleep=sleep
        )
        self.policy = policy if policy is not None else HealthPolicy()
        self._watches: dict[AgentId, _Watch] = {}
        self._seen: dict[AgentId, datetime] = {}

    # -- what to watch -------------------------------------------------------------------------

    def watch(self, agent: Supervised) -> None:
        """Start judging `agent`; its silence is counted from now.

        Raises:
            HealthConfigurationError: an agent with the same id is already watched.
        """
        if agent.agent_id in self._watches:
            raise HealthConfigurationError(f"agent {agent.agent_id} is already watched")
        self._watches[agent.agent_id] = _Watch(agent, last_seen=self._clock())

    def unwatch(self, agent_id: str) -> None:
        """Stop judging the agent (a planned restart is cancelled); unknown ids are ignored."""
        watch = self._watches.pop(AgentId(agent_id), None)
        if watch is not None and watch.pending is not None:
            watch.pending.cancel()

    @property
    def watched(self) -> tuple[AgentId, ...]:
        """The ids of the watched agents, in the order they were added."""
        return tuple(self._watches)

    def health(self, agent_id: str) -> AgentHealth:
        """The monitor's view of a watched agent (KeyError if it is not watched)."""
        return self._watches[AgentId(agent_id)].health

    def restarts(self, agent_id: str) -> int:
        """Restarts of a watched agent since it was last healthy long enough."""
        return self._watches[AgentId(agent_id)].restarts

    def last_heartbeat(self, agent_id: str) -> datetime | None:
        """When the monitor last received a heartbeat from any agent of this id (or None)."""
        return self._seen.get(AgentId(agent_id))

    # -- agent hooks ---------------------------------------------------------------------------

    async def on_start(self) -> None:
        await self.subscribe(AgentHeartbeat, self.on_heartbeat, overflow=Overflow.DROP_OLDEST)

    async def on_stop(self) -> None:
        pending = [w.pending for w in self._watches.values() if w.pending is not None]
        for task in pending:
            task.cancel()
        await asyncio.gather(*pending, return_exceptions=True)
        for watch in self._watches.values():
            watch.pending = None

    async def run(self) -> None:
        while True:
            await self.check()
            await self._sleep(self.policy.check_interval_s)

    async def on_heartbeat(self, envelope: Envelope) -> None:
        """Note the time a heartbeat arrived (by the monitor's clock)."""
        beat = envelope.payload
        if not isinstance(beat, AgentHeartbeat):
            return
        now = self._clock()
        self._seen[beat.agent_id] = now
        watch = self._watches.get(beat.agent_id)
        if watch is not None:
            watch.last_seen = max(watch.last_seen, now)

    # -- judging -------------------------------------------------------------------------------

    async def check(self) -> None:
        """Look at every watched agent once; start handling the ones that failed."""
        now = self._clock()
        timeout = self.policy.heartbeat_timeout_s
        for watch in list(self._watches.values()):
            if watch.health is not AgentHealth.HEALTHY:
                continue
            status = watch.agent.status
            if status is AgentStatus.FAILED:
                await self._failed(watch, _crash(watch.agent.failure))
                continue
            if status is not AgentStatus.RUNNING:
                watch.last_seen = now  # silence counts only while running
                continue
            silent_s = (now - watch.last_seen).total_seconds()
            if silent_s >= timeout:
                await self._failed(
                    watch, f"no heartbeat for {silent_s:g} s (timeout {timeout:g} s)"
                )
            elif (
                watch.restarts
                and watch.last_restart_at is not None
                and (now - watch.last_restart_at).total_seconds() >= self.policy.healthy_reset_s
            ):
                log.info("agent %s healthy again; restart count reset", watch.agent.agent_id)
                watch.restarts = 0

    async def _failed(self, watch: _Watch, cause: str) -> None:
        agent_id = watch.agent.agent_id
        now = self._clock()
        limit = self.policy.max_restarts
        if watch.restarts >= limit:
            watch.health = AgentHealth.GAVE_UP
            log.error("agent %s failed for good: %s", agent_id, cause)
            try:
                await watch.agent.stop()
            except Exception:
                # Boundary: giving up must be reported even if the agent cannot stop cleanly.
                log.exception("agent %s did not stop cleanly", agent_id)
            await self._report(
                AgentFailed(
                    agent_id,
                    now,
                    f"gave up after {watch.restarts} restart(s): {cause}",
                    restart_attempt=watch.restarts,
                )
            )
            return
        attempt = watch.restarts + 1
        delay_s = self.policy.backoff_s(attempt)
        watch.health = AgentHealth.RESTARTING
        log.warning(
            "agent %s failed (%s); restart %d of %d in %g s",
            agent_id,
            cause,
            attempt,
            limit,
            delay_s,
        )
        await self._report(
            AgentFailed(
                agent_id,
                now,
                f"{cause}; restart {attempt} of {limit} in {delay_s:g} s",
                restart_attempt=watch.restarts,
            )
        )
        watch.pending = asyncio.get_running_loop().create_task(
            self._restart_later(watch, attempt, delay_s, cause),
            name=f"restart-{agent_id}-{attempt}",
        )

    async def _restart_later(self, watch: _Watch, attempt: int, delay_s: float, cause: str) -> None:
        await self._sleep(delay_s)
        watch.pending = None
        watch.restarts = attempt
        agent_id = watch.agent.agent_id
        try:
            await watch.agent.restart()
        except Exception as error:
            # Boundary: a restart that fails is one more failure, handled like the first.
            log.exception("agent %s: restart %d failed", agent_id, attempt)
            await self._failed(watch, f"restart {attempt} failed: {type(error).__name__}: {error}")
            return
        now = self._clock()
        watch.health = AgentHealth.HEALTHY
        watch.last_seen = now
        watch.last_restart_at = now
        log.info("agent %s restarted (attempt %d)", agent_id, attempt)
        await self._report(AgentRestarted(agent_id, now, attempt, delay_s, cause))

    async def restart_now(self, agent_id: str, *, reason: str) -> None:
        """Restart a watched agent at once, on a person's request: a planned restart is
        cancelled, an agent given up on is judged again with a fresh restart budget, and
        `AgentRestarted` (`delay_s` 0, `reason`) is published.

        Raises:
            KeyError: the agent is not watched.
            Exception: whatever the agent's `start` raised; the monitor then handles it as
                any other failure (restart with backoff).
        """
        watch = self._watches[AgentId(agent_id)]
        if watch.pending is not None:
            watch.pending.cancel()
            watch.pending = None
        attempt = watch.restarts + 1
        watch.health = AgentHealth.HEALTHY
        watch.restarts = 0
        watch.last_seen = self._clock()
        await watch.agent.restart()
        now = self._clock()
        watch.last_seen = now
        watch.last_restart_at = now
        log.info("agent %s restarted by hand: %s", agent_id, reason)
        await self._report(AgentRestarted(watch.agent.agent_id, now, attempt, 0.0, reason))

    async def _report(self, event: AgentFailed | AgentRestarted) -> None:
        try:
            await self.publish(event)
        except Exception:
            # Boundary: the bus may be stopping; the decision stands and is logged above.
            log.exception("could not publish %s for %s", type(event).__name__, event.agent_id)


def _crash(failure: BaseException | None) -> str:
    if failure is None:
        return "crashed"
    return f"crashed: {type(failure).__name__}: {failure}"


def _positive(name: str, value: float, *, allow_zero: bool = False) -> None:
    if (
        isinstance(value, bool)
        or not isinstance(value, int | float)
        or not math.isfinite(value)
        or value < 0
        or (value == 0 and not allow_zero)
    ):
        bound = ">= 0" if allow_zero else "> 0"
        raise HealthConfigurationError(f"{name} must be a finite number {bound}, got {value!r}")
