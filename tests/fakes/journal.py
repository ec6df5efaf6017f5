"""InMemoryOrderJournal: the in-memory twin of `orchestrade.execution.ports.OrderJournal`."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime

from orchestrade.domain import Fill, FillId, Order, OrderId, OrderStatus


@dataclass(frozen=True, slots=True)
class JournalEvent:
    """One write: the order's status after it, the reason, and the fill if it was one."""

    at: datetime
    order_id: OrderId
    status: OrderStatus
    reason: str
    fill_id: FillId | None = None


class JournalCrashError(RuntimeError):
    """Raised by a journal told to crash: the write did not happen (a simulated kill)."""


class InMemoryOrderJournal:
    """Orders and fills in dicts; every write appends a `JournalEvent`.

    `crash_after(n)` makes every write after the next `n` ones raise `JournalCrashError`
    without changing anything, to simulate the process dying at that instant (`dead` is
    then True); `revive()` is the restarted process, which finds what was written.
    """

    def __init__(self) -> None:
        self.orders: dict[OrderId, Order] = {}
        self._fills: list[Fill] = []
        self._fill_ids: set[FillId] = set()
        self.events: list[JournalEvent] = []
        self._writes_before_crash: int | None = None
        self.dead = False
        self.writes = 0
        self.batches = 0

    def crash_after(self, writes: int) -> None:
        self._writes_before_crash = writes

    def revive(self) -> None:
        self.dead = False
        self._writes_before_crash = None

    def record_order(self, order: Order, *, at: datetime, reason: str = "") -> None:
        self._maybe_crash()
        self.orders[order.order_id] = order
        self.events.append(JournalEvent(at, order.order_id, order.status, reason))

    def record_orders(self, orders: Sequence[Order], *, at: datetime, reason: str = "") -> None:
        self._maybe_crash()
        for order in orders:
            self.orders[order.order_id] = order
            self.events.append(JournalEvent(at, order.order_id, order.status, reason))

    @contextmanager
    def batch(self) -> Iterator[None]:
        self.batches += 1
        yield

    def record_fill(self, fill: Fill, order: Order, *, at: datetime) -> bool:
        self._maybe_crash()
        if fill.fill_id in self._fill_ids:
            return False
        self._fill_ids.add(fill.fill_id)
        self._fills.append(fill)
        self.orders[order.order_id] = order
        self.events.append(JournalEvent(at, order.order_id, order.status, "fill", fill.fill_id))
        return True

    def get_order(self, order_id: OrderId) -> Order | None:
        return self.orders.get(order_id)

    def order_ids(self) -> set[OrderId]:
        return set(self.orders)

    def open_orders(self) -> Sequence[Order]:
        return [order for order in self.orders.values() if not order.is_terminal]

    def fills(self, order_id: OrderId | None = None) -> Sequence[Fill]:
        return [fill for fill in self._fills if order_id is None or fill.order_id == order_id]

    def statuses(self, order_id: OrderId) -> list[OrderStatus]:
        """The statuses journaled for one order, in order."""
        return [event.status for event in self.events if event.order_id == order_id]

    def _maybe_crash(self) -> None:
        if self._writes_before_crash == 0:
            self.dead = True
        if self.dead:
            raise JournalCrashError("the process died before this write")
        if self._writes_before_crash is not None:
            self._writes_before_crash -= 1
        self.writes += 1
