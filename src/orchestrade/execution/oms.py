"""The order-management system: write-ahead order routing that survives being killed.

`OrderManager` stands between the execution agent and one `Broker`:

- **Idempotent submit.** A client order id the journal already holds is never sent again;
  `submit` returns the recorded order.
- **Write-ahead.** An order is journaled (SUBMITTED) before the broker is called; a fill is
  journaled, together with the order after it, before the OMS applies it. A crash at any
  instant therefore leaves the journal at or behind the broker, never ahead in a way that
  could send an order twice; `reconcile` (run by `start`) closes the gap.
- **Batches.** `submit_many` journals the orders of one decision in one transaction, sends
  them (in one call when the broker is a `BatchSubmitter`), then applies the broker's
  updates (held while sending).
- **Broker updates** may arrive at any time, including before `submit` returns. Fills are
  deduplicated by fill id. Updates the state machine refuses are logged, never raised into
  the broker's callback.
- **Audit and events.** Each transition is one line on the `orchestrade.audit` logger, and
  listeners (the execution agent) receive `OrderSubmitted`, `OrderFilled`,
  `OrderCancelled` (cancelled, rejected, expired) and `PositionChanged` events.
- **Positions** are the sums of journaled fills, per symbol and per bot.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable, Mapping, Sequence
from datetime import datetime
from decimal import Decimal

from orchestrade.domain import (
    BotId,
    Fill,
    FillId,
    InvalidTransitionError,
    Order,
    OrderCancelled,
    OrderFilled,
    OrderId,
    OrderStatus,
    OrderSubmitted,
    Position,
    PositionChanged,
    Symbol,
    ValidationError,
)
from orchestrade.execution.adoption import adopt_view, is_ending
from orchestrade.execution.audit import audit
from orchestrade.execution.broker_errors import BrokerError, BrokerRejectedError
from orchestrade.execution.errors import InvalidOrderError, NotStartedError, UnknownOrderError
from orchestrade.execution.ports import (
    BatchSubmitter,
    Broker,
    BrokerUpdate,
    FillUpdate,
    OrderJournal,
    OrderUpdate,
)
from orchestrade.execution.reconciliation import ReconciliationReport, reconcile

log = logging.getLogger(__name__)

YIELD_AFTER_S = 0.0005
"""A batch whose journaling and send took longer than this (wall time) lets the event loop
run before the group commit of the broker's answers (see `_send`): the bus's turn
(`PUMP_TURN_S`), so that a request of the API sharing the loop waits about as long behind an
order batch as behind any other handler."""

Clock = Callable[[], datetime]
"""The current time, aware UTC (simulated in replay, the wall clock in paper and live)."""

OmsEvent = OrderSubmitted | OrderFilled | OrderCancelled | PositionChanged
"""The events the OMS hands to its listeners."""

OmsListener = Callable[[OmsEvent], Awaitable[None]]


class OrderManager:
    """Routes orders to one broker with write-ahead journaling (see the module docstring).

    Use: `oms = OrderManager(broker, journal, clock=...)`, `oms.subscribe(listener)`,
    `report = await oms.start()`, then `submit` / `cancel`. Only one OMS may use a journal.
    """

    def __init__(self, broker: Broker, journal: OrderJournal, *, clock: Clock) -> None:
        self._broker = broker
        self._batches = broker if isinstance(broker, BatchSubmitter) else None
        self._journal = journal
        self._clock = clock
        self._listeners: list[OmsListener] = []
        self._orders: dict[OrderId, Order] = {}
        self._known: set[OrderId] = set()
        """Every id the journal holds (read once by `_load`, then kept up to date: only this
        OMS writes the journal), so that a new id costs no read of the journal."""
        self._open: set[OrderId] = set()
        self._fill_ids: set[FillId] = set()
        self._positions: dict[Symbol, Position] = {}
        self._bot_positions: dict[tuple[BotId | None, Symbol], Position] = {}
        self._subscribed = False
        self._started = False
        self._backlog: list[BrokerUpdate] = []
        self._held: list[BrokerUpdate] | None = None
        self._deferred: list[OmsEvent] | None = None
        """Events of journal writes not committed yet (published after the commit)."""
        """Broker updates that arrive while `submit_many` is sending (applied after it)."""

    @property
    def broker_name(self) -> str:
        """The broker's short name."""
        return self._broker.name

    def subscribe(self, listener: OmsListener) -> None:
        """Hand every later OMS event to `listener` (a failing listener is logged, not
        propagated)."""
        self._listeners.append(listener)

    async def start(self, *, reconcile_first: bool = True) -> ReconciliationReport | None:
        """Subscribe to the broker, reconcile the journal with it, and load the journal.

        Broker updates that arrive meanwhile are held and applied after the load. Returns
        the reconciliation report (None when `reconcile_first` is False).
        """
        if not self._subscribed:
            self._broker.subscribe(self.on_broker_update)
            self._subscribed = True
        report = await self.reconcile() if reconcile_first else None
        self._load()
        self._started = True
        backlog, self._backlog = self._backlog, []
        for update in backlog:
            await self.on_broker_update(update)
        return report

    async def reconcile(self) -> ReconciliationReport:
        """Run `reconciliation.reconcile` against the journal and reload the OMS's state.

        Call it only with no submit in flight (see `reconcile`).
        """
        report = await reconcile(self._journal, self._broker, at=self._clock())
        if report.is_clean:
            log.info("reconciliation clean", extra={"broker": self._broker.name})
        else:
            log.warning(report.describe(), extra={"broker": self._broker.name})
        if self._started:
            self._load()
        return report

    async def submit(self, order: Order) -> Order:
        """Journal `order` as SUBMITTED, send it, and return it as the OMS then holds it.

        A client order id the journal already has is not sent again: the recorded order is
        returned. A broker rejection (`BrokerRejectedError`) makes the order REJECTED.

        Raises:
            InvalidOrderError: `order` is not NEW.
            BrokerError: the broker could not be reached or answered nonsense; the order
                stays SUBMITTED (in doubt) until `reconcile` settles it.
        """
        (held,) = await self.submit_many((order,))
        return held

    async def submit_many(self, orders: Sequence[Order]) -> list[Order]:
        """`submit` for several orders decided together: the new ones are journaled as
        SUBMITTED in one transaction, then sent one after the other; broker updates that
        arrive meanwhile are held and applied, in their order, after the last send. The
        last order thus waits for no earlier order's fill to be journaled.

        Returns:
            Each order as the OMS then holds it, in the order given (an id the journal
            already had: the recorded order, not sent again).

        Raises:
            InvalidOrderError: an order is not NEW (nothing is journaled or sent).
            BrokerError: the first send that could not reach the broker, raised after every
                other order was sent and every update applied; orders whose send failed stay
                SUBMITTED (in doubt) until `reconcile` settles them.
        """
        self._require_started()
        fresh: list[Order] = []
        for order in orders:
            if self._lookup(order.order_id) is not None or any(
                order.order_id == other.order_id for other in fresh
            ):
                log.info("duplicate submit not sent", extra={"order_id": order.order_id})
                continue
            if order.status is not OrderStatus.NEW:
                raise InvalidOrderError(
                    f"order {order.order_id} is {order.status.value}: only a new order can be "
                    "submitted"
                )
            fresh.append(order)
        if fresh:
            await self._send(fresh)
        return [self._orders[order.order_id] for order in orders]

    async def _send(self, fresh: Sequence[Order]) -> None:
        started = time.perf_counter()
        at = self._clock()
        sent = [order.with_status(OrderStatus.SUBMITTED) for order in fresh]
        reason = f"sent to {self._broker.name}"
        self._journal.record_orders(sent, at=at, reason=reason)
        for order in sent:
            self._remember(order)
            audit(order, at=at, reason=reason, previous=OrderStatus.NEW)
        for order in sent:
            await self._publish(OrderSubmitted(order))
        self._held = []
        try:
            answers = await self._sent(sent)
            # Let the event loop run between the send and the group commit of the answers
            # when the send has held it for long: the two halves of a big batch are each a
            # few milliseconds of work that would otherwise hold the loop (and the API
            # sharing it) in one piece. Updates that arrive meanwhile are held like those of
            # the send. A short send goes on at once: the pass of the loop costs more than
            # it spreads.
            if time.perf_counter() - started > YIELD_AFTER_S:
                await asyncio.sleep(0)
        finally:
            held, self._held = self._held, None
            await self._apply_together(held)
        failure: BrokerError | None = None
        for order, answer in zip(sent, answers, strict=True):
            if isinstance(answer, BrokerRejectedError):
                await self._move(order.order_id, OrderStatus.REJECTED, reason=str(answer))
            elif isinstance(answer, BrokerError):
                log.warning("submit in doubt: %s", answer, extra={"order_id": order.order_id})
                failure = failure or answer
            else:
                await self._adopt(answer, reason=f"{self._broker.name} answered the submit")
        if failure is not None:
            raise failure

    async def _sent(self, orders: Sequence[Order]) -> Sequence[Order | BrokerError]:
        """Send `orders`: in one call when the broker takes batches, else one by one. For
        each order, the broker's answer or the `BrokerError` of its send."""
        if self._batches is not None:
            try:
                return await self._batches.submit_many(orders)
            except BrokerError as error:
                return [error] * len(orders)
        answers: list[Order | BrokerError] = []
        for order in orders:
            try:
                answers.append(await self._broker.submit(order))
            except BrokerError as error:
                answers.append(error)
        return answers

    async def cancel(self, order_id: OrderId, *, reason: str = "cancel requested") -> Order:
        """Journal CANCEL_REQUESTED, ask the broker to cancel, and adopt its answer.

        A terminal order is returned unchanged (nothing is sent).

        Raises:
            UnknownOrderError: the OMS never had `order_id`.
            BrokerError: the broker could not be reached; the order stays CANCEL_REQUESTED.
        """
        self._require_started()
        current = self._lookup(order_id)
        if current is None:
            raise UnknownOrderError(f"cannot cancel order {order_id}: the OMS never had it")
        if current.is_terminal:
            return current
        if current.status is not OrderStatus.CANCEL_REQUESTED:
            await self._move(order_id, OrderStatus.CANCEL_REQUESTED, reason=reason)
        try:
            view = await self._broker.cancel(order_id)
        except BrokerRejectedError as error:
            log.warning("cancel refused: %s", error, extra={"order_id": order_id})
            refreshed = await self._broker.order(order_id)
            if refreshed is not None:
                await self._adopt(refreshed, reason=f"cancel refused: {error}")
            return self._orders[order_id]
        await self._adopt(view, reason=f"{self._broker.name} answered the cancel")
        return self._orders[order_id]

    async def on_broker_update(self, update: BrokerUpdate) -> None:
        """Apply one broker update (the broker's subscription callback).

        Invalid transitions, overfills and fills of unknown orders are logged and ignored;
        reconciliation picks up whatever the broker has that the OMS could not apply.
        """
        if not self._started:
            self._backlog.append(update)
            return
        if self._held is not None:
            self._held.append(update)
            return
        if isinstance(update, FillUpdate):
            await self._apply_fill(update.fill)
        elif isinstance(update, OrderUpdate):
            await self._adopt(update.order, reason=update.reason or "broker update", at=update.at)

    def order(self, order_id: OrderId) -> Order | None:
        """The order as the OMS holds it (journaled), or None."""
        return self._lookup(order_id)

    def open_orders(self, *, bot_id: BotId | None = None) -> list[Order]:
        """Orders that are not terminal (of one bot when given), oldest first."""
        orders = [self._orders[order_id] for order_id in self._open]
        if bot_id is not None:
            orders = [order for order in orders if order.bot_id == bot_id]
        return sorted(orders, key=lambda order: (order.created_at, order.order_id))

    def fills(self, order_id: OrderId | None = None) -> Sequence[Fill]:
        """Journaled fills (of one order when given), in the order they were recorded."""
        return self._journal.fills(order_id)

    def position(self, symbol: Symbol, *, bot_id: BotId | None = None) -> Position:
        """The account's position in `symbol`, or one bot's share of it when `bot_id` is given
        (both are sums of journaled fills)."""
        if bot_id is None:
            return self._positions.get(symbol) or Position(symbol)
        return self._bot_positions.get((bot_id, symbol)) or Position(symbol)

    def positions(self, *, bot_id: BotId | None = None) -> Mapping[Symbol, Position]:
        """Positions that are not flat: the account's, or one bot's."""
        if bot_id is None:
            return {s: p for s, p in self._positions.items() if not p.is_flat}
        return {
            symbol: p
            for (bot, symbol), p in self._bot_positions.items()
            if bot == bot_id and not p.is_flat
        }

    def quantities(self) -> Mapping[Symbol, Decimal]:
        """Signed quantity per symbol of the account, flat symbols omitted (as the broker's
        `positions()` reports them)."""
        return {s: p.quantity for s, p in self._positions.items() if not p.is_flat}

    # -- internals -----------------------------------------------------------------------

    def _require_started(self) -> None:
        if not self._started:
            raise NotStartedError("OrderManager.start() must run before orders are routed")

    def _load(self) -> None:
        """Rebuild the in-memory state from the journal (after start or reconciliation)."""
        self._orders.clear()
        self._known = set(self._journal.order_ids())
        self._open.clear()
        self._fill_ids.clear()
        self._positions.clear()
        self._bot_positions.clear()
        for order in self._journal.open_orders():
            self._remember(order)
        for fill in self._journal.fills():
            owner = self._lookup(fill.order_id)
            self._fill_ids.add(fill.fill_id)
            self._book(fill, owner.bot_id if owner is not None else None)

    def _lookup(self, order_id: OrderId) -> Order | None:
        order = self._orders.get(order_id)
        if order is None and order_id in self._known:
            # Recorded before this OMS loaded, and terminal then: read it once.
            order = self._journal.get_order(order_id)
            if order is not None:
                self._remember(order)
        return order

    def _remember(self, order: Order) -> None:
        self._known.add(order.order_id)
        self._orders[order.order_id] = order
        if order.is_terminal:
            self._open.discard(order.order_id)
        else:
            self._open.add(order.order_id)

    def _book(self, fill: Fill, bot_id: BotId | None) -> Position:
        position = self.position(fill.symbol).apply(fill)
        self._positions[fill.symbol] = position
        key = (bot_id, fill.symbol)
        self._bot_positions[key] = (self._bot_positions.get(key) or Position(fill.symbol)).apply(
            fill
        )
        return position

    async def _move(self, order_id: OrderId, status: OrderStatus, *, reason: str) -> None:
        """Our own transition (cancel request, broker rejection): journal, audit, publish."""
        current = self._orders[order_id]
        moved = current.with_status(status)
        at = self._clock()
        self._journal.record_order(moved, at=at, reason=reason)
        self._remember(moved)
        audit(moved, at=at, reason=reason, previous=current.status)
        if is_ending(moved.status):
            await self._publish(OrderCancelled(moved, reason))

    async def _adopt(self, view: Order, *, reason: str, at: datetime | None = None) -> None:
        """Take the broker's status from `view` when the state machine allows it."""
        current = self._lookup(view.order_id)
        if current is None:
            log.warning(
                "broker update for an unknown order ignored (reconciliation adopts it)",
                extra={"order_id": view.order_id, "status": view.status.value},
            )
            return
        try:
            moved = adopt_view(current, view)
        except (InvalidTransitionError, ValidationError) as error:
            log.warning(
                "broker status refused: %s",
                error,
                extra={"order_id": view.order_id, "status": view.status.value},
            )
            return
        if moved is None:
            return
        when = at or self._clock()
        self._journal.record_order(moved, at=when, reason=reason)
        self._remember(moved)
        if moved.status is current.status:
            return
        audit(moved, at=when, reason=reason, previous=current.status)
        if is_ending(moved.status):
            await self._publish(OrderCancelled(moved, reason))

    async def _apply_fill(self, fill: Fill) -> None:
        if fill.fill_id in self._fill_ids:
            log.debug("duplicate fill ignored", extra={"fill_id": fill.fill_id})
            return
        current = self._lookup(fill.order_id)
        if current is None:
            log.warning(
                "fill of an unknown order ignored (reconciliation records it)",
                extra={"fill_id": fill.fill_id, "order_id": fill.order_id},
            )
            return
        try:
            after = current.with_fill(fill)
        except (InvalidTransitionError, ValidationError) as error:
            log.error(
                "fill refused: %s",
                error,
                extra={"fill_id": fill.fill_id, "order_id": fill.order_id},
            )
            return
        at = self._clock()
        recorded = self._journal.record_fill(fill, after, at=at)
        self._fill_ids.add(fill.fill_id)
        if not recorded:
            log.debug("fill already journaled", extra={"fill_id": fill.fill_id})
            return
        self._remember(after)
        position = self._book(fill, after.bot_id)
        audit(
            after,
            at=at,
            reason=f"fill {fill.fill_id}",
            previous=current.status,
            quantity=fill.quantity,
            price=fill.price,
        )
        await self._publish(OrderFilled(after, fill))
        await self._publish(PositionChanged(position, fill, after.bot_id))

    async def _apply_together(self, updates: Sequence[BrokerUpdate]) -> None:
        """Apply `updates` with every journal write in one transaction (group commit), and
        publish their events only once it is committed, so nothing is announced that the
        journal does not hold. If the transaction fails, the OMS reloads its state from the
        journal (which has none of it) and reconciliation recovers the updates later."""
        if not updates:
            return
        self._deferred = []
        try:
            with self._journal.batch():
                for update in updates:
                    await self.on_broker_update(update)
        except Exception:
            self._deferred = None
            log.exception("broker updates could not be journaled; reloading the journal")
            self._load()
            raise
        events, self._deferred = self._deferred, None
        for event in events:
            await self._publish(event)

    async def _publish(self, event: OmsEvent) -> None:
        if self._deferred is not None:
            self._deferred.append(event)
            return
        for listener in self._listeners:
            try:
                await listener(event)
            except Exception:
                # Boundary: a failing listener must neither undo a journaled transition
                # nor starve the other listeners.
                log.exception("OMS listener %r failed on %s", listener, type(event).__name__)
