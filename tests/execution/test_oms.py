"""OrderManager: idempotent submit, write-ahead journaling, broker updates, audit, events."""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from decimal import Decimal

import pytest

from fakes import T0, FakeClock, InMemoryOrderJournal, ScriptedBroker, buy, sell
from orchestrade.domain import (
    BotId,
    FillId,
    Order,
    OrderCancelled,
    OrderFilled,
    OrderId,
    OrderStatus,
    OrderSubmitted,
    PositionChanged,
    Symbol,
)
from orchestrade.execution import (
    AUDIT_LOGGER,
    BrokerError,
    BrokerRejectedError,
    BrokerTimeoutError,
    FillUpdate,
    InvalidOrderError,
    NotStartedError,
    OmsEvent,
    OrderManager,
    OrderUpdate,
    UnknownOrderError,
)
from orchestrade.execution.oms import YIELD_AFTER_S

pytestmark = pytest.mark.anyio

D = Decimal
S = OrderStatus
SAMSUNG = Symbol("005930")


class Recorder:
    """An OMS listener that keeps the events and what the journal held at each."""

    def __init__(self, journal: InMemoryOrderJournal) -> None:
        self.journal = journal
        self.events: list[OmsEvent] = []
        self.fills_journaled: list[bool] = []

    async def __call__(self, event: OmsEvent) -> None:
        self.events.append(event)
        if isinstance(event, OrderFilled):
            self.fills_journaled.append(
                event.fill.fill_id in {f.fill_id for f in self.journal.fills()}
            )

    def kinds(self) -> list[str]:
        return [type(event).__name__ for event in self.events]


async def started(
    broker: ScriptedBroker | None = None, journal: InMemoryOrderJournal | None = None
) -> tuple[OrderManager, ScriptedBroker, InMemoryOrderJournal, Recorder]:
    journal = journal if journal is not None else InMemoryOrderJournal()
    broker = broker if broker is not None else ScriptedBroker(journal)
    oms = OrderManager(broker, journal, clock=FakeClock())
    recorder = Recorder(journal)
    oms.subscribe(recorder)
    await oms.start()
    return oms, broker, journal, recorder


async def test_order_is_journaled_as_submitted_before_the_broker_sees_it() -> None:
    oms, broker, _, _ = await started()

    await oms.submit(buy("o1"))

    seen = broker.journal_at_submit[0]
    assert seen is not None
    assert seen.status is S.SUBMITTED


async def test_accepted_order_goes_through_submitted_then_accepted() -> None:
    oms, _, journal, recorder = await started()

    result = await oms.submit(buy("o1"))

    assert result.status is S.ACCEPTED
    assert result.broker_order_id == "B1"
    assert journal.statuses(OrderId("o1")) == [S.SUBMITTED, S.ACCEPTED]
    assert recorder.kinds() == ["OrderSubmitted"]


async def test_submitting_a_known_order_id_sends_nothing_and_returns_the_recorded_order() -> None:
    oms, broker, _, _ = await started()
    first = await oms.submit(buy("o1"))

    again = await oms.submit(buy("o1", quantity=99))

    assert again == first
    assert len(broker.submitted) == 1


async def test_a_restarted_oms_does_not_resend_an_order_of_its_journal() -> None:
    oms, broker, journal, _ = await started()
    await oms.submit(buy("o1"))
    restarted = OrderManager(broker, journal, clock=FakeClock())
    await restarted.start()

    again = await restarted.submit(buy("o1"))

    assert again.status is S.ACCEPTED
    assert len(broker.submitted) == 1


async def test_only_a_new_order_can_be_submitted() -> None:
    oms, broker, _, _ = await started()

    with pytest.raises(InvalidOrderError, match="o1 is submitted"):
        await oms.submit(buy("o1").with_status(S.SUBMITTED))

    assert broker.submitted == []


async def test_the_oms_must_be_started_before_routing() -> None:
    journal = InMemoryOrderJournal()
    oms = OrderManager(ScriptedBroker(journal), journal, clock=FakeClock())

    with pytest.raises(NotStartedError):
        await oms.submit(buy("o1"))


async def test_a_fill_arriving_before_submit_returns_is_journaled_then_applied() -> None:
    journal = InMemoryOrderJournal()
    broker = ScriptedBroker(journal)
    broker.fill_on_submit = D(70_100)
    oms, _, _, recorder = await started(broker, journal)

    result = await oms.submit(buy("o1", 10))

    assert result.status is S.FILLED
    assert result.average_fill_price == D(70_100)
    assert journal.statuses(OrderId("o1")) == [S.SUBMITTED, S.ACCEPTED, S.FILLED]
    assert recorder.kinds() == ["OrderSubmitted", "OrderFilled", "PositionChanged"]
    assert recorder.fills_journaled == [True]
    assert oms.position(SAMSUNG).quantity == D(10)


