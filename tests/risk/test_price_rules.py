from decimal import Decimal

from orchestrade.domain import Instrument
from orchestrade.risk import Approved, Denied, KrxPriceLimitCheck, KrxTickSizeCheck
from risk.fakes import FakePositionBook, buy, sell

D = Decimal
KRX = {"005930": Instrument.krx("005930")}


def test_krx_price_off_the_tick_grid_is_denied() -> None:
    book = FakePositionBook(instruments=KRX)

    decision = KrxTickSizeCheck().evaluate(buy("005930", 1, limit=50_050), book)

    assert decision == Denied(
        "tick_size", "tick_size: limit price 50,050 of 005930 is not a multiple of the tick 100"
    )


def test_krx_price_on_the_tick_grid_is_approved() -> None:
    book = FakePositionBook(instruments=KRX)

    decision = KrxTickSizeCheck().evaluate(buy("005930", 1, limit=49_950), book)

    assert decision == Approved()


def test_tick_rule_is_not_applied_to_other_markets() -> None:
    book = FakePositionBook(instruments={"AAPL": Instrument.us("AAPL")})

    decision = KrxTickSizeCheck().evaluate(buy("AAPL", 1, limit="190.005"), book)

    assert decision == Approved()


def test_krx_price_above_the_upper_limit_is_denied() -> None:
    book = FakePositionBook(instruments=KRX, close={"005930": D(50_000)})

    decision = KrxPriceLimitCheck().evaluate(buy("005930", 1, limit=65_100), book)

    assert decision == Denied(
        "price_limit",
        "price_limit: limit price 65,100 of 005930 is outside 35,000..65,000 "
        "(previous close 50,000 ±30%)",
    )


def test_krx_price_at_the_lower_limit_is_approved() -> None:
    book = FakePositionBook(instruments=KRX, close={"005930": D(50_000)})

    decision = KrxPriceLimitCheck().evaluate(sell("005930", 1, limit=35_000), book)

    assert decision == Approved()


def test_krx_priced_order_without_previous_close_is_denied() -> None:
    book = FakePositionBook(instruments=KRX)

    decision = KrxPriceLimitCheck().evaluate(buy("005930", 1, limit=50_000), book)

    assert decision == Denied(
        "price_limit", "price_limit: no previous close of 005930, band unknown"
    )


def test_krx_market_order_passes_the_price_limit_check() -> None:
    book = FakePositionBook(instruments=KRX)

    decision = KrxPriceLimitCheck().evaluate(buy("005930", 1), book)

    assert decision == Approved()
