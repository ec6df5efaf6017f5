"""PortfolioRepository: position snapshots per bot and the equity curve, exact to the digit."""

from __future__ import annotations

from decimal import Decimal

import pytest

from orchestrade.data.errors import QueryError
from orchestrade.domain import BotId, Fill, FillId, OrderId, Position, Side, Symbol, ValidationError
from orchestrade.storage import PortfolioRepository, PortfolioSnapshot, Store

from .trading import T0, at

A, B = Symbol("005930"), Symbol("000660")


@pytest.fixture
def portfolio(store: Store) -> PortfolioRepository:
    return PortfolioRepository(store)


def _fill(side: Side, quantity: int, price: str) -> Fill:
    return Fill(
        FillId(f"f-{side}"),
        OrderId("o"),
        A,
        side,
        Decimal(quantity),
        Decimal(price),
        T0,
        Decimal(1),
    )


def test_positions_of_a_bot_round_trip(portfolio: PortfolioRepository) -> None:
    # buy 10 @ 100 (fee 1), sell 4 @ 110 (fee 1): 6 left at cost 600;
    # realized = -1 - 1 + 4 x 110 - 400 = 38
    position = Position(A).apply(_fill(Side.BUY, 10, "100")).apply(_fill(Side.SELL, 4, "110"))
    assert (position.quantity, position.cost_basis, position.realized_pnl) == (
        Decimal(6),
        Decimal(600),
        Decimal(38),
    )
    short = Position(B, Decimal("-0.5"), Decimal("-1234.5678901234"), Decimal("0.1"))

    portfolio.save_positions([position, short], at=at(1), bot_id=BotId("b-1"))

    assert portfolio.positions(BotId("b-1")) == {A: position, B: short}
    assert str(portfolio.positions(BotId("b-1"))[B].cost_basis) == "-1234.5678901234"
    assert portfolio.positions() == {}


def test_saving_again_upserts_and_keeps_flat_positions(portfolio: PortfolioRepository) -> None:
    portfolio.save_positions([Position(A, Decimal(5), Decimal(500))], at=at(1), bot_id=BotId("b-1"))
    portfolio.save_positions([Position(B, Decimal(1), Decimal(90))], at=at(1), bot_id=BotId("b-1"))
    closed = Position(A, realized_pnl=Decimal("49.5"))

    portfolio.save_positions([closed], at=at(2), bot_id=BotId("b-1"))

    assert portfolio.positions(BotId("b-1")) == {
        A: closed,
        B: Position(B, Decimal(1), Decimal(90)),
    }


def test_positions_are_kept_apart_per_bot_and_for_the_account(
    portfolio: PortfolioRepository,
) -> None:
    mine = Position(A, Decimal(1), Decimal(100))
    yours = Position(A, Decimal(2), Decimal(210))
    account = Position(A, Decimal(3), Decimal(310))
    portfolio.save_positions([mine], at=T0, bot_id=BotId("b-1"))
    portfolio.save_positions([yours], at=T0, bot_id=BotId("b-2"))
    portfolio.save_positions([account], at=T0)

    assert portfolio.positions() == {A: account}
    assert portfolio.positions_by_bot() == {
        None: {A: account},
        BotId("b-1"): {A: mine},
        BotId("b-2"): {A: yours},
    }


def test_positions_by_bot_leaves_out_flat_ones_however_zero_is_written(
    portfolio: PortfolioRepository,
) -> None:
    # Zero as fills leave it ("0.0" after 7307.0 - 7307.0, "0E-8" from crypto lots) is flat;
    # a tiny or written-with-exponent quantity is not.
    flat = [
        Position(Symbol(f"F{number}"), quantity, Decimal(0), Decimal("-1.5"))
        for number, quantity in enumerate(
            [Decimal(0), Decimal("0.0"), Decimal("-0"), Decimal("0E-8")]
        )
    ]
    tiny = Position(Symbol("T"), Decimal("0.00000001"), Decimal("0.0005"))
    large = Position(Symbol("L"), Decimal("1E+2"), Decimal("1E+4"))
    short = Position(Symbol("S"), Decimal("-3.0"), Decimal(-300))
    portfolio.save_positions([*flat, tiny, large, short], at=T0, bot_id=BotId("b-1"))
    portfolio.save_positions([Position(A, realized_pnl=Decimal(7))], at=T0)

    held = portfolio.positions_by_bot(include_flat=False)
    everything = portfolio.positions_by_bot()

    assert held == {BotId("b-1"): {Symbol("L"): large, Symbol("S"): short, Symbol("T"): tiny}}
    assert everything[BotId("b-1")] == {
        position.symbol: position for position in [*flat, tiny, large, short]
    }
    assert everything[None] == {A: Position(A, realized_pnl=Decimal(7))}