async def test_a_fill_reported_twice_is_applied_once() -> None:
    oms, broker, journal, recorder = await started()
    await oms.submit(buy("o1", 10))
    fill = await broker.fill(OrderId("o1"), D(4), D(70_000))

    await broker.push(FillUpdate(fill))

    assert [f.fill_id for f in journal.fills()] == [FillId("o1-1")]
    assert oms.position(SAMSUNG).quantity == D(4)
    assert oms.order(OrderId("o1")).filled_quantity == D(4)  # type: ignore[union-attr]
    assert recorder.kinds().count("OrderFilled") == 1


async def test_partial_fills_move_the_order_to_partially_filled_then_filled() -> None:
    oms, broker, journal, _ = await started()
    await oms.submit(buy("o1", 10))

    await broker.fill(OrderId("o1"), D(4), D(70_000))
    await broker.fill(OrderId("o1"), D(6), D(70_500))

    order = oms.order(OrderId("o1"))
    assert order is not None
    assert journal.statuses(OrderId("o1")) == [
        S.SUBMITTED,
        S.ACCEPTED,
        S.PARTIALLY_FILLED,
        S.FILLED,
    ]
    # (4 x 70000 + 6 x 70500) / 10 = 70300
    assert order.average_fill_price == D(70_300)
    assert oms.open_orders() == []


async def test_a_status_the_state_machine_forbids_is_logged_not_raised(
    caplog: pytest.LogCaptureFixture,
) -> None:
    oms, broker, journal, _ = await started()
    await oms.submit(buy("o1", 10))
    await broker.fill(OrderId("o1"), D(10), D(70_000))
    stale = buy("o1", 10).with_status(S.SUBMITTED).with_status(S.EXPIRED)

    with caplog.at_level(logging.WARNING):
        await broker.push(OrderUpdate(stale, T0, "late expiry"))

    assert oms.order(OrderId("o1")).status is S.FILLED  # type: ignore[union-attr]
    assert journal.statuses(OrderId("o1"))[-1] is S.FILLED
    assert "broker status refused" in caplog.text


async def test_an_overfill_is_refused_and_logged(caplog: pytest.LogCaptureFixture) -> None:
    oms, broker, journal, _ = await started()
    await oms.submit(buy("o1", 10))
    bogus = (await broker.fill(OrderId("o1"), D(10), D(70_000), emit=False)).__class__(
        fill_id=FillId("x-1"),
        order_id=OrderId("o1"),
        symbol=SAMSUNG,
        side=buy("o1").side,
        quantity=D(11),
        price=D(70_000),
        filled_at=T0,
    )

    with caplog.at_level(logging.ERROR):
        await broker.push(FillUpdate(bogus))

    assert journal.fills() == []
    assert "fill refused" in caplog.text
    assert "overfills" in caplog.text


async def test_a_fill_of_an_unknown_order_is_left_to_reconciliation(
    caplog: pytest.LogCaptureFixture,
) -> None:
    _, broker, journal, _ = await started()
    broker.orders[OrderId("ghost")] = buy("ghost").with_status(S.SUBMITTED).with_status(S.ACCEPTED)

    with caplog.at_level(logging.WARNING):
        await broker.fill(OrderId("ghost"), D(1), D(100))

    assert journal.fills() == []
    assert "unknown order" in caplog.text


async def test_a_broker_rejection_update_ends_the_order_with_its_reason() -> None:
    journal = InMemoryOrderJournal()
    broker = ScriptedBroker(journal)
    broker.reject_reason = "insufficient cash"
    oms, _, _, recorder = await started(broker, journal)

    result = await oms.submit(buy("o1"))

    assert result.status is S.REJECTED
    cancelled = [e for e in recorder.events if isinstance(e, OrderCancelled)]
    assert [(e.order.status, e.reason) for e in cancelled] == [(S.REJECTED, "insufficient cash")]


async def test_a_rejected_error_from_the_broker_rejects_the_order() -> None:
    journal = InMemoryOrderJournal()
    broker = ScriptedBroker(journal)
    broker.submit_error = BrokerRejectedError("symbol halted")
    oms, _, _, recorder = await started(broker, journal)

    result = await oms.submit(buy("o1"))

    assert result.status is S.REJECTED
    assert journal.events[-1].reason == "symbol halted"
    assert recorder.kinds() == ["OrderSubmitted", "OrderCancelled"]


