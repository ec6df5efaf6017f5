"""PaperBroker: a simulated cash account that fills orders against bars like the backtest.

In replay and paper modes the paper broker is "the market". The runtime drives it with
each bar, per symbol, in time order:

1. `begin_bar(bar)` opens the bar: DAY orders from an earlier trading date expire, and
   resting market orders fill at the open (with `fill_timing="next_open"`). Market orders
   submitted from now until `trade_bar` fill at once at the open.
2. `trade_bar(bar)` trades the bar's range: resting stop and limit orders the bar reaches
   fill, those the open already crossed first (at the open), then stops, then limits (the
   pessimistic order); with `fill_timing="close"` resting market orders then fill at the
   close. Afterwards market orders rest until the next bar (at its open, or at once at this
   bar's close with `fill_timing="close"`).

Prices, fees and taxes are the backtest kernel's (`orchestrade.brokers.paper.pricing`).
The account is a cash account: a sell is cut to the position held (a sell of a flat
position is rejected) and a buy that the cash cannot pay is cancelled. With a
participation cap an order takes at most its share of each bar's volume and rests with the
rest. Time in force: IOC and FOK orders get one chance to fill (the first bar that can
fill them); DAY orders expire at the first bar of a later trading date than their first
chance; GTC orders rest until filled or cancelled.

State lives in its own SQLite file (`PaperStore`): each call's changes are committed
before it returns and before any update is emitted, so a new broker on the same file after
a kill resumes exactly. Bars already seen for a symbol are ignored, so a restarted runtime
may feed bars again from any earlier point. A bar that changes no order is kept in memory
only (one commit per bar would cost more than the whole replay); it rides along with the
next commit, or `flush()`.
"""

from __future__ import annotations

import dataclasses
import logging
from collections.abc import Callable, Mapping, Sequence
from datetime import datetime
from decimal import Decimal
from pathlib import Path
from types import TracebackType

from orchestrade.brokers.paper.errors import PaperAccountMismatchError, PaperStoreError
from orchestrade.brokers.paper.pricing import BarPrices, Phase, Pricer, as_decimal
from orchestrade.brokers.paper.settings import PaperSettings
from orchestrade.brokers.paper.store import (
    Changes,
    MarketPhase,
    MarketRecord,
    OrderRecord,
    PaperStore,
    StoredState,
)
from orchestrade.domain import (
    Account,
    Bar,
    BrokerOrderId,
    Fill,
    FillId,
    MissingPriceError,
    Order,
    OrderId,
    OrderStatus,
    OrderType,
    Side,
    Symbol,
    TimeInForce,
)
from orchestrade.execution.broker_errors import BrokerRejectedError
from orchestrade.execution.ports import (
    BrokerUpdate,
    FillUpdate,
    OrderUpdate,
    UpdateListener,
)

log = logging.getLogger(__name__)

Clock = Callable[[], datetime]
"""The current time, aware UTC (simulated in replay)."""

_ONE_CHANCE = (TimeInForce.IOC, TimeInForce.FOK)


