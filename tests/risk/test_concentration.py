from decimal import Decimal

import pytest

from orchestrade.domain import Symbol
from orchestrade.risk import (
    Approved,
    Denied,
    RiskConfigurationError,
    SectorConcentrationCheck,
    SymbolConcentrationCheck,
)
from risk.fakes import FakePositionBook, buy, sell

D = Decimal
SECTORS = {Symbol("005930"): "semis", Symbol("000660"): "semis", Symbol("035420"): "internet"}


def test_symbol_over_its_own_cap_is_denied() -> None:
    check = SymbolConcentrationCheck({Symbol("035420"): D("0.05")})

    decision = check.evaluate(buy("035420", 6, limit=200_000), FakePositionBook())

    # 6 x 200,000 = 1,200,000 = 6% of 20,000,000
    assert decision == Denied(
        "symbol_concentration", "symbol_concentration: 035420 would be 6% of equity, limit 5%"
    )


def test_symbol_without_a_cap_is_not_limited() -> None:
    check = SymbolConcentrationCheck({Symbol("035420"): D("0.05")})

    decision = check.evaluate(buy("005930", 1_000, limit=50_000), FakePositionBook())

    assert decision == Approved()


def test_sector_over_its_cap_is_denied() -> None:
    book = FakePositionBook(held={"005930": D(100)}, last={"005930": D(50_000)})
    check = SectorConcentrationCheck(SECTORS, D("0.40"))

    decision = check.evaluate(buy("000660", 20, limit=200_000), book)

    # 100 x 50,000 + 20 x 200,000 = 9,000,000 = 45% of 20,000,000
    assert decision == Denied(
        "sector_concentration",
        "sector_concentration: sector semis would be 45% of equity, limit 40%",
    )


def test_other_sectors_do_not_count_toward_a_sector_cap() -> None:
    book = FakePositionBook(held={"035420": D(100)}, last={"035420": D(200_000)})
    check = SectorConcentrationCheck(SECTORS, D("0.40"))

    decision = check.evaluate(buy("000660", 20, limit=200_000), book)

    assert decision == Approved()


def test_reducing_a_position_in_an_over_weight_sector_is_approved() -> None:
    book = FakePositionBook(held={"005930": D(200)}, last={"005930": D(50_000)})
    check = SectorConcentrationCheck(SECTORS, D("0.40"))

    decision = check.evaluate(sell("005930", 50, limit=50_000), book)

    assert decision == Approved()


def test_sector_with_an_empty_name_is_refused() -> None:
    with pytest.raises(RiskConfigurationError, match="sector of X"):
        SectorConcentrationCheck({Symbol("X"): ""}, D("0.4"))
