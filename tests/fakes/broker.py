"""ScriptedBroker: an in-memory `Broker` whose behaviour each test scripts.

It accepts every order unless told otherwise, fills only when the test says so (during
`submit` with `fill_on_submit`, or later with `fill`), and remembers what the journal held
at each call, so tests can check that the OMS wrote ahead.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from decimal import Decimal

from orchestrade.domain import (
    Account,
    BrokerOrderId,
    Fill,
    FillId,
    Order,
    OrderId,
    OrderStatus,
    Symbol,
)
from orchestrade.execution.broker_errors import BrokerError
from orchestrade.execution.ports import (
    BrokerUpdate,
    FillUpdate,
    OrderJournal,
    OrderUpdate,
    UpdateListener,
)

T_BROKER = datetime(2024, 1, 2, 0, 0, tzinfo=UTC)


class ScriptedBroker:
    """See the module docstring. `submitted` lists every submit call's order."""

    def __init__(self, journal: OrderJournal | None = None, *, cash: Decimal = Decimal(0)) -> None:
        self.journal = journal
        self.cash = cash
        self.orders: dict[OrderId, Order] = {}
        self.fill_log: list[Fill] = []
        self.held: dict[Symbol, Decimal] = {}
        self.submitted: list[Order] = []
        self.cancel_calls: list[OrderId] = []
        self.journal_at_submit: list[Order | None] = []
        self.journal_fills_at_fill: list[int] = []
        self.fill_on_submit: Decimal | None = None
        self.submit_error: BrokerError | None = None
        self.submit_error_after_call = False
        self.reject_reason: str | None = None
        self.refuse_cancel = False
        self._listeners: list[UpdateListener] = []

    @property
    def name(self) -> str:
        return "scripted"

    async def submit(self, order: Order) -> Order:
        self.submitted.append(order)
        if self.journal is not None:
            self.journal_at_submit.append(self.journal.get_order(order.order_id))
        if self.submit_error is not None and not self.submit_error_after_call:
            raise self.submit_error
        known = self.orders.get(order.order_id)
        if known is not None:
            return known
        base = dataclasses.replace(order, broker_order_id=BrokerOrderId(f"B{len(self.orders) + 1}"))
        if self.reject_reason is not None:
            rejected = base.with_status(OrderStatus.REJECTED)
            self.orders[order.order_id] = rejected
            await self.push(OrderUpdate(rejected, T_BROKER, self.reject_reason))
            return rejected
        accepted = base.with_status(OrderStatus.ACCEPTED)
        self.orders[order.order_id] = accepted
        await self.push(OrderUpdate(accepted, T_BROKER, "accepted"))
        if self.fill_on_submit is not None:
            await self.fill(order.order_id, accepted.quantity, self.fill_on_submit)
        if self.submit_error is not None:
            raise self.submit_error
        return self.orders[order.order_id]

    async def cancel(self, order_id: OrderId) -> Order:
        self.cancel_calls.append(order_id)
        order = self.orders[order_id]
        if order.is_terminal or self.refuse_cancel:
            return order
        cancelled = order.with_status(OrderStatus.CANCELLED)
        self.orders[order_id] = cancelled
        await self.push(OrderUpdate(cancelled, T_BROKER, "cancelled"))
        return cancelled

    async def fill(
        self,
        order_id: OrderId,
        quantity: Decimal,
        price: Decimal,
        *,
        fee: Decimal = Decimal(0),
        emit: bool = True,
    ) -> Fill:
        """Execute `quantity` of an order at `price` (broker side), emitting the update."""
        order = self.orders[order_id]
        fill = Fill(
            fill_id=FillId(
                f"{order_id}-{len([f for f in self.fill_log if f.order_id == order_id]) + 1}"
            ),
            order_id=order_id,
            symbol=order.symbol,
            side=order.side,
            quantity=quantity,
            price=price,
            filled_at=T_BROKER,
            fee=fee,
        )
        self.orders[order_id] = order.with_fill(fill)
        self.fill_log.append(fill)
        self.held[order.symbol] = self.held.get(order.symbol, Decimal(0)) + fill.signed_quantity
        self.cash += fill.net_cash_flow
        if self.journal is not None:
            self.journal_fills_at_fill.append(len(self.journal.fills()))
        if emit:
            await self.push(FillUpdate(fill))
        return fill

    async def push(self, update: BrokerUpdate) -> None:
        for listener in list(self._listeners):
            await listener(update)

    async def order(self, order_id: OrderId) -> Order | None:
        return self.orders.get(order_id)

    async def open_orders(self) -> Sequence[Order]:
        return [order for order in self.orders.values() if not order.is_terminal]

    async def fills(self, *, since: datetime | None = None) -> Sequence[Fill]:
        return [f for f in self.fill_log if since is None or f.filled_at >= since]

    async def positions(self) -> Mapping[Symbol, Decimal]:
        return {symbol: quantity for symbol, quantity in self.held.items() if quantity != 0}

    async def account(self) -> Account:
        account = Account("KRW", self.cash)
        return account

    def subscribe(self, listener: UpdateListener) -> None:
        self._listeners.append(listener)
