"""Login throttling per (user name, client address), on a monotonic clock.

Keyed by both, so that guessing one user's password from one address is slowed down, while
an attacker elsewhere cannot lock the real user out. It is a token bucket written as the
generic cell rate algorithm: each key keeps only the time at which its bucket would be full
again, so a caller who waits exactly the advertised `retry_after_s` is admitted (no
fractional tokens to round), and keys whose bucket is full again are forgotten.
"""

from __future__ import annotations

import math
from collections.abc import Callable

from orchestrade.auth.errors import AuthConfigurationError, LoginRateLimitedError

MonotonicClock = Callable[[], float]
"""Monotonic seconds (`time.monotonic` in production, a fake in tests)."""
MAX_TRACKED = 10_000
"""Keys kept at most; past that the ones whose bucket is full again go, then the oldest."""


class LoginRateLimiter:
    """At most `attempts` login attempts at once per key, then one more every
    `period_s / attempts` seconds (5 per minute: a burst of 5, then one every 12 s)."""

    def __init__(self, *, attempts: int, period_s: float = 60.0, clock: MonotonicClock) -> None:
        if isinstance(attempts, bool) or not isinstance(attempts, int) or attempts < 1:
            raise AuthConfigurationError(f"login attempts must be an int >= 1, got {attempts!r}")
        if not isinstance(period_s, int | float) or not math.isfinite(period_s) or period_s <= 0:
            raise AuthConfigurationError(f"login period must be > 0 s, got {period_s!r}")
        self.attempts = attempts
        self.period_s = float(period_s)
        self._interval_s = self.period_s / attempts
        self._burst_s = self._interval_s * (attempts - 1)
        self._clock = clock
        self._full_at: dict[tuple[str, str], float] = {}

    def acquire(self, name: str, client: str) -> None:
        """Count one attempt of `name` (case-insensitively) from `client`.

        Raises:
            LoginRateLimitedError: the key has used its attempts; `retry_after_s` says when
                the next one will be admitted. A refused attempt costs nothing.
        """
        now = self._clock()
        key = (name.casefold(), client)
        full_at = max(self._full_at.pop(key, now), now)
        waited_too_little = full_at - now - self._burst_s
        if waited_too_little > 0:
            self._full_at[key] = full_at
            raise LoginRateLimitedError(
                f"too many login attempts for {name!r}: retry in {math.ceil(waited_too_little)} s",
                retry_after_s=waited_too_little,
            )
        self._full_at[key] = full_at + self._interval_s
        if len(self._full_at) > MAX_TRACKED:
            self._forget_full(now)

    @property
    def tracked(self) -> int:
        """How many keys are remembered."""
        return len(self._full_at)

    def _forget_full(self, now: float) -> None:
        for key, full_at in list(self._full_at.items()):
            if full_at <= now:
                del self._full_at[key]
        while len(self._full_at) > MAX_TRACKED:
            del self._full_at[next(iter(self._full_at))]
