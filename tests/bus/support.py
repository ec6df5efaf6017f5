"""Helpers for the bus tests: a fixed clock, small messages, a recording handler."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from datetime import UTC, datetime

from orchestrade.bus import Bus
from orchestrade.domain import AgentHeartbeat, AgentId, Envelope

BusMaker = Callable[..., Bus]
T0 = datetime(2024, 1, 2, 9, 0, tzinfo=UTC)
BACKENDS = ["memory", "redis"]


def fixed_clock() -> datetime:
    """Tests never read the wall clock: every wrapped message is stamped T0."""
    return T0


def beat(sequence: int, agent: str = "data") -> AgentHeartbeat:
    """A small message whose `sequence` tells test messages apart."""
    return AgentHeartbeat(AgentId(agent), T0, sequence)


class Recorder:
    """A handler that keeps what it receives and lets a test wait for a count."""

    def __init__(self) -> None:
        self.envelopes: list[Envelope] = []
        self._changed = asyncio.Event()

    async def __call__(self, envelope: Envelope) -> None:
        self.envelopes.append(envelope)
        self._changed.set()

    @property
    def sequences(self) -> list[int]:
        return [e.payload.sequence for e in self.envelopes if isinstance(e.payload, AgentHeartbeat)]

    async def wait_for(self, count: int, timeout_s: float = 5.0) -> None:
        """Wait until `count` messages arrived (the timeout only guards against a hang)."""
        async with asyncio.timeout(timeout_s):
            while len(self.envelopes) < count:
                self._changed.clear()
                await self._changed.wait()
