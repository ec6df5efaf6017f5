"""PortfolioAgent: the ledger of record: positions, cash, equity and the round-trip trades.

It books every `OrderFilled` into the account of the order's bot (and symbol, in isolated
mode), publishes `PositionChanged`, marks the accounts at every close and keeps, per
account, the equity after each close and the completed trades, in the shape the backtest
reports them (entry and exit time and price, quantity, P&L after costs, costs). With a
journal it also keeps, for the API and the rebalancing, each bot's (and the whole
account's) equity snapshot after every close and each bot's positions, written in batches.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal

from orchestrade.agents.base import Agent
from orchestrade.bus import Bus
from orchestrade.domain import (
    BarsClosed,
    BarsOpened,
    BotId,
    Envelope,
    Fill,
    Order,
    OrderFilled,
    OrderType,
    Position,
    PositionChanged,
    Side,
    Symbol,
)
from orchestrade.portfolio import Ledger
from orchestrade.portfolio.snapshots import PortfolioSnapshot, SnapshotJournal

ZERO = Decimal(0)
SNAPSHOT_FLUSH_INTERVAL_S = 0.25
"""Snapshots and positions are written at most this often (wall time) by default: a write
holds the event loop (which serves the API too), so it is kept short; a crash loses at most
this interval's snapshots, which a resumed run takes again."""


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


def bot_of(account_id: str) -> BotId:
    """The bot of a ledger account ("bot" in portfolio mode, "bot/symbol" when isolated)."""
    return BotId(account_id.split("/", 1)[0])


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


class _Sleeve:
    """The cash and equity of one bot's accounts, and their sums (kept until one changes).

    The sums are taken as the ledger would take them, `ZERO + first + second + ...` in the
    ledger's order of the accounts, so that they are the same Decimals, digit for digit; a
    close changes only the accounts that hold its symbol, and a sum of a few dozen Decimals
    in C is cheaper than keeping it by differences (which could also change its exponent).
    """

    __slots__ = ("cash", "cash_total", "equity", "equity_total")

    def __init__(self) -> None:
        self.cash: list[Decimal] = []
        self.equity: list[Decimal] = []
        self.cash_total: Decimal | None = None
        self.equity_total: Decimal | None = None

    def add(self, cash: Decimal, equity: Decimal) -> int:
        """Append an account; returns its index."""
        self.cash.append(cash)
        self.equity.append(equity)
        self.cash_total = self.equity_total = None
        return len(self.cash) - 1

    def update(self, index: int, cash: Decimal, equity: Decimal) -> None:
        """New values of the account at `index` (the sums are taken again if they moved)."""
        if self.cash[index] is not cash:
            self.cash[index] = cash
            self.cash_total = None
        if self.equity[index] is not equity:
            self.equity[index] = equity
            self.equity_total = None

    def snapshot(self, at: datetime, bot: BotId) -> PortfolioSnapshot:
        """The bot's snapshot at `at`."""
        cash = self.cash_total
        if cash is None:
            cash = self.cash_total = sum(self.cash, ZERO)
        equity = self.equity_total
        if equity is None:
            equity = self.equity_total = sum(self.equity, ZERO)
        return PortfolioSnapshot.of(at, cash, equity, bot)


