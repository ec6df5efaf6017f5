"""Bars, trade prints, quotes and order books: validation and derived numbers."""

from datetime import UTC, datetime, timedelta, timezone
from decimal import Decimal

import pytest

from orchestrade.domain import Bar, BookLevel, OrderBook, Quote, Symbol, Tick, ValidationError

D = Decimal
T0 = datetime(2024, 1, 2, tzinfo=UTC)
KST = timezone(timedelta(hours=9))


def bar(**changes: object) -> Bar:
    fields: dict[str, object] = {
        "symbol": Symbol("005930"),
        "timeframe": "1d",
        "start": T0,
        "open": D(100),
        "high": D(110),
        "low": D(95),
        "close": D(105),
        "volume": D(1_000),
    }
    return Bar(**{**fields, **changes})  # type: ignore[arg-type]


def test_bar_with_high_below_close_is_kept_but_flagged_inconsistent() -> None:
    assert bar().is_consistent
    assert not bar(high=D(104)).is_consistent
    assert not bar(low=D(101)).is_consistent


def test_bar_rejects_naive_start() -> None:
    with pytest.raises(ValidationError, match=r"Bar.start must be timezone-aware"):
        bar(start=datetime(2024, 1, 2))  # noqa: DTZ001 - the point of the test


def test_aware_start_in_another_zone_is_stored_as_utc() -> None:
    kst_midnight = datetime(2024, 1, 2, 9, tzinfo=KST)

    assert bar(start=kst_midnight).start.tzinfo is UTC
    assert bar(start=kst_midnight).start == T0


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"open": D(0)}, "Bar.open must be > 0"),
        ({"close": D(-1)}, "Bar.close must be > 0"),
        ({"volume": D(-1)}, "Bar.volume must be >= 0"),
        ({"high": 110.5}, r"Bar.high must be a Decimal, got float .*Decimal\(str\(x\)\)"),
        ({"low": D("NaN")}, "Bar.low must be finite"),
        ({"timeframe": "2d"}, "Bar.timeframe must be one of"),
        ({"symbol": " "}, "Bar.symbol must not be blank"),
    ],
)
def test_bar_rejects_bad_values(changes: dict[str, object], message: str) -> None:
    with pytest.raises(ValidationError, match=message):
        bar(**changes)


def test_integer_prices_become_decimals() -> None:
    assert isinstance(bar(open=100).open, Decimal)


def test_tick_requires_positive_quantity() -> None:
    with pytest.raises(ValidationError, match=r"Tick.quantity must be > 0"):
        Tick(Symbol("BTCUSDT"), T0, D(42_000), D(0))


def test_quote_mid_spread_and_crossing() -> None:
    quote = Quote(Symbol("AAPL"), T0, D("189.98"), D(300), D("190.01"), D(200))
    crossed = Quote(Symbol("AAPL"), T0, D("190.02"), D(300), D("190.01"), D(200))

    assert (quote.mid, quote.spread, quote.is_crossed) == (D("189.995"), D("0.03"), False)
    assert crossed.is_crossed


def book() -> OrderBook:
    return OrderBook(
        symbol=Symbol("BTCUSDT"),
        time=T0,
        bids=(BookLevel(D("100.0"), D(3)), BookLevel(D("99.5"), D(1)), BookLevel(D(99), D(4))),
        asks=(BookLevel(D("100.5"), D(1)), BookLevel(D(101), D(1))),
    )


def test_order_book_top_of_book() -> None:
    snapshot = book()

    assert snapshot.best_bid == BookLevel(D(100), D(3))
    assert snapshot.best_ask == BookLevel(D("100.5"), D(1))
    assert (snapshot.mid, snapshot.spread) == (D("100.25"), D("0.5"))
    assert not snapshot.is_crossed


def test_order_book_imbalance_over_top_levels() -> None:
    snapshot = book()

    # top 1: (3 - 1) / (3 + 1) = 0.5; top 2: (4 - 2) / 6 = 1/3; all: (8 - 2) / 10 = 0.6
    assert snapshot.imbalance(1) == D("0.5")
    assert snapshot.imbalance(2) == D(2) / D(6)
    assert snapshot.imbalance(10) == D("0.6")


def test_empty_book_has_no_prices() -> None:
    empty = OrderBook(Symbol("BTCUSDT"), T0, (), ())

    assert (empty.best_bid, empty.best_ask, empty.mid, empty.spread) == (None, None, None, None)
    assert empty.imbalance() is None


def test_one_sided_book_imbalance_is_plus_or_minus_one() -> None:
    only_bids = OrderBook(Symbol("X"), T0, (BookLevel(D(10), D(2)),), ())

    assert only_bids.imbalance() == 1
    assert only_bids.mid is None


def test_unsorted_book_levels_are_rejected() -> None:
    with pytest.raises(ValidationError, match=r"bids must be strictly descending.*level 0 is 99"):
        OrderBook(Symbol("X"), T0, (BookLevel(D(99), D(1)), BookLevel(D(100), D(1))), ())
    with pytest.raises(ValidationError, match="asks must be strictly ascending"):
        OrderBook(Symbol("X"), T0, (), (BookLevel(D(101), D(1)), BookLevel(D(101), D(2))))


def test_imbalance_needs_at_least_one_level() -> None:
    with pytest.raises(ValidationError, match="top_n must be >= 1"):
        book().imbalance(0)
