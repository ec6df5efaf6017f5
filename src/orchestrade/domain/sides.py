"""Which way an order or a fill goes, and the sign it gives to quantities and cash."""

from __future__ import annotations

from enum import StrEnum


class Side(StrEnum):
    """Buy or sell. `sign` is +1 for buys (quantity added) and -1 for sells."""

    BUY = "buy"
    SELL = "sell"

    @property
    def sign(self) -> int:
        """+1 for BUY, -1 for SELL."""
        return 1 if self is Side.BUY else -1

    @property
    def opposite(self) -> Side:
        """The side that closes a position opened by this side."""
        return Side.SELL if self is Side.BUY else Side.BUY
