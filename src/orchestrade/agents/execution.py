"""ExecutionAgent: the OMS on the bus, and the simulated market's clock in replay.

It sends each `SubmitOrder` through the OMS (journal first, then the broker), the orders of
a `SubmitOrders` together (one journal transaction, then the sends), and each `CancelOrder`
likewise, and publishes what the OMS reports (`OrderSubmitted`,
`OrderFilled`, `OrderCancelled`, `PositionChanged`). With a simulated market (the paper
broker), it also tells the market what time it is: `BarsOpened` opens each bar (market
orders fill at the open) and `BarsTraded` trades each bar's range (resting stops and
limits).

Re-asking for an order the OMS already has (a replay restarted after a crash regenerates
the same decisions under the same client order ids) sends nothing; the recorded fills of
that order are published again, so that every ledger rebuilt from the bus ends where it
was before the crash. With a simulated market each recorded fill is published when the
replay reaches the bar and phase in which the market first emitted it (`fill_replay`), so
the agents see the restarted run exactly as they saw the first. One exception: an order
that reconciliation found journaled but never received by the broker (the process died
between the two) was marked, not resent blindly; when the regenerated decision asks for it
again, it is sent once under the derived id ``<id>-resent`` (deliberately: the broker is
known not to have it).
"""

from __future__ import annotations

import dataclasses
import logging
from collections import Counter
from collections.abc import Callable, Sequence
from typing import Protocol

from orchestrade.agents.base import Agent
from orchestrade.agents.fill_replay import FillReplay, FillTiming, Phase
from orchestrade.bus import Bus
from orchestrade.domain import (
    Bar,
    BarsOpened,
    BarsTraded,
    CancelOrder,
    Envelope,
    Fill,
    FillId,
    Order,
    OrderFilled,
    OrderId,
    OrderStatus,
    SubmitOrder,
    SubmitOrders,
)
from orchestrade.execution.broker_errors import BrokerError
from orchestrade.execution.errors import ExecutionError
from orchestrade.execution.oms import OmsEvent, OrderManager

log = logging.getLogger(__name__)


class SimulatedMarket(Protocol):
    """A broker that is also the market (paper broker in replay): it needs the clock."""

    async def begin_bar(self, bar: Bar) -> object: ...

    async def trade_bar(self, bar: Bar) -> object: ...

    async def begin_bars(self, bars: Sequence[Bar]) -> object: ...

    async def trade_bars(self, bars: Sequence[Bar]) -> object: ...


