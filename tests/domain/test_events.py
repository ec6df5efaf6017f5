"""Events and commands: every registered type is buildable and guards its own consistency."""

from datetime import UTC, datetime
from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from orchestrade.domain import (
    EVENT_TYPES,
    AgentHeartbeat,
    AgentId,
    Allocation,
    AnomalyDetected,
    Bar,
    BarsClosed,
    BarsOpened,
    BarsTraded,
    BotId,
    BotState,
    BotStateChanged,
    CancelOrder,
    Fill,
    FillId,
    Order,
    OrderCancelled,
    OrderFilled,
    OrderId,
    OrderType,
    RebalanceApplied,
    Severity,
    Side,
    SubmitOrder,
    Symbol,
    ValidationError,
)

from .strategies import MESSAGE_STRATEGIES

D = Decimal
T0 = datetime(2024, 1, 2, tzinfo=UTC)
ORDER = Order(OrderId("o-1"), Symbol("005930"), Side.BUY, OrderType.MARKET, D(10), T0)


def test_registry_names_every_event_and_command_by_class_name() -> None:
    assert set(EVENT_TYPES) == {
        "AgentFailed",
        "AgentHeartbeat",
        "AgentRestarted",
        "AnomalyDetected",
        "BarClosed",
        "BarsClosed",
        "BarsOpened",
        "BarsTraded",
        "BotStateChanged",
        "CancelOrder",
        "CircuitBreakerTripped",
        "OrderCancelled",
        "OrderFilled",
        "OrderRequested",
        "OrderSubmitted",
        "OrdersRequested",
        "PositionChanged",
        "RebalanceApplied",
        "RebalanceDue",
        "RiskLimitsChanged",
        "RiskRejected",
        "SignalApproved",
        "SignalGenerated",
        "SubmitOrder",
        "SubmitOrders",
    }
    assert all(cls.__name__ == name for name, cls in EVENT_TYPES.items())


def test_the_test_strategies_cover_every_registered_type() -> None:
    assert set(MESSAGE_STRATEGIES) == set(EVENT_TYPES.values())


@settings(max_examples=20)
@given(data=st.data())
def test_messages_are_frozen(data: st.DataObject) -> None:
    message = data.draw(st.sampled_from(list(MESSAGE_STRATEGIES.values())).flatmap(lambda s: s))
    first_field = next(iter(message.__dataclass_fields__))

    with pytest.raises(AttributeError):
        setattr(message, first_field, None)


def test_order_filled_must_carry_a_fill_of_that_order() -> None:
    stranger = Fill(FillId("f"), OrderId("o-2"), Symbol("005930"), Side.BUY, D(1), D(1), T0)

    with pytest.raises(ValidationError, match="fill f is for order o-2, not o-1"):
        OrderFilled(ORDER, stranger)


def test_order_cancelled_needs_an_ended_order() -> None:
    with pytest.raises(ValidationError, match="order o-1 is new, not cancelled"):
        OrderCancelled(ORDER)


def test_submit_order_takes_only_new_orders() -> None:
    with pytest.raises(ValidationError, match="SubmitOrder: order o-1 is submitted, not new"):
        SubmitOrder(ORDER.with_status(ORDER.status.SUBMITTED))


def test_anomaly_values_must_be_finite_for_json() -> None:
    with pytest.raises(ValidationError, match=r"AnomalyDetected.value must be finite"):
        AnomalyDetected(T0, "zscore", Severity.HIGH, "005930", float("inf"), 3.0, "price spike")


def test_severity_and_bot_state_accept_their_values() -> None:
    anomaly = AnomalyDetected(T0, "zscore", "high", "005930", 4.2, 3.0, "spike")  # type: ignore[arg-type]
    change = BotStateChanged(BotId("b"), T0, "running", "paused")  # type: ignore[arg-type]

    assert anomaly.severity is Severity.HIGH
    assert (change.previous, change.state) == (BotState.RUNNING, BotState.PAUSED)


def test_rebalance_lists_each_bot_once() -> None:
    twice = (Allocation(BotId("a"), D("0.5")), Allocation(BotId("a"), D("0.5")))

    with pytest.raises(ValidationError, match="lists a bot twice"):
        RebalanceApplied(T0, twice)


def test_negative_weight_is_rejected() -> None:
    with pytest.raises(ValidationError, match=r"Allocation.weight must be >= 0"):
        Allocation(BotId("a"), D("-0.1"))


@pytest.mark.parametrize(
    ("build", "message"),
    [
        (lambda: AgentHeartbeat(AgentId("data"), T0, -1), "sequence must be >= 0"),
        (lambda: AgentHeartbeat(AgentId("data"), T0, True), "sequence must be an int"),
        (lambda: CancelOrder(OrderId(" ")), "CancelOrder.order_id must not be blank"),
    ],
)
def test_other_bad_inputs(build: object, message: str) -> None:
    with pytest.raises(ValidationError, match=message):
        build()  # type: ignore[operator]


def test_the_later_phases_of_a_slice_carry_its_checked_bars() -> None:
    bar = Bar(Symbol("005930"), "1d", T0, D(100), D(110), D(90), D(105), D(1000))
    opened = BarsOpened(T0, [bar])

    traded, closed = BarsTraded.of(opened), BarsClosed.of(opened)

    assert traded == BarsTraded(T0, (bar,))
    assert closed == BarsClosed(T0, (bar,))
    assert traded.bars is opened.bars
    assert closed.bars is opened.bars
