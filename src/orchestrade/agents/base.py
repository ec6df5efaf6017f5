"""The small base every agent builds on: a lifecycle, a heartbeat and one supervised task.

An agent is a thin wrapper that connects a service (a strategy, the risk engine, the OMS) to
the bus. The base gives every agent the same outside shape, which the health monitor
(`orchestrade.orchestration.health`) relies on:

- `start()` runs the `on_start` hook (subscribe here, with `subscribe`), then starts two
  tasks: the heartbeat, which publishes `AgentHeartbeat` every `heartbeat_interval_s`, and
  the main task, which runs `run()`.
- `run()` is the agent's own loop (a feed, a timer). The default waits until the agent is
  stopped, which suits agents that only react to bus messages.
- A `run()` that raises is a crash: the exception is logged with its traceback and kept in
  `failure`, the heartbeat stops (the agent goes silent), `on_stop` runs and the status
  becomes FAILED. Nothing restarts the agent by itself: that is the health monitor's call.
- A `run()` that returns means the agent's work is done: it stops like `stop()`.
- `stop()` cancels both tasks, runs `on_stop` and closes the subscriptions made with
  `subscribe`; `restart()` is `stop()` then `start()`.

A handler that raises while handling one bus message is not a crash: the bus logs and counts
it (see `orchestrade.bus.protocol`) and the agent keeps running.

Example:
    class ClockAgent(Agent):
        async def on_start(self) -> None:
            await self.subscribe(BarsClosed, self.on_bars_closed)

        async def on_bars_closed(self, envelope: Envelope) -> None:
            ...
"""

from __future__ import annotations

import asyncio
import logging
import math
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from enum import StrEnum

from orchestrade.bus import DEFAULT_MAXSIZE, Bus, Handler, Overflow, Subscription, Target
from orchestrade.domain import AgentHeartbeat, AgentId, Envelope, Message, OrchestradeError

log = logging.getLogger(__name__)

Clock = Callable[[], datetime]
"""Aware UTC time now: the wall clock live, a simulated clock in replay and tests."""

Sleep = Callable[[float], Awaitable[None]]
"""Wait this many seconds: `asyncio.sleep` live, a fake in tests."""


def utc_now() -> datetime:
    """The wall clock, aware UTC (the default `Clock`)."""
    return datetime.now(UTC)


class AgentError(OrchestradeError):
    """An agent was misused: bad settings, or a lifecycle call in the wrong state."""


class AgentStatus(StrEnum):
    """Where an agent is in its lifecycle.

    STOPPED is also the status of an agent that was never started.
    """

    STARTING = "starting"
    RUNNING = "running"
    STOPPED = "stopped"
    FAILED = "failed"