async def test_a_timeout_leaves_the_order_submitted_and_in_doubt() -> None:
    journal = InMemoryOrderJournal()
    broker = ScriptedBroker(journal)
    broker.submit_error = BrokerTimeoutError("no answer in 5 s")
    oms, _, _, _ = await started(broker, journal)

    with pytest.raises(BrokerTimeoutError):
        await oms.submit(buy("o1"))

    assert oms.order(OrderId("o1")).status is S.SUBMITTED  # type: ignore[union-attr]
    assert [o.order_id for o in oms.open_orders()] == ["o1"]


async def test_cancel_is_journaled_before_the_broker_is_asked() -> None:
    oms, broker, journal, recorder = await started()
    await oms.submit(buy("o1"))

    result = await oms.cancel(OrderId("o1"))

    assert result.status is S.CANCELLED
    assert journal.statuses(OrderId("o1")) == [
        S.SUBMITTED,
        S.ACCEPTED,
        S.CANCEL_REQUESTED,
        S.CANCELLED,
    ]
    assert broker.cancel_calls == ["o1"]
    assert recorder.kinds()[-1] == "OrderCancelled"


async def test_a_partial_fill_during_a_cancel_keeps_the_cancel_pending_then_cancels() -> None:
    oms, broker, journal, _ = await started()
    await oms.submit(buy("o1", 10))
    broker.refuse_cancel = True
    await oms.cancel(OrderId("o1"))
    # The broker still has the order open: the cancel answer (ACCEPTED) is adopted.
    assert oms.order(OrderId("o1")).status is S.ACCEPTED  # type: ignore[union-attr]

    broker.refuse_cancel = False
    await broker.fill(OrderId("o1"), D(3), D(70_000))
    result = await oms.cancel(OrderId("o1"))

    assert result.status is S.CANCELLED
    assert result.filled_quantity == D(3)
    assert journal.statuses(OrderId("o1"))[-4:] == [
        S.ACCEPTED,
        S.PARTIALLY_FILLED,
        S.CANCEL_REQUESTED,
        S.CANCELLED,
    ]


async def test_cancelling_a_terminal_order_sends_nothing() -> None:
    oms, broker, _, _ = await started()
    await oms.submit(buy("o1", 10))
    await broker.fill(OrderId("o1"), D(10), D(70_000))

    result = await oms.cancel(OrderId("o1"))

    assert result.status is S.FILLED
    assert broker.cancel_calls == []


async def test_cancelling_an_unknown_order_is_an_error() -> None:
    oms, _, _, _ = await started()

    with pytest.raises(UnknownOrderError, match="nope"):
        await oms.cancel(OrderId("nope"))


async def test_every_transition_writes_one_audit_line(caplog: pytest.LogCaptureFixture) -> None:
    clock = FakeClock()
    journal = InMemoryOrderJournal()
    broker = ScriptedBroker(journal)
    oms = OrderManager(broker, journal, clock=clock)
    await oms.start()

    with caplog.at_level(logging.INFO, logger=AUDIT_LOGGER):
        await oms.submit(buy("o1", 10, limit=70_000))
        await broker.fill(OrderId("o1"), D(10), D(69_900))

    lines = [r.getMessage() for r in caplog.records if r.name == AUDIT_LOGGER]
    assert lines == [
        "2024-01-02T00:00:00+00:00 bot=bot-1 symbol=005930 side=buy qty=10 price=70000 "
        "order=o1 new->submitted reason=sent to scripted",
        "2024-01-02T00:00:00+00:00 bot=bot-1 symbol=005930 side=buy qty=10 price=70000 "
        "order=o1 submitted->accepted reason=accepted",
        "2024-01-02T00:00:00+00:00 bot=bot-1 symbol=005930 side=buy qty=10 price=69900 "
        "order=o1 accepted->filled reason=fill o1-1",
    ]


