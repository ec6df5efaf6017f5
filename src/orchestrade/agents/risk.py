"""RiskAgent: every order request passes the risk engine, and held positions get stops.

It keeps its own ledger from the same events as the orchestrator (opens, closes, fills), so
each check reads the requesting account as it is at that instant, and answers each
`OrderRequested` with `SubmitOrder` (to execution) or `RiskRejected` (naming the check and
the numbers); an `OrdersRequested` (the orders of one decision) gets one `SubmitOrders` with
the approved ones and a `RiskRejected` for each other. The kill switch and
`update_risk_params` act on the engine at run time.

Position stops (stop loss, trailing stop, take profit; `orchestrade.risk.stops`) rest at the
broker as protective sell orders placed as soon as an entry fills: a stop order at the stop
level and a limit order at the target. After each close the trailing level may rise; the
replacement stop is sent at the next open (not at the close, when the market is still
trading that bar's range against the old level, as the backtest does). When the position
goes flat, every protective order still resting is cancelled. Protective orders are the
risk engine's own exits and do not pass the pre-trade checks.
"""

from __future__ import annotations

import json
import logging
from collections import Counter
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal

from orchestrade.agents.base import Agent
from orchestrade.bus import Bus
from orchestrade.domain import (
    BarsClosed,
    BarsOpened,
    BotId,
    CancelOrder,
    Envelope,
    Order,
    OrderFilled,
    OrderId,
    OrderRequested,
    OrdersRequested,
    RiskLimitsChanged,
    RiskRejected,
    Side,
    SubmitOrder,
    SubmitOrders,
    Symbol,
)
from orchestrade.portfolio import Ledger
from orchestrade.risk import (
    Denied,
    PositionStops,
    RiskConfigurationError,
    RiskEngine,
    RoundToTick,
    StopSettings,
    no_rounding,
    protective_orders,
    protective_prices,
)

log = logging.getLogger(__name__)


@dataclass(slots=True)
class _Guard:
    """The stops of one held position and the protective orders sent for it."""

    bot_id: BotId
    stops: PositionStops
    quantity: Decimal
    entered_at: datetime
    prices: tuple[Decimal | None, Decimal | None] = (None, None)
    resting: list[OrderId] = field(default_factory=list)
    version: int = 0
    stale: bool = False


