"""Orders: required prices per type, fill bookkeeping and the status state machine."""

import dataclasses
from datetime import UTC, datetime
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from orchestrade.domain import (
    ORDER_TRANSITIONS,
    BrokerOrderId,
    Fill,
    FillId,
    InvalidTransitionError,
    Order,
    OrderId,
    OrderStatus,
    OrderType,
    Side,
    Symbol,
    TimeInForce,
    ValidationError,
    can_transition,
)

from .strategies import orders

D = Decimal
S = OrderStatus
T0 = datetime(2024, 1, 2, tzinfo=UTC)


def order(**changes: object) -> Order:
    fields: dict[str, object] = {
        "order_id": OrderId("o-1"),
        "symbol": Symbol("005930"),
        "side": Side.BUY,
        "order_type": OrderType.LIMIT,
        "quantity": D(10),
        "created_at": T0,
        "limit_price": D(71_000),
    }
    return Order(**{**fields, **changes})  # type: ignore[arg-type]


def fill(quantity: int, price: int, fill_id: str = "f-1", **changes: object) -> Fill:
    fields: dict[str, object] = {
        "fill_id": FillId(fill_id),
        "order_id": OrderId("o-1"),
        "symbol": Symbol("005930"),
        "side": Side.BUY,
        "quantity": D(quantity),
        "price": D(price),
        "filled_at": T0,
    }
    return Fill(**{**fields, **changes})  # type: ignore[arg-type]


def test_defaults_are_a_new_day_order_with_nothing_filled() -> None:
    built = order()

    assert (built.status, built.time_in_force) == (S.NEW, TimeInForce.DAY)
    assert (built.filled_quantity, built.average_fill_price) == (D(0), None)
    assert built.remaining_quantity == 10
    assert order(side=Side.SELL).signed_quantity == -10


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"limit_price": None}, "limit order o-1 needs a limit_price"),
        ({"order_type": OrderType.MARKET}, "market order o-1 must not have a limit_price"),
        ({"order_type": OrderType.STOP}, "stop order o-1 must not have a limit_price"),
        (
            {"order_type": OrderType.STOP, "limit_price": None, "stop_price": None},
            "stop order o-1 needs a stop_price",
        ),
        ({"order_type": OrderType.STOP_LIMIT}, "stop_limit order o-1 needs a stop_price"),
        ({"stop_price": D(70_000)}, "limit order o-1 must not have a stop_price"),
        ({"quantity": D(-5)}, "Order.quantity must be > 0, got -5"),
        ({"quantity": D(0)}, "Order.quantity must be > 0"),
        ({"limit_price": D(-1)}, "Order.limit_price must be > 0"),
        ({"created_at": datetime(2024, 1, 2)}, "created_at must be timezone-aware"),  # noqa: DTZ001
        ({"order_type": "trailing"}, "Order.order_type must be one of"),
        ({"filled_quantity": D(11), "status": S.PARTIALLY_FILLED}, "exceeds quantity"),
        ({"filled_quantity": D(3), "status": S.PARTIALLY_FILLED}, "average_fill_price must be"),
        ({"filled_quantity": D(3), "average_fill_price": D(1), "status": S.ACCEPTED}, "has fills"),
        ({"filled_quantity": D(3), "average_fill_price": D(1), "status": S.FILLED}, "only 3"),
        ({"status": S.PARTIALLY_FILLED}, "partially_filled with 0 of 10"),
        (
            {"filled_quantity": D(10), "average_fill_price": D(1), "status": S.CANCELLED},
            "fully filled, not cancelled",
        ),
    ],
)
def test_order_rejects_inconsistent_values(changes: dict[str, object], message: str) -> None:
    with pytest.raises(ValidationError, match=message):
        order(**changes)


def test_every_order_type_accepts_exactly_its_prices() -> None:
    assert order(order_type=OrderType.MARKET, limit_price=None).limit_price is None
    assert order(order_type=OrderType.STOP, limit_price=None, stop_price=D(69_000)).stop_price
    both = order(order_type=OrderType.STOP_LIMIT, stop_price=D(70_500))
    assert (both.limit_price, both.stop_price) == (D(71_000), D(70_500))


def test_fills_accumulate_with_a_volume_weighted_average_price() -> None:
    accepted = order().with_status(S.SUBMITTED).with_status(S.ACCEPTED)

    first = accepted.with_fill(fill(4, 70_900))
    second = first.with_fill(fill(6, 71_000, "f-2"))

    assert (first.status, first.filled_quantity, first.average_fill_price) == (
        S.PARTIALLY_FILLED,
        D(4),
        D(70_900),
    )
    # (4 x 70,900 + 6 x 71,000) / 10 = (283,600 + 426,000) / 10 = 70,960
    assert (second.status, second.filled_quantity, second.average_fill_price) == (
        S.FILLED,
        D(10),
        D(70_960),
    )
    assert accepted.status is S.ACCEPTED  # the original is unchanged


def test_partial_fill_during_a_pending_cancel_keeps_cancel_requested() -> None:
    pending = order().with_status(S.SUBMITTED).with_status(S.CANCEL_REQUESTED)

    after = pending.with_fill(fill(4, 70_900))

    assert after.status is S.CANCEL_REQUESTED
    assert after.with_status(S.CANCELLED).filled_quantity == 4


