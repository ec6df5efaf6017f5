"""PaperSettings mirror the kernel's SimulationConfig and refuse values out of range."""

from __future__ import annotations

from decimal import Decimal

import pytest

from orchestrade.backtest.config import SimulationConfig
from orchestrade.brokers.paper import PaperSettings, PaperSettingsError, SymbolRules
from orchestrade.domain import InstrumentKind, Market, Symbol


def test_settings_copy_the_kernel_configuration_symbol_by_symbol() -> None:
    config = SimulationConfig(
        commission=0.00015,
        commission_min=10.0,
        slippage_bps=5.0,
        slippage_range=0.1,
        participation=0.2,
        fill="close",
    ).with_markets([Market.KRX, Market.US], [InstrumentKind.ETF, InstrumentKind.STOCK])

    settings = PaperSettings.from_simulation(config, ("069500", "AAPL"))

    assert (settings.commission, settings.commission_min) == (0.00015, 10.0)
    assert (settings.slippage_bps, settings.slippage_range) == (5.0, 0.1)
    assert (settings.participation, settings.fill_timing) == (0.2, "close")
    assert settings.rules_for(Symbol("069500")) == SymbolRules(
        tick_kind="krx", lot_size=1.0, price_limit=0.3, sell_tax=0.0
    )
    assert settings.rules_for(Symbol("AAPL")) == SymbolRules(tick_kind="us")
    assert settings.rules_for(Symbol("OTHER")) == SymbolRules()


def test_market_rules_follow_the_market_conventions() -> None:
    krx = SymbolRules.for_market(Market.KRX)
    crypto = SymbolRules.for_market(Market.CRYPTO, InstrumentKind.CRYPTO_SPOT)

    assert (krx.tick_kind, krx.lot, krx.price_limit, krx.sell_tax) == (
        "krx",
        Decimal(1),
        0.3,
        0.002,
    )
    assert crypto.lot == Decimal("1E-8")


@pytest.mark.parametrize(
    ("build", "message"),
    [
        (lambda: PaperSettings(commission=1.0), "commission must be < 1.0, got 1.0"),
        (lambda: PaperSettings(participation=0.0), "participation must be > 0.0, got 0.0"),
        (lambda: PaperSettings(fill_timing="noon"), "fill_timing must be next_open or close"),  # type: ignore[arg-type]
        (lambda: SymbolRules(tick_kind="odd"), "tick_kind must be one of none, fixed, krx, us"),
        (lambda: SymbolRules(tick_kind="fixed"), "tick_size must be > 0 for a fixed grid"),
        (lambda: SymbolRules(lot_size=0.0), "lot_size must be > 0.0, got 0.0"),
    ],
)
def test_settings_out_of_range_are_refused_with_the_field_and_value(
    build: object, message: str
) -> None:
    with pytest.raises(PaperSettingsError, match=message):
        build()  # type: ignore[operator]