def test_a_symbol_twice_in_one_save_is_refused(portfolio: PortfolioRepository) -> None:
    with pytest.raises(ValidationError, match="list a symbol twice"):
        portfolio.save_positions([Position(A), Position(A)], at=T0)


def test_snapshots_form_an_equity_curve_per_bot(portfolio: PortfolioRepository) -> None:
    # 9,000 cash + 6 x 110 = 9,660
    first = PortfolioSnapshot(at(0), Decimal(9000), Decimal(660), Decimal(9660), BotId("b-1"))
    second = PortfolioSnapshot(
        at(60), Decimal("9000.01"), Decimal("672.5"), Decimal("9672.51"), BotId("b-1")
    )
    whole = PortfolioSnapshot(at(0), Decimal(50_000), Decimal(0), Decimal(50_000))
    for snapshot in (second, first, whole):
        portfolio.record_snapshot(snapshot)

    assert portfolio.snapshots(bot_id=BotId("b-1")) == [first, second]
    assert portfolio.snapshots(bot_id=BotId("b-1"), start=at(1)) == [second]
    assert portfolio.snapshots(bot_id=BotId("b-1"), end=at(60)) == [first]
    assert portfolio.snapshots() == [whole]
    assert portfolio.latest_snapshot(BotId("b-1")) == second
    assert portfolio.latest_snapshot(BotId("b-9")) is None


def test_the_whole_is_the_sum_of_each_bots_latest_snapshot(
    portfolio: PortfolioRepository,
) -> None:
    def snap(seconds: int, bot: str, cash: str, value: str) -> PortfolioSnapshot:
        equity = Decimal(cash) + Decimal(value)
        return PortfolioSnapshot(at(seconds), Decimal(cash), Decimal(value), equity, BotId(bot))

    # Bot a from t=0, bot b (another node) from t=60; at t=120 only a has a new snapshot.
    snapshots = [
        snap(0, "a", "100", "0"),
        snap(60, "a", "40", "70"),
        snap(60, "b", "50", "0"),
        snap(120, "a", "40", "75.5"),
    ]
    portfolio.record_snapshots(snapshots)
    portfolio.record_snapshot(PortfolioSnapshot(at(0), Decimal(9), Decimal(0), Decimal(9)))

    totals = portfolio.total_snapshots()

    assert [(t.time, t.cash, t.market_value, t.equity, t.bot_id) for t in totals] == [
        (at(0), Decimal(100), Decimal(0), Decimal(100), None),  # b not started yet
        (at(60), Decimal(90), Decimal(70), Decimal(160), None),
        (at(120), Decimal(90), Decimal("75.5"), Decimal("165.5"), None),  # b's carried
    ]  # (the account row of one node is not part of the whole)
    assert portfolio.total_snapshots(start=at(60), end=at(120)) == totals[1:2]


def test_a_snapshot_taken_again_replaces_the_first(portfolio: PortfolioRepository) -> None:
    portfolio.record_snapshot(PortfolioSnapshot(T0, Decimal(1), Decimal(2), Decimal(3)))
    again = PortfolioSnapshot(T0, Decimal(2), Decimal(2), Decimal(4))

    portfolio.record_snapshot(again)

    assert portfolio.snapshots() == [again]


def test_a_snapshot_must_balance() -> None:
    with pytest.raises(ValidationError, match=r"equity 10 != cash 9 \+ market value 2 \(= 11\)"):
        PortfolioSnapshot(T0, Decimal(9), Decimal(2), Decimal(10))


def test_naive_bounds_are_refused(portfolio: PortfolioRepository) -> None:
    with pytest.raises(QueryError, match="start must be timezone-aware"):
        portfolio.snapshots(start=T0.replace(tzinfo=None))


def test_the_positions_version_changes_with_every_save_and_only_then(
    portfolio: PortfolioRepository, store: Store
) -> None:
    start = portfolio.positions_version()
    portfolio.save_positions([Position(A, Decimal(1), Decimal(70))], at=at(1))
    once = portfolio.positions_version()
    # Another repository on the store (another process, in effect) sees the same count.
    other = PortfolioRepository(store)
    other.save_positions([Position(A)], at=at(2), bot_id=BotId("b-2"))
    portfolio.record_snapshot(PortfolioSnapshot(at(2), Decimal(10), Decimal(0), Decimal(10)))
    portfolio.save_positions([], at=at(3))  # nothing saved: nothing changes

    assert once == start + 1
    assert portfolio.positions_version() == other.positions_version() == start + 2
