"""Pre-trade risk latency: the whole check set per order, p50 and p99 over 100,000 orders.

Run: ``python bench/bench_risk.py``. Every limit of `RiskSettings` is on, plus the KRX tick
and price-band checks, symbol and sector concentration and the per-bot rate limiter (a rate
high enough that no order is throttled, so every order runs every check). Orders are built
beforehand; each timing (`time.perf_counter_ns`) covers one `RiskEngine.evaluate` call.
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from datetime import UTC, datetime
from decimal import Decimal

from orchestrade.domain import BotId, Instrument, Order, OrderId, OrderType, Side, Symbol
from orchestrade.risk import (
    KrxPriceLimitCheck,
    KrxTickSizeCheck,
    MaxOrdersPerSecondCheck,
    RiskEngine,
    SectorConcentrationCheck,
    SymbolConcentrationCheck,
)
from orchestrade.settings import RiskSettings

ORDERS = 100_000
SYMBOLS = [Symbol(f"{code:06d}") for code in range(5930, 5930 + 32)]
T0 = datetime(2024, 1, 2, tzinfo=UTC)


class _Book:
    """A fixed in-memory account: 32 KRX symbols, 10 of them held."""

    def __init__(self) -> None:
        self._held = {symbol: Decimal(10) for symbol in SYMBOLS[:10]}
        self._last = {symbol: Decimal(50_000) for symbol in SYMBOLS}
        self._instruments = {symbol: Instrument.krx(symbol) for symbol in SYMBOLS}

    def quantity(self, symbol: Symbol) -> Decimal:
        return self._held.get(symbol, Decimal(0))

    def positions(self) -> Mapping[Symbol, Decimal]:
        return self._held

    def equity(self) -> Decimal:
        return Decimal(100_000_000)

    def day_start_equity(self) -> Decimal:
        return Decimal(101_000_000)

    def last_price(self, symbol: Symbol) -> Decimal | None:
        return self._last.get(symbol)

    def reference_price(self, symbol: Symbol) -> Decimal | None:
        return None

    def previous_close(self, symbol: Symbol) -> Decimal | None:
        return self._last.get(symbol)

    def instrument(self, symbol: Symbol) -> Instrument | None:
        return self._instruments.get(symbol)


def main() -> None:
    """Print p50, p99 and max of one engine evaluation, in microseconds."""
    engine = _engine()
    book = _Book()
    orders = [_order(i) for i in range(ORDERS)]
    for order in orders[:1_000]:  # warm-up
        engine.evaluate(order, book)
    timings = []
    clock = time.perf_counter_ns
    for order in orders:
        start = clock()
        engine.evaluate(order, book)
        timings.append(clock() - start)
    timings.sort()
    p50, p99 = timings[len(timings) // 2], timings[int(len(timings) * 0.99)]
    print(f"risk checks per order ({len(engine.checks) + 1} checks, {ORDERS:,} orders)")
    print(f"p50 {p50 / 1e3:.1f} us   p99 {p99 / 1e3:.1f} us   max {timings[-1] / 1e3:.1f} us")
    print(f"denials: {engine.denials}")


def _engine() -> RiskEngine:
    settings = RiskSettings(
        max_position_pct=0.25,
        max_open_positions=30,
        max_daily_loss_pct=0.10,
        max_price_deviation_pct=0.05,
        max_order_notional=50_000_000,
    )
    sectors = {symbol: f"sector{i % 4}" for i, symbol in enumerate(SYMBOLS)}
    return RiskEngine(
        settings,
        checks=[
            KrxTickSizeCheck(),
            KrxPriceLimitCheck(),
            SymbolConcentrationCheck({symbol: Decimal("0.2") for symbol in SYMBOLS}),
            SectorConcentrationCheck(sectors, Decimal("0.5")),
        ],
        rate_limit=MaxOrdersPerSecondCheck(rate_per_s=1e9, burst=1e9, clock=time.monotonic),
    )


def _order(i: int) -> Order:
    return Order(
        order_id=OrderId(f"o{i}"),
        symbol=SYMBOLS[i % len(SYMBOLS)],
        side=Side.BUY,
        order_type=OrderType.LIMIT,
        quantity=Decimal(1 + i % 20),
        created_at=T0,
        limit_price=Decimal(49_000 + 100 * (i % 20)),
        bot_id=BotId(f"bot{i % 4}"),
    )


if __name__ == "__main__":
    main()
