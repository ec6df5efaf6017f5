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

Prices, fees and taxes are the backtest kernel's (`pricing`); the rules of the cash
account, the participation cap, the price band and time in force are in `matching`. In
short: a sell is cut to the position (a sell of a flat position is rejected), a buy the
cash cannot pay is cancelled, an order takes at most its share of each bar's volume and
rests with the rest; IOC and FOK orders get one chance, DAY orders expire at the first bar
of a later trading date than their first chance, GTC orders rest until filled or
cancelled. Fill ids are "<client order id>-<n>".

State lives in its own SQLite file (`store`): each call's changes are committed before it
returns and before any update is emitted, so a new broker on the same file after a kill
resumes exactly. A bar that changes no order is kept in memory only (a commit per bar
would cost more than the whole replay): a symbol's market state is written with the next
commit that changes one of its orders, or by `flush()` (at `close`). A symbol's state on
disk is therefore never older than its last order change, and the bars since then changed
none of its orders: replaying them changes none either. So after a restart, feed each
symbol's bars again from `market(symbol).bar` or earlier: bars the broker has seen are
ignored, and the bars it lost are replayed exactly as before. (Writing every symbol's
market with each commit cost a replay of 100 symbols a hundred rows per order batch.)
"""

from __future__ import annotations

import dataclasses
import logging
from collections.abc import Callable, Mapping, Sequence
from datetime import datetime
from decimal import Decimal
from pathlib import Path
from types import TracebackType

from orchestrade.brokers.paper.book import PaperBook
from orchestrade.brokers.paper.errors import PaperAccountMismatchError, PaperStoreError
from orchestrade.brokers.paper.matching import Matcher
from orchestrade.brokers.paper.settings import PaperSettings
from orchestrade.brokers.paper.store import (
    Changes,
    MarketPhase,
    MarketRecord,
    OrderRecord,
    PaperStore,
)
from orchestrade.domain import (
    Account,
    Bar,
    BrokerOrderId,
    Fill,
    MissingPriceError,
    Order,
    OrderId,
    OrderStatus,
    Symbol,
)
from orchestrade.execution.broker_errors import BrokerRejectedError
from orchestrade.execution.ports import BrokerUpdate, OrderUpdate, UpdateListener

log = logging.getLogger(__name__)

Clock = Callable[[], datetime]
"""The current time, aware UTC (simulated in replay)."""


class PaperBroker:
    """A persistent simulated broker (see the module docstring). Build it with `open`."""

    def __init__(self, store: PaperStore, settings: PaperSettings, *, clock: Clock) -> None:
        self._store = store
        self._matcher = Matcher(settings)
        self._clock = clock
        self._listeners: list[UpdateListener] = []
        self._book = PaperBook(store.load())

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
        when new, resumed as it was left otherwise. The settings are not stored: pass the
        same ones again.

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
            elif state.currency != currency or state.initial_cash != cash:
                raise PaperAccountMismatchError(
                    f"paper account {path} holds {state.initial_cash} {state.currency}, "
                    f"not {cash} {currency}"
                )
            return cls(store, settings, clock=clock)
        except BaseException:
            store.close()
            raise

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
        (answer,) = await self.submit_many((order,))
        if isinstance(answer, BrokerRejectedError):
            raise answer
        return answer

    async def submit_many(self, orders: Sequence[Order]) -> list[Order | BrokerRejectedError]:
        """`submit` for each of `orders` in turn, with one commit of the broker's state for
        all of them, then their updates emitted in order (an order is taken only once the
        whole call is durable, as with `submit`).

        Returns:
            For each order, the order as the broker then holds it, or the
            `BrokerRejectedError` its `submit` would have raised.

        Raises:
            PaperStoreError: the state could not be written: none of the orders was taken.
        """
        changes = Changes()
        updates: list[BrokerUpdate] = []
        taken: list[OrderId | BrokerRejectedError] = []
        at = self._clock()
        for order in orders:
            try:
                taken.append(self._take(order, at, changes, updates))
            except BrokerRejectedError as refusal:
                taken.append(refusal)
        self._commit(changes)
        await self._emit(updates)
        records = self._book.records
        return [
            answer if isinstance(answer, BrokerRejectedError) else records[answer].order
            for answer in taken
        ]

    def _take(
        self, order: Order, at: datetime, changes: Changes, updates: list[BrokerUpdate]
    ) -> OrderId:
        """Receive `order` into the book (step of `submit_many`); returns its id.

        Raises:
            BrokerRejectedError: the order is past NEW/SUBMITTED (nothing is recorded).
        """
        book = self._book
        known = book.records.get(order.order_id)
        if known is not None:
            book.put(dataclasses.replace(known, received=known.received + 1), changes)
            log.info("duplicate submit: order not taken twice", extra={"order_id": order.order_id})
            return order.order_id
        if order.status not in (OrderStatus.NEW, OrderStatus.SUBMITTED):
            raise BrokerRejectedError(
                f"order {order.order_id} is {order.status.value}: only a new order can be submitted"
            )
        sequence = book.next_sequence()
        broker_id = BrokerOrderId(f"paper-{sequence}")
        # The order goes NEW/SUBMITTED -> SUBMITTED -> ACCEPTED or REJECTED, all moves the
        # state machine allows; the view is built in one step, and the refusal rules look at
        # neither status nor broker id.
        refusal = self._matcher.refusal(book, order)
        if refusal is not None:
            view = order.with_broker_state(OrderStatus.REJECTED, broker_id)
            book.put(OrderRecord(view, sequence, 1, reason=refusal), changes)
            updates.append(OrderUpdate(view, at, refusal))
        else:
            view = order.with_broker_state(OrderStatus.ACCEPTED, broker_id)
            record = OrderRecord(view, sequence, 1)
            book.put(record, changes)
            updates.append(OrderUpdate(view, at, "accepted"))
            self._matcher.fill_on_arrival(book, record, changes, updates)
        return order.order_id

    async def cancel(self, order_id: OrderId) -> Order:
        """Cancel an open order; a terminal one is returned unchanged.

        Raises:
            BrokerRejectedError: the broker never received `order_id`.
        """
        record = self._book.records.get(order_id)
        if record is None:
            raise BrokerRejectedError(
                f"cannot cancel order {order_id}: the paper broker never had it"
            )
        if record.order.is_terminal:
            return record.order
        changes = Changes()
        updates: list[BrokerUpdate] = []
        self._matcher.cancel(self._book, record, self._clock(), changes, updates)
        self._commit(changes)
        await self._emit(updates)
        return self._book.records[order_id].order

    async def order(self, order_id: OrderId) -> Order | None:
        """The broker's view of one order, or None when it never received it."""
        record = self._book.records.get(order_id)
        return None if record is None else record.order

    async def open_orders(self) -> Sequence[Order]:
        """Orders not terminal, in arrival order."""
        return self.orders(open_only=True)

    async def fills(self, *, since: datetime | None = None) -> Sequence[Fill]:
        """Every fill (filled at or after `since` when given), oldest first."""
        if since is None:
            return list(self._book.fills)
        return [fill for fill in self._book.fills if fill.filled_at >= since]

    async def positions(self) -> Mapping[Symbol, Decimal]:
        """Quantity held per symbol, flat symbols omitted."""
        return {symbol: p.quantity for symbol, p in self._book.account.open_positions.items()}

    async def account(self) -> Account:
        """Cash and positions."""
        return self._book.account

    def subscribe(self, listener: UpdateListener) -> None:
        """Hand every later order and fill update to `listener` (failures are logged)."""
        self._listeners.append(listener)

    # -- the market ----------------------------------------------------------------------

    async def begin_bar(self, bar: Bar) -> list[BrokerUpdate]:
        """Open `bar` for its symbol (step 1 of the module docstring); returns the updates
        emitted. A bar not later than the symbol's current bar is ignored."""
        return await self.begin_bars((bar,))

    async def begin_bars(self, bars: Sequence[Bar]) -> list[BrokerUpdate]:
        """`begin_bar` for each of `bars` (one slice: one bar per symbol), with one commit
        for all of them and their updates emitted after it, in the bars' order."""
        changes = Changes()
        updates: list[BrokerUpdate] = []
        open_bar, book = self._matcher.open_bar, self._book
        for bar in bars:
            open_bar(book, bar, changes, updates)
        return await self._settle(changes, updates)

    async def trade_bar(self, bar: Bar) -> list[BrokerUpdate]:
        """Trade `bar`'s range for its symbol (step 2 of the module docstring), opening it
        first if `begin_bar` was not called; returns the updates emitted. A bar already
        traded, or earlier than the current one, is ignored."""
        return await self.trade_bars((bar,))

    async def trade_bars(self, bars: Sequence[Bar]) -> list[BrokerUpdate]:
        """`trade_bar` for each of `bars` (one slice), with one commit for all of them and
        their updates emitted after it, in the bars' order."""
        changes = Changes()
        updates: list[BrokerUpdate] = []
        for bar in bars:
            self._trade(bar, changes, updates)
        return await self._settle(changes, updates)

    # -- inspection ----------------------------------------------------------------------

    def orders(self, *, open_only: bool = False) -> list[Order]:
        """Every order received (or the open ones), in arrival order."""
        records = sorted(self._book.records.values(), key=lambda record: record.sequence)
        return [r.order for r in records if not (open_only and r.order.is_terminal)]

    def reason(self, order_id: OrderId) -> str:
        """Why the order was rejected, cancelled or expired ("" otherwise or if unknown)."""
        record = self._book.records.get(order_id)
        return "" if record is None else record.reason

    def received(self, order_id: OrderId) -> int:
        """How many submit calls carried `order_id` (0 if none)."""
        record = self._book.records.get(order_id)
        return 0 if record is None else record.received

    def submissions(self) -> Mapping[OrderId, int]:
        """`received` for every order id, in arrival order."""
        records = sorted(self._book.records.values(), key=lambda record: record.sequence)
        return {record.order.order_id: record.received for record in records}

    def market(self, symbol: Symbol) -> MarketRecord | None:
        """The symbol's current bar, previous close and phase (None before its first bar).

        After a restart this is where the runtime may resume feeding the symbol's bars."""
        return self._book.markets.get(symbol)

    def last_price(self, symbol: Symbol) -> Decimal | None:
        """The symbol's latest price: its current bar's open while the bar is open, its
        close once traded; None before its first bar."""
        market = self._book.markets.get(symbol)
        if market is None:
            return None
        return market.bar.open if market.phase is MarketPhase.OPEN else market.bar.close

    def equity(self) -> Decimal:
        """Cash plus every position at `last_price`.

        Raises:
            MissingPriceError: a position's symbol has no bar yet.
        """
        prices: dict[Symbol, Decimal] = {}
        for symbol in self._book.account.open_positions:
            price = self.last_price(symbol)
            if price is None:
                raise MissingPriceError(f"no bar yet for the position in {symbol}")
            prices[symbol] = price
        return self._book.account.equity(prices)

    def flush(self) -> None:
        """Write the market state of bars that changed no order (see the module docstring)."""
        if self._book.dirty:
            self._commit(Changes(), every_market=True)

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

    async def _settle(self, changes: Changes, updates: list[BrokerUpdate]) -> list[BrokerUpdate]:
        """Commit `changes` (when there are any), then emit `updates`; returns them."""
        if changes:
            self._commit(changes)
        if updates:
            await self._emit(updates)
        return updates

    def _trade(self, bar: Bar, changes: Changes, updates: list[BrokerUpdate]) -> None:
        """Step 2 for `bar` (opening it first when needed); nothing for a bar already
        traded or earlier than the symbol's current one."""
        book = self._book
        if not self._matcher.open_bar(book, bar, changes, updates):
            market = book.markets[bar.symbol]
            if bar.start != market.bar.start or market.phase is MarketPhase.TRADED:
                return
        self._matcher.trade_bar(book, book.markets[bar.symbol], changes, updates)

    def _commit(self, changes: Changes, *, every_market: bool = False) -> None:
        """Write `changes` with the market state of the symbols they touch (of every symbol
        whose market moved, with `every_market`); see the module docstring."""
        book = self._book
        if every_market:
            written = set(book.dirty)
        else:
            written = {record.order.symbol for record in changes.orders.values()}
            written.update(fill.symbol for fill in changes.fills)
            written &= book.dirty
        for symbol in written:
            changes.markets[symbol] = book.markets[symbol]
        try:
            self._store.write(changes)
        except PaperStoreError:
            # Nothing of the call was kept: forget it in memory too.
            self._book = PaperBook(self._store.load())
            raise
        book.dirty -= written

    async def _emit(self, updates: list[BrokerUpdate]) -> None:
        for update in updates:
            for listener in list(self._listeners):
                try:
                    await listener(update)
                except Exception:
                    # Boundary: the update is committed; a failing listener must not
                    # stop the others or undo the broker's state.
                    log.exception("paper broker listener %r failed", listener)
