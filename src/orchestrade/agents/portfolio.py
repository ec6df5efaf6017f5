"""PortfolioAgent: the ledger of record: positions, cash, equity and the round-trip trades.

It books every `OrderFilled` into the account of the order's bot (and symbol, in isolated
mode), publishes `PositionChanged`, marks the accounts at every close and keeps, per
account, the equity after each close and the completed trades, in the shape the backtest
reports them (entry and exit time and price, quantity, P&L after costs, costs).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal

from orchestrade.agents.base import Agent
from orchestrade.bus import Bus
from orchestrade.domain import (
    BarsClosed,
    BarsOpened,
    Envelope,
    Fill,
    Order,
    OrderFilled,
    OrderType,
    PositionChanged,
    Side,
    Symbol,
)
from orchestrade.portfolio import Ledger

ZERO = Decimal(0)


@dataclass(frozen=True, slots=True)
class Trade:
    """One round trip of one account: bought, then sold back to flat."""

    account_id: str
    symbol: Symbol
    entry_time: datetime
    entry_price: Decimal
    exit_time: datetime
    exit_price: Decimal
    quantity: Decimal
    pnl: Decimal
    fees: Decimal
    exit_reason: str = "signal"


EXIT_REASONS = ("stop_loss", "take_profit", "trailing_stop")
"""Exit reasons a protective order's client id ends with (the risk agent names them so)."""


def exit_reason(order: Order) -> str:
    """Why a sell closed a trade, in the backtest's words: "signal" for a market order, else
    the reason its protective order's id ends with ("stop_loss", "take_profit", ...)."""
    if order.order_type is OrderType.MARKET:
        return "signal"
    name = str(order.order_id)
    while name.endswith("-resent"):
        name = name.removesuffix("-resent")
    reason = name.rsplit("-", 1)[-1]
    if reason in EXIT_REASONS:
        return reason
    return "take_profit" if order.order_type is OrderType.LIMIT else "stop_loss"


@dataclass(slots=True)
class _OpenTrade:
    symbol: Symbol
    entry_time: datetime
    quantity: Decimal = ZERO
    entry_value: Decimal = ZERO
    exit_value: Decimal = ZERO
    exit_quantity: Decimal = ZERO
    costs: Decimal = ZERO

    @property
    def entry_price(self) -> Decimal:
        """The average price of the buys (one fill's price for an entry filled at once)."""
        return self.entry_value / self.quantity


@dataclass(slots=True)
class EquityCurve:
    """Equity of one account after each close it saw."""

    times: list[datetime] = field(default_factory=list)
    values: list[Decimal] = field(default_factory=list)


class PortfolioAgent(Agent):
    """Books fills, marks accounts, records equity and trades."""

    def __init__(
        self,
        bus: Bus,
        ledger: Ledger,
        *,
        agent_id: str = "portfolio",
        heartbeat_interval_s: float = 1.0,
    ) -> None:
        super().__init__(agent_id, bus, heartbeat_interval_s=heartbeat_interval_s)
        self.ledger = ledger
        self.trades: list[Trade] = []
        self.fills: list[tuple[str, Fill]] = []
        self.curves: dict[str, EquityCurve] = {name: EquityCurve() for name in ledger.accounts}
        self._open: dict[tuple[str, Symbol], _OpenTrade] = {}  # by account and symbol
        self._bar_time: dict[Symbol, datetime] = {}

    async def on_start(self) -> None:
        group = self.agent_id
        await self.subscribe(OrderFilled, self.on_order_filled, group=group)
        await self.subscribe(BarsOpened, self.on_bars_opened, group=group)
        await self.subscribe(BarsClosed, self.on_bars_closed, group=group)

    async def on_order_filled(self, envelope: Envelope) -> None:
        event = envelope.payload
        assert isinstance(event, OrderFilled)
        order, fill = event.order, event.fill
        if order.bot_id is None:
            return
        account_id = self.ledger.account_id(order.bot_id, order.symbol)
        position = self.ledger.apply_fill(account_id, fill)
        self.fills.append((account_id, fill))
        self._record_trade(account_id, fill, position.quantity, exit_reason(order))
        await self.publish(PositionChanged(position, fill, order.bot_id))

    async def on_bars_opened(self, envelope: Envelope) -> None:
        event = envelope.payload
        assert isinstance(event, BarsOpened)
        for bar in event.bars:
            self.ledger.on_open(bar)
            self._bar_time[bar.symbol] = bar.start

    async def on_bars_closed(self, envelope: Envelope) -> None:
        event = envelope.payload
        assert isinstance(event, BarsClosed)
        touched: dict[str, None] = {}
        for bar in event.bars:
            self.ledger.on_close(bar)
            for state in self.ledger.accounts_of(bar.symbol):
                touched[state.account_id] = None
        for account_id in touched:
            curve = self.curves.setdefault(account_id, EquityCurve())
            curve.times.append(event.start)
            curve.values.append(self.ledger.equity(account_id))

    def _record_trade(self, account_id: str, fill: Fill, after: Decimal, reason: str) -> None:
        costs = fill.fee + fill.tax
        key = (account_id, fill.symbol)
        open_trade = self._open.get(key)
        at = self._bar_time.get(fill.symbol, fill.filled_at)
        if fill.side is Side.BUY:
            if open_trade is None:
                open_trade = _OpenTrade(fill.symbol, at)
                self._open[key] = open_trade
            open_trade.quantity += fill.quantity
            open_trade.entry_value += fill.gross_value
            open_trade.costs += costs
            return
        if open_trade is None:
            return
        open_trade.exit_value += fill.gross_value
        open_trade.exit_quantity += fill.quantity
        open_trade.costs += costs
        if after <= 0:
            del self._open[key]
            self.trades.append(
                Trade(
                    account_id=account_id,
                    symbol=open_trade.symbol,
                    entry_time=open_trade.entry_time,
                    entry_price=open_trade.entry_price,
                    exit_time=at,
                    exit_price=open_trade.exit_value / open_trade.exit_quantity,
                    quantity=open_trade.quantity,
                    pnl=open_trade.exit_value - open_trade.entry_value - open_trade.costs,
                    fees=open_trade.costs,
                    exit_reason=reason,
                )
            )

    def open_trades(self) -> dict[tuple[str, Symbol], _OpenTrade]:
        """Positions still open, by account and symbol (valued at the last close in
        summaries)."""
        return dict(self._open)
