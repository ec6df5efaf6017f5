"""FillReplay: recorded fills of re-asked orders come back when the replay reaches them."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from decimal import Decimal

from orchestrade.agents.fill_replay import FillReplay, Phase
from orchestrade.domain import (
    Fill,
    FillId,
    Order,
    OrderId,
    OrderType,
    Side,
    Symbol,
    TimeInForce,
)

SYMBOL = Symbol("005930")
OTHER = Symbol("000660")
D1, D2, D3 = (datetime(2024, 1, day, tzinfo=UTC) for day in (2, 3, 4))


def order(
    order_id: str, order_type: OrderType = OrderType.MARKET, symbol: Symbol = SYMBOL
) -> Order:
    return Order(
        order_id=OrderId(order_id),
        symbol=symbol,
        side=Side.SELL if order_type is OrderType.STOP else Side.BUY,
        order_type=order_type,
        quantity=Decimal(10),
        created_at=D1,
        stop_price=Decimal(90) if order_type is OrderType.STOP else None,
        time_in_force=TimeInForce.GTC,
    )


def fill(of: Order, n: int, at: datetime, quantity: int = 10) -> Fill:
    return Fill(
        fill_id=FillId(f"{of.order_id}-{n}"),
        order_id=of.order_id,
        symbol=of.symbol,
        side=of.side,
        quantity=Decimal(quantity),
        price=Decimal(100),
        filled_at=at,
    )


def rank_by(*fills: Fill) -> Callable[[Fill], int]:
    """Each fill's place in the journal: the order of the arguments."""
    ranks = {f.fill_id: i for i, f in enumerate(fills)}
    return lambda f: ranks[f.fill_id]


def test_a_stop_fill_waits_for_the_close_of_its_bar() -> None:
    replay = FillReplay()
    stop = order("stop", OrderType.STOP)
    stopped = fill(stop, 1, D3)
    replay.reach(SYMBOL, D1, Phase.OPEN)

    assert replay.schedule(stop, [stopped], rank_by(stopped)) == []
    assert replay.held == 1
    assert replay.reach(SYMBOL, D1, Phase.TRADED) == []
    assert replay.reach(SYMBOL, D2, Phase.OPEN) == []
    assert replay.reach(SYMBOL, D2, Phase.TRADED) == []
    assert replay.reach(SYMBOL, D3, Phase.OPEN) == []
    assert replay.reach(SYMBOL, D3, Phase.TRADED) == [(stop, stopped)]
    assert replay.held == 0


def test_a_stop_that_fills_in_the_bar_it_is_placed_in_waits_for_that_close() -> None:
    replay = FillReplay()
    stop = order("stop", OrderType.STOP)
    stopped = fill(stop, 1, D1)
    replay.reach(SYMBOL, D1, Phase.OPEN)

    assert replay.schedule(stop, [stopped], rank_by(stopped)) == []
    assert replay.reach(SYMBOL, D1, Phase.TRADED) == [(stop, stopped)]


def test_a_market_order_filled_on_arrival_is_republished_at_once() -> None:
    replay = FillReplay()
    entry = order("entry")
    filled = fill(entry, 1, D1)
    replay.reach(SYMBOL, D1, Phase.OPEN)

    assert replay.schedule(entry, [filled], rank_by(filled)) == [(entry, filled)]
    assert replay.held == 0


def test_the_rest_of_a_market_order_fills_at_the_next_open() -> None:
    replay = FillReplay(fill_timing="next_open")
    exit_order = order("exit")
    first, second = fill(exit_order, 1, D1, 4), fill(exit_order, 2, D2, 6)
    replay.reach(SYMBOL, D1, Phase.OPEN)

    ranks = rank_by(first, second)
    assert replay.schedule(exit_order, [first, second], ranks) == [(exit_order, first)]
    assert replay.reach(SYMBOL, D1, Phase.TRADED) == []
    assert replay.reach(SYMBOL, D2, Phase.OPEN) == [(exit_order, second)]


def test_with_fills_at_the_close_the_rest_of_a_market_order_waits_for_the_close() -> None:
    replay = FillReplay(fill_timing="close")
    exit_order = order("exit")
    first, second = fill(exit_order, 1, D1, 4), fill(exit_order, 2, D2, 6)
    replay.reach(SYMBOL, D1, Phase.OPEN)

    ranks = rank_by(first, second)
    assert replay.schedule(exit_order, [first, second], ranks) == [(exit_order, first)]
    assert replay.reach(SYMBOL, D2, Phase.OPEN) == []
    assert replay.reach(SYMBOL, D2, Phase.TRADED) == [(exit_order, second)]


def test_a_market_order_that_did_not_fill_on_arrival_fills_at_a_later_open() -> None:
    replay = FillReplay()
    exit_order = order("exit")
    later = fill(exit_order, 1, D3)
    replay.reach(SYMBOL, D1, Phase.OPEN)

    assert replay.schedule(exit_order, [later], rank_by(later)) == []
    assert replay.reach(SYMBOL, D2, Phase.OPEN) == []
    assert replay.reach(SYMBOL, D3, Phase.OPEN) == [(exit_order, later)]


def test_fills_already_behind_the_replay_and_symbols_not_started_come_at_once() -> None:
    replay = FillReplay()
    stop = order("stop", OrderType.STOP)
    old = fill(stop, 1, D1)
    replay.reach(SYMBOL, D2, Phase.OPEN)
    assert replay.schedule(stop, [old], rank_by(old)) == [(stop, old)]

    elsewhere = order("elsewhere", OrderType.STOP, OTHER)
    ahead = fill(elsewhere, 1, D3)
    assert replay.position(OTHER) is None
    assert replay.schedule(elsewhere, [ahead], rank_by(ahead)) == [(elsewhere, ahead)]


def test_fills_due_together_come_in_recorded_order_and_only_for_their_symbol() -> None:
    replay = FillReplay()
    stop, target = order("stop", OrderType.STOP), order("target", OrderType.STOP)
    other = order("other", OrderType.STOP, OTHER)
    stop_fill, target_fill, other_fill = (
        fill(stop, 1, D2, 4),
        fill(target, 1, D2, 6),
        fill(other, 1, D2),
    )
    ranks = rank_by(stop_fill, target_fill, other_fill)
    replay.reach(SYMBOL, D1, Phase.OPEN)
    replay.reach(OTHER, D1, Phase.OPEN)
    # asked for in the opposite order from the one they were recorded in
    assert replay.schedule(target, [target_fill], ranks) == []
    assert replay.schedule(stop, [stop_fill], ranks) == []
    assert replay.schedule(other, [other_fill], ranks) == []
    assert replay.held == 3

    assert replay.reach(SYMBOL, D2, Phase.TRADED) == [(stop, stop_fill), (target, target_fill)]
    assert replay.held == 1
    assert replay.reach(OTHER, D2, Phase.TRADED) == [(other, other_fill)]
    assert replay.position(SYMBOL) == (D2, Phase.TRADED)
