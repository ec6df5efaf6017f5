"""CredentialCache: who a login token or an API key belonged to a moment ago, so that the
API does not decode the token and look its user up in the database on every request.

An entry lives `ttl_s` seconds (one second by default) and is dropped at once when its
user changes: `AccountService` calls `forget_user` after it disables, re-enables or
re-roles a user or revokes one of their keys. A token's entry also carries the token's
expiry, checked against the wall clock on every hit, so an expired token is refused the
instant it expires, as without the cache. Only successful lookups are kept (a bad
credential always takes the full path), and entries are keyed by the SHA-256 of the
credential, so the cache holds no credential itself.

A change made by another process (`orchestrade user disable` while the server runs) does
not pass through this process's `AccountService`: it takes effect when the entries of the
user expire, within `ttl_s`.

Lookups run on the event loop and the changes in worker threads: a lookup that read the
database before a change and stores its answer after the change was forgotten would keep
a stale user, so `put` takes the `generation` read before the lookup and stores nothing
when a change came in between.
"""

from __future__ import annotations

import hashlib
import threading
import time
from dataclasses import dataclass

from orchestrade.auth.login_limits import MonotonicClock
from orchestrade.auth.tokens import Clock
from orchestrade.auth.users import User

DEFAULT_TTL_S = 1.0
"""How long a credential is trusted without a database lookup (a change made through this
process's `AccountService` applies at once; one made by another process within this)."""
DEFAULT_MAX_ENTRIES = 4096
"""Credentials kept at most (the oldest go first)."""


@dataclass(frozen=True, slots=True)
class _Entry:
    user: User
    fresh_until: float
    """Monotonic seconds after which the user is looked up again."""
    expires_at: float | None
    """The token's expiry in Unix seconds (None: an API key, which does not expire)."""


class CredentialCache:
    """Recently authenticated credentials and their users (module docstring).

    Args:
        clock: aware UTC now, against which a token's expiry is checked (the clock of the
            `TokenIssuer`).
        monotonic: seconds, for the entries' lifetime.
        ttl_s: how long an entry is trusted (> 0).
        max_entries: the most entries kept (>= 1).
    """

    def __init__(
        self,
        *,
        clock: Clock,
        monotonic: MonotonicClock = time.monotonic,
        ttl_s: float = DEFAULT_TTL_S,
        max_entries: int = DEFAULT_MAX_ENTRIES,
    ) -> None:
        if not ttl_s > 0:
            raise ValueError(f"ttl_s must be > 0, got {ttl_s!r}")
        if max_entries < 1:
            raise ValueError(f"max_entries must be >= 1, got {max_entries!r}")
        self._clock = clock
        self._monotonic = monotonic
        self.ttl_s = ttl_s
        self.max_entries = max_entries
        self._entries: dict[bytes, _Entry] = {}
        self._lock = threading.Lock()
        self._generation = 0

    @staticmethod
    def key(credential: str) -> bytes:
        """The cache key of a credential (its SHA-256; the credential is not kept)."""
        return hashlib.sha256(credential.encode()).digest()

    @property
    def generation(self) -> int:
        """Changes each time users are forgotten; read it before a lookup, pass it to `put`."""
        return self._generation

    def user(self, key: bytes) -> User | None:
        """The user cached under `key` if the entry is still fresh and, for a token, the
        token has not expired; else None (the caller does the full check)."""
        entry = self._entries.get(key)
        if entry is None:
            return None
        if self._monotonic() >= entry.fresh_until or (
            entry.expires_at is not None and self._clock().timestamp() >= entry.expires_at
        ):
            with self._lock:
                if self._entries.get(key) is entry:
                    del self._entries[key]
            return None
        return entry.user

    def put(self, key: bytes, user: User, *, generation: int, expires_at: float | None) -> None:
        """Keep `user` under `key` unless users were forgotten since `generation` was read.

        Args:
            expires_at: the token's expiry in Unix seconds, None for an API key.
        """
        fresh_until = self._monotonic() + self.ttl_s
        with self._lock:
            if generation != self._generation:
                return
            entries = self._entries
            entries.pop(key, None)
            if len(entries) >= self.max_entries:
                del entries[next(iter(entries))]  # the oldest
            entries[key] = _Entry(user, fresh_until, expires_at)

    def forget_user(self, user_id: int) -> None:
        """Drop every credential of the user (their role, state or keys changed)."""
        with self._lock:
            self._generation += 1
            for key in [
                key for key, entry in self._entries.items() if entry.user.user_id == user_id
            ]:
                del self._entries[key]

    def clear(self) -> None:
        """Drop every entry."""
        with self._lock:
            self._generation += 1
            self._entries.clear()

    def __len__(self) -> int:
        return len(self._entries)
