"""FaultyBroker: wraps any broker and makes chosen calls fail, to rehearse outages.

Timeouts, rate limits, garbled answers and refusals are raised as the classes of
`orchestrade.execution.broker_errors`, either before the call reaches the wrapped broker
(the request was lost) or after it (the answer was lost: the broker acted, the caller does
not know), which is the case that makes write-ahead journaling and idempotent client order
ids necessary.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Literal, TypeVar

from orchestrade.domain import Account, Fill, Order, OrderId, Symbol
from orchestrade.execution.broker_errors import BrokerError
from orchestrade.execution.ports import Broker, UpdateListener

Method = Literal["submit", "cancel", "order", "open_orders", "fills", "positions", "account"]
T = TypeVar("T")


@dataclass(frozen=True, slots=True)
class Fault:
    """One planned failure: raise `error`, before the wrapped call or after it."""

    error: BrokerError
    after_call: bool = False


class FaultyBroker:
    """A `Broker` that forwards to `inner`, except for the faults planned with `fail`."""

    def __init__(self, inner: Broker) -> None:
        self.inner = inner
        self._plans: dict[str, deque[Fault | None]] = {}
        self.calls: dict[str, int] = {}

    @property
    def name(self) -> str:
        """The wrapped broker's name."""
        return self.inner.name

    def fail(
        self,
        method: Method,
        error: BrokerError | None,
        *,
        times: int = 1,
        after_call: bool = False,
        skip: int = 0,
    ) -> None:
        """Make `times` calls of `method` raise `error` (after the wrapped call ran, when
        `after_call`), once `skip` further calls went through. Plans queue up in order;
        `error=None` plans calls that succeed."""
        plan = self._plans.setdefault(method, deque())
        plan.extend(None for _ in range(skip))
        if error is not None:
            plan.extend(Fault(error, after_call) for _ in range(times))

    def pending(self, method: Method) -> int:
        """Faults still planned for `method`."""
        return sum(fault is not None for fault in self._plans.get(method, ()))

    async def submit(self, order: Order) -> Order:
        return await self._call("submit", lambda: self.inner.submit(order))

    async def cancel(self, order_id: OrderId) -> Order:
        return await self._call("cancel", lambda: self.inner.cancel(order_id))

    async def order(self, order_id: OrderId) -> Order | None:
        return await self._call("order", lambda: self.inner.order(order_id))

    async def open_orders(self) -> Sequence[Order]:
        return await self._call("open_orders", self.inner.open_orders)

    async def fills(self, *, since: datetime | None = None) -> Sequence[Fill]:
        return await self._call("fills", lambda: self.inner.fills(since=since))

    async def positions(self) -> Mapping[Symbol, Decimal]:
        return await self._call("positions", self.inner.positions)

    async def account(self) -> Account:
        return await self._call("account", self.inner.account)

    def subscribe(self, listener: UpdateListener) -> None:
        self.inner.subscribe(listener)

    async def _call(self, method: str, call: Callable[[], Awaitable[T]]) -> T:
        self.calls[method] = self.calls.get(method, 0) + 1
        plan = self._plans.get(method)
        fault = plan.popleft() if plan else None
        if fault is not None and not fault.after_call:
            raise fault.error
        result = await call()
        if fault is not None:
            raise fault.error
        return result
