"""The paper market's matching rules: which orders a bar fills, how much, and which end.

`Matcher` applies one call's worth of market events to a `PaperBook` and collects the
broker updates to emit; it never writes or emits itself (the broker commits, then emits).

- On arrival an order is rejected for a stop-limit type, a quantity off the lot, a sell
  of a flat position (no short selling), or a limit buy the cash cannot pay.
- A bar opens: DAY orders from an earlier trading date expire; resting market orders fill
  at the open (`fill_timing="next_open"`).
- A bar trades: resting stop and limit orders it reaches fill, gaps first, then stops,
  then limits; with `fill_timing="close"` resting market orders then fill at the close.
- A fill is at most the participation cap; a sell at most the position (the rest of the
  order is then cancelled); a buy the cash cannot pay is cancelled. A fill the price band
  excludes does not happen that bar. IOC and FOK orders get one chance; FOK fills whole or
  not at all.
"""

from __future__ import annotations

import dataclasses
import logging
from datetime import datetime

from orchestrade.brokers.paper.book import PaperBook
from orchestrade.brokers.paper.pricing import BarPrices, Phase, Pricer, as_decimal
from orchestrade.brokers.paper.settings import PaperSettings
from orchestrade.brokers.paper.store import Changes, MarketPhase, MarketRecord, OrderRecord
from orchestrade.domain import (
    Bar,
    Fill,
    FillId,
    Order,
    OrderId,
    OrderStatus,
    OrderType,
    Side,
    TimeInForce,
)
from orchestrade.execution.ports import BrokerUpdate, FillUpdate, OrderUpdate

log = logging.getLogger(__name__)

_ONE_CHANCE = (TimeInForce.IOC, TimeInForce.FOK)