class RiskAgent(Agent):
    """Pre-trade checks and position stops on the bus.

    Args:
        stops: the stop distances of every position (off by default), or of each bot's
            positions (a bot not in the mapping has none).
        rounding: the tick rounding of each symbol (`RoundToTick`); none when missing.
    """

    def __init__(
        self,
        bus: Bus,
        engine: RiskEngine,
        ledger: Ledger,
        *,
        stops: StopSettings | Mapping[BotId, StopSettings] | None = None,
        rounding: Mapping[Symbol, RoundToTick] | None = None,
        agent_id: str = "risk",
        heartbeat_interval_s: float = 1.0,
    ) -> None:
        super().__init__(agent_id, bus, heartbeat_interval_s=heartbeat_interval_s)
        self.engine = engine
        self.ledger = ledger
        if stops is None or isinstance(stops, StopSettings):
            self.stops = stops if stops is not None and not stops.is_off else None
            self._stops_of: Mapping[BotId, StopSettings] | None = None
        else:
            self._stops_of = {bot: s for bot, s in stops.items() if not s.is_off}
            self.stops = None
        self._rounding: Callable[[Symbol], RoundToTick] = lambda symbol: (rounding or {}).get(
            symbol, no_rounding
        )
        self.outcomes: Counter[str] = Counter()
        self._guards: dict[tuple[str, Symbol], _Guard] = {}

    async def on_start(self) -> None:
        group = self.agent_id
        await self.subscribe(OrderRequested, self.on_order_requested, group=group)
        await self.subscribe(OrdersRequested, self.on_orders_requested, group=group)
        await self.subscribe(BarsOpened, self.on_bars_opened, group=group)
        await self.subscribe(BarsClosed, self.on_bars_closed, group=group)
        await self.subscribe(OrderFilled, self.on_order_filled, group=group)
        await self.subscribe(RiskLimitsChanged, self.on_risk_limits_changed, group=group)

    async def on_risk_limits_changed(self, envelope: Envelope) -> None:
        """Put new limits in force (`RiskEngine.update_risk_params`); invalid ones are logged
        and the old limits stay."""
        event = envelope.payload
        assert isinstance(event, RiskLimitsChanged)
        try:
            self.engine.update_risk_params(**json.loads(event.limits_json))
        except RiskConfigurationError as error:
            log.error("risk limits from %s refused, the old ones stay: %s", event.source, error)
            return
        log.info("risk limits from %s in force: %s", event.source, self.engine.settings)

    async def on_order_requested(self, envelope: Envelope) -> None:
        event = envelope.payload
        assert isinstance(event, OrderRequested)
        rejection = self._rejection(event.order)
        if rejection is None:
            await self.publish(SubmitOrder(event.order))
        else:
            await self.publish(rejection)

    async def on_orders_requested(self, envelope: Envelope) -> None:
        """Check each order of one decision in turn; the approved ones go to execution
        together (`SubmitOrders`), each refused one gets its `RiskRejected`."""
        event = envelope.payload
        assert isinstance(event, OrdersRequested)
        approved = []
        for order in event.orders:
            rejection = self._rejection(order)
            if rejection is None:
                approved.append(order)
            else:
                await self.publish(rejection)
        if approved:
            await self.publish(SubmitOrders(tuple(approved)))

    def _rejection(self, order: Order) -> RiskRejected | None:
        """None when the engine passes `order`, else the rejection to publish."""
        if order.bot_id is None:
            self.outcomes["no_bot"] += 1
            return RiskRejected(order, "account", "order has no bot id")
        book = self.ledger.book(self.ledger.account_id(order.bot_id, order.symbol))
        decision = self.engine.evaluate(order, book)
        if isinstance(decision, Denied):
            self.outcomes[decision.check] += 1
            log.info("risk rejected %s: %s", order.order_id, decision.reason)
            return RiskRejected(order, decision.check, decision.reason)
        self.outcomes["approved"] += 1
        return None

    async def on_bars_opened(self, envelope: Envelope) -> None:
        event = envelope.payload
        assert isinstance(event, BarsOpened)
        self.ledger.on_bars_opened(event.bars)
        if self._guards:
            for key, guard in list(self._guards.items()):
                if guard.stale:
                    await self._protect(key, guard, event.start)

    async def on_bars_closed(self, envelope: Envelope) -> None:
        event = envelope.payload
        assert isinstance(event, BarsClosed)
        self.ledger.on_bars_closed(event.bars)
        if not self._guards:
            return
        highs = {bar.symbol: float(bar.high) for bar in event.bars}
        for (_, symbol), guard in self._guards.items():
            high = highs.get(symbol)
            if high is not None:
                guard.stops.after_bar(high)
                guard.stale = self._prices(symbol, guard) != guard.prices

    async def on_order_filled(self, envelope: Envelope) -> None:
        event = envelope.payload
        assert isinstance(event, OrderFilled)
        order, fill = event.order, event.fill
        if order.bot_id is None:
            return
        account_id = self.ledger.account_id(order.bot_id, order.symbol)
        if account_id not in self.ledger.accounts:
            return
        position = self.ledger.apply_fill(account_id, fill)
        settings = self.stops if self._stops_of is None else self._stops_of.get(order.bot_id)
        if settings is None:
            return
        key = (account_id, fill.symbol)
        guard = self._guards.get(key)
        if position.quantity <= 0:
            if guard is not None:
                del self._guards[key]
                for order_id in guard.resting:
                    await self.publish(CancelOrder(order_id, "position closed"))
            return
        if fill.side is Side.BUY and guard is None:
            stops = PositionStops(float(fill.price), settings, self._rounding(fill.symbol))
            guard = _Guard(order.bot_id, stops, position.quantity, fill.filled_at)
            self._guards[key] = guard
            await self._protect(key, guard, fill.filled_at)

    async def _protect(self, key: tuple[str, Symbol], guard: _Guard, at: datetime) -> None:
        """Send the protective orders of `guard`'s levels, cancelling the ones they replace.

        Their client order ids derive from the entry and the replacement count, so a replay
        restarted after a crash asks for the same orders again (and sends none twice).
        """
        for order_id in guard.resting:
            await self.publish(CancelOrder(order_id, "stop level moved"))
        guard.resting.clear()
        guard.stale = False
        guard.version += 1
        symbol = key[1]
        instrument = self.ledger.instrument(symbol)
        # Each id ends with why the order would sell (the kernel's exit reason names), so
        # the portfolio can tell a trade's exit reason from its last fill.
        levels = guard.stops.levels
        names = iter(
            name
            for name, present in (
                (levels.stop_reason.value if levels.stop_reason else "", levels.stop is not None),
                ("take_profit", levels.target is not None),
            )
            if present
        )
        entered = guard.entered_at.strftime("%Y%m%dT%H%M%S")
        prefix = f"{guard.bot_id}-{symbol}-{entered}-protect{guard.version}"
        orders = protective_orders(
            levels,
            symbol=symbol,
            quantity=guard.quantity,
            created_at=at,
            tick_rule=instrument.tick_rule if instrument is not None else None,
            bot_id=guard.bot_id,
            new_id=lambda: OrderId(f"{prefix}-{next(names)}"),
        )
        guard.prices = self._prices(symbol, guard)
        for protective in orders.orders():
            guard.resting.append(protective.order_id)
            self.outcomes["protective"] += 1
            await self.publish(SubmitOrder(protective))

    def _prices(self, symbol: Symbol, guard: _Guard) -> tuple[Decimal | None, Decimal | None]:
        instrument = self.ledger.instrument(symbol)
        prices = protective_prices(
            guard.stops.levels, instrument.tick_rule if instrument is not None else None
        )
        return prices.stop, prices.target
