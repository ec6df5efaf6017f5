"""RoundTrips: a trade's P&L is the realized P&L from before its opening fill to its close."""

from __future__ import annotations

from decimal import Decimal

from anomaly.builders import at, fill
from orchestrade.anomaly import ClosedTrade, RoundTrips
from orchestrade.domain import Position, Side, Symbol

KEY = ("bot-1/005930", "005930")


def follow(trips: RoundTrips, start: Position, *fills_: object) -> list[ClosedTrade | None]:
    position, closed = start, []
    for item in fills_:
        position = position.apply(item)  # type: ignore[arg-type]
        closed.append(trips.update(KEY, position, item))  # type: ignore[arg-type]
    return closed


def test_a_round_trip_reports_its_pnl_with_every_fee_and_tax() -> None:
    trips = RoundTrips()

    closed = follow(
        trips,
        Position(Symbol("005930")),
        fill("buy", 0, quantity="10", price="100", fee="1.5"),
        fill("add", 60, quantity="10", price="110", fee="1.5"),
        fill("part", 120, side=Side.SELL, quantity="5", price="120", fee="1"),
        fill("rest", 180, side=Side.SELL, quantity="15", price="90", fee="2", tax="3"),
    )

    # Bought 10 @ 100 + 10 @ 110 = 2,100; sold 5 @ 120 + 15 @ 90 = 1,950; costs 9.
    assert closed[:3] == [None, None, None]
    assert closed[3] == ClosedTrade(Symbol("005930"), at(180), Decimal("-159.0"))
    assert closed[3] is not None
    assert closed[3].is_loss


def test_earlier_realized_pnl_does_not_leak_into_the_next_trade() -> None:
    trips = RoundTrips()
    flat_with_history = Position(Symbol("005930"), realized_pnl=Decimal("500"))

    closed = follow(
        trips,
        flat_with_history,
        fill("buy", 0, price="100", fee="1"),
        fill("sell", 60, side=Side.SELL, price="100", fee="1"),
    )

    assert closed[1] is not None
    assert closed[1].pnl == Decimal(-2)


def test_crossing_zero_closes_the_trade_and_opens_the_other_side() -> None:
    trips = RoundTrips()

    closed = follow(
        trips,
        Position(Symbol("005930")),
        fill("buy", 0, quantity="10", price="100"),
        fill("flip", 60, side=Side.SELL, quantity="15", price="105"),
        fill("cover", 120, quantity="5", price="100"),
    )

    assert [trade.pnl if trade else None for trade in closed] == [
        None,
        Decimal(50),  # long 10: +5 each
        Decimal(25),  # short 5: +5 each
    ]


def test_a_position_opened_before_watching_has_no_known_pnl() -> None:
    trips = RoundTrips()
    held = Position(Symbol("005930"), Decimal(10), Decimal(1000), Decimal(0))

    closed = follow(trips, held, fill("sell", 0, side=Side.SELL, quantity="10", price="90"))

    assert closed == [None]