class ExecutionAgent(Agent):
    """Routes order commands through `oms`; drives `market` when the broker is simulated.

    Args:
        market: the simulated market (paper broker in replay), or None.
        never_sent: whether the journal marked an order as never received by the broker.
        fill_timing: where `market` fills resting market orders ("next_open" or "close"),
            to republish recorded fills at the right moment (see the module docstring).
    """

    def __init__(
        self,
        bus: Bus,
        oms: OrderManager,
        *,
        market: SimulatedMarket | None = None,
        never_sent: Callable[[OrderId], bool] = lambda _order_id: False,
        fill_timing: FillTiming = "next_open",
        agent_id: str = "execution",
        heartbeat_interval_s: float = 1.0,
    ) -> None:
        super().__init__(agent_id, bus, heartbeat_interval_s=heartbeat_interval_s)
        self.oms = oms
        self.market = market
        self._never_sent = never_sent
        self._replay = FillReplay(fill_timing=fill_timing) if market is not None else None
        self._ranks: dict[FillId, int] | None = None
        self.outcomes: Counter[str] = Counter()
        oms.subscribe(self._forward)

    async def on_start(self) -> None:
        group = self.agent_id
        await self.subscribe(SubmitOrder, self.on_submit_order, group=group)
        await self.subscribe(SubmitOrders, self.on_submit_orders, group=group)
        await self.subscribe(CancelOrder, self.on_cancel_order, group=group)
        if self.market is not None:
            await self.subscribe(BarsOpened, self.on_bars_opened, group=group)
            await self.subscribe(BarsTraded, self.on_bars_traded, group=group)

    async def on_submit_order(self, envelope: Envelope) -> None:
        command = envelope.payload
        assert isinstance(command, SubmitOrder)
        await self._submit((command.order,))

    async def on_submit_orders(self, envelope: Envelope) -> None:
        command = envelope.payload
        assert isinstance(command, SubmitOrders)
        await self._submit(command.orders)

    async def _submit(self, orders: Sequence[Order]) -> None:
        """Send the orders the OMS does not have yet, together (`OrderManager.submit_many`);
        for the ones it has, publish their recorded fills again (see the module docstring)."""
        fresh: list[Order] = []
        for asked in orders:
            order = self._current_version(asked)
            recorded = self.oms.order(order.order_id)
            if recorded is None:
                fresh.append(order)
                continue
            self.outcomes["replayed"] += 1
            fills = list(self.oms.fills(order.order_id))
            if self._replay is not None and fills:
                await self._republish(self._replay.schedule(recorded, fills, self._rank))
            else:
                await self._republish([(recorded, fill) for fill in fills])
        if not fresh:
            return
        try:
            await self.oms.submit_many(fresh)
        except (BrokerError, ExecutionError) as error:
            log.error("submit of %s failed: %s", ", ".join(o.order_id for o in fresh), error)
        for order in fresh:
            held = self.oms.order(order.order_id)
            failed = held is None or held.status in (OrderStatus.NEW, OrderStatus.SUBMITTED)
            self.outcomes["failed" if failed else "submitted"] += 1

    def _current_version(self, order: Order) -> Order:
        """`order`, or its resend when the journal holds it as never sent (see module doc)."""
        while True:
            recorded = self.oms.order(order.order_id)
            if (
                recorded is None
                or recorded.status is not OrderStatus.REJECTED
                or not self._never_sent(order.order_id)
            ):
                return order
            self.outcomes["resent"] += 1
            order = dataclasses.replace(order, order_id=OrderId(f"{order.order_id}-resent"))

    async def on_cancel_order(self, envelope: Envelope) -> None:
        command = envelope.payload
        assert isinstance(command, CancelOrder)
        order_id = command.order_id
        while self._never_sent(order_id) and self.oms.order(OrderId(f"{order_id}-resent")):
            order_id = OrderId(f"{order_id}-resent")
        if self.oms.order(order_id) is None:
            self.outcomes["cancel_unknown"] += 1
            return
        try:
            await self.oms.cancel(order_id, reason=command.reason or "cancel requested")
        except (BrokerError, ExecutionError) as error:
            self.outcomes["cancel_failed"] += 1
            log.error("cancel of %s failed: %s", command.order_id, error)

    async def on_bars_opened(self, envelope: Envelope) -> None:
        event = envelope.payload
        assert isinstance(event, BarsOpened)
        await self._advance(event.bars, Phase.OPEN)

    async def on_bars_traded(self, envelope: Envelope) -> None:
        event = envelope.payload
        assert isinstance(event, BarsTraded)
        await self._advance(event.bars, Phase.TRADED)

    async def _advance(self, bars: Sequence[Bar], phase: Phase) -> None:
        """Move the market to `phase` of `bars`. The whole slice goes in one call (one
        commit of the broker's state) unless recorded fills wait to be republished: then
        bar by bar, each bar's republished fills right after its own market updates."""
        market, replay = self.market, self._replay
        assert market is not None
        if replay is None or not replay.holding:
            if phase is Phase.OPEN:
                await market.begin_bars(bars)
            else:
                await market.trade_bars(bars)
            if replay is not None:
                replay.pass_by(((bar.symbol, bar.start) for bar in bars), phase)
            return
        for bar in bars:
            if phase is Phase.OPEN:
                await market.begin_bar(bar)
            else:
                await market.trade_bar(bar)
            await self._republish(replay.reach(bar.symbol, bar.start, phase))

    async def _republish(self, fills: Sequence[tuple[Order, Fill]]) -> None:
        for order, fill in fills:
            self.outcomes["fills_republished"] += 1
            await self.publish(OrderFilled(order, fill))

    def _rank(self, fill: Fill) -> int:
        """`fill`'s place among the journal's fills (they were recorded as emitted)."""
        if self._ranks is None:
            self._ranks = {known.fill_id: i for i, known in enumerate(self.oms.fills())}
        rank = self._ranks.get(fill.fill_id)
        if rank is None:
            rank = self._ranks[fill.fill_id] = len(self._ranks)
        return rank

    async def _forward(self, event: OmsEvent) -> None:
        await self.publish(event)