class Matcher:
    """The matching rules of one `PaperSettings` (see the module docstring)."""

    def __init__(self, settings: PaperSettings) -> None:
        self.settings = settings
        self.pricer = Pricer(settings)

    def refusal(self, book: PaperBook, order: Order) -> str | None:
        """Why `order` is rejected on arrival, or None."""
        symbol = order.symbol
        rules = self.settings.rules_for(symbol)
        if order.order_type is OrderType.STOP_LIMIT:
            return "the paper broker does not take stop_limit orders"
        if order.quantity % rules.lot != 0:
            return (
                f"quantity {order.quantity} of {symbol} is not a multiple of the lot size "
                f"{rules.lot}"
            )
        if order.side is Side.SELL and book.held(symbol) <= 0:
            return f"no short selling: no position in {symbol} to sell"
        if order.side is Side.BUY and order.limit_price is not None:
            level = self.pricer.round(float(order.limit_price), False, rules)
            fee, _ = self.pricer.costs(float(order.quantity) * level, Side.BUY, rules)
            cost = order.quantity * as_decimal(level) + as_decimal(fee)
            if cost > book.account.cash:
                return (
                    f"insufficient cash: buying {order.quantity} {symbol} at up to "
                    f"{as_decimal(level)} costs {cost} with fees, cash is {book.account.cash}"
                )
        return None

    def fill_on_arrival(
        self, book: PaperBook, record: OrderRecord, changes: Changes, updates: list[BrokerUpdate]
    ) -> None:
        """Fill a market order at once when its symbol's market is open (at the open), or
        past its close with `fill_timing="close"` (at the close)."""
        market = book.markets.get(record.order.symbol)
        if record.order.order_type is not OrderType.MARKET or market is None:
            return
        if market.phase is MarketPhase.OPEN:
            self._execute(book, record, market, float(market.bar.open), True, changes, updates)
        elif self.settings.fill_timing == "close":
            self._execute(book, record, market, float(market.bar.close), True, changes, updates)

    def open_bar(
        self, book: PaperBook, bar: Bar, changes: Changes, updates: list[BrokerUpdate]
    ) -> bool:
        """Open `bar` for its symbol; False (nothing done) when the symbol's market is
        already at this bar or a later one."""
        symbol = bar.symbol
        current = book.markets.get(symbol)
        if current is not None and bar.start <= current.bar.start:
            return False
        previous_close = None if current is None else current.bar.close
        market = MarketRecord(bar, previous_close, MarketPhase.OPEN)
        book.set_market(symbol, market)
        if not book.resting.get(symbol):
            return True
        day = bar.start.date()
        for record in book.resting_orders(symbol):
            session = record.session
            if record.order.time_in_force is TimeInForce.DAY and session and session < day:
                reason = f"day order expired at the end of {session.isoformat()}"
                self._end(book, record, OrderStatus.EXPIRED, reason, bar.start, changes, updates)
        if self.settings.fill_timing == "next_open":
            for record in book.resting_orders(symbol):
                if record.order.order_type is OrderType.MARKET:
                    self._execute(book, record, market, float(bar.open), True, changes, updates)
        return True

    def trade_bar(
        self, book: PaperBook, market: MarketRecord, changes: Changes, updates: list[BrokerUpdate]
    ) -> None:
        """Trade the range of the symbol's open bar, then mark it traded."""
        bar = market.bar
        if book.resting.get(bar.symbol):
            self._trade_range(book, market, changes, updates)
            if self.settings.fill_timing == "close":
                for record in book.resting_orders(bar.symbol):
                    if record.order.order_type is OrderType.MARKET:
                        raw = float(bar.close)
                        self._execute(book, record, market, raw, True, changes, updates)
        book.set_market(bar.symbol, MarketRecord(bar, market.previous_close, MarketPhase.TRADED))

    def cancel(
        self,
        book: PaperBook,
        record: OrderRecord,
        at: datetime,
        changes: Changes,
        updates: list[BrokerUpdate],
    ) -> None:
        """Cancel an open order on request."""
        self._end(book, record, OrderStatus.CANCELLED, "cancelled on request", at, changes, updates)

    def _trade_range(
        self, book: PaperBook, market: MarketRecord, changes: Changes, updates: list[BrokerUpdate]
    ) -> None:
        bar = market.bar
        prices = BarPrices.of(bar)
        rules = self.settings.rules_for(bar.symbol)
        triggered: list[tuple[Phase, int, OrderId, float, bool]] = []
        for record in book.resting_orders(bar.symbol):
            if record.order.order_type is OrderType.MARKET:
                continue
            trigger = self.pricer.trigger(record.order, prices, rules)
            if trigger is not None:
                triggered.append(
                    (
                        trigger.phase,
                        record.sequence,
                        record.order.order_id,
                        trigger.raw,
                        trigger.slips,
                    )
                )
                continue
            record = _start_session(book, record, bar, changes)
            if record.order.time_in_force in _ONE_CHANCE:
                reason = (
                    f"{_tif_name(record.order)}: not triggered in the bar of "
                    f"{bar.start.isoformat()}"
                )
                self._end(book, record, OrderStatus.CANCELLED, reason, bar.start, changes, updates)
        for _phase, _sequence, order_id, raw, slips in sorted(triggered):
            record = book.records[order_id]
            if not record.order.is_terminal:
                self._execute(book, record, market, raw, slips, changes, updates)

    def _execute(
        self,
        book: PaperBook,
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
        record = _start_session(book, record, bar, changes)
        order = record.order
        symbol = order.symbol
        rules = self.settings.rules_for(symbol)
        prices = BarPrices.of(bar)
        price = self.pricer.slipped(raw, order.side, prices, rules) if slips else raw
        if not price > 0.0:
            reason = f"fill price of {symbol} would be {price}"
            self._unfilled(book, record, reason, at, changes, updates)
            return
        previous = None if market.previous_close is None else float(market.previous_close)
        band = self.pricer.band(previous, rules)
        if band is not None and band.excludes(price):
            reason = (
                f"fill price {price} of {symbol} is outside the price band "
                f"[{band.floor}, {band.ceiling}] around the previous close {band.previous_close}"
            )
            self._unfilled(book, record, reason, at, changes, updates)
            return
        remaining = order.remaining_quantity
        quantity = remaining
        cap = self.pricer.participation_cap(prices.volume, rules)
        if cap is not None:
            quantity = min(quantity, cap)
        if order.side is Side.SELL:
            held = book.held(symbol)
            if held <= 0:
                reason = f"no short selling: no position in {symbol} left to sell"
                self._end(book, record, OrderStatus.CANCELLED, reason, at, changes, updates)
                return
            quantity = min(quantity, held)
        if quantity <= 0:
            reason = (
                f"participation cap: {self.settings.participation} of the volume "
                f"{bar.volume} of {symbol} allows nothing"
            )
            self._unfilled(book, record, reason, at, changes, updates)
            return
        if order.time_in_force is TimeInForce.FOK and quantity < remaining:
            reason = f"fill-or-kill: only {quantity} of {remaining} could fill"
            self._end(book, record, OrderStatus.CANCELLED, reason, at, changes, updates)
            return
        fee, tax = self.pricer.costs(float(quantity) * price, order.side, rules)
        fill_price, fill_fee, fill_tax = as_decimal(price), as_decimal(fee), as_decimal(tax)
        if order.side is Side.BUY:
            cost = quantity * fill_price + fill_fee
            if cost > book.account.cash:
                reason = (
                    f"insufficient cash: {quantity} {symbol} at {fill_price} cost {cost} "
                    f"with fees, cash is {book.account.cash}"
                )
                self._end(book, record, OrderStatus.CANCELLED, reason, at, changes, updates)
                return
        fill = Fill(
            fill_id=FillId(book.next_fill_id(order.order_id)),
            order_id=order.order_id,
            symbol=symbol,
            side=order.side,
            quantity=quantity,
            price=fill_price,
            filled_at=at,
            fee=fill_fee,
            tax=fill_tax,
        )
        record = book.add_fill(fill, record, changes)
        updates.append(FillUpdate(fill))
        filled = record.order
        if filled.is_terminal:
            return
        if order.side is Side.SELL and book.held(symbol) <= 0:
            reason = (
                f"sell cut to the position: {filled.filled_quantity} of {filled.quantity} "
                "sold, nothing left to sell"
            )
            self._end(book, record, OrderStatus.CANCELLED, reason, at, changes, updates)
        elif order.time_in_force is TimeInForce.IOC:
            reason = (
                f"immediate-or-cancel: {filled.remaining_quantity} of {filled.quantity} unfilled"
            )
            self._end(book, record, OrderStatus.CANCELLED, reason, at, changes, updates)

    def _unfilled(
        self,
        book: PaperBook,
        record: OrderRecord,
        reason: str,
        at: datetime,
        changes: Changes,
        updates: list[BrokerUpdate],
    ) -> None:
        """The bar could not fill the order: IOC and FOK orders end, others rest."""
        if record.order.time_in_force in _ONE_CHANCE:
            ended = f"{_tif_name(record.order)}: {reason}"
            self._end(book, record, OrderStatus.CANCELLED, ended, at, changes, updates)
        else:
            log.info("order rests: %s", reason, extra={"order_id": record.order.order_id})

    @staticmethod
    def _end(
        book: PaperBook,
        record: OrderRecord,
        status: OrderStatus,
        reason: str,
        at: datetime,
        changes: Changes,
        updates: list[BrokerUpdate],
    ) -> None:
        ended = record.order.with_status(status)
        book.put(dataclasses.replace(record, order=ended, reason=reason), changes)
        updates.append(OrderUpdate(ended, at, reason))


def _start_session(book: PaperBook, record: OrderRecord, bar: Bar, changes: Changes) -> OrderRecord:
    """Note the trading date of the order's first chance to fill (a DAY order's session)."""
    if record.session is not None:
        return record
    started = dataclasses.replace(record, session=bar.start.date())
    book.put(started, changes)
    return started


def _tif_name(order: Order) -> str:
    return "fill-or-kill" if order.time_in_force is TimeInForce.FOK else "immediate-or-cancel"
