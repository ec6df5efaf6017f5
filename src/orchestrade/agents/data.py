"""DataAgent: pushes market data onto the bus; in replay it is the clock.

Replay walks stored bars slice by slice (every bar that starts at one instant). Each slice
is published three times, as `BarsOpened`, `BarsTraded` and `BarsClosed`, and after each
the agent waits until the bus is quiescent: everything the open caused (orders sized at the
open, their fills, the positions they change, protective stops) is done before the bars'
ranges trade; what the range caused (stop and limit fills) is booked before the closes are
marked; and everything the close caused (signals, decisions) is done before the next open.
Those are the kernel's steps in a bar, which is what makes a replay decide exactly like the
backtest, at any speed.

`speed` is "max" (as fast as the stack goes) or a factor of real time (2.0 = twice as fast
as the bars' own spacing); `interval_s` instead delivers one slice every that many seconds
of wall-clock time (paper trading on stored bars). `request_stop` ends the run cleanly after
the slice in progress.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterable

from orchestrade.agents.base import Agent, AgentError
from orchestrade.agents.replay_feed import BarSlice
from orchestrade.bus import Bus
from orchestrade.domain import BarsClosed, BarsOpened, BarsTraded


class ReplayDataAgent(Agent):
    """Publishes `slices` as BarsOpened/BarsClosed pairs, waiting for quiescence after each.

    Args:
        slices: the market-data slices, oldest first.
        bus: the bus to publish on.
        speed: "max", or a positive factor of real time.
    """

    def __init__(
        self,
        slices: Iterable[BarSlice],
        bus: Bus,
        *,
        speed: float | str = "max",
        interval_s: float | None = None,
        agent_id: str = "data",
        heartbeat_interval_s: float = 1.0,
    ) -> None:
        super().__init__(agent_id, bus, heartbeat_interval_s=heartbeat_interval_s)
        if speed != "max" and not (isinstance(speed, int | float) and speed > 0):
            raise AgentError(f"speed must be 'max' or a number > 0, got {speed!r}")
        self._slices = slices
        if interval_s is not None and not interval_s > 0:
            raise AgentError(f"interval_s must be > 0, got {interval_s!r}")
        self._speed = speed
        self._interval_s = interval_s
        self._stop_requested = False
        self.finished = asyncio.Event()
        self.completed = False
        self.slices_sent = 0
        self.bars_sent = 0

    def request_stop(self) -> None:
        """Publish no further slice; the run ends after the one in progress."""
        self._stop_requested = True

    async def run(self) -> None:
        try:
            await self._replay()
        finally:
            self.finished.set()

    async def _replay(self) -> None:
        started = time.monotonic()
        first = None
        for item in self._slices:
            if self._stop_requested:
                return
            due = None
            if self._interval_s is not None:
                due = self.slices_sent * self._interval_s
            elif self._speed != "max":
                first = item.start if first is None else first
                due = (item.start - first).total_seconds() / float(self._speed)
            if due is not None:
                delay = due - (time.monotonic() - started)
                if delay > 0:
                    await asyncio.sleep(delay)
            opened = BarsOpened(item.start, item.bars)
            await self.publish(opened)
            await self.bus.wait_idle()
            await self.publish(BarsTraded.of(opened))
            await self.bus.wait_idle()
            await self.publish(BarsClosed.of(opened))
            await self.bus.wait_idle()
            self.slices_sent += 1
            self.bars_sent += len(item.bars)
        self.completed = True
