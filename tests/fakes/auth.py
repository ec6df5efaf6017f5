"""Cheap argon2 costs, a test signing key and a fake monotonic clock for auth and API tests."""

from __future__ import annotations

from orchestrade.auth import PasswordHasher

from .orders import T0, FakeClock

JWT_SECRET = "test-only-jwt-signing-key-0123456789abcdef"

__all__ = ["JWT_SECRET", "T0", "FakeClock", "FakeMonotonic", "cheap_hasher"]


def cheap_hasher() -> PasswordHasher:
    """argon2id at its smallest costs: the same code path in well under a millisecond."""
    return PasswordHasher(time_cost=1, memory_cost_kib=8, parallelism=1)


class FakeMonotonic:
    """Monotonic seconds that move only when told to."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds
