"""Hypothesis strategies that build valid domain values, one per message type and more."""

from __future__ import annotations

import dataclasses
import json
import string
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from hypothesis import strategies as st

from orchestrade.domain import (
    TIMEFRAMES,
    AgentFailed,
    AgentHeartbeat,
    AgentId,
    AgentRestarted,
    Allocation,
    AnomalyDetected,
    Bar,
    BarClosed,
    BarsClosed,
    BarsOpened,
    BarsTraded,
    BookLevel,
    BotId,
    BotState,
    BotStateChanged,
    BrokerOrderId,
    CancelOrder,
    CircuitBreakerTripped,
    CorrelationId,
    Envelope,
    Fill,
    FillId,
    Message,
    MessageId,
    Order,
    OrderBook,
    OrderCancelled,
    OrderFilled,
    OrderId,
    OrderRequested,
    OrdersRequested,
    OrderStatus,
    OrderSubmitted,
    OrderType,
    Position,
    PositionChanged,
    Quote,
    RebalanceApplied,
    RebalanceDue,
    RiskLimitsChanged,
    RiskRejected,
    Severity,
    Side,
    Signal,
    SignalApproved,
    SignalGenerated,
    SignalSide,
    StrategyId,
    SubmitOrder,
    SubmitOrders,
    Symbol,
    Tick,
    TimeInForce,
)

utc_times = st.datetimes(
    min_value=datetime(1990, 1, 1),  # noqa: DTZ001 - hypothesis takes naive bounds
    max_value=datetime(2100, 1, 1),  # noqa: DTZ001
    timezones=st.just(UTC),
)
identifiers = st.text(
    alphabet=string.ascii_letters + string.digits + "-_.:", min_size=1, max_size=20
)
symbols = st.sampled_from(["005930", "AAPL", "BTCUSDT", "069500"]).map(Symbol) | identifiers.map(
    Symbol
)
free_text = st.text(max_size=40)
reasons = st.lists(free_text, max_size=4).map(tuple)
non_blank_text = st.text(min_size=1, max_size=40).filter(str.strip)
prices = st.decimals(min_value=Decimal("0.0001"), max_value=Decimal(1_000_000), places=4)
quantities = st.decimals(min_value=Decimal("0.00000001"), max_value=Decimal(100_000), places=8)
fees = st.decimals(min_value=Decimal(0), max_value=Decimal(1_000), places=4)
money = st.decimals(min_value=Decimal(-1_000_000_000), max_value=Decimal(1_000_000_000), places=4)
finite_floats = st.floats(allow_nan=False, allow_infinity=False)
bot_ids = identifiers.map(BotId)
optional_bot_ids = st.none() | bot_ids

bars = st.builds(
    Bar,
    symbol=symbols,
    timeframe=st.sampled_from(TIMEFRAMES),
    start=utc_times,
    open=prices,
    high=prices,
    low=prices,
    close=prices,
    volume=st.just(Decimal(0)) | quantities,
)
ticks = st.builds(
    Tick,
    symbol=symbols,
    time=utc_times,
    price=prices,
    quantity=quantities,
    aggressor=st.none() | st.sampled_from(Side),
)
quotes = st.builds(
    Quote,
    symbol=symbols,
    time=utc_times,
    bid_price=prices,
    bid_quantity=quantities,
    ask_price=prices,
    ask_quantity=quantities,
)


@st.composite
def order_books(draw: st.DrawFn, max_levels: int = 6) -> OrderBook:
    """A snapshot with strictly ordered, distinct price levels on each side."""
    level_prices = st.lists(prices, max_size=max_levels, unique=True)
    bids = sorted(draw(level_prices), reverse=True)
    asks = sorted(draw(level_prices))
    return OrderBook(
        symbol=draw(symbols),
        time=draw(utc_times),
        bids=tuple(BookLevel(price, draw(quantities)) for price in bids),
        asks=tuple(BookLevel(price, draw(quantities)) for price in asks),
    )


signals = st.builds(
    Signal,
    time=utc_times,
    symbol=symbols,
    side=st.sampled_from(SignalSide),
    confidence=st.floats(min_value=0, max_value=1),
    strategy_id=identifiers.map(StrategyId),
    bot_id=optional_bot_ids,
    reasons=reasons,
    reference_price=st.none() | prices,
)

_NOTHING_FILLED = (
    OrderStatus.NEW,
    OrderStatus.SUBMITTED,
    OrderStatus.ACCEPTED,
    OrderStatus.REJECTED,
)


@st.composite
def orders(draw: st.DrawFn, statuses: tuple[OrderStatus, ...] = tuple(OrderStatus)) -> Order:
    """A valid order in one of `statuses`, with a filled quantity that agrees with it."""
    order_type = draw(st.sampled_from(OrderType))
    quantity = draw(quantities)
    status = draw(st.sampled_from(statuses))
    partial = quantity * draw(st.decimals(min_value="0.01", max_value="0.99", places=2))
    if status in _NOTHING_FILLED:
        filled = Decimal(0)
    elif status is OrderStatus.FILLED:
        filled = quantity
    elif status is OrderStatus.PARTIALLY_FILLED:
        filled = partial
    else:
        filled = draw(st.sampled_from([Decimal(0), partial]))
    return Order(
        order_id=draw(identifiers.map(OrderId)),
        symbol=draw(symbols),
        side=draw(st.sampled_from(Side)),
        order_type=order_type,
        quantity=quantity,
        created_at=draw(utc_times),
        limit_price=draw(prices) if order_type.needs_limit_price else None,
        stop_price=draw(prices) if order_type.needs_stop_price else None,
        time_in_force=draw(st.sampled_from(TimeInForce)),
        status=status,
        filled_quantity=filled,
        average_fill_price=draw(prices) if filled else None,
        bot_id=draw(optional_bot_ids),
        broker_order_id=draw(st.none() | identifiers.map(BrokerOrderId)),
    )


@st.composite
def fills(draw: st.DrawFn, symbol: Symbol | None = None, order_id: OrderId | None = None) -> Fill:
    """A fill, for the given symbol and order when given."""
    return Fill(
        fill_id=draw(identifiers.map(FillId)),
        order_id=draw(identifiers.map(OrderId)) if order_id is None else order_id,
        symbol=draw(symbols) if symbol is None else symbol,
        side=draw(st.sampled_from(Side)),
        quantity=draw(quantities),
        price=draw(prices),
        filled_at=draw(utc_times),
        fee=draw(fees),
        tax=draw(fees),
    )


@st.composite
def positions(draw: st.DrawFn) -> Position:
    """A position whose cost basis has the sign of its quantity."""
    sign = draw(st.sampled_from([-1, 0, 1]))
    return Position(
        symbol=draw(symbols),
        quantity=sign * draw(quantities),
        cost_basis=sign * draw(prices),
        realized_pnl=draw(money),
    )


@st.composite
def _order_filled(draw: st.DrawFn) -> OrderFilled:
    order = draw(orders((OrderStatus.PARTIALLY_FILLED, OrderStatus.FILLED)))
    return OrderFilled(order=order, fill=draw(fills(order.symbol, order.order_id)))


@st.composite
def _position_changed(draw: st.DrawFn) -> PositionChanged:
    position = draw(positions())
    return PositionChanged(
        position=position, fill=draw(fills(symbol=position.symbol)), bot_id=draw(optional_bot_ids)
    )


def _bar_slice(cls: type[Any]) -> st.SearchStrategy[Any]:
    """A market-data slice: bars of distinct symbols, all starting at one time."""

    @st.composite
    def build(draw: st.DrawFn) -> Any:
        start = draw(utc_times)
        names = draw(st.lists(symbols, max_size=4, unique=True))
        sliced = tuple(dataclasses.replace(draw(bars), symbol=name, start=start) for name in names)
        return cls(start=start, bars=sliced)

    return build()


allocations = st.lists(
    st.builds(
        Allocation,
        bot_id=bot_ids,
        weight=st.decimals(min_value=0, max_value=1, places=6),
    ),
    max_size=5,
    unique_by=lambda allocation: allocation.bot_id,
).map(tuple)

MESSAGE_STRATEGIES: dict[type[Any], st.SearchStrategy[Any]] = {
    BarClosed: st.builds(BarClosed, bar=bars),
    BarsOpened: _bar_slice(BarsOpened),
    BarsTraded: _bar_slice(BarsTraded),
    BarsClosed: _bar_slice(BarsClosed),
    SignalGenerated: st.builds(SignalGenerated, signal=signals),
    SignalApproved: st.builds(SignalApproved, signal=signals, reasons=reasons),
    OrderRequested: st.builds(OrderRequested, order=orders()),
    RiskRejected: st.builds(
        RiskRejected, order=orders(), check=non_blank_text, reason=non_blank_text
    ),
    OrderSubmitted: st.builds(OrderSubmitted, order=orders()),
    OrderFilled: _order_filled(),
    OrderCancelled: st.builds(
        OrderCancelled,
        order=orders((OrderStatus.CANCELLED, OrderStatus.EXPIRED, OrderStatus.REJECTED)),
        reason=free_text,
    ),
    PositionChanged: _position_changed(),
    AnomalyDetected: st.builds(
        AnomalyDetected,
        detected_at=utc_times,
        detector=non_blank_text,
        severity=st.sampled_from(Severity),
        subject=non_blank_text,
        value=finite_floats,
        threshold=finite_floats,
        reason=non_blank_text,
        bot_id=optional_bot_ids,
    ),
    CircuitBreakerTripped: st.builds(
        CircuitBreakerTripped,
        tripped_at=utc_times,
        breaker=non_blank_text,
        value=money,
        limit=money,
        reason=non_blank_text,
        bot_id=optional_bot_ids,
    ),
    RebalanceDue: st.builds(
        RebalanceDue,
        due_at=utc_times,
        reason=free_text,
        sharpe_improvement=st.none() | finite_floats,
    ),
    RebalanceApplied: st.builds(
        RebalanceApplied,
        applied_at=utc_times,
        allocations=allocations,
        previous=allocations,
        reason=free_text,
    ),
    AgentHeartbeat: st.builds(
        AgentHeartbeat,
        agent_id=identifiers.map(AgentId),
        sent_at=utc_times,
        sequence=st.integers(min_value=0, max_value=2**62),
    ),
    AgentFailed: st.builds(
        AgentFailed,
        agent_id=identifiers.map(AgentId),
        failed_at=utc_times,
        error=non_blank_text,
        restart_attempt=st.integers(min_value=0, max_value=1_000),
    ),
    AgentRestarted: st.builds(
        AgentRestarted,
        agent_id=identifiers.map(AgentId),
        restarted_at=utc_times,
        attempt=st.integers(min_value=1, max_value=1_000),
        delay_s=st.floats(min_value=0, max_value=1e6, allow_nan=False),
        reason=non_blank_text,
    ),
    BotStateChanged: st.builds(
        BotStateChanged,
        bot_id=bot_ids,
        changed_at=utc_times,
        previous=st.sampled_from(BotState),
        state=st.sampled_from(BotState),
        reason=free_text,
    ),
    SubmitOrder: st.builds(SubmitOrder, order=orders((OrderStatus.NEW,))),
    SubmitOrders: st.lists(
        orders((OrderStatus.NEW,)), min_size=1, max_size=3, unique_by=lambda o: o.order_id
    ).map(lambda listed: SubmitOrders(tuple(listed))),
    OrdersRequested: st.lists(orders(), min_size=1, max_size=3, unique_by=lambda o: o.order_id).map(
        lambda listed: OrdersRequested(tuple(listed))
    ),
    CancelOrder: st.builds(CancelOrder, order_id=identifiers.map(OrderId), reason=free_text),
    RiskLimitsChanged: st.builds(
        RiskLimitsChanged,
        changed_at=utc_times,
        source=identifiers,
        limits_json=st.dictionaries(
            identifiers, st.none() | st.floats(0, 1) | st.booleans(), max_size=4
        ).map(json.dumps),
    ),
}
"""A strategy for every registered message class."""

messages: st.SearchStrategy[Message] = st.one_of(*MESSAGE_STRATEGIES.values())


@st.composite
def envelopes(draw: st.DrawFn, payloads: st.SearchStrategy[Message] = messages) -> Envelope:
    """An envelope around any message, with every optional field sometimes set."""
    return Envelope.wrap(
        draw(payloads),
        sender=draw(identifiers),
        timestamp=draw(utc_times),
        receiver=draw(st.none() | identifiers),
        message_id=draw(identifiers.map(MessageId)),
        correlation_id=draw(st.none() | identifiers.map(CorrelationId)),
        causation_id=draw(st.none() | identifiers.map(MessageId)),
        priority=draw(st.integers(min_value=-10, max_value=10)),
        timeout_s=draw(st.none() | st.floats(min_value=0.001, max_value=3600)),
        retries=draw(st.integers(min_value=0, max_value=10)),
    )
