"""Fixtures: the agents' own (anyio on asyncio, fake time, an in-process bus on that time)."""

from agents.conftest import anyio_backend, bus, time

__all__ = ["anyio_backend", "bus", "time"]
