"""The three roles, ordered: a viewer reads, a trader also runs bots and orders, an admin
also manages users, rules and risk limits."""

from __future__ import annotations

from enum import StrEnum


class Role(StrEnum):
    """A user's role; each role may do everything the roles below it may."""

    VIEWER = "viewer"
    TRADER = "trader"
    ADMIN = "admin"

    @property
    def rank(self) -> int:
        """0 for viewer, 1 for trader, 2 for admin."""
        return _RANKS[self]

    def allows(self, required: Role) -> bool:
        """True when this role may do what `required` may."""
        return self.rank >= required.rank


_RANKS = {Role.VIEWER: 0, Role.TRADER: 1, Role.ADMIN: 2}
