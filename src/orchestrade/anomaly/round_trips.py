"""Closed trades from the positions after each fill: the input of the loss-streak detector.

A trade (round trip) opens when a fill takes a position away from flat and closes when a
fill brings it back to flat (or through zero, which closes it and opens the other side).
Its P&L is the change of the position's realized P&L between the two, so it includes every
fee and tax paid on the way, the opening fill's too (`Position` charges fees to realized
P&L). Scaling in or out does not close a trade.
"""

from __future__ import annotations

from collections.abc import Hashable
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from orchestrade.domain import Fill, Position, Symbol

ZERO = Decimal(0)


@dataclass(frozen=True, slots=True)
class ClosedTrade:
    """One finished round trip: its P&L (fees included) and when it closed."""

    symbol: Symbol
    closed_at: datetime
    pnl: Decimal

    @property
    def is_loss(self) -> bool:
        """True when the trade lost money (a trade at exactly zero is not a loss)."""
        return self.pnl < 0


@dataclass(slots=True)
class _Open:
    quantity: Decimal
    realized_at_open: Decimal | None  # None: opened before we watched, P&L unknown


class RoundTrips:
    """Follows positions per key (an account and symbol) and reports the trades they close.

    A position first seen already open (the agent started after its entry) has no known
    starting P&L: its close is not reported.
    """

    def __init__(self) -> None:
        self._open: dict[Hashable, _Open] = {}

    def update(self, key: Hashable, position: Position, fill: Fill) -> ClosedTrade | None:
        """`position` is `key`'s position after `fill`; the trade it closed, if any."""
        after = position.quantity
        state = self._open.get(key)
        before = state.quantity if state is not None else after - fill.signed_quantity
        if before == 0:
            if after != 0:
                # Undo this fill's charges: the trade's P&L starts before its opening fill.
                start = position.realized_pnl + fill.fee + fill.tax
                self._open[key] = _Open(after, start)
            return None
        known = state.realized_at_open if state is not None else None
        if after != 0 and (after > 0) == (before > 0):
            self._open[key] = _Open(after, known)
            return None
        closed = (
            None
            if known is None
            else ClosedTrade(fill.symbol, fill.filled_at, position.realized_pnl - known)
        )
        if after == 0:
            self._open.pop(key, None)
        else:  # through zero: the rest of the fill opens the other side
            self._open[key] = _Open(after, position.realized_pnl)
        return closed
