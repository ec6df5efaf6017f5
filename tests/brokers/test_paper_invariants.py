"""Money invariants of the paper broker over a long random session on three symbols."""

from __future__ import annotations

import random
from decimal import Decimal

import pytest

from fakes import buy, daily_bar, sell
from orchestrade.brokers.paper import PaperBroker, PaperSettings, SymbolRules
from orchestrade.domain import Bar, KrxTickRule, Market, Order, Side, Symbol, TimeInForce

from .conftest import PaperFactory

pytestmark = pytest.mark.anyio

D = Decimal
SYMBOLS = ("005930", "000660", "035720")
CASH = D(50_000_000)
GRID = KrxTickRule()


def krx_settings() -> PaperSettings:
    """KRX rules, commission with a minimum, slippage and volume participation."""
    return PaperSettings(
        commission=0.00015,
        commission_min=100,
        slippage_bps=5,
        slippage_range=0.05,
        participation=0.05,
        default_rules=SymbolRules.for_market(Market.KRX),
    )


def random_bars(rng: random.Random, days: int) -> dict[str, list[Bar]]:
    bars: dict[str, list[Bar]] = {}
    for symbol in SYMBOLS:
        price = float(rng.choice([8_000, 45_000, 150_000]))
        series = []
        for day in range(days):
            open_ = float(GRID.round_price(D(price * rng.uniform(0.93, 1.07))))
            high = open_ * rng.uniform(1.0, 1.05)
            low = open_ * rng.uniform(0.95, 1.0)
            close = rng.uniform(low, high)
            series.append(
                daily_bar(day, open_, high, low, close, rng.randint(0, 40_000), symbol=symbol)
            )
            price = close
        bars[symbol] = series
    return bars


def random_order(rng: random.Random, number: int, symbol: str, bar: Bar) -> Order:
    side = rng.choice([Side.BUY, Side.SELL])
    quantity = rng.randint(1, 400)
    tif = rng.choice(list(TimeInForce))
    kind = rng.choice(["market", "market", "limit", "stop"])
    close = float(bar.close)
    build = buy if side is Side.BUY else sell
    if kind == "limit":
        level = close * (rng.uniform(0.95, 1.0) if side is Side.BUY else rng.uniform(1.0, 1.05))
        return build(f"o{number}", quantity, symbol=symbol, limit=D(repr(level)), tif=tif)
    if kind == "stop":
        level = close * (rng.uniform(1.0, 1.05) if side is Side.BUY else rng.uniform(0.95, 1.0))
        return build(f"o{number}", quantity, symbol=symbol, stop=D(repr(level)), tif=tif)
    return build(f"o{number}", quantity, symbol=symbol, tif=tif)


async def check_invariants(broker: PaperBroker) -> None:
    fills = await broker.fills()
    account = await broker.account()
    # Cash is the starting cash plus every fill's cash flow (fees and taxes included).
    assert account.cash == CASH + sum((f.net_cash_flow for f in fills), D(0))
    # Positions are the sums of the fills, never short.
    held: dict[str, Decimal] = {}
    for fill in fills:
        held[fill.symbol] = held.get(fill.symbol, D(0)) + fill.signed_quantity
        assert held[fill.symbol] >= 0
        assert GRID.is_valid_price(fill.price)
        assert fill.quantity == fill.quantity.to_integral_value()
    assert dict(await broker.positions()) == {s: q for s, q in held.items() if q != 0}
    # Equity is cash plus positions at the latest price.
    value = D(0)
    for symbol, quantity in held.items():
        price = broker.last_price(Symbol(symbol))
        assert price is not None
        value += quantity * price
    assert broker.equity() == account.cash + value
    # Each order's filled quantity and average price are those of its fills.
    for order in broker.orders():
        own = [f for f in fills if f.order_id == order.order_id]
        assert order.filled_quantity == sum((f.quantity for f in own), D(0))
        if own:
            assert order.average_fill_price is not None
            exact = sum((f.gross_value for f in own), D(0)) / order.filled_quantity
            assert abs(order.average_fill_price - exact) < D("1e-18")


@pytest.mark.parametrize("seed", [1, 2, 3])
async def test_cash_positions_and_equity_always_add_up(open_paper: PaperFactory, seed: int) -> None:
    rng = random.Random(seed)
    broker = open_paper(krx_settings(), cash=CASH)
    bars = random_bars(rng, 40)
    number = 0

    for day in range(40):
        for symbol in SYMBOLS:
            bar = bars[symbol][day]
            await broker.begin_bar(bar)
            if rng.random() < 0.3:
                number += 1
                await broker.submit(random_order(rng, number, symbol, bar))
            await broker.trade_bar(bar)
            for _ in range(rng.randint(0, 2)):
                number += 1
                await broker.submit(random_order(rng, number, symbol, bar))
        await check_invariants(broker)

    assert len(await broker.fills()) > 30
