"""Report a condition when it starts, not on every event while it lasts.

A detector sees its condition on event after event (a crash spans several bars, a silent
bot stays silent); reporting each of them would flood the desk and the database with one
anomaly. The policy everywhere: a finding is reported when the condition becomes true for
its key (a bot, a symbol), and the key is re-armed only once the condition is false again.
"""

from __future__ import annotations

from collections.abc import Hashable
from typing import Generic, TypeVar

K = TypeVar("K", bound=Hashable)


class Crossings(Generic[K]):
    """Which keys are in the anomalous state, so that each entry into it is reported once."""

    def __init__(self) -> None:
        self._active: set[K] = set()

    def rising(self, key: K, condition: bool) -> bool:
        """True when `condition` holds for `key` now and did not at its previous check."""
        if not condition:
            self._active.discard(key)
            return False
        if key in self._active:
            return False
        self._active.add(key)
        return True

    def is_active(self, key: K) -> bool:
        """True while `key`'s condition holds (reported, not yet re-armed)."""
        return key in self._active

    def clear(self, key: K) -> None:
        """Re-arm `key`: its condition will be reported the next time it holds."""
        self._active.discard(key)
