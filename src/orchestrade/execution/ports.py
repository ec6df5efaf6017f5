"""What the OMS needs from outside: a broker to send orders to, and a journal that persists them.

Both are Protocols so that the OMS never names an adapter: the paper broker, KIS and ccxt
adapters implement `Broker`; `orchestrade.storage` implements `OrderJournal` (SQLite or
PostgreSQL), and tests use in-memory twins.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Collection, Mapping, Sequence
from contextlib import AbstractContextManager
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Protocol, runtime_checkable

from orchestrade.domain import Account, Fill, Order, OrderId, Symbol
from orchestrade.execution.broker_errors import BrokerError


@dataclass(frozen=True, slots=True)
class OrderUpdate:
    """The broker changed an order's status (accepted, cancelled, rejected, expired).

    `order` is the broker's view after the change; `reason` says why (a rejection's cause).
    """

    order: Order
    at: datetime
    reason: str = ""


@dataclass(frozen=True, slots=True)
class FillUpdate:
    """The broker executed (part of) an order."""

    fill: Fill


BrokerUpdate = OrderUpdate | FillUpdate
"""One item of a broker's stream of order and fill updates."""

UpdateListener = Callable[[BrokerUpdate], Awaitable[None]]


class Broker(Protocol):
    """What the OMS needs from any broker, simulated or real.

    Every method is idempotent on the client order id (`Order.order_id`): submitting an id
    the broker already has returns the broker's current view of that order and creates
    nothing, so a retried or replayed submission can never reach the market twice.
    """

    @property
    def name(self) -> str:
        """Short name for logs and audit lines ("paper", "kis", ...)."""
        ...

    async def submit(self, order: Order) -> Order:
        """Send a NEW order; returns it as the broker holds it (ACCEPTED, or REJECTED)."""
        ...

    async def cancel(self, order_id: OrderId) -> Order:
        """Ask to cancel; returns the broker's view (CANCELLED, or unchanged if terminal)."""
        ...

    async def order(self, order_id: OrderId) -> Order | None:
        """The broker's view of one order by client order id (terminal ones too), or None
        when the broker never received it."""
        ...

    async def open_orders(self) -> Sequence[Order]:
        """Every order the broker holds that is not terminal."""
        ...

    async def fills(self, *, since: datetime | None = None) -> Sequence[Fill]:
        """Every fill of this account (since `since` when given), oldest first."""
        ...

    async def positions(self) -> Mapping[Symbol, Decimal]:
        """Signed quantity per symbol, flat symbols omitted."""
        ...

    async def account(self) -> Account:
        """Cash and positions as the broker books them."""
        ...

    def subscribe(self, listener: UpdateListener) -> None:
        """Deliver every later order and fill update to `listener`, in the broker's order."""
        ...


@runtime_checkable
class BatchSubmitter(Protocol):
    """A broker that can take several orders in one call (the paper broker: one commit of
    its state instead of one per order). The OMS sends the orders of one decision this way
    when its broker offers it, and one by one otherwise."""

    async def submit_many(self, orders: Sequence[Order]) -> Sequence[Order | BrokerError]:
        """`Broker.submit` for each of `orders` in turn: for each, the order as the broker
        then holds it, or the `BrokerError` its own submit failed with (not raised). An
        error raised by the call itself concerns every order of it (none was answered)."""
        ...


class OrderJournal(Protocol):
    """The OMS's write-ahead store: every method is one transaction, durable on return.

    The OMS writes an order before it is sent and a fill before it is applied; after a
    crash, what the journal holds is what the OMS knew.
    """

    def record_order(self, order: Order, *, at: datetime, reason: str = "") -> None:
        """Insert or update `order` (keyed by `order_id`) and append one order event (its new
        status and `reason`) and one audit line, in one transaction."""
        ...

    def record_orders(self, orders: Sequence[Order], *, at: datetime, reason: str = "") -> None:
        """`record_order` for each of `orders`, all in one transaction (all or none)."""
        ...

    def batch(self) -> AbstractContextManager[None]:
        """A block whose writes form one transaction (group commit): durable together when
        it ends, none of them when it raises."""
        ...

    def record_fill(self, fill: Fill, order: Order, *, at: datetime) -> bool:
        """Persist `fill` and `order` as it is after the fill, in one transaction.

        Returns False, changing nothing, when a fill with the same `fill_id` is already
        recorded (a broker may report a fill twice).
        """
        ...

    def get_order(self, order_id: OrderId) -> Order | None:
        """The order as last recorded, or None."""
        ...

    def order_ids(self) -> Collection[OrderId]:
        """The id of every recorded order (of every bot: like `get_order`, not scoped)."""
        ...

    def open_orders(self) -> Sequence[Order]:
        """Every recorded order that is not terminal."""
        ...

    def fills(self, order_id: OrderId | None = None) -> Sequence[Fill]:
        """Recorded fills (of one order when given), in the order they were recorded."""
        ...