async def test_positions_are_sums_of_fills_per_symbol_and_per_bot() -> None:
    oms, broker, _, recorder = await started()
    await oms.submit(buy("a1", 10, bot="a"))
    await oms.submit(buy("b1", 5, bot="b"))
    await broker.fill(OrderId("a1"), D(10), D(100))
    await broker.fill(OrderId("b1"), D(5), D(110))
    await oms.submit(sell("a2", 4, bot="a"))

    await broker.fill(OrderId("a2"), D(4), D(120))

    assert oms.position(SAMSUNG).quantity == D(11)
    assert oms.position(SAMSUNG, bot_id=BotId("a")).quantity == D(6)
    assert oms.position(SAMSUNG, bot_id=BotId("b")).quantity == D(5)
    assert oms.quantities() == {SAMSUNG: D(11)}
    # Average cost: 10 @ 100 + 5 @ 110 = 1550 for 15; selling 4 releases 4/15 of it.
    changed = [e for e in recorder.events if isinstance(e, PositionChanged)]
    assert changed[-1].position.quantity == D(11)
    assert changed[-1].bot_id == "a"
    assert oms.position(SAMSUNG, bot_id=BotId("a")).realized_pnl == D(80)  # 4 x (120 - 100)


async def test_positions_are_rebuilt_from_the_journal_on_restart() -> None:
    oms, broker, journal, _ = await started()
    await oms.submit(buy("o1", 10))
    await broker.fill(OrderId("o1"), D(10), D(100))

    restarted = OrderManager(broker, journal, clock=FakeClock())
    report = await restarted.start()

    assert report is not None
    assert report.is_clean
    assert restarted.position(SAMSUNG).quantity == D(10)
    assert restarted.positions() == {SAMSUNG: oms.position(SAMSUNG)}


async def test_updates_arriving_before_start_are_applied_once_started() -> None:
    journal = InMemoryOrderJournal()
    broker = ScriptedBroker(journal)
    first = OrderManager(broker, journal, clock=FakeClock())
    await first.start()
    await first.submit(buy("o1", 10))
    oms = OrderManager(broker, journal, clock=FakeClock())
    fill = await broker.fill(OrderId("o1"), D(10), D(100), emit=False)

    await oms.on_broker_update(FillUpdate(fill))
    assert oms.position(SAMSUNG).quantity == 0
    await oms.start(reconcile_first=False)

    assert oms.position(SAMSUNG).quantity == D(10)


async def test_a_failing_listener_does_not_stop_the_others(
    caplog: pytest.LogCaptureFixture,
) -> None:
    oms, _, journal, recorder = await started()

    async def broken(event: OmsEvent) -> None:
        raise RuntimeError("listener bug")

    oms.subscribe(broken)
    late = Recorder(journal)
    oms.subscribe(late)

    with caplog.at_level(logging.ERROR):
        await oms.submit(buy("o1"))

    assert late.kinds() == ["OrderSubmitted"]
    assert "listener" in caplog.text
    assert isinstance(recorder.events[0], OrderSubmitted)


class CountingJournal(InMemoryOrderJournal):
    """Counts `get_order` calls (each one is a database read in the SQL journal)."""

    def __init__(self) -> None:
        super().__init__()
        self.lookups = 0

    def get_order(self, order_id: OrderId) -> Order | None:
        self.lookups += 1
        return super().get_order(order_id)


async def test_a_new_id_costs_no_read_and_an_old_terminal_order_is_read_once() -> None:
    journal = CountingJournal()
    # A filled order left by an earlier run: the OMS does not keep terminal orders loaded.
    earlier = buy("old").with_status(S.SUBMITTED).with_status(S.ACCEPTED)
    journal.record_order(earlier.with_status(S.CANCELLED), at=T0)
    oms, broker, _, _ = await started(ScriptedBroker(), journal)  # a broker that never reads it
    lookups = journal.lookups

    # The execution agent's replay check, then the submit: the OMS knows every id the
    # journal holds, so a new one is not looked up.
    assert oms.order(OrderId("o1")) is None
    submitted = await oms.submit(buy("o1"))
    assert oms.order(OrderId("o1")) == submitted
    assert journal.lookups == lookups

    # An id recorded before the OMS started, and terminal then: read once, then held.
    old = oms.order(OrderId("old"))
    assert old is not None
    assert old.status is S.CANCELLED
    assert oms.order(OrderId("old")) == old
    assert journal.lookups == lookups + 1

    # Reconciliation writes the journal itself (here: adopts an order only the broker
    # has), so what the OMS learnt was absent is asked again afterwards.
    assert oms.order(OrderId("ghost")) is None
    broker.orders[OrderId("ghost")] = buy("ghost").with_status(S.SUBMITTED).with_status(S.ACCEPTED)
    await oms.reconcile()

    adopted = oms.order(OrderId("ghost"))
    assert adopted is not None
    assert adopted.status is S.ACCEPTED


# -- orders decided together -------------------------------------------------------------------


