"""RiskAgent: every order request passes the risk engine before execution may send it.

It keeps its own ledger from the same events as the orchestrator (opens, closes, fills), so
each check reads the requesting account as it is at that instant, and answers each
`OrderRequested` with `SubmitOrder` (to execution) or `RiskRejected` (naming the check and
the numbers). The kill switch and `update_risk_params` act on the engine at run time.
"""

from __future__ import annotations

import logging
from collections import Counter

from orchestrade.agents.base import Agent
from orchestrade.bus import Bus
from orchestrade.domain import (
    BarsClosed,
    BarsOpened,
    Envelope,
    OrderFilled,
    OrderRequested,
    RiskRejected,
    SubmitOrder,
)
from orchestrade.portfolio import Ledger
from orchestrade.risk import RiskEngine
from orchestrade.risk.decisions import Denied

log = logging.getLogger(__name__)


class RiskAgent(Agent):
    """Pre-trade checks on the bus."""

    def __init__(
        self,
        bus: Bus,
        engine: RiskEngine,
        ledger: Ledger,
        *,
        agent_id: str = "risk",
        heartbeat_interval_s: float = 1.0,
    ) -> None:
        super().__init__(agent_id, bus, heartbeat_interval_s=heartbeat_interval_s)
        self.engine = engine
        self.ledger = ledger
        self.outcomes: Counter[str] = Counter()

    async def on_start(self) -> None:
        group = self.agent_id
        await self.subscribe(OrderRequested, self.on_order_requested, group=group)
        await self.subscribe(BarsOpened, self.on_bars_opened, group=group)
        await self.subscribe(BarsClosed, self.on_bars_closed, group=group)
        await self.subscribe(OrderFilled, self.on_order_filled, group=group)

    async def on_order_requested(self, envelope: Envelope) -> None:
        event = envelope.payload
        assert isinstance(event, OrderRequested)
        order = event.order
        if order.bot_id is None:
            self.outcomes["no_bot"] += 1
            await self.publish(RiskRejected(order, "account", "order has no bot id"))
            return
        book = self.ledger.book(self.ledger.account_id(order.bot_id, order.symbol))
        decision = self.engine.evaluate(order, book)
        if isinstance(decision, Denied):
            self.outcomes[decision.check] += 1
            log.info("risk rejected %s: %s", order.order_id, decision.reason)
            await self.publish(RiskRejected(order, decision.check, decision.reason))
            return
        self.outcomes["approved"] += 1
        await self.publish(SubmitOrder(order))

    async def on_bars_opened(self, envelope: Envelope) -> None:
        event = envelope.payload
        assert isinstance(event, BarsOpened)
        for bar in event.bars:
            self.ledger.on_open(bar)

    async def on_bars_closed(self, envelope: Envelope) -> None:
        event = envelope.payload
        assert isinstance(event, BarsClosed)
        for bar in event.bars:
            self.ledger.on_close(bar)

    async def on_order_filled(self, envelope: Envelope) -> None:
        event = envelope.payload
        assert isinstance(event, OrderFilled)
        order = event.order
        if order.bot_id is None:
            return
        account_id = self.ledger.account_id(order.bot_id, order.symbol)
        if account_id in self.ledger.accounts:
            self.ledger.apply_fill(account_id, event.fill)
