"""Helpers for agent and health-monitor tests: a fake clock with a fake sleep, a recorder."""

from __future__ import annotations

import asyncio
import heapq
import itertools
from datetime import UTC, datetime, timedelta

from orchestrade.domain import Envelope, Message

T0 = datetime(2024, 1, 2, 9, 0, tzinfo=UTC)


async def settle(rounds: int = 50) -> None:
    """Let every ready task run (bus deliveries, handlers) before the test looks."""
    for _ in range(rounds):
        await asyncio.sleep(0)


class FakeTime:
    """A clock and a sleep that move only when the test calls `advance`.

    `sleep(s)` waits until the fake time has moved `s` seconds; `advance` wakes sleepers in
    time order, setting the clock to each one's wake-up time, so a loop that sleeps 1 s
    runs exactly three times in `advance(3)`.
    """

    def __init__(self, start: datetime = T0) -> None:
        self.now = start
        self.sleeps: list[float] = []
        self._sleepers: list[tuple[datetime, int, asyncio.Future[None]]] = []
        self._order = itertools.count()

    def clock(self) -> datetime:
        return self.now

    async def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        future: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        wake = self.now + timedelta(seconds=seconds)
        heapq.heappush(self._sleepers, (wake, next(self._order), future))
        await future

    async def advance(self, seconds: float) -> None:
        target = self.now + timedelta(seconds=seconds)
        await settle()
        while self._sleepers and self._sleepers[0][0] <= target:
            wake, _, future = heapq.heappop(self._sleepers)
            if future.done():
                continue
            self.now = max(self.now, wake)
            future.set_result(None)
            await settle()
        self.now = target
        await settle()


class Recorder:
    """A bus handler that keeps the payloads it receives."""

    def __init__(self) -> None:
        self.envelopes: list[Envelope] = []

    async def __call__(self, envelope: Envelope) -> None:
        self.envelopes.append(envelope)

    @property
    def payloads(self) -> list[Message]:
        return [envelope.payload for envelope in self.envelopes]