async def test_a_batch_is_journaled_before_the_broker_sees_any_of_it() -> None:
    oms, broker, journal, recorder = await started()
    broker.fill_on_submit = D(100)

    held = await oms.submit_many([buy("o1"), sell("o2", 5), buy("o3")])

    # At the first send, every order of the batch was already journaled as SUBMITTED...
    assert [o.status if o else None for o in broker.journal_at_submit] == [S.SUBMITTED] * 3
    # ...and no fill was journaled before the last send: the broker's updates were held.
    assert broker.journal_fills_at_fill == [0, 0, 0]
    assert [o.status for o in held] == [S.FILLED] * 3
    assert [o.order_id for o in held] == ["o1", "o2", "o3"]
    for order_id in ("o1", "o2", "o3"):
        assert journal.statuses(OrderId(order_id)) == [S.SUBMITTED, S.ACCEPTED, S.FILLED]
    assert recorder.kinds() == ["OrderSubmitted"] * 3 + ["OrderFilled", "PositionChanged"] * 3
    assert recorder.fills_journaled == [True, True, True]
    assert oms.position(SAMSUNG).quantity == D(15)  # 10 - 5 + 10


async def test_a_batch_sends_no_known_or_repeated_id_again() -> None:
    oms, broker, _, _ = await started()
    first = await oms.submit(buy("o1"))

    held = await oms.submit_many([buy("o1", quantity=99), buy("o2"), buy("o2", quantity=7)])

    assert [o.order_id for o in broker.submitted] == ["o1", "o2"]
    assert held[0] == first
    assert held[1] == held[2]
    assert held[1].quantity == D(10)


def status_of(oms: OrderManager, order_id: str) -> OrderStatus:
    held = oms.order(OrderId(order_id))
    assert held is not None
    return held.status


class BatchScriptedBroker(ScriptedBroker):
    """A ScriptedBroker that takes batches (`BatchSubmitter`): each order of a batch gets
    the error scripted for its id in `errors`, else the scripted broker's answer; `broken`
    makes the whole call fail."""

    def __init__(self, journal: InMemoryOrderJournal) -> None:
        super().__init__(journal)
        self.batches: list[list[OrderId]] = []
        self.errors: dict[str, BrokerError] = {}
        self.broken: BrokerError | None = None

    async def submit_many(self, orders: Sequence[Order]) -> list[Order | BrokerError]:
        self.batches.append([order.order_id for order in orders])
        if self.broken is not None:
            raise self.broken
        answers: list[Order | BrokerError] = []
        for order in orders:
            error = self.errors.get(order.order_id)
            answers.append(error if error is not None else await self.submit(order))
        return answers


async def test_a_broker_that_takes_batches_gets_the_batch_in_one_call() -> None:
    journal = InMemoryOrderJournal()
    broker = BatchScriptedBroker(journal)
    broker.fill_on_submit = D(100)
    oms, _, _, recorder = await started(broker, journal)
    broker.errors = {"o2": BrokerRejectedError("no such symbol"), "o3": BrokerTimeoutError("lost")}

    with pytest.raises(BrokerTimeoutError, match="lost"):
        await oms.submit_many([buy("o1"), buy("o2"), buy("o3"), buy("o4")])

    assert broker.batches == [["o1", "o2", "o3", "o4"]]
    # Every answer was applied before the in-doubt one was raised: o1 and o4 filled, o2
    # rejected, o3 left SUBMITTED for reconciliation to settle.
    statuses = {i: status_of(oms, i) for i in ("o1", "o2", "o3", "o4")}
    assert statuses == {"o1": S.FILLED, "o2": S.REJECTED, "o3": S.SUBMITTED, "o4": S.FILLED}
    assert journal.statuses(OrderId("o2")) == [S.SUBMITTED, S.REJECTED]
    assert recorder.kinds().count("OrderFilled") == 2


async def test_a_batch_call_that_fails_whole_leaves_every_order_in_doubt() -> None:
    journal = InMemoryOrderJournal()
    broker = BatchScriptedBroker(journal)
    oms, _, _, _ = await started(broker, journal)
    broker.broken = BrokerTimeoutError("no answer")

    with pytest.raises(BrokerTimeoutError):
        await oms.submit_many([buy("o1"), buy("o2")])

    assert broker.submitted == []
    assert [status_of(oms, i) for i in ("o1", "o2")] == [S.SUBMITTED] * 2


