"""When a restarted replay republishes the fills the journal already holds.

A replay restarted after a crash runs its bars from the start again; the decisions it
regenerates ask for orders the OMS already has, and the execution agent answers with the
fills on record instead of sending anything. Those fills must reach the ledgers at the
moment the market produced them the first time, not at the moment the order is asked for
again: a protective stop is asked for when its entry fills, but it filled bars later. Were
its fill published at once, every agent would see the position closed too early, and the
strategy would trade differently from then on (new orders, sent for real).

`FillReplay` keeps each symbol's replay position (the bar it is at, opened or closed) and
holds the recorded fills that lie ahead of it, releasing them when the replay reaches the
bar and phase in which the paper market emitted them:

- a fill of a stop or limit order: when its bar trades (`BarsTraded`);
- the first fill of a market order at the bar in which it is asked for: at once (it filled
  on arrival, at the open);
- another fill of a market order: when its bar opens (`BarsOpened`, `fill_timing`
  "next_open"), or when it trades ("close").

Fills due at the same point are released in the order they were recorded. One case is
ambiguous with `fill_timing="close"`: a market order that could not fill at the open of the
bar it was sent in (price band) but filled at that bar's close is released at the open.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from datetime import datetime
from enum import IntEnum
from typing import Literal

from orchestrade.domain import Fill, Order, OrderType, Symbol

FillTiming = Literal["next_open", "close"]


class Phase(IntEnum):
    """Where a bar is: opened (its open known) or traded (its range traded)."""

    OPEN = 0
    TRADED = 1


Moment = tuple[datetime, Phase]
"""A bar's start and phase: moments compare in replay order."""


class FillReplay:
    """Recorded fills of re-asked orders, released when the replay reaches them.

    Args:
        fill_timing: where the market fills resting market orders (the paper broker's
            `fill_timing`).
    """

    def __init__(self, *, fill_timing: FillTiming = "next_open") -> None:
        self._market_phase = Phase.OPEN if fill_timing == "next_open" else Phase.TRADED
        self._positions: dict[Symbol, Moment] = {}
        self._held: dict[Symbol, list[tuple[Moment, int, Order, Fill]]] = {}

    @property
    def held(self) -> int:
        """Fills waiting for their moment."""
        return sum(len(fills) for fills in self._held.values())

    @property
    def holding(self) -> bool:
        """Whether any fill waits for its moment."""
        return any(self._held.values())

    def pass_by(self, bars: Iterable[tuple[Symbol, datetime]], phase: Phase) -> None:
        """`reach` for each (symbol, bar start) of `bars` when nothing is held (`holding`
        is False): only the positions move."""
        positions = self._positions
        for symbol, at in bars:
            positions[symbol] = (at, phase)

    def position(self, symbol: Symbol) -> Moment | None:
        """The bar and phase the replay is at for `symbol` (None before its first bar)."""
        return self._positions.get(symbol)

    def reach(self, symbol: Symbol, at: datetime, phase: Phase) -> list[tuple[Order, Fill]]:
        """The replay is at `symbol`'s bar `at` in `phase`: the held fills now due, in the
        order they were recorded."""
        moment = (at, phase)
        self._positions[symbol] = moment
        held = self._held.get(symbol)
        if not held:
            return []
        due = [item for item in held if item[0] <= moment]
        if not due:
            return []
        self._held[symbol] = [item for item in held if item[0] > moment]
        return [(order, fill) for _, _, order, fill in sorted(due, key=_replay_order)]

    def schedule(
        self, order: Order, fills: list[Fill], rank: Callable[[Fill], int]
    ) -> list[tuple[Order, Fill]]:
        """The recorded `fills` of `order` (in recorded order), asked for again: those due
        now, in recorded order; the rest are held for `reach`. `rank` gives a fill's place
        among all recorded fills."""
        position = self._positions.get(order.symbol)
        now: list[tuple[Order, Fill]] = []
        for index, fill in enumerate(fills):
            moment = self._moment(order, fill, index, position)
            if position is None or moment <= position:
                now.append((order, fill))
            else:
                self._held.setdefault(order.symbol, []).append((moment, rank(fill), order, fill))
        return now

    def _moment(self, order: Order, fill: Fill, index: int, position: Moment | None) -> Moment:
        if order.order_type is not OrderType.MARKET:
            return (fill.filled_at, Phase.TRADED)
        if index == 0 and position is not None and fill.filled_at == position[0]:
            return position  # filled on arrival
        return (fill.filled_at, self._market_phase)


def _replay_order(item: tuple[Moment, int, Order, Fill]) -> tuple[Moment, int]:
    return item[0], item[1]
