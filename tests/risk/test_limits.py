from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from orchestrade.risk import (
    Approved,
    DailyLossCheck,
    Denied,
    MaxOpenPositionsCheck,
    MaxOrderNotionalCheck,
    MaxPositionCheck,
    PriceDeviationCheck,
    RiskConfigurationError,
    limit_checks,
)
from orchestrade.settings import RiskSettings
from risk.fakes import FakePositionBook, buy, sell

D = Decimal


def test_order_above_max_notional_is_denied_with_its_value() -> None:
    check = MaxOrderNotionalCheck(D(1_000_000))

    decision = check.evaluate(buy("005930", 25, limit=50_000), FakePositionBook())

    assert decision == Denied(
        "max_order_notional",
        "max_order_notional: order value 1,250,000 (25 x 50,000), limit 1,000,000",
    )


def test_order_at_exactly_max_notional_is_approved() -> None:
    check = MaxOrderNotionalCheck(D(1_000_000))

    decision = check.evaluate(buy("005930", 20, limit=50_000), FakePositionBook())

    assert decision == Approved()


def test_market_order_notional_uses_the_reference_price() -> None:
    book = FakePositionBook(last={"005930": D(40_000)}, reference={"005930": D(60_000)})
    check = MaxOrderNotionalCheck(D(1_000_000))

    decision = check.evaluate(buy("005930", 20), book)

    assert decision == Denied(
        "max_order_notional",
        "max_order_notional: order value 1,200,000 (20 x 60,000), limit 1,000,000",
    )


def test_order_with_no_known_price_is_denied_by_notional_check() -> None:
    decision = MaxOrderNotionalCheck(D(1)).evaluate(buy("005930", 1), FakePositionBook())

    assert decision == Denied(
        "max_order_notional",
        "max_order_notional: no price known to value the order for 005930",
    )


def test_order_that_would_exceed_position_limit_is_denied() -> None:
    book = FakePositionBook(held={"005930": D(90)}, equity_value=D(20_000_000))
    check = MaxPositionCheck(D("0.25"))

    decision = check.evaluate(buy("005930", 20, limit=50_000), book)

    # 110 x 50,000 = 5,500,000 = 27.5% of 20,000,000
    assert decision == Denied(
        "max_position",
        "max_position: position would be 110 shares = 27.5% of equity, limit 25%",
    )


def test_position_at_exactly_the_limit_is_approved() -> None:
    book = FakePositionBook(held={"005930": D(90)}, equity_value=D(20_000_000))

    decision = MaxPositionCheck(D("0.25")).evaluate(buy("005930", 10, limit=50_000), book)

    assert decision == Approved()


def test_position_limit_does_not_block_an_exit() -> None:
    book = FakePositionBook(held={"005930": D(200)}, equity_value=D(20_000_000))

    decision = MaxPositionCheck(D("0.25")).evaluate(sell("005930", 50, limit=50_000), book)

    assert decision == Approved()


def test_sell_that_flips_to_a_large_short_is_denied() -> None:
    book = FakePositionBook(held={"005930": D(10)}, equity_value=D(20_000_000))

    decision = MaxPositionCheck(D("0.25")).evaluate(sell("005930", 120, limit=50_000), book)

    # -110 x 50,000 = 27.5% of equity
    assert decision == Denied(
        "max_position",
        "max_position: position would be -110 shares = 27.5% of equity, limit 25%",
    )


def test_position_check_denies_when_equity_is_not_positive() -> None:
    book = FakePositionBook(equity_value=D(0))

    decision = MaxPositionCheck(D("0.25")).evaluate(buy("005930", 1, limit=100), book)

    assert decision == Denied("max_position", "max_position: equity is 0, nothing may be added")


@given(
    held=st.integers(-1_000, 1_000),
    quantity=st.integers(1, 1_000),
    price=st.integers(1, 100_000),
    equity=st.integers(1, 10**9),
    limit_pct=st.integers(1, 100),
)
def test_position_check_denies_exactly_the_new_exposure_over_the_limit(
    held: int, quantity: int, price: int, equity: int, limit_pct: int
) -> None:
    book = FakePositionBook(held={"A": D(held)}, equity_value=D(equity))
    check = MaxPositionCheck(D(limit_pct) / 100)

    decision = check.evaluate(buy("A", quantity, limit=price), book)

    reduces = held < 0 and quantity <= -held
    # integer cross-multiplication: |after| x price x 100 > limit_pct x equity
    over = abs(held + quantity) * price * 100 > limit_pct * equity
    assert isinstance(decision, Denied) == (over and not reduces)


@given(
    quantity=st.integers(1, 500),
    price=st.integers(1, 100_000),
    equity=st.integers(1, 10**9),
)
def test_a_smaller_buy_is_approved_whenever_a_larger_one_is(
    quantity: int, price: int, equity: int
) -> None:
    book = FakePositionBook(equity_value=D(equity))
    check = MaxPositionCheck(D("0.1"))

    larger = check.evaluate(buy("A", quantity + 1, limit=price), book)
    smaller = check.evaluate(buy("A", quantity, limit=price), book)

    assert not (larger == Approved() and isinstance(smaller, Denied))


def test_opening_a_new_symbol_beyond_max_open_positions_is_denied() -> None:
    book = FakePositionBook(held={"A": D(1), "B": D(-2), "C": D(3)})

    decision = MaxOpenPositionsCheck(3).evaluate(buy("D", 1, limit=100), book)

    assert decision == Denied(
        "max_open_positions", "max_open_positions: D would be position 4, limit 3"
    )


