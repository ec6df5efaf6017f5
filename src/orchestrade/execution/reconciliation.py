"""Start-up reconciliation: make the journal agree with the broker, and say what differed.

After a crash the journal and the broker can disagree in a few known ways; each has one
resolution, and every difference is reported:

- the broker holds an order the journal lost: the order is adopted (journaled as the broker
  accepted it, then its fills are applied);
- the journal holds a NEW or SUBMITTED order the broker never received: it is marked
  REJECTED ("never reached the broker; not resent") and never sent again, because the
  strategy's intent may be stale by now;
- the journal holds an accepted order the broker does not know: marked EXPIRED;
- the broker has fills the journal lacks: each is journaled and applied, oldest first;
- an order's status differs: the broker's status is adopted when the state machine allows
  it, otherwise the conflict is reported and the journal's status kept;
- positions (sum of journaled fills) differ from the broker's: reported, not changed (no
  fill explains them, so no automatic fix is safe).
"""

from __future__ import annotations

import dataclasses
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from enum import StrEnum

from orchestrade.domain import (
    Fill,
    InvalidTransitionError,
    Order,
    OrderId,
    OrderStatus,
    Symbol,
    ValidationError,
)
from orchestrade.execution.adoption import adopt_view
from orchestrade.execution.audit import audit
from orchestrade.execution.ports import Broker, OrderJournal

NEVER_SENT_REASON = "never reached the broker; not resent"
"""Reason recorded on a journaled order the broker never received."""


class DifferenceKind(StrEnum):
    """What disagreed between the journal and the broker."""

    ORDER_ADOPTED = "order_adopted"
    ORDER_NEVER_SENT = "order_never_sent"
    ORDER_UNKNOWN_TO_BROKER = "order_unknown_to_broker"
    STATUS_ADOPTED = "status_adopted"
    STATUS_CONFLICT = "status_conflict"
    FILL_RECORDED = "fill_recorded"
    FILL_CONFLICT = "fill_conflict"
    POSITION_MISMATCH = "position_mismatch"


@dataclass(frozen=True, slots=True)
class Difference:
    """One disagreement: `subject` is the order id, fill id or symbol concerned; `journal`
    and `broker` say what each side held; `resolution` what reconciliation did about it."""

    kind: DifferenceKind
    subject: str
    journal: str
    broker: str
    resolution: str

    def describe(self) -> str:
        """One line for logs and reports."""
        return (
            f"{self.kind.value} {self.subject}: journal {self.journal}, broker {self.broker}"
            f" -> {self.resolution}"
        )


@dataclass(frozen=True, slots=True)
class ReconciliationReport:
    """Every difference found between the journal and `broker` at `at`, in the order found."""

    broker: str
    at: datetime
    differences: tuple[Difference, ...]
    orders_checked: int
    fills_checked: int

    @property
    def is_clean(self) -> bool:
        """True when journal and broker agreed on everything."""
        return not self.differences

    def of_kind(self, kind: DifferenceKind) -> tuple[Difference, ...]:
        """The differences of one kind."""
        return tuple(d for d in self.differences if d.kind is kind)

    def describe(self) -> str:
        """A multi-line summary: a header, then one line per difference."""
        header = (
            f"reconciliation with {self.broker} at {self.at.isoformat()}: "
            f"{self.orders_checked} orders, {self.fills_checked} broker fills, "
            f"{len(self.differences)} differences"
        )
        return "\n".join([header, *(d.describe() for d in self.differences)])


async def reconcile(journal: OrderJournal, broker: Broker, *, at: datetime) -> ReconciliationReport:
    """Compare `journal` with `broker`, resolve each difference in the journal, report them.

    Nothing is sent to the broker: orders are never resent and cancels never repeated. Call
    it when no submit is in flight (at start, or with the OMS quiet): an order on its way
    would be taken for one that never reached the broker.
    """
    run = _Reconciliation(journal, broker, at)
    await run.execute()
    return ReconciliationReport(
        broker=broker.name,
        at=at,
        differences=tuple(run.differences),
        orders_checked=len(run.checked_orders),
        fills_checked=run.fills_checked,
    )