class Agent:
    """Lifecycle, heartbeat and a supervised main task; subclass and override the hooks.

    Args:
        agent_id: the agent's name on the bus (the sender of what it publishes).
        bus: where it publishes and subscribes.
        heartbeat_interval_s: seconds between two heartbeats (> 0).
        clock: time now, aware UTC (stamps heartbeats and failures).
        sleep: how the heartbeat waits (inject a fake in tests).
    """

    def __init__(
        self,
        agent_id: str,
        bus: Bus,
        *,
        heartbeat_interval_s: float = 1.0,
        clock: Clock = utc_now,
        sleep: Sleep = asyncio.sleep,
    ) -> None:
        if not isinstance(agent_id, str) or not agent_id.strip():
            raise AgentError(f"agent_id must be non-blank text, got {agent_id!r}")
        if (
            isinstance(heartbeat_interval_s, bool)
            or not isinstance(heartbeat_interval_s, int | float)
            or not (math.isfinite(heartbeat_interval_s) and heartbeat_interval_s > 0)
        ):
            raise AgentError(
                f"agent {agent_id}: heartbeat_interval_s must be a finite number > 0, "
                f"got {heartbeat_interval_s!r}"
            )
        self._agent_id = AgentId(agent_id)
        self._bus = bus
        self._heartbeat_interval_s = float(heartbeat_interval_s)
        self._clock = clock
        self._sleep = sleep
        self._status = AgentStatus.STOPPED
        self._failure: BaseException | None = None
        self._failed_at: datetime | None = None
        self._last_heartbeat_at: datetime | None = None
        self._sequence = 0
        self._starts = 0
        self._active = False  # on_start ran and on_stop has not yet
        self._main: asyncio.Task[None] | None = None
        self._heartbeat: asyncio.Task[None] | None = None
        self._subscriptions: list[Subscription] = []

    # -- what the outside sees -------------------------------------------------------------

    @property
    def agent_id(self) -> AgentId:
        return self._agent_id

    @property
    def bus(self) -> Bus:
        return self._bus

    @property
    def status(self) -> AgentStatus:
        return self._status

    @property
    def heartbeat_interval_s(self) -> float:
        return self._heartbeat_interval_s

    @property
    def last_heartbeat_at(self) -> datetime | None:
        """When the last heartbeat was published (None before the first)."""
        return self._last_heartbeat_at

    @property
    def heartbeats_sent(self) -> int:
        """Heartbeats published so far, over every run of this agent."""
        return self._sequence

    @property
    def failure(self) -> BaseException | None:
        """The exception that crashed the last run (cleared by the next `start`)."""
        return self._failure

    @property
    def failed_at(self) -> datetime | None:
        """When the last run crashed (cleared by the next `start`)."""
        return self._failed_at

    @property
    def starts(self) -> int:
        """How many times `start` has been called successfully (1 + restarts)."""
        return self._starts

    # -- lifecycle ---------------------------------------------------------------------------

    async def start(self) -> None:
        """Run `on_start`, then start the heartbeat and the main task.

        Raises:
            AgentError: the agent is already starting or running.
            Exception: whatever `on_start` raised; the agent is then FAILED, its
                subscriptions closed and the error kept in `failure`.
        """
        if self._status in (AgentStatus.STARTING, AgentStatus.RUNNING):
            raise AgentError(f"agent {self._agent_id} is already {self._status.value}")
        self._status = AgentStatus.STARTING
        self._failure = None
        self._failed_at = None
        self._active = True
        try:
            await self.on_start()
        except Exception as error:
            log.exception("agent %s failed to start", self._agent_id)
            self._record_failure(error)
            await self._deactivate()
            raise
        self._starts += 1
        self._status = AgentStatus.RUNNING
        loop = asyncio.get_running_loop()
        self._heartbeat = loop.create_task(self._beat(), name=f"agent-{self._agent_id}-heartbeat")
        self._main = loop.create_task(self._supervise(), name=f"agent-{self._agent_id}-main")

    async def stop(self) -> None:
        """Cancel the tasks, run `on_stop` and close the subscriptions; idempotent.

        A FAILED agent becomes STOPPED too, but keeps its `failure` until the next start.
        """
        current = asyncio.current_task()
        tasks = [task for task in (self._main, self._heartbeat) if task is not None]
        self._main = self._heartbeat = None
        for task in tasks:
            if task is not current:
                task.cancel()
        await asyncio.gather(
            *(task for task in tasks if task is not current), return_exceptions=True
        )
        await self._deactivate()
        self._status = AgentStatus.STOPPED

    async def restart(self) -> None:
        """`stop()`, then `start()` (same exceptions as `start`)."""
        await self.stop()
        await self.start()

    # -- hooks for subclasses -----------------------------------------------------------------

    async def on_start(self) -> None:
        """Called by `start` before the tasks start: subscribe, open resources. Default: none."""

    async def on_stop(self) -> None:
        """Called by `stop` and after a crash: release what `on_start` took. Default: none.

        Subscriptions made with `subscribe` are closed after it by the base.
        """

    async def run(self) -> None:
        """The agent's main loop. Default: wait until stopped (a purely reactive agent).

        Raising crashes the agent (see the module docstring); returning stops it.
        """
        await asyncio.Event().wait()

    # -- helpers for subclasses ------------------------------------------------------------

    async def publish(
        self, message: Message | Envelope, *, topic: str | None = None, priority: int | None = None
    ) -> Envelope:
        """Publish on the bus with this agent as the sender."""
        return await self._bus.publish(
            message, topic=topic, priority=priority, sender=self._agent_id
        )

    async def subscribe(
        self,
        target: Target,
        handler: Handler,
        *,
        group: str | None = None,
        maxsize: int = DEFAULT_MAXSIZE,
        overflow: Overflow = Overflow.BLOCK,
    ) -> Subscription:
        """Subscribe on the bus (this agent as the consumer); closed by `stop` and on a crash."""
        subscription = await self._bus.subscribe(
            target,
            handler,
            group=group,
            consumer=self._agent_id,
            maxsize=maxsize,
            overflow=overflow,
        )
        self._subscriptions.append(subscription)
        return subscription

    # -- internals ---------------------------------------------------------------------------

    async def _supervise(self) -> None:
        try:
            await self.run()
        except asyncio.CancelledError:
            raise
        except Exception as error:
            # Boundary: the crash is the health monitor's business; keep it, never hide it.
            log.exception("agent %s crashed", self._agent_id)
            self._record_failure(error)
            heartbeat, self._heartbeat, self._main = self._heartbeat, None, None
            if heartbeat is not None:
                heartbeat.cancel()
                await asyncio.gather(heartbeat, return_exceptions=True)
            await self._deactivate()
        else:
            log.info("agent %s finished", self._agent_id)
            await self.stop()

    async def _beat(self) -> None:
        while True:
            beat = AgentHeartbeat(self._agent_id, self._clock(), self._sequence)
            try:
                await self.publish(beat)
            except Exception:
                # Boundary: a bus hiccup must not kill the agent; the monitor sees the silence.
                log.exception("agent %s could not publish its heartbeat", self._agent_id)
            else:
                self._sequence += 1
                self._last_heartbeat_at = beat.sent_at
            await self._sleep(self._heartbeat_interval_s)

    def _record_failure(self, error: BaseException) -> None:
        self._failure = error
        self._failed_at = self._clock()
        self._status = AgentStatus.FAILED

    async def _deactivate(self) -> None:
        """Run `on_stop` once per `on_start`, then close the subscriptions."""
        if self._active:
            self._active = False
            try:
                await self.on_stop()
            except Exception:
                # Boundary: stopping must finish; a failing hook is logged, not fatal.
                log.exception("agent %s: on_stop failed", self._agent_id)
        subscriptions, self._subscriptions = self._subscriptions, []
        for subscription in subscriptions:
            try:
                await subscription.close()
            except Exception:
                log.exception("agent %s: closing a subscription failed", self._agent_id)