class PaperBroker:
    """A persistent simulated broker (see the module docstring). Build it with `open`."""

    def __init__(self, store: PaperStore, settings: PaperSettings, *, clock: Clock) -> None:
        self._store = store
        self._settings = settings
        self._pricer = Pricer(settings)
        self._clock = clock
        self._listeners: list[UpdateListener] = []
        self._records: dict[OrderId, OrderRecord] = {}
        self._resting: dict[Symbol, list[OrderId]] = {}
        self._fills: list[Fill] = []
        self._fill_counts: dict[OrderId, int] = {}
        self._account = Account("KRW", Decimal(0))
        self._markets: dict[Symbol, MarketRecord] = {}
        self._dirty: set[Symbol] = set()
        self._next_sequence = 1

    @classmethod
    def open(
        cls,
        path: Path,
        settings: PaperSettings,
        *,
        cash: Decimal,
        clock: Clock,
        currency: str = "KRW",
    ) -> PaperBroker:
        """The paper account kept in the file at `path`: created with `cash` in `currency`
        when new, resumed as it was left otherwise.

        Raises:
            PaperAccountMismatchError: the file holds an account with another currency or
                starting cash.
            PaperStoreError: the file cannot be opened.
        """
        store = PaperStore.open(path)
        try:
            state = store.load()
            if state.currency is None:
                store.create_account(currency, cash, clock())
                state = store.load()
            elif state.currency != currency or state.initial_cash != cash:
                raise PaperAccountMismatchError(
                    f"paper account {path} holds {state.initial_cash} {state.currency}, "
                    f"not {cash} {currency}"
                )
        except BaseException:
            store.close()
            raise
        broker = cls(store, settings, clock=clock)
        broker._restore(state)
        return broker

    # -- the Broker protocol ---------------------------------------------------------

    @property
    def name(self) -> str:
        """ "paper"."""
        return "paper"

    async def submit(self, order: Order) -> Order:
        """Take a NEW (or SUBMITTED) order: ACCEPTED, or REJECTED with the reason in the
        update. A market order fills at once while its symbol's market is open. An id
        already received only counts the call and returns the order as held.

        Raises:
            BrokerRejectedError: the order is past NEW/SUBMITTED (nothing is recorded).
        """
        changes: Changes = Changes()
        known = self._records.get(order.order_id)
        if known is not None:
            self._put(dataclasses.replace(known, received=known.received + 1), changes)
            self._commit(changes)
            log.info("duplicate submit: order not taken twice", extra={"order_id": order.order_id})
            return known.order
        if order.status not in (OrderStatus.NEW, OrderStatus.SUBMITTED):
            raise BrokerRejectedError(
                f"order {order.order_id} is {order.status.value}: only a new order can be submitted"
            )
        updates: list[BrokerUpdate] = []
        at = self._clock()
        sequence = self._next_sequence
        self._next_sequence += 1
        sent = (
            order
            if order.status is OrderStatus.SUBMITTED
            else order.with_status(OrderStatus.SUBMITTED)
        )
        sent = dataclasses.replace(sent, broker_order_id=BrokerOrderId(f"paper-{sequence}"))
        refusal = self._refusal(sent)
        if refusal is not None:
            view = sent.with_status(OrderStatus.REJECTED)
            self._put(OrderRecord(view, sequence, 1, reason=refusal), changes)
            updates.append(OrderUpdate(view, at, refusal))
        else:
            view = sent.with_status(OrderStatus.ACCEPTED)
            record = OrderRecord(view, sequence, 1)
            self._put(record, changes)
            updates.append(OrderUpdate(view, at, "accepted"))
            market = self._markets.get(view.symbol)
            raw = self._price_now(market)
            if view.order_type is OrderType.MARKET and market is not None and raw is not None:
                self._execute(record, market, raw, True, changes, updates)
        self._commit(changes)
        await self._emit(updates)
        return self._records[order.order_id].order

    async def cancel(self, order_id: OrderId) -> Order:
        """Cancel an open order; a terminal one is returned unchanged.

        Raises:
            BrokerRejectedError: the broker never received `order_id`.
        """
        record = self._records.get(order_id)
        if record is None:
            raise BrokerRejectedError(
                f"cannot cancel order {order_id}: the paper broker never had it"
            )
        if record.order.is_terminal:
            return record.order
        changes: Changes = Changes()
        updates: list[BrokerUpdate] = []
        self._end(
            record, OrderStatus.CANCELLED, "cancelled on request", self._clock(), changes, updates
        )
        self._commit(changes)
        await self._emit(updates)
        return self._records[order_id].order

    async def order(self, order_id: OrderId) -> Order | None:
        """The broker's view of one order, or None when it never received it."""
        record = self._records.get(order_id)
        return None if record is None else record.order

    async def open_orders(self) -> Sequence[Order]:
        """Orders not terminal, in arrival order."""
        return self.orders(open_only=True)

    async def fills(self, *, since: datetime | None = None) -> Sequence[Fill]:
        """Every fill (filled at or after `since` when given), oldest first."""
        if since is None:
            return list(self._fills)
        return [fill for fill in self._fills if fill.filled_at >= since]

    async def positions(self) -> Mapping[Symbol, Decimal]:
        """Quantity held per symbol, flat symbols omitted."""
        return {symbol: p.quantity for symbol, p in self._account.open_positions.items()}

    async def account(self) -> Account:
        """Cash and positions."""
        return self._account

    def subscribe(self, listener: UpdateListener) -> None:
        """Hand every later order and fill update to `listener` (failures are logged)."""
        self._listeners.append(listener)

    # -- the market ----------------------------------------------------------------------

    async def begin_bar(self, bar: Bar) -> list[BrokerUpdate]:
        """Open `bar` for its symbol (step 1 of the module docstring); returns the updates
        emitted. A bar not later than the symbol's current bar is ignored."""
        changes: Changes = Changes()
        updates: list[BrokerUpdate] = []
        self._open_bar(bar, changes, updates)
        if changes:
            self._commit(changes)
        await self._emit(updates)
        return updates

    async def trade_bar(self, bar: Bar) -> list[BrokerUpdate]:
        """Trade `bar`'s range for its symbol (step 2 of the module docstring), opening it
        first if `begin_bar` was not called; returns the updates emitted. A bar already
        traded, or earlier than the current one, is ignored."""
        changes: Changes = Changes()
        updates: list[BrokerUpdate] = []
        market = self._markets.get(bar.symbol)
        if market is None or bar.start > market.bar.start:
            self._open_bar(bar, changes, updates)
        elif bar.start < market.bar.start or market.phase is MarketPhase.TRADED:
            return []
        market = self._markets[bar.symbol]
        self._trade_range(market, changes, updates)
        if self._settings.fill_timing == "close":
            for order_id in list(self._resting.get(bar.symbol, ())):
                record = self._records[order_id]
                if record.order.order_type is OrderType.MARKET and not record.order.is_terminal:
                    self._execute(record, market, float(market.bar.close), True, changes, updates)
        self._markets[bar.symbol] = dataclasses.replace(market, phase=MarketPhase.TRADED)
        self._dirty.add(bar.symbol)
        if changes:
            self._commit(changes)
        await self._emit(updates)
        return updates

    # -- inspection ----------------------------------------------------------------------

    def orders(self, *, open_only: bool = False) -> list[Order]:
        """Every order received (or the open ones), in arrival order."""
        records = sorted(self._records.values(), key=lambda record: record.sequence)
        return [r.order for r in records if not (open_only and r.order.is_terminal)]

    def reason(self, order_id: OrderId) -> str:
        """Why the order was rejected, cancelled or expired ("" otherwise or if unknown)."""
        record = self._records.get(order_id)
        return "" if record is None else record.reason

    def received(self, order_id: OrderId) -> int:
        """How many submit calls carried `order_id` (0 if none)."""
        record = self._records.get(order_id)
        return 0 if record is None else record.received

    def submissions(self) -> Mapping[OrderId, int]:
        """`received` for every order id, in arrival order."""
        records = sorted(self._records.values(), key=lambda record: record.sequence)
        return {record.order.order_id: record.received for record in records}

    def market(self, symbol: Symbol) -> MarketRecord | None:
        """The symbol's current bar, previous close and phase (None before its first bar)."""
        return self._markets.get(symbol)

    def last_price(self, symbol: Symbol) -> Decimal | None:
        """The symbol's latest price: its current bar's open while the bar is open, its
        close once traded; None before its first bar."""
        market = self._markets.get(symbol)
        if market is None:
            return None
        return market.bar.open if market.phase is MarketPhase.OPEN else market.bar.close

    def equity(self) -> Decimal:
        """Cash plus every position at `last_price`.

        Raises:
            MissingPriceError: a position's symbol has no bar yet.
        """
        prices: dict[Symbol, Decimal] = {}
        for symbol in self._account.open_positions:
            price = self.last_price(symbol)
            if price is None:
                raise MissingPriceError(f"no bar yet for the position in {symbol}")
            prices[symbol] = price
        return self._account.equity(prices)

    def flush(self) -> None:
        """Write the market state of bars that changed no order (see the module docstring)."""
        if self._dirty:
            self._commit(Changes())

    def close(self) -> None:
        """Flush and release the state file."""
        try:
            self.flush()
        finally:
            self._store.close()

    def __enter__(self) -> PaperBroker:
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        trace: TracebackType | None,
    ) -> None:
        self.close()

    # -- internals -----------------------------------------------------------------------

    def _restore(self, state: StoredState) -> None:
        """Rebuild the in-memory state from the file."""
        self._records = {record.order.order_id: record for record in state.orders}
        self._resting = {}
        for record in state.orders:
            if not record.order.is_terminal:
                self._resting.setdefault(record.order.symbol, []).append(record.order.order_id)
        self._next_sequence = max((r.sequence for r in state.orders), default=0) + 1
        self._fills = list(state.fills)
        self._fill_counts = {}
        account = Account(state.currency or "KRW", state.initial_cash or Decimal(0))
        for fill in state.fills:
            account = account.apply(fill)
            self._fill_counts[fill.order_id] = self._fill_counts.get(fill.order_id, 0) + 1
        self._account = account
        self._markets = dict(state.markets)
        self._dirty = set()

    def _commit(self, changes: Changes) -> None:
        for symbol in self._dirty:
            changes.markets[symbol] = self._markets[symbol]
        try:
            self._store.write(changes)
        except PaperStoreError:
            # Nothing of the call was kept: forget it in memory too.
            self._restore(self._store.load())
            raise
        self._dirty.clear()

    def _put(self, record: OrderRecord, changes: Changes) -> None:
        order = record.order
        self._records[order.order_id] = record
        changes.orders[order.order_id] = record
        resting = self._resting.setdefault(order.symbol, [])
        if order.is_terminal:
            if order.order_id in resting:
                resting.remove(order.order_id)
        elif order.order_id not in resting:
            resting.append(order.order_id)

    async def _emit(self, updates: list[BrokerUpdate]) -> None:
        for update in updates:
            for listener in list(self._listeners):
                try:
                    await listener(update)
                except Exception:
                    # Boundary: the update is committed; a failing listener must not
                    # stop the others or undo the broker's state.
                    log.exception("paper broker listener %r failed", listener)

    def _price_now(self, market: MarketRecord | None) -> float | None:
        """The price a market order submitted now fills at, None when it must rest."""
        if market is None:
            return None
        if market.phase is MarketPhase.OPEN:
            return float(market.bar.open)
        if self._settings.fill_timing == "close":
            return float(market.bar.close)
        return None

    def _refusal(self, order: Order) -> str | None:
        """Why the order is rejected on arrival, or None."""
        symbol = order.symbol
        rules = self._settings.rules_for(symbol)
        if order.order_type is OrderType.STOP_LIMIT:
            return "the paper broker does not take stop_limit orders"
        if order.quantity % rules.lot != 0:
            return (
                f"quantity {order.quantity} of {symbol} is not a multiple of the lot size "
                f"{rules.lot}"
            )
        if order.side is Side.SELL and self._account.position(symbol).quantity <= 0:
            return f"no short selling: no position in {symbol} to sell"
        if order.side is Side.BUY and order.order_type is OrderType.LIMIT:
            assert order.limit_price is not None  # checked by Order
            level = self._pricer.round(float(order.limit_price), False, rules)
            fee, _ = self._pricer.costs(float(order.quantity) * level, Side.BUY, rules)
            cost = order.quantity * as_decimal(level) + as_decimal(fee)
            if cost > self._account.cash:
                return (
                    f"insufficient cash: buying {order.quantity} {symbol} at up to "
                    f"{as_decimal(level)} costs {cost} with fees, cash is {self._account.cash}"
                )
        return None

    def _open_bar(self, bar: Bar, changes: Changes, updates: list[BrokerUpdate]) -> None:
        symbol = bar.symbol
        market = self._markets.get(symbol)
        if market is not None and bar.start <= market.bar.start:
            return
        previous_close = None if market is None else market.bar.close
        market = MarketRecord(bar, previous_close, MarketPhase.OPEN)
        self._markets[symbol] = market
        self._dirty.add(symbol)
        resting = self._resting.get(symbol)
        if not resting:
            return
        day = bar.start.date()
        for order_id in list(resting):
            record = self._records[order_id]
            session = record.session
            if record.order.time_in_force is TimeInForce.DAY and session and session < day:
                reason = f"day order expired at the end of {session.isoformat()}"
                self._end(record, OrderStatus.EXPIRED, reason, bar.start, changes, updates)
        if self._settings.fill_timing == "next_open":
            for order_id in list(resting):
                record = self._records[order_id]
                if record.order.order_type is OrderType.MARKET:
                    self._execute(record, market, float(bar.open), True, changes, updates)

    def _trade_range(
        self, market: MarketRecord, changes: Changes, updates: list[BrokerUpdate]
    ) -> None:
        bar = market.bar
        prices = BarPrices.of(bar)
        rules = self._settings.rules_for(bar.symbol)
        triggered: list[tuple[Phase, int, OrderId, float, bool]] = []
        for order_id in list(self._resting.get(bar.symbol, ())):
            record = self._records[order_id]
            if record.order.order_type is OrderType.MARKET:
                continue
            trigger = self._pricer.trigger(record.order, prices, rules)
            if trigger is not None:
                triggered.append(
                    (trigger.phase, record.sequence, order_id, trigger.raw, trigger.slips)
                )
                continue
            record = self._start_session(record, bar, changes)
            if record.order.time_in_force in _ONE_CHANCE:
                reason = (
                    f"{_tif_name(record.order)}: not triggered in the bar of "
                    f"{bar.start.isoformat()}"
                )
                self._end(record, OrderStatus.CANCELLED, reason, bar.start, changes, updates)
        for _phase, _sequence, order_id, raw, slips in sorted(triggered):
            record = self._records[order_id]
            if not record.order.is_terminal:
                self._execute(record, market, raw, slips, changes, updates)

    def _start_session(self, record: OrderRecord, bar: Bar, changes: Changes) -> OrderRecord:
        """Note the trading date of the order's first chance to fill."""
        if record.session is not None:
            return record
        started = dataclasses.replace(record, session=bar.start.date())
        self._put(started, changes)
        return started

    def _execute(
        self,
        record: OrderRecord,
        market: MarketRecord,
        raw: float,
        slips: bool,
        changes: Changes,
        updates: list[BrokerUpdate],
    ) -> None:
        """Fill what the bar allows of `record` at `raw` (slipped when `slips`)."""
        bar = market.bar
        at = bar.start
        record = self._start_session(record, bar, changes)
        order = record.order
        symbol = order.symbol
        rules = self._settings.rules_for(symbol)
        prices = BarPrices.of(bar)
        price = self._pricer.slipped(raw, order.side, prices, rules) if slips else raw
        if not price > 0.0:
            self._unfilled(record, f"fill price of {symbol} would be {price}", at, changes, updates)
            return
        previous = None if market.previous_close is None else float(market.previous_close)
        band = self._pricer.band(previous, rules)
        if band is not None and band.excludes(price):
            reason = (
                f"fill price {price} of {symbol} is outside the price band "
                f"[{band.floor}, {band.ceiling}] around the previous close {band.previous_close}"
            )
            self._unfilled(record, reason, at, changes, updates)
            return
        remaining = order.remaining_quantity
        quantity = remaining
        cap = self._pricer.participation_cap(prices.volume, rules)
        if cap is not None:
            quantity = min(quantity, cap)
        if order.side is Side.SELL:
            held = self._account.position(symbol).quantity
            if held <= 0:
                reason = f"no short selling: no position in {symbol} left to sell"
                self._end(record, OrderStatus.CANCELLED, reason, at, changes, updates)
                return
            quantity = min(quantity, held)
        if quantity <= 0:
            reason = (
                f"participation cap: {self._settings.participation} of the volume "
                f"{bar.volume} of {symbol} allows nothing"
            )
            self._unfilled(record, reason, at, changes, updates)
            return
        if order.time_in_force is TimeInForce.FOK and quantity < remaining:
            reason = f"fill-or-kill: only {quantity} of {remaining} could fill"
            self._end(record, OrderStatus.CANCELLED, reason, at, changes, updates)
            return
        fee, tax = self._pricer.costs(float(quantity) * price, order.side, rules)
        fill_price, fill_fee, fill_tax = as_decimal(price), as_decimal(fee), as_decimal(tax)
        if order.side is Side.BUY:
            cost = quantity * fill_price + fill_fee
            if cost > self._account.cash:
                reason = (
                    f"insufficient cash: {quantity} {symbol} at {fill_price} cost {cost} "
                    f"with fees, cash is {self._account.cash}"
                )
                self._end(record, OrderStatus.CANCELLED, reason, at, changes, updates)
                return
        number = self._fill_counts.get(order.order_id, 0) + 1
        fill = Fill(
            fill_id=FillId(f"{order.order_id}-{number}"),
            order_id=order.order_id,
            symbol=symbol,
            side=order.side,
            quantity=quantity,
            price=fill_price,
            filled_at=at,
            fee=fill_fee,
            tax=fill_tax,
        )
        filled = order.with_fill(fill)
        self._fill_counts[order.order_id] = number
        self._fills.append(fill)
        self._account = self._account.apply(fill)
        changes.fills.append(fill)
        record = dataclasses.replace(record, order=filled)
        self._put(record, changes)
        updates.append(FillUpdate(fill))
        if filled.is_terminal:
            return
        if order.side is Side.SELL and self._account.position(symbol).quantity <= 0:
            reason = (
                f"sell cut to the position: {filled.filled_quantity} of {filled.quantity} "
                "sold, nothing left to sell"
            )
            self._end(record, OrderStatus.CANCELLED, reason, at, changes, updates)
        elif order.time_in_force is TimeInForce.IOC:
            reason = (
                f"immediate-or-cancel: {filled.remaining_quantity} of {filled.quantity} unfilled"
            )
            self._end(record, OrderStatus.CANCELLED, reason, at, changes, updates)

    def _unfilled(
        self,
        record: OrderRecord,
        reason: str,
        at: datetime,
        changes: Changes,
        updates: list[BrokerUpdate],
    ) -> None:
        """The bar could not fill the order: IOC and FOK orders end, others rest."""
        if record.order.time_in_force in _ONE_CHANCE:
            ended = f"{_tif_name(record.order)}: {reason}"
            self._end(record, OrderStatus.CANCELLED, ended, at, changes, updates)
        else:
            log.info("order rests: %s", reason, extra={"order_id": record.order.order_id})

    def _end(
        self,
        record: OrderRecord,
        status: OrderStatus,
        reason: str,
        at: datetime,
        changes: Changes,
        updates: list[BrokerUpdate],
    ) -> None:
        ended = record.order.with_status(status)
        self._put(dataclasses.replace(record, order=ended, reason=reason), changes)
        updates.append(OrderUpdate(ended, at, reason))


def _tif_name(order: Order) -> str:
    return "fill-or-kill" if order.time_in_force is TimeInForce.FOK else "immediate-or-cancel"