class PortfolioAgent(Agent):
    """Books fills, marks accounts, records equity and trades."""

    def __init__(
        self,
        bus: Bus,
        ledger: Ledger,
        *,
        journal: SnapshotJournal | None = None,
        flush_interval_s: float = SNAPSHOT_FLUSH_INTERVAL_S,
        agent_id: str = "portfolio",
        heartbeat_interval_s: float = 1.0,
    ) -> None:
        super().__init__(agent_id, bus, heartbeat_interval_s=heartbeat_interval_s)
        self.ledger = ledger
        self.journal = journal
        self.flush_interval_s = flush_interval_s
        self._snapshots: dict[tuple[BotId, datetime], PortfolioSnapshot] = {}
        self._moved: dict[BotId, set[Symbol]] = {}
        """The symbols whose position moved since the last flush, by bot."""
        self._sleeves: dict[BotId, _Sleeve] = {}
        """Each bot's accounts' cash and equity, in the ledger's order (`_synced_sleeves`)."""
        self._slots: dict[str, tuple[_Sleeve, int]] = {}
        """Where each account's cash and equity sit in its bot's sleeve."""
        self._filled: dict[str, None] = {}
        """Accounts filled since their sleeve entries were last brought up to date."""
        self._changes = -1
        """`Ledger.changes` as the sleeves know them (another value: build them again)."""
        self._flushed_at = time.monotonic()
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
        ledger = self.ledger
        account_id = ledger.account_id(order.bot_id, order.symbol)
        in_step = ledger.changes == self._changes
        position = ledger.apply_fill(account_id, fill)
        if in_step:  # else the sleeves are built again anyway
            self._changes = ledger.changes
            self._filled[account_id] = None
        self.fills.append((account_id, fill))
        self._moved.setdefault(order.bot_id, set()).add(order.symbol)
        self._record_trade(account_id, fill, position.quantity, exit_reason(order))
        await self.publish(PositionChanged(position, fill, order.bot_id))

    async def on_bars_opened(self, envelope: Envelope) -> None:
        event = envelope.payload
        assert isinstance(event, BarsOpened)
        self.ledger.on_bars_opened(event.bars)
        bar_time = self._bar_time
        for bar in event.bars:
            bar_time[bar.symbol] = bar.start

    async def on_bars_closed(self, envelope: Envelope) -> None:
        event = envelope.payload
        assert isinstance(event, BarsClosed)
        at = event.start
        equities = self.ledger.equities_after(event.bars)
        if not equities:
            return
        curves, slots = self.curves, self._slots
        for account_id, value in equities.items():
            curve = curves.get(account_id)
            if curve is None:
                curve = curves[account_id] = EquityCurve()
            curve.times.append(at)
            curve.values.append(value)
            slot = slots.get(account_id)
            if slot is not None:
                sleeve, index = slot
                if sleeve.equity[index] is not value:
                    sleeve.equity[index] = value
                    sleeve.equity_total = None
        if self.journal is not None:
            self._snapshot(at)
            if time.monotonic() - self._flushed_at >= self.flush_interval_s:
                self.flush()

    async def on_stop(self) -> None:
        self.flush()
        await super().on_stop()

    def snapshots_at(self, at: datetime) -> list[PortfolioSnapshot]:
        """Each bot's snapshot now (its accounts summed). The whole portfolio is their sum
        (`PortfolioRepository.total_snapshots`): bots may run in other nodes."""
        return [sleeve.snapshot(at, bot) for bot, sleeve in self._synced_sleeves().items()]

    def flush(self) -> None:
        """Write the snapshots taken and the positions moved since the last flush (at most
        once per `flush_interval_s` of wall time, and at stop: a crash loses at most that
        interval's, which the restarted replay takes again). Only the symbols that moved are
        written: the others' saved rows are still what the ledger holds."""
        self._flushed_at = time.monotonic()
        journal = self.journal
        if journal is None:
            return
        if self._snapshots:
            snapshots, self._snapshots = list(self._snapshots.values()), {}
            journal.record_snapshots(snapshots)
        moved, self._moved = self._moved, {}
        for bot in sorted(moved):
            symbols = moved[bot]
            positions: dict[Symbol, Position] = {}
            for account_id, state in self.ledger.accounts.items():
                if bot_of(account_id) == bot:
                    positions.update(
                        (symbol, position)
                        for symbol, position in state.positions.items()
                        if symbol in symbols
                    )
            at = max(self._bar_time.values(), default=None)
            if positions and at is not None:
                journal.save_positions(positions.values(), at=at, bot_id=bot)

    def _snapshot(self, at: datetime) -> None:
        snapshots = self._snapshots
        for bot, sleeve in self._synced_sleeves().items():
            snapshots[(bot, at)] = sleeve.snapshot(at, bot)

    def _synced_sleeves(self) -> dict[BotId, _Sleeve]:
        """The sleeves, with the entries of the accounts filled since the last call renewed
        (built again from the ledger when it has accounts they do not know, or when an
        account changed other than by a fill this agent booked)."""
        ledger = self.ledger
        if len(self._slots) != len(ledger.accounts) or ledger.changes != self._changes:
            self._changes = ledger.changes
            self._sleeves, self._slots = {}, {}
            for account_id, state in ledger.accounts.items():
                owner = bot_of(account_id)
                sleeve = self._sleeves.get(owner)
                if sleeve is None:
                    sleeve = self._sleeves[owner] = _Sleeve()
                self._slots[account_id] = (sleeve, sleeve.add(state.cash, ledger.equity_of(state)))
            self._filled.clear()
        elif self._filled:
            slots = self._slots
            for account_id in self._filled:
                slot = slots.get(account_id)
                if slot is not None:
                    state = ledger.account(account_id)
                    slot[0].update(slot[1], state.cash, ledger.equity_of(state))
            self._filled.clear()
        return self._sleeves

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