def test_adding_to_a_held_symbol_ignores_max_open_positions() -> None:
    book = FakePositionBook(held={"A": D(1), "B": D(-2), "C": D(3)})

    decision = MaxOpenPositionsCheck(3).evaluate(buy("A", 1, limit=100), book)

    assert decision == Approved()


def test_new_exposure_after_the_daily_loss_limit_is_denied() -> None:
    book = FakePositionBook(equity_value=D(8_900_000), day_start=D(10_000_000))

    decision = DailyLossCheck(D("0.10")).evaluate(buy("005930", 1, limit=50_000), book)

    assert decision == Denied(
        "daily_loss",
        "daily_loss: equity 8,900,000 is 11% below the day's start 10,000,000, limit 10%; "
        "only exits allowed",
    )


def test_exit_after_the_daily_loss_limit_is_approved() -> None:
    book = FakePositionBook(
        held={"005930": D(10)}, equity_value=D(8_900_000), day_start=D(10_000_000)
    )

    decision = DailyLossCheck(D("0.10")).evaluate(sell("005930", 10, limit=50_000), book)

    assert decision == Approved()


def test_loss_of_exactly_the_limit_still_allows_new_exposure() -> None:
    book = FakePositionBook(equity_value=D(9_000_000), day_start=D(10_000_000))

    decision = DailyLossCheck(D("0.10")).evaluate(buy("005930", 1, limit=50_000), book)

    assert decision == Approved()


def test_limit_price_too_far_from_the_last_trade_is_denied() -> None:
    book = FakePositionBook(last={"005930": D(50_000)})

    decision = PriceDeviationCheck(D("0.05")).evaluate(buy("005930", 1, limit=52_600), book)

    assert decision == Denied(
        "price_deviation",
        "price_deviation: limit price 52,600 is 5.2% from last trade 50,000, limit 5%",
    )


def test_limit_price_exactly_at_the_deviation_limit_is_approved() -> None:
    book = FakePositionBook(last={"005930": D(50_000)})

    decision = PriceDeviationCheck(D("0.05")).evaluate(sell("005930", 1, limit=47_500), book)

    assert decision == Approved()


def test_stop_price_of_a_stop_limit_order_is_checked_too() -> None:
    book = FakePositionBook(last={"005930": D(50_000)})

    decision = PriceDeviationCheck(D("0.05")).evaluate(
        buy("005930", 1, limit=50_000, stop=45_000), book
    )

    assert decision == Denied(
        "price_deviation",
        "price_deviation: stop price 45,000 is 10% from last trade 50,000, limit 5%",
    )


def test_market_order_is_checked_through_its_reference_price() -> None:
    book = FakePositionBook(last={"005930": D(50_000)}, reference={"005930": D(53_000)})

    decision = PriceDeviationCheck(D("0.05")).evaluate(buy("005930", 1), book)

    assert decision == Denied(
        "price_deviation",
        "price_deviation: reference price 53,000 is 6% from last trade 50,000, limit 5%",
    )


def test_market_exit_passes_the_fat_finger_check_even_after_a_gap() -> None:
    book = FakePositionBook(
        held={"005930": D(10)}, last={"005930": D(50_000)}, reference={"005930": D(40_000)}
    )

    assert PriceDeviationCheck(D("0.05")).evaluate(sell("005930", 10), book) == Approved()
    assert PriceDeviationCheck(D("0.05")).evaluate(buy("005930", 1), book) == Denied(
        "price_deviation",
        "price_deviation: reference price 40,000 is 20% from last trade 50,000, limit 5%",
    )


def test_market_order_without_reference_price_passes_the_fat_finger_check() -> None:
    book = FakePositionBook(last={"005930": D(50_000)})

    decision = PriceDeviationCheck(D("0.05")).evaluate(buy("005930", 1), book)

    assert decision == Approved()


def test_priced_order_without_a_last_trade_is_denied() -> None:
    decision = PriceDeviationCheck(D("0.05")).evaluate(
        buy("005930", 1, limit=50_000), FakePositionBook()
    )

    assert decision == Denied(
        "price_deviation",
        "price_deviation: no last trade of 005930 to check limit price against",
    )


def test_limit_checks_follow_the_settings_that_are_switched_on() -> None:
    settings = RiskSettings(
        max_position_pct=0.25,
        max_open_positions=3,
        max_daily_loss_pct=None,
        max_price_deviation_pct=0.05,
        max_order_notional=1e6,
    )

    checks = limit_checks(settings)

    assert checks == (
        PriceDeviationCheck(D("0.05")),
        MaxOpenPositionsCheck(3),
        MaxPositionCheck(D("0.25")),
        MaxOrderNotionalCheck(D("1000000.0")),
    )


@pytest.mark.parametrize("bad", [0, -0.1, float("nan"), float("inf"), "0.1", True])
def test_a_check_with_a_non_positive_or_non_numeric_limit_is_refused(bad: object) -> None:
    with pytest.raises(RiskConfigurationError, match="max_position"):
        MaxPositionCheck(bad)  # type: ignore[arg-type]


def test_daily_loss_limit_above_one_is_refused() -> None:
    with pytest.raises(RiskConfigurationError, match=r"daily_loss must be <= 1, got 1\.5"):
        DailyLossCheck(D("1.5"))