@pytest.mark.parametrize(
    ("bad_fill", "error", "message"),
    [
        (fill(11, 71_000), ValidationError, "overfills order o-1: only 10 remaining"),
        (fill(1, 71_000, order_id=OrderId("o-2")), ValidationError, "is for order o-2, not o-1"),
        (fill(1, 71_000, side=Side.SELL), ValidationError, "does not match order"),
        (fill(1, 71_000, symbol=Symbol("000660")), ValidationError, "does not match order"),
    ],
)
def test_with_fill_rejects_fills_that_do_not_belong(
    bad_fill: Fill, error: type[Exception], message: str
) -> None:
    with pytest.raises(error, match=message):
        order(status=S.SUBMITTED).with_fill(bad_fill)


@pytest.mark.parametrize("status", [S.NEW, S.CANCELLED, S.REJECTED, S.EXPIRED])
def test_orders_that_are_not_live_cannot_fill(status: OrderStatus) -> None:
    with pytest.raises(InvalidTransitionError, match=f"is {status.value} and cannot receive"):
        order(status=status).with_fill(fill(1, 71_000))


def test_illegal_status_change_names_both_statuses() -> None:
    with pytest.raises(InvalidTransitionError, match="o-1 cannot go from new to filled"):
        order().with_status(S.FILLED)


def test_transition_table_by_hand() -> None:
    assert ORDER_TRANSITIONS[S.NEW] == {S.SUBMITTED, S.REJECTED, S.CANCELLED}
    assert can_transition(S.SUBMITTED, S.FILLED)
    assert can_transition(S.PARTIALLY_FILLED, S.PARTIALLY_FILLED)
    assert can_transition(S.CANCEL_REQUESTED, S.ACCEPTED)  # the broker refused the cancel
    assert not can_transition(S.ACCEPTED, S.SUBMITTED)
    assert not can_transition(S.ACCEPTED, S.REJECTED)
    assert not can_transition(S.NEW, S.ACCEPTED)
    assert {s for s in S if s.is_terminal} == {S.FILLED, S.CANCELLED, S.REJECTED, S.EXPIRED}


def test_every_status_is_in_the_table_and_only_new_has_no_way_in() -> None:
    targets = set().union(*ORDER_TRANSITIONS.values())

    assert set(ORDER_TRANSITIONS) == set(S)
    assert set(S) - targets == {S.NEW}


def test_every_status_is_reachable_from_new() -> None:
    reached, frontier = {S.NEW}, [S.NEW]
    while frontier:
        for target in ORDER_TRANSITIONS[frontier.pop()]:
            if target not in reached:
                reached.add(target)
                frontier.append(target)

    assert reached == set(S)


@given(built=orders(), target=st.sampled_from(OrderStatus))
def test_with_status_follows_the_table(built: Order, target: OrderStatus) -> None:
    if not can_transition(built.status, target):
        with pytest.raises(InvalidTransitionError):
            built.with_status(target)
        return
    try:
        moved = built.with_status(target)
    except ValidationError:
        # allowed by the table, but not with this filled quantity (e.g. ACCEPTED after fills)
        return
    assert moved.status is target
    assert dataclasses.replace(moved, status=built.status) == built


def checked_copy(moved: Order) -> Order:
    """`moved` built again through the constructor, every field validated."""
    return Order(**{field.name: getattr(moved, field.name) for field in dataclasses.fields(Order)})


@given(built=orders(), target=st.sampled_from(OrderStatus))
def test_a_move_builds_what_the_checked_constructor_builds_or_refuses_alike(
    built: Order, target: OrderStatus
) -> None:
    # Moves copy the order and check only the fill state (`Order._changed`): the result
    # must be exactly a valid Order, and whatever the constructor refuses must be refused.
    broker_id = BrokerOrderId("B-7")
    try:
        expected = dataclasses.replace(built, status=target, broker_order_id=broker_id)
    except ValidationError:
        with pytest.raises(ValidationError):
            built.with_broker_state(target, broker_id)
        return
    moved = built.with_broker_state(target, broker_id)
    assert moved == expected
    assert checked_copy(moved) == moved


def test_a_fill_and_a_status_move_are_valid_orders() -> None:
    accepted = order().with_status(S.SUBMITTED).with_status(S.ACCEPTED)

    partial = accepted.with_fill(fill(4, 70_000))
    done = partial.with_fill(fill(6, 70_500, "f-2"))

    assert checked_copy(partial) == partial
    assert checked_copy(done) == done
    assert (done.status, done.average_fill_price) == (S.FILLED, D(70_300))


def test_a_broker_state_that_contradicts_the_fills_is_refused() -> None:
    partial = order().with_status(S.SUBMITTED).with_status(S.ACCEPTED).with_fill(fill(4, 70_000))

    with pytest.raises(ValidationError, match="accepted but has fills"):
        partial.with_broker_state(S.ACCEPTED, BrokerOrderId("B-1"))
    with pytest.raises(ValidationError):
        partial.with_broker_state(S.REJECTED, 42)  # type: ignore[arg-type]
