"""Instruments: factories, quantity steps and order checks."""

import dataclasses
from datetime import UTC, datetime
from decimal import Decimal

import pytest

from orchestrade.domain import (
    FixedTick,
    Instrument,
    InstrumentKind,
    KrxTickRule,
    Market,
    Order,
    OrderId,
    OrderType,
    Side,
    Symbol,
    UsEquityTickRule,
    ValidationError,
)

D = Decimal
T0 = datetime(2024, 1, 2, tzinfo=UTC)


def test_krx_factory_uses_krw_the_krx_table_and_whole_shares() -> None:
    samsung = Instrument.krx("005930", name="Samsung Electronics")

    assert samsung.market is Market.KRX
    assert (samsung.exchange, samsung.currency, samsung.lot_size) == ("XKRX", "KRW", D(1))
    assert samsung.tick_rule == KrxTickRule()


def test_us_and_crypto_factories() -> None:
    apple = Instrument.us("AAPL", exchange="XNAS")
    btc = Instrument.crypto("BTCUSDT", tick_size=D("0.01"), lot_size=D("0.00001"))

    assert (apple.market, apple.currency, apple.tick_rule) == (
        Market.US,
        "USD",
        UsEquityTickRule(),
    )
    assert (btc.market, btc.kind, btc.tick_rule) == (
        Market.CRYPTO,
        InstrumentKind.CRYPTO_SPOT,
        FixedTick(D("0.01")),
    )


def test_fractional_stock_quantity_is_rejected() -> None:
    samsung = Instrument.krx("005930")

    with pytest.raises(ValidationError, match=r"quantity 1\.5 of 005930 .* whole shares"):
        samsung.validate_quantity(D("1.5"))


def test_crypto_quantities_follow_the_lot_size() -> None:
    btc = Instrument.crypto("BTCUSDT", tick_size=D("0.01"), lot_size=D("0.00001"))

    assert btc.validate_quantity(D("0.00123")) == D("0.00123")
    assert not btc.is_valid_quantity(D("0.000015"))
    assert btc.round_quantity(D("0.000015")) == D("0.00001")
    with pytest.raises(ValidationError, match=r"multiples of 0.00001"):
        btc.validate_quantity(D("0.000015"))


@pytest.mark.parametrize("quantity", [D(0), D(-3)])
def test_non_positive_quantities_are_invalid(quantity: Decimal) -> None:
    assert not Instrument.krx("005930").is_valid_quantity(quantity)


def test_a_stock_cannot_have_a_fractional_lot() -> None:
    with pytest.raises(ValidationError, match="lot_size must be an integer"):
        Instrument(
            symbol=Symbol("AAPL"),
            market=Market.US,
            exchange="XNAS",
            currency="USD",
            tick_rule=UsEquityTickRule(),
            lot_size=D("0.1"),
        )


def test_market_given_as_its_value_is_converted() -> None:
    instrument = Instrument(Symbol("X"), "krx", "XKRX", "KRW", KrxTickRule(), D(1))  # type: ignore[arg-type]

    assert instrument.market is Market.KRX


def test_validate_order_checks_ticks_and_lots() -> None:
    samsung = Instrument.krx("005930")
    order = Order(
        order_id=OrderId("o-1"),
        symbol=Symbol("005930"),
        side=Side.BUY,
        order_type=OrderType.LIMIT,
        quantity=D(10),
        created_at=T0,
        limit_price=D(71_150),
    )

    with pytest.raises(ValidationError, match="off the tick grid"):
        samsung.validate_order(order)
    samsung.validate_order(dataclasses.replace(order, limit_price=D(71_100)))
    with pytest.raises(ValidationError, match="not 000660"):
        Instrument.krx("000660").validate_order(order)
