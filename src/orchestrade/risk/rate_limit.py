"""Order-rate limiting per bot: a token bucket on an injected monotonic clock."""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import ClassVar

from orchestrade.domain import Order
from orchestrade.risk.decisions import APPROVED, Decision, Denied
from orchestrade.risk.errors import RiskConfigurationError
from orchestrade.risk.ports import PositionBook

Clock = Callable[[], float]
"""Monotonic seconds (`time.monotonic` in production, a fake in tests)."""


class TokenBucket:
    """`rate_per_s` tokens per second accrue up to `burst`; each admitted event spends one.

    Over any window of t seconds at most `burst + rate_per_s * t` events are admitted. The
    bucket starts full. A clock that goes backwards adds nothing (and removes nothing).
    """

    __slots__ = ("_last", "_tokens", "burst", "rate_per_s")

    def __init__(self, *, rate_per_s: float, burst: float, now: float) -> None:
        _require_positive("rate_per_s", rate_per_s)
        _require_positive("burst", burst)
        if burst < 1:
            raise RiskConfigurationError(f"burst must be >= 1 to admit anything, got {burst}")
        self.rate_per_s = float(rate_per_s)
        self.burst = float(burst)
        self._tokens = self.burst
        self._last = now

    @property
    def tokens(self) -> float:
        """Tokens left after the last call (not refilled to the present)."""
        return self._tokens

    def try_acquire(self, now: float) -> bool:
        """Spend one token if one is available at time `now`; True when it was."""
        if now > self._last:
            self._tokens = min(self.burst, self._tokens + (now - self._last) * self.rate_per_s)
            self._last = now
        if self._tokens >= 1:
            self._tokens -= 1
            return True
        return False


class MaxOrdersPerSecondCheck:
    """Deny orders beyond `rate_per_s` per bot (bursts up to `burst`); one bucket per bot.

    Stateful by design: an approved order spends a token, so the engine runs it last and
    orders denied by another check cost nothing. Orders without a bot share one bucket.
    """

    name: ClassVar[str] = "max_orders_per_second"

    def __init__(self, *, rate_per_s: float, burst: float | None = None, clock: Clock) -> None:
        _require_positive("rate_per_s", rate_per_s)
        self.rate_per_s = float(rate_per_s)
        self.burst = float(burst if burst is not None else max(1.0, rate_per_s))
        _require_positive("burst", self.burst)
        self._clock = clock
        self._buckets: dict[str | None, TokenBucket] = {}

    def evaluate(self, order: Order, book: PositionBook) -> Decision:
        now = self._clock()
        bucket = self._buckets.get(order.bot_id)
        if bucket is None:
            bucket = TokenBucket(rate_per_s=self.rate_per_s, burst=self.burst, now=now)
            self._buckets[order.bot_id] = bucket
        if bucket.try_acquire(now):
            return APPROVED
        bot = order.bot_id if order.bot_id is not None else "(no bot)"
        return Denied(
            self.name,
            f"{self.name}: bot {bot} is over {self.rate_per_s:g} orders/s (burst {self.burst:g})",
        )


def _require_positive(field: str, value: float) -> None:
    if (
        isinstance(value, bool)
        or not isinstance(value, int | float)
        or not math.isfinite(value)
        or value <= 0
    ):
        raise RiskConfigurationError(f"{field} must be a finite number > 0, got {value!r}")
