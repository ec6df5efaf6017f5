"""adopt_view: the broker's status (and order id) taken over only when the books allow it."""

from __future__ import annotations

import dataclasses
from decimal import Decimal

import pytest

from fakes import T0, buy
from orchestrade.domain import (
    BrokerOrderId,
    Fill,
    FillId,
    InvalidTransitionError,
    Order,
    OrderStatus,
    ValidationError,
)
from orchestrade.execution.adoption import adopt_view

S = OrderStatus
SENT = buy("o1", 10).with_status(S.SUBMITTED)
ACCEPTED = SENT.with_status(S.ACCEPTED)


def with_broker_id(order: Order, broker_id: str) -> Order:
    return dataclasses.replace(order, broker_order_id=BrokerOrderId(broker_id))


def fill_of(order: Order, quantity: int) -> Fill:
    return Fill(
        fill_id=FillId(f"{order.order_id}-{quantity}"),
        order_id=order.order_id,
        symbol=order.symbol,
        side=order.side,
        quantity=Decimal(quantity),
        price=Decimal(100),
        filled_at=T0,
    )


def test_a_status_and_the_broker_order_id_are_adopted_together() -> None:
    moved = adopt_view(SENT, with_broker_id(ACCEPTED, "B7"))

    assert moved == with_broker_id(ACCEPTED, "B7")


def test_a_known_broker_order_id_is_kept() -> None:
    moved = adopt_view(with_broker_id(SENT, "B1"), with_broker_id(ACCEPTED, "B7"))

    assert moved == with_broker_id(ACCEPTED, "B1")


def test_the_broker_order_id_alone_is_adopted_when_the_status_is_the_same() -> None:
    assert adopt_view(SENT, with_broker_id(SENT, "B7")) == with_broker_id(SENT, "B7")
    assert adopt_view(SENT, SENT) is None


def test_a_fill_driven_status_waits_for_its_fills() -> None:
    assert adopt_view(ACCEPTED, ACCEPTED.with_fill(fill_of(ACCEPTED, 10))) is None


def test_a_move_the_state_machine_forbids_is_refused() -> None:
    cancelled = ACCEPTED.with_status(S.CANCELLED)

    with pytest.raises(InvalidTransitionError, match="o1 cannot go from cancelled to accepted"):
        adopt_view(cancelled, ACCEPTED)


def test_a_status_that_contradicts_the_fills_held_is_refused() -> None:
    # CANCEL_REQUESTED -> ACCEPTED is a legal move (a refused cancel), but ACCEPTED means
    # nothing filled while the OMS holds 4 of 10 filled: the stale view is refused.
    requested = ACCEPTED.with_fill(fill_of(ACCEPTED, 4)).with_status(S.CANCEL_REQUESTED)

    with pytest.raises(InvalidTransitionError, match="o1 cannot become accepted with 4 of 10"):
        adopt_view(requested, ACCEPTED)


def test_a_view_of_another_order_is_refused() -> None:
    with pytest.raises(ValidationError, match="broker view of o2 offered for o1"):
        adopt_view(SENT, buy("o2").with_status(S.SUBMITTED))