async def test_a_batch_with_an_order_that_is_not_new_journals_and_sends_nothing() -> None:
    oms, broker, journal, _ = await started()

    with pytest.raises(InvalidOrderError, match="o2 is submitted"):
        await oms.submit_many([buy("o1"), buy("o2").with_status(S.SUBMITTED)])

    assert broker.submitted == []
    assert journal.events == []


class TimeoutOn(ScriptedBroker):
    """Times out on the submit of one order id, answers the others."""

    def __init__(self, journal: InMemoryOrderJournal, order_id: str) -> None:
        super().__init__(journal)
        self.failing = order_id

    async def submit(self, order: Order) -> Order:
        if order.order_id == self.failing:
            self.submitted.append(order)
            raise BrokerTimeoutError("no answer in 5 s")
        return await super().submit(order)


async def test_a_send_in_doubt_does_not_stop_the_rest_of_the_batch() -> None:
    journal = InMemoryOrderJournal()
    broker = TimeoutOn(journal, "o2")
    broker.fill_on_submit = D(100)
    oms, _, _, _ = await started(broker, journal)

    with pytest.raises(BrokerTimeoutError):
        await oms.submit_many([buy("o1"), buy("o2"), buy("o3")])

    assert [o.order_id for o in broker.submitted] == ["o1", "o2", "o3"]
    statuses = {o: oms.order(OrderId(o)).status for o in ("o1", "o2", "o3")}  # type: ignore[union-attr]
    assert statuses == {"o1": S.FILLED, "o2": S.SUBMITTED, "o3": S.FILLED}


async def test_the_brokers_answers_to_a_batch_are_journaled_in_one_transaction() -> None:
    oms, broker, journal, recorder = await started()
    broker.fill_on_submit = D(100)

    await oms.submit_many([buy("o1"), buy("o2")])

    # One group commit for the acceptances and fills of both orders (the submit itself is
    # its own write, before the broker is called).
    assert journal.batches == 1
    assert recorder.kinds() == ["OrderSubmitted"] * 2 + ["OrderFilled", "PositionChanged"] * 2
    assert recorder.fills_journaled == [True, True]


class FailingBatch(InMemoryOrderJournal):
    """A journal whose group commit fails at its end (nothing of it is kept)."""

    @contextmanager
    def batch(self) -> Iterator[None]:
        before = (dict(self.orders), list(self.events), list(self._fills), set(self._fill_ids))
        yield
        self.orders, self.events, self._fills, self._fill_ids = before
        raise OSError("disk full")


async def test_a_failed_group_commit_announces_nothing_and_reloads_the_journal() -> None:
    journal = FailingBatch()
    oms, broker, _, recorder = await started(journal=journal)
    broker.fill_on_submit = D(100)

    with pytest.raises(OSError, match="disk full"):
        await oms.submit_many([buy("o1")])

    assert recorder.kinds() == ["OrderSubmitted"]  # no fill announced
    assert oms.order(OrderId("o1")).status is S.SUBMITTED  # type: ignore[union-attr]
    assert oms.position(SAMSUNG).quantity == 0


class SlowSend(ScriptedBroker):
    """Takes `seconds` of wall time (holding the event loop) to answer a submit."""

    def __init__(self, journal: InMemoryOrderJournal, seconds: float) -> None:
        super().__init__(journal)
        self.seconds = seconds

    async def submit(self, order: Order) -> Order:
        ends = time.perf_counter() + self.seconds
        while time.perf_counter() < ends:
            pass
        return await super().submit(order)


class NotingBatch(InMemoryOrderJournal):
    """Notes, at each group commit, whether a callback scheduled before the send had run."""

    def __init__(self) -> None:
        super().__init__()
        self.flag: list[bool] = []
        self.ran_before_commit: list[bool] = []

    @contextmanager
    def batch(self) -> Iterator[None]:
        self.ran_before_commit.append(bool(self.flag))
        with super().batch():
            yield


@pytest.mark.parametrize(("send_s", "yields"), [(0.0, False), (4 * YIELD_AFTER_S, True)])
async def test_only_a_long_send_lets_the_event_loop_run_before_the_group_commit(
    send_s: float, yields: bool
) -> None:
    journal = NotingBatch()
    broker = SlowSend(journal, send_s)
    broker.fill_on_submit = D(100)
    oms, _, _, _ = await started(broker, journal)
    asyncio.get_running_loop().call_soon(journal.flag.append, True)

    await oms.submit_many([buy("o1")])

    assert journal.ran_before_commit == [yields]
    assert oms.order(OrderId("o1")).status is S.FILLED  # type: ignore[union-attr]