def journal_positions(fills: Sequence[Fill]) -> dict[Symbol, Decimal]:
    """Signed quantity per symbol, summed over `fills` (flat symbols omitted)."""
    totals: defaultdict[Symbol, Decimal] = defaultdict(Decimal)
    for fill in fills:
        totals[fill.symbol] += fill.signed_quantity
    return {symbol: quantity for symbol, quantity in totals.items() if quantity != 0}


class _Reconciliation:
    """One reconciliation pass; the broker's views are fetched at most once per order."""

    def __init__(self, journal: OrderJournal, broker: Broker, at: datetime) -> None:
        self.journal = journal
        self.broker = broker
        self.at = at
        self.differences: list[Difference] = []
        self.checked_orders: set[OrderId] = set()
        self.fills_checked = 0
        self._views: dict[OrderId, Order | None] = {}

    async def execute(self) -> None:
        broker_open = await self.broker.open_orders()
        for view in broker_open:
            self._views[view.order_id] = view
        broker_fills = list(await self.broker.fills())
        self.fills_checked = len(broker_fills)
        recorded = {fill.fill_id for fill in self.journal.fills()}
        missing = [fill for fill in broker_fills if fill.fill_id not in recorded]
        lost = dict.fromkeys(
            [view.order_id for view in broker_open] + [fill.order_id for fill in missing]
        )
        for order_id in lost:
            await self._adopt_lost_order(order_id)
        open_ids = {view.order_id for view in broker_open}
        for order in self.journal.open_orders():
            self.checked_orders.add(order.order_id)
            if order.order_id not in open_ids:
                await self._check_not_open_at_broker(order)
        for fill in missing:
            await self._record_missing_fill(fill)
        for order in self.journal.open_orders():
            await self._adopt_status(order)
        await self._compare_positions()

    async def _view(self, order_id: OrderId) -> Order | None:
        if order_id not in self._views:
            self._views[order_id] = await self.broker.order(order_id)
        return self._views[order_id]

    def _note(
        self, kind: DifferenceKind, subject: str, journal: str, broker: str, resolution: str
    ) -> None:
        self.differences.append(Difference(kind, subject, journal, broker, resolution))

    def _record(self, order: Order, *, reason: str, previous: OrderStatus | None) -> None:
        self.journal.record_order(order, at=self.at, reason=reason)
        audit(order, at=self.at, reason=reason, previous=previous)

    async def _adopt_lost_order(self, order_id: OrderId) -> None:
        if self.journal.get_order(order_id) is not None:
            return
        self.checked_orders.add(order_id)
        view = await self._view(order_id)
        if view is None:
            return  # a fill of an order the broker does not know: reported with the fill
        base = dataclasses.replace(
            view,
            status=OrderStatus.ACCEPTED,
            filled_quantity=Decimal(0),
            average_fill_price=None,
        )
        reason = "adopted from the broker: unknown to the journal"
        self._record(base, reason=reason, previous=None)
        self._note(
            DifferenceKind.ORDER_ADOPTED,
            order_id,
            "no order",
            f"{view.status.value} {view.filled_quantity}/{view.quantity} filled",
            "adopted as accepted; its fills and status follow",
        )

    async def _check_not_open_at_broker(self, order: Order) -> None:
        view = await self._view(order.order_id)
        if view is not None:
            return  # terminal at the broker: fills and status are adopted below
        if order.status in (OrderStatus.NEW, OrderStatus.SUBMITTED):
            kind, status, reason = (
                DifferenceKind.ORDER_NEVER_SENT,
                OrderStatus.REJECTED,
                NEVER_SENT_REASON,
            )
        else:
            kind, status, reason = (
                DifferenceKind.ORDER_UNKNOWN_TO_BROKER,
                OrderStatus.EXPIRED,
                "the broker does not know this order; not resent",
            )
        marked = order.with_status(status)
        self._record(marked, reason=reason, previous=order.status)
        self._note(kind, order.order_id, order.status.value, "no order", f"marked {status.value}")

    async def _record_missing_fill(self, fill: Fill) -> None:
        current = self.journal.get_order(fill.order_id)
        if current is None:
            self._note(
                DifferenceKind.FILL_CONFLICT,
                fill.fill_id,
                "no order",
                f"fill of unknown order {fill.order_id}",
                "not recorded: no order to attach it to",
            )
            return
        try:
            after = current.with_fill(fill)
            resolution = f"recorded; order now {after.status.value}"
            kind = DifferenceKind.FILL_RECORDED
        except (InvalidTransitionError, ValidationError) as error:
            forced = _forced_fill(current, fill, await self._view(fill.order_id))
            if forced is None:
                self._note(
                    DifferenceKind.FILL_CONFLICT,
                    fill.fill_id,
                    f"order {current.status.value} {current.filled_quantity}/{current.quantity}",
                    f"fill of {fill.quantity} at {fill.price}",
                    f"not recorded: {error}",
                )
                return
            after = forced
            resolution = (
                f"recorded against the state machine ({error}); order now {after.status.value}"
            )
            kind = DifferenceKind.FILL_CONFLICT
        if self.journal.record_fill(fill, after, at=self.at):
            audit(
                after,
                at=self.at,
                reason=f"fill {fill.fill_id} recovered from the broker",
                previous=current.status,
                quantity=fill.quantity,
                price=fill.price,
            )
            self._note(
                kind,
                fill.fill_id,
                "missing",
                f"{fill.side.value} {fill.quantity} {fill.symbol} at {fill.price}",
                resolution,
            )

    async def _adopt_status(self, order: Order) -> None:
        view = await self._view(order.order_id)
        if view is None:
            return
        try:
            moved = adopt_view(order, view)
        except InvalidTransitionError as error:
            self._note(
                DifferenceKind.STATUS_CONFLICT,
                order.order_id,
                order.status.value,
                view.status.value,
                f"kept the journal's status: {error}",
            )
            return
        if moved is None:
            return
        if moved.status is order.status:
            self.journal.record_order(moved, at=self.at, reason="broker order id")
            return
        reason = f"status adopted from the broker ({view.status.value})"
        self._record(moved, reason=reason, previous=order.status)
        self._note(
            DifferenceKind.STATUS_ADOPTED,
            order.order_id,
            order.status.value,
            view.status.value,
            f"adopted {view.status.value}",
        )

    async def _compare_positions(self) -> None:
        ours = journal_positions(self.journal.fills())
        theirs = dict(await self.broker.positions())
        for symbol in sorted(set(ours) | set(theirs)):
            held, booked = ours.get(symbol, Decimal(0)), theirs.get(symbol, Decimal(0))
            if held != booked:
                self._note(
                    DifferenceKind.POSITION_MISMATCH,
                    symbol,
                    str(held),
                    str(booked),
                    f"reported, not changed: {booked - held} not explained by any fill",
                )


def _forced_fill(current: Order, fill: Fill, view: Order | None) -> Order | None:
    """`current` after `fill` when the state machine refuses it (e.g. the journal has it
    cancelled but the broker filled it): the broker's word wins, the books stay valid."""
    if (
        fill.symbol != current.symbol
        or fill.side is not current.side
        or fill.quantity > current.remaining_quantity
    ):
        return None
    filled = current.filled_quantity + fill.quantity
    previous = current.filled_quantity * (current.average_fill_price or Decimal(0))
    average = (previous + fill.quantity * fill.price) / filled
    if filled == current.quantity:
        status = OrderStatus.FILLED
    elif view is not None and view.status in (
        OrderStatus.CANCELLED,
        OrderStatus.EXPIRED,
        OrderStatus.CANCEL_REQUESTED,
    ):
        status = view.status
    else:
        status = OrderStatus.PARTIALLY_FILLED
    try:
        return dataclasses.replace(
            current, filled_quantity=filled, average_fill_price=average, status=status
        )
    except ValidationError:  # pragma: no cover - the checks above keep the order valid
        return None
