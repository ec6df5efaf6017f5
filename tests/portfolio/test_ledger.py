"""The trading ledger: accounts per mode, marks, trading days, fills and valuation.

Every number is worked out by hand in the comments; the money invariant
(cash + positions at their marks == equity) is checked after each fill.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from fakes import buy, sell
from orchestrade.domain import (
    Account,
    Bar,
    Fill,
    FillId,
    Instrument,
    OrderId,
    Position,
    Side,
    Symbol,
)
from orchestrade.portfolio import AccountBook, Ledger, LedgerError
from orchestrade.risk import Approved, Denied, KrxPriceLimitCheck, RiskEngine
from orchestrade.risk.ports import PositionBook
from orchestrade.settings import RiskSettings

D = Decimal
SAMSUNG = Symbol("005930")
HYNIX = Symbol("000660")
DAY0 = datetime(2024, 1, 2, tzinfo=UTC)
_fill_ids = iter(range(1, 1_000_000))


def bar(
    day: int,
    open: str | int,
    close: str | int | None = None,
    *,
    symbol: Symbol = SAMSUNG,
    hour: int = 0,
    timeframe: str = "1d",
) -> Bar:
    """A bar of `day` days (and `hour` hours) after 2024-01-02 00:00 UTC."""
    o, c = D(open), D(open if close is None else close)
    return Bar(
        symbol,
        timeframe,
        DAY0 + timedelta(days=day, hours=hour),
        o,
        max(o, c),
        min(o, c),
        c,
        D(1_000),
    )


def fill(
    side: Side,
    quantity: str | int,
    price: str | int,
    *,
    fee: str | int | Decimal = 0,
    tax: str | int | Decimal = 0,
    symbol: Symbol = SAMSUNG,
) -> Fill:
    number = next(_fill_ids)
    return Fill(
        fill_id=FillId(f"f{number}"),
        order_id=OrderId(f"o{number}"),
        symbol=symbol,
        side=side,
        quantity=D(quantity),
        price=D(price),
        filled_at=DAY0,
        fee=D(fee),
        tax=D(tax),
    )


def isolated(cash: str | int = 1_000_000, *, track_days: bool = True) -> tuple[Ledger, str]:
    ledger = Ledger(
        mode="isolated", instruments={SAMSUNG: Instrument.krx(SAMSUNG)}, track_days=track_days
    )
    account_id = ledger.account_id("bot-1", SAMSUNG)
    ledger.open_account(account_id, D(cash), [SAMSUNG])
    return ledger, account_id


def marked_value(ledger: Ledger, account_id: str) -> Decimal:
    """cash + each open position at its last close (its entry price before any close)."""
    account = ledger.account(account_id).account
    value = account.cash
    for symbol, position in account.open_positions.items():
        mark = ledger.last_close(symbol)
        value += position.quantity * mark if mark is not None else position.cost_basis
    return value


# -- accounts ------------------------------------------------------------------------------


def test_isolated_mode_books_each_symbol_of_a_bot_in_its_own_account() -> None:
    ledger = Ledger(mode="isolated")

    assert ledger.account_id("bot-1", SAMSUNG) == "bot-1/005930"
    assert ledger.account_id("bot-1", HYNIX) == "bot-1/000660"


def test_portfolio_mode_books_every_symbol_of_a_bot_in_one_account() -> None:
    ledger = Ledger(mode="portfolio")

    assert ledger.account_id("bot-1", SAMSUNG) == "bot-1"
    assert ledger.account_id("bot-1", HYNIX) == "bot-1"


def test_an_unknown_mode_is_refused_with_its_name() -> None:
    with pytest.raises(LedgerError, match="mode must be isolated or portfolio, got 'hedged'"):
        Ledger(mode="hedged")


def test_a_new_account_holds_its_cash_and_nothing_else() -> None:
    ledger, account_id = isolated(1_000_000)

    state = ledger.account(account_id)

    assert state.cash == D(1_000_000)
    assert state.account.currency == "KRW"
    assert state.symbols == {SAMSUNG}
    assert state.day is None
    assert ledger.equity(account_id) == D(1_000_000)
    assert ledger.quantity(account_id, SAMSUNG) == 0
    assert ledger.accounts_of(SAMSUNG) == (state,)
    assert set(ledger.accounts) == {"bot-1/005930"}


def test_an_account_cannot_be_opened_twice() -> None:
    ledger, account_id = isolated()

    with pytest.raises(LedgerError, match="account bot-1/005930 exists already"):
        ledger.open_account(account_id, D(5), [SAMSUNG])


def test_an_account_cannot_start_with_negative_cash() -> None:
    ledger = Ledger()

    with pytest.raises(LedgerError, match=r"account a: cash must be >= 0, got -1"):
        ledger.open_account("a", D(-1), [SAMSUNG])


def test_an_unknown_account_is_an_error_naming_it() -> None:
    ledger, _ = isolated()

    with pytest.raises(LedgerError, match="no account 'bot-2/005930'"):
        ledger.account("bot-2/005930")
    with pytest.raises(LedgerError, match="no account 'bot-2'"):
        ledger.book("bot-2")


# -- marks ---------------------------------------------------------------------------------


def test_an_open_is_the_reference_until_the_bar_closes_and_the_close_is_the_mark() -> None:
    ledger, _ = isolated()

    assert (ledger.last_close(SAMSUNG), ledger.current_open(SAMSUNG)) == (None, None)
    ledger.on_open(bar(0, 10_000, 10_050))
    assert (ledger.last_close(SAMSUNG), ledger.current_open(SAMSUNG)) == (None, D(10_000))
    ledger.on_close(bar(0, 10_000, 10_050))
    assert (ledger.last_close(SAMSUNG), ledger.current_open(SAMSUNG)) == (D(10_050), None)


def test_the_previous_close_is_the_last_close_of_the_previous_trading_day() -> None:
    ledger, _ = isolated()
    hourly = [bar(0, 100, 101, hour=0, timeframe="1h"), bar(0, 101, 102, hour=1, timeframe="1h")]
    hourly += [bar(1, 103, 104, hour=0, timeframe="1h"), bar(1, 104, 105, hour=1, timeframe="1h")]
    seen = []

    for item in hourly:
        ledger.on_open(item)
        seen.append(ledger.previous_close(SAMSUNG))
        ledger.on_close(item)

    # day 0 has no previous day; on day 1 both bars see day 0's last close (102), not the
    # close of the bar before (104).
    assert seen == [None, None, D(102), D(102)]


def test_a_day_without_a_close_before_it_keeps_the_previous_close_unknown() -> None:
    ledger, _ = isolated()

    ledger.on_open(bar(0, 100))
    ledger.on_open(bar(1, 100))  # day 0's bar never closed

    assert ledger.previous_close(SAMSUNG) is None


def test_marks_are_per_symbol() -> None:
    ledger, _ = isolated()

    ledger.on_open(bar(0, 100, 110))
    ledger.on_close(bar(0, 100, 110))
    ledger.on_open(bar(0, 50, 55, symbol=HYNIX))

    assert ledger.last_close(SAMSUNG) == D(110)
    assert ledger.last_close(HYNIX) is None
    assert ledger.current_open(SAMSUNG) is None
    assert ledger.current_open(HYNIX) == D(50)


# -- valuation and fills --------------------------------------------------------------------


def test_fills_move_cash_with_fees_and_taxes_and_equity_is_valued_at_the_last_close() -> None:
    ledger, account_id = isolated(1_000_000)

    ledger.on_open(bar(0, 10_000, 10_050))
    # buy 50 @ 10,010, fee 0.1% = 500.5: cash 1,000,000 - 500,500 - 500.5 = 498,999.5
    position = ledger.apply_fill(account_id, fill(Side.BUY, 50, 10_010, fee="500.5"))
    assert position.quantity == 50
    assert ledger.account(account_id).cash == D("498999.5")
    # no close yet: valued at the entry price, 498,999.5 + 50 x 10,010
    assert ledger.equity(account_id) == D("999499.5") == marked_value(ledger, account_id)

    ledger.on_close(bar(0, 10_000, 10_050))
    assert ledger.equity(account_id) == D("1001499.5")  # 498,999.5 + 50 x 10,050

    ledger.on_open(bar(1, 10_100, 9_900))
    # the open is not a mark: still 50 x 10,050
    assert ledger.equity(account_id) == D("1001499.5")
    # sell 20 @ 10,100: + 202,000, fee 202, tax 0.2% = 404 -> 700,393.5
    position = ledger.apply_fill(account_id, fill(Side.SELL, 20, 10_100, fee=202, tax=404))
    assert position.quantity == 30
    assert ledger.account(account_id).cash == D("700393.5")
    assert ledger.equity(account_id) == D("1001893.5")  # 700,393.5 + 30 x 10,050
    assert ledger.equity(account_id) == marked_value(ledger, account_id)

    ledger.on_close(bar(1, 10_100, 9_900))
    assert ledger.equity(account_id) == D("997393.5")  # 700,393.5 + 30 x 9,900

    # sell 30 @ 9,880: + 296,400, fee 296.4, tax 592.8 -> 995,904.3, flat
    position = ledger.apply_fill(account_id, fill(Side.SELL, 30, 9_880, fee="296.4", tax="592.8"))
    assert position.quantity == 0
    assert ledger.equity(account_id) == ledger.account(account_id).cash == D("995904.3")
    # = 1,000,000 - 501,000.5 + 201,394 + 295,510.8
    assert ledger.equity(account_id) == D(1_000_000) - D("501000.5") + D(201_394) + D("295510.8")


def test_a_fill_in_a_new_symbol_makes_the_account_trade_it() -> None:
    ledger, account_id = isolated()

    ledger.apply_fill(account_id, fill(Side.BUY, 1, 50, symbol=HYNIX))

    assert HYNIX in ledger.account(account_id).symbols
    assert ledger.accounts_of(HYNIX) == (ledger.account(account_id),)
    assert ledger.quantity(account_id, HYNIX) == 1


def test_a_portfolio_account_values_every_symbol_it_holds_at_its_own_close() -> None:
    ledger = Ledger(mode="portfolio")
    ledger.open_account("bot-1", D(100_000), [SAMSUNG, HYNIX])

    ledger.apply_fill("bot-1", fill(Side.BUY, 10, 1_000))  # cash 90,000
    ledger.apply_fill("bot-1", fill(Side.BUY, 20, 2_000, fee=40, symbol=HYNIX))  # 49,960
    ledger.on_close(bar(0, 1_000, 1_100))
    # SAMSUNG at its close 1,100, HYNIX (no close yet) at its entry 2,000
    assert ledger.equity("bot-1") == D(49_960) + 10 * D(1_100) + 20 * D(2_000)
    ledger.on_close(bar(0, 2_000, 1_900, symbol=HYNIX))

    assert ledger.equity("bot-1") == D(49_960) + D(11_000) + D(38_000) == D(98_960)
    assert ledger.equity("bot-1") == marked_value(ledger, "bot-1")
    assert ledger.accounts_of(SAMSUNG) == ledger.accounts_of(HYNIX)


# -- trading days ----------------------------------------------------------------------------


def test_the_day_start_is_the_equity_at_the_last_close_before_the_days_first_open() -> None:
    ledger, account_id = isolated(1_000_000)
    ledger.on_open(bar(0, 10_000, 10_050))
    ledger.apply_fill(account_id, fill(Side.BUY, 50, 10_010, fee="500.5"))
    state = ledger.account(account_id)
    # day 0 started before the buy, with the cash only
    assert (state.day, state.day_start) == (DAY0.date(), D(1_000_000))
    ledger.on_close(bar(0, 10_000, 10_050))

    ledger.on_open(bar(1, 10_100, 9_000))

    # 498,999.5 + 50 x 10,050 (the open 10,100 is not a mark)
    assert (state.day, state.day_start) == ((DAY0 + timedelta(days=1)).date(), D("1001499.5"))
    ledger.on_close(bar(1, 10_100, 9_000))
    assert ledger.book(account_id).day_start_equity() == D("1001499.5")
    assert ledger.book(account_id).equity() == D("948999.5")  # 498,999.5 + 450,000


def test_later_bars_of_the_same_day_keep_the_day_start() -> None:
    ledger = Ledger(mode="portfolio")
    ledger.open_account("bot-1", D(100_000), [SAMSUNG, HYNIX])
    ledger.apply_fill("bot-1", fill(Side.BUY, 10, 1_000))
    ledger.on_close(bar(0, 1_000, 1_000))

    ledger.on_open(bar(1, 1_200, 1_500))
    start = ledger.account("bot-1").day_start
    ledger.on_close(bar(1, 1_200, 1_500))  # equity rises by 5,000
    ledger.on_open(bar(1, 100, symbol=HYNIX))  # another symbol, same day

    assert start == D(100_000)
    assert ledger.account("bot-1").day_start == D(100_000)
    assert ledger.equity("bot-1") == D(105_000)


def test_without_day_tracking_the_day_start_is_the_current_equity() -> None:
    ledger, account_id = isolated(1_000, track_days=False)
    ledger.on_open(bar(0, 10, 10))
    ledger.apply_fill(account_id, fill(Side.BUY, 10, 10))
    ledger.on_close(bar(0, 10, 10))
    ledger.on_open(bar(1, 10, 8))
    ledger.on_close(bar(1, 10, 8))

    book = ledger.book(account_id)

    assert ledger.account(account_id).day is None
    assert book.day_start_equity() == book.equity() == D(980)  # 900 + 10 x 8
    assert ledger.previous_close(SAMSUNG) == D(10)  # still tracked: the KRX band needs it


# -- the account book (risk's PositionBook) ----------------------------------------------------


def test_the_book_reads_the_account_and_the_market_as_risk_checks_need_them() -> None:
    ledger, account_id = isolated(1_000_000)
    ledger.on_open(bar(0, 10_000, 10_050))
    ledger.apply_fill(account_id, fill(Side.BUY, 50, 10_000))
    ledger.on_close(bar(0, 10_000, 10_050))
    ledger.on_open(bar(1, 10_200))

    book: PositionBook = ledger.book(account_id)

    assert isinstance(book, AccountBook)
    assert book.quantity(SAMSUNG) == 50
    assert book.quantity(HYNIX) == 0
    assert book.positions() == {SAMSUNG: D(50)}
    assert book.equity() == D(1_002_500)  # 500,000 + 50 x 10,050
    assert book.day_start_equity() == D(1_002_500)
    assert book.last_price(SAMSUNG) == D(10_050)
    assert book.reference_price(SAMSUNG) == D(10_200)
    assert book.previous_close(SAMSUNG) == D(10_050)
    assert book.instrument(SAMSUNG) == Instrument.krx(SAMSUNG)
    assert book.instrument(HYNIX) is None


def test_the_book_lists_no_flat_position() -> None:
    ledger, account_id = isolated()
    ledger.apply_fill(account_id, fill(Side.BUY, 5, 100))
    ledger.apply_fill(account_id, fill(Side.SELL, 5, 110))

    assert ledger.book(account_id).positions() == {}
    assert ledger.account(account_id).account.position(SAMSUNG).realized_pnl == D(50)


def test_the_book_is_a_live_view_of_the_account() -> None:
    ledger, account_id = isolated(1_000)
    book = ledger.book(account_id)

    ledger.apply_fill(account_id, fill(Side.BUY, 3, 100))

    assert book.quantity(SAMSUNG) == 3
    assert book.equity() == D(1_000)


# -- a real risk engine reading the book --------------------------------------------------------


def day_one(ledger: Ledger, account_id: str, open: int) -> None:
    """Day 0 trades flat at 10,000 and closes; day 1 opens at `open`."""
    ledger.on_open(bar(0, 10_000))
    ledger.on_close(bar(0, 10_000))
    ledger.on_open(bar(1, open))


def test_the_risk_engine_sizes_a_market_buy_at_the_open_of_the_book() -> None:
    ledger, account_id = isolated(1_000_000)
    day_one(ledger, account_id, 10_400)
    engine = RiskEngine(
        RiskSettings(max_position_pct=0.5, max_daily_loss_pct=None, max_price_deviation_pct=0.05)
    )
    book = ledger.book(account_id)

    # 50 x 10,400 = 520,000 = 52% of 1,000,000; 40 x 10,400 = 41.6%
    assert engine.evaluate(buy("b1", 50), book) == Denied(
        "max_position", "max_position: position would be 50 shares = 52% of equity, limit 50%"
    )
    assert engine.evaluate(buy("b2", 40), book) == Approved()


def test_the_risk_engine_refuses_an_open_too_far_from_the_last_close() -> None:
    ledger, account_id = isolated(1_000_000)
    day_one(ledger, account_id, 10_600)
    engine = RiskEngine(RiskSettings(max_price_deviation_pct=0.05))

    decision = engine.evaluate(buy("b1", 1), ledger.book(account_id))

    assert decision == Denied(
        "price_deviation",
        "price_deviation: reference price 10,600 is 6% from last trade 10,000, limit 5%",
    )


def test_the_krx_band_is_read_from_the_books_previous_close() -> None:
    ledger, account_id = isolated(1_000_000)
    engine = RiskEngine(
        RiskSettings(max_price_deviation_pct=None, max_position_pct=None),
        checks=(KrxPriceLimitCheck(),),
    )
    book = ledger.book(account_id)
    ledger.on_open(bar(0, 10_000))

    unknown = engine.evaluate(buy("b0", 1, limit=10_000), book)
    day_one(ledger, account_id, 10_000)
    above = engine.evaluate(buy("b1", 1, limit=13_050), book)
    inside = engine.evaluate(buy("b2", 1, limit=13_000), book)

    assert unknown == Denied(
        "price_limit", "price_limit: no previous close of 005930, band unknown"
    )
    # previous close 10,000: band 7,000 .. 13,000 (both on the 10-won grid)
    assert above == Denied(
        "price_limit",
        "price_limit: limit price 13,050 of 005930 is outside 7,000..13,000 "
        "(previous close 10,000 ±30%)",
    )
    assert inside == Approved()


def test_the_daily_loss_limit_reads_the_books_day_start_and_lets_exits_go() -> None:
    ledger, account_id = isolated(100_000)
    ledger.on_open(bar(0, 1_000))
    ledger.apply_fill(account_id, fill(Side.BUY, 90, 1_000))  # cash 10,000
    ledger.on_close(bar(0, 1_000))
    ledger.on_open(bar(1, 1_000, 880))  # day start 100,000
    ledger.on_close(bar(1, 1_000, 880))  # equity 10,000 + 90 x 880 = 89,200: -10.8%
    engine = RiskEngine(RiskSettings(max_daily_loss_pct=0.10))
    book = ledger.book(account_id)

    entry = engine.evaluate(buy("b1", 1), book)
    exit_ = engine.evaluate(sell("s1", 90), book)

    assert entry == Denied(
        "daily_loss",
        "daily_loss: equity 89,200 is 10.8% below the day's start 100,000, limit 10%; "
        "only exits allowed",
    )
    assert exit_ == Approved()


# -- the money invariant, for any sequence of fills and closes -----------------------------------

steps = st.lists(
    st.tuples(
        st.sampled_from(["buy", "sell", "close"]),
        st.integers(min_value=1, max_value=50),
        st.integers(min_value=1, max_value=5_000),
        st.integers(min_value=0, max_value=500),
    ),
    max_size=30,
)


@given(steps)
def test_cash_plus_positions_at_their_marks_is_the_equity_after_every_fill(
    plan: list[tuple[str, int, int, int]],
) -> None:
    ledger, account_id = isolated(1_000_000, track_days=False)
    flows = D(0)
    held = D(0)
    day = 0
    for action, quantity, price, cost in plan:
        if action == "close":
            ledger.on_open(bar(day, price))
            ledger.on_close(bar(day, price))
            day += 1
            continue
        if action == "sell":
            quantity = min(quantity, int(held))
            if quantity == 0:
                continue
        side = Side.BUY if action == "buy" else Side.SELL
        done = fill(side, quantity, price, fee=D(cost) / 100, tax=D(cost) / 200)
        position = ledger.apply_fill(account_id, done)
        flows += done.net_cash_flow
        held += done.signed_quantity

        assert position.quantity == held == ledger.quantity(account_id, SAMSUNG)
        assert ledger.account(account_id).cash == D(1_000_000) + flows
        assert ledger.equity(account_id) == marked_value(ledger, account_id)


# -- the kept equity, the slice events and the shared bookings ------------------------------------


def test_the_kept_equity_follows_every_close_and_fill_of_the_symbols_held() -> None:
    ledger = Ledger(mode="portfolio")
    ledger.open_account("bot-1", D(100_000), [SAMSUNG, HYNIX])
    ledger.apply_fill("bot-1", fill(Side.BUY, 10, 1_000))  # cash 90,000
    assert ledger.equity("bot-1") == D(100_000)  # 90,000 + 10,000 at cost, no close yet

    ledger.on_close(bar(0, 1_000, 1_100))
    assert ledger.equity("bot-1") == D(101_000)  # 90,000 + 10 x 1,100
    ledger.on_close(bar(0, 50, 60, symbol=HYNIX))  # not held: nothing moves
    assert ledger.equity("bot-1") == D(101_000)
    ledger.apply_fill("bot-1", fill(Side.BUY, 100, 60, symbol=HYNIX))  # cash 84,000
    ledger.on_close(bar(1, 1_100, 1_200))

    # two positions: 84,000 + 10 x 1,200 + 100 x 60
    assert ledger.equity("bot-1") == D(102_000) == marked_value(ledger, "bot-1")
    ledger.on_close(bar(1, 60, 40, symbol=HYNIX))
    assert ledger.equity("bot-1") == D(100_000) == marked_value(ledger, "bot-1")


def test_a_position_that_is_closed_leaves_the_equity_to_the_cash() -> None:
    ledger, account_id = isolated(1_000)
    ledger.apply_fill(account_id, fill(Side.BUY, 10, 10))
    ledger.on_close(bar(0, 10, 12))
    assert ledger.equity(account_id) == D(1_020)

    ledger.apply_fill(account_id, fill(Side.SELL, 10, 12, fee=1))  # cash 1,019
    ledger.on_close(bar(1, 12, 30))

    assert ledger.equity(account_id) == ledger.account(account_id).cash == D(1_019)


def test_an_account_set_by_hand_is_valued_at_the_marks_of_every_position() -> None:
    ledger, account_id = isolated(1_000)
    state = ledger.account(account_id)
    # HYNIX is not among the symbols the account trades: no close of it reaches the account,
    # so its value must be read at the marks every time.
    state.account = Account("KRW", D(500), {HYNIX: Position(HYNIX, D(5), D(500))})
    ledger.on_close(bar(0, 100, 110, symbol=HYNIX))
    assert ledger.equity(account_id) == D(1_050)  # 500 + 5 x 110

    ledger.on_close(bar(1, 110, 90, symbol=HYNIX))

    assert ledger.equity(account_id) == D(950)  # 500 + 5 x 90


def test_the_account_value_is_built_from_the_booked_cash_and_positions() -> None:
    ledger, account_id = isolated(1_000)
    reference = Account("KRW", D(1_000))
    fills = [fill(Side.BUY, 3, 100, fee=1), fill(Side.SELL, 1, 110, tax="0.5")]

    for done in fills:
        ledger.apply_fill(account_id, done)
        reference = reference.apply(done)

    state = ledger.account(account_id)
    assert state.account == reference
    assert repr(state.account) == repr(reference)  # the same digits, not only equal values
    assert state.account is state.account  # built once per change
    assert state.cash == reference.cash == D("808.5")  # 1,000 - 300 - 1 + 110 - 0.5
    assert dict(state.positions) == dict(reference.positions)


def test_the_slice_events_do_what_the_bar_events_do_bar_by_bar() -> None:
    one_by_one = Ledger(mode="portfolio")
    sliced = Ledger(mode="portfolio")
    for ledger in (one_by_one, sliced):
        ledger.open_account("bot-1", D(100_000), [SAMSUNG, HYNIX])
        ledger.apply_fill("bot-1", fill(Side.BUY, 10, 1_000))
    days = [
        (bar(day, 1_000 + day, 1_010 + day), bar(day, 50 + day, 49 + day, symbol=HYNIX))
        for day in range(3)
    ]

    for bars in days:
        for item in bars:
            one_by_one.on_open(item)
        sliced.on_bars_opened(bars)
        assert sliced.account("bot-1").day_start == one_by_one.account("bot-1").day_start
        for item in bars:
            one_by_one.on_close(item)
        sliced.on_bars_closed(bars)
        assert sliced.equity("bot-1") == one_by_one.equity("bot-1")

    for symbol in (SAMSUNG, HYNIX):
        assert sliced.last_close(symbol) == one_by_one.last_close(symbol)
        assert sliced.previous_close(symbol) == one_by_one.previous_close(symbol)
    # the last day: 90,000 + 10 x (1,010 + 2)
    assert sliced.equity("bot-1") == D(100_120)
    assert sliced.account("bot-1").day_start == D(100_110)  # at day 1's close (1,011)


def test_equities_after_a_slice_are_those_of_the_accounts_of_its_symbols() -> None:
    ledger = Ledger(mode="isolated")
    for symbol in (SAMSUNG, HYNIX):
        ledger.open_account(ledger.account_id("bot-1", symbol), D(1_000), [symbol])
    ledger.open_account(ledger.account_id("bot-2", SAMSUNG), D(500), [SAMSUNG])
    ledger.apply_fill("bot-1/005930", fill(Side.BUY, 2, 100))  # cash 800

    equities = ledger.equities_after([bar(0, 100, 150)])

    # bot-1: 800 + 2 x 150; bot-2 holds nothing; HYNIX did not close
    assert equities == {"bot-1/005930": D(1_100), "bot-2/005930": D(500)}
    assert ledger.last_close(SAMSUNG) == D(150)


def test_ledgers_booking_the_same_fill_share_its_position() -> None:
    first, first_id = isolated(1_000)
    second, second_id = isolated(1_000)
    buy_fill = fill(Side.BUY, 3, 100, fee=1)
    sell_fill = fill(Side.SELL, 3, 120, fee=1)

    bought = [
        ledger.apply_fill(first_id if ledger is first else second_id, buy_fill)
        for ledger in (first, second)
    ]
    sold = [first.apply_fill(first_id, sell_fill), second.apply_fill(second_id, sell_fill)]

    assert bought[0] is bought[1] == Position(SAMSUNG).apply(buy_fill)
    assert sold[0] is sold[1] == bought[0].apply(sell_fill)
    assert sold[0].realized_pnl == D(58)  # 360 - 300 - 2
    assert first.account(first_id).cash == second.account(second_id).cash == D(1_058)


def test_a_ledger_with_other_books_computes_its_own_position() -> None:
    ledger, account_id = isolated(1_000)
    other, other_id = isolated(1_000)
    other.apply_fill(other_id, fill(Side.BUY, 1, 100))  # a different position from here on
    shared = fill(Side.BUY, 2, 110)
    mine = ledger.apply_fill(account_id, shared)

    theirs = other.apply_fill(other_id, shared)

    assert mine == Position(SAMSUNG, D(2), D(220))
    assert theirs == Position(SAMSUNG, D(3), D(320))


def test_the_day_start_read_late_is_the_equity_when_the_day_started() -> None:
    ledger, account_id = isolated(1_000)
    ledger.apply_fill(account_id, fill(Side.BUY, 10, 10))  # cash 900
    ledger.on_open(bar(0, 10, 12))
    ledger.on_close(bar(0, 10, 12))  # equity 900 + 10 x 12 = 1,020
    ledger.on_open(bar(1, 12, 15))  # day 1 starts at 1,020

    ledger.on_close(bar(1, 12, 15))
    ledger.apply_fill(account_id, fill(Side.SELL, 4, 15, fee=1))  # cash 959, 6 held
    ledger.on_open(bar(1, 15, 16, hour=1, timeframe="1h"))  # same day
    ledger.on_close(bar(1, 15, 16, hour=1, timeframe="1h"))

    state = ledger.account(account_id)
    assert (state.day, state.day_start) == ((DAY0 + timedelta(days=1)).date(), D(1_020))
    assert ledger.book(account_id).equity() == D(1_055)  # 959 + 6 x 16


def test_a_day_started_before_any_close_values_the_position_at_its_cost() -> None:
    ledger, account_id = isolated(1_000)
    ledger.apply_fill(account_id, fill(Side.BUY, 10, 10, fee=1))  # cash 899, cost 100

    ledger.on_open(bar(0, 11, 12))
    ledger.on_close(bar(0, 11, 12))

    assert ledger.account(account_id).day_start == D(999)  # 899 + 100, not 10 x 12
