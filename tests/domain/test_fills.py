"""Fills: validation and the cash each one moves."""

from datetime import UTC, datetime
from decimal import Decimal

import pytest

from orchestrade.domain import Fill, FillId, OrderId, Side, Symbol, ValidationError

D = Decimal
T0 = datetime(2024, 1, 2, tzinfo=UTC)


def fill(side: Side, quantity: str, price: str, fee: str = "0", tax: str = "0") -> Fill:
    return Fill(
        FillId("f-1"),
        OrderId("o-1"),
        Symbol("005930"),
        side,
        D(quantity),
        D(price),
        T0,
        D(fee),
        D(tax),
    )


def test_buy_pays_value_fee_and_tax() -> None:
    bought = fill(Side.BUY, "10", "71000", fee="106.5")

    assert bought.gross_value == D(710_000)
    assert bought.signed_quantity == D(10)
    assert bought.net_cash_flow == D("-710106.5")


def test_sell_receives_value_less_fee_and_tax() -> None:
    # KRX: 10 x 72,000 = 720,000; commission 0.015% = 108; transaction tax 0.18% = 1,296
    sold = fill(Side.SELL, "10", "72000", fee="108", tax="1296")

    assert sold.signed_quantity == D(-10)
    assert sold.net_cash_flow == D(720_000 - 108 - 1_296)


def test_fractional_crypto_fill_is_exact() -> None:
    bought = fill(Side.BUY, "0.1", "0.1", fee="0.00001")

    assert bought.net_cash_flow == D("-0.01001")


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("quantity", D(-1), "Fill.quantity must be > 0"),
        ("price", D(0), "Fill.price must be > 0"),
        ("fee", D("-0.5"), "Fill.fee must be >= 0"),
        ("tax", 0.1, "Fill.tax must be a Decimal, got float"),
        ("filled_at", datetime(2024, 1, 2), "Fill.filled_at must be timezone-aware"),  # noqa: DTZ001
        ("fill_id", "", "Fill.fill_id must not be blank"),
    ],
)
def test_fill_rejects_bad_values(field: str, value: object, message: str) -> None:
    fields: dict[str, object] = {
        "fill_id": FillId("f-1"),
        "order_id": OrderId("o-1"),
        "symbol": Symbol("005930"),
        "side": Side.BUY,
        "quantity": D(1),
        "price": D(1),
        "filled_at": T0,
        field: value,
    }

    with pytest.raises(ValidationError, match=message):
        Fill(**fields)  # type: ignore[arg-type]
