"""The paper broker fills exactly like the backtest kernel: same prices, fees and taxes.

The kernel runs a signal series with every cost feature on (KRX grid, slippage in bps and
of the range, commission, sell tax, price band, participation cap, stop loss and take
profit); the test then replays the same bars through the paper broker, placing the orders
an execution agent would (entries with the kernel's quantities, exits for the whole
position, the stop and the take profit as resting GTC orders), and compares every fill as
floats, bit for bit.
"""

from __future__ import annotations

import random
from decimal import Decimal

import numpy as np
import pytest

from fakes import buy, daily_bar, sell
from orchestrade.backtest.config import SimulationConfig
from orchestrade.backtest.kernel import simulate
from orchestrade.brokers.paper import PaperSettings
from orchestrade.data import BarPanel
from orchestrade.domain import Market, Side, Symbol, TimeInForce
from orchestrade.execution import FillUpdate
from orchestrade.strategies.arrays import SignalArrays

from .conftest import PaperFactory

pytestmark = pytest.mark.anyio

SYMBOL = Symbol("005930")
N = 64
ENTRIES = (0, 9, 18, 27, 36, 45, 54)
EXITS = (5, 14, 23, 30, 41, 50)
GAP_BAR = 31  # opens 35% below the previous close: outside the ±30% band
START_NS = 1_704_153_600_000_000_000  # 2024-01-02T00:00Z
DAY_NS = 86_400_000_000_000


def market(seed: int) -> BarPanel:
    rng = random.Random(seed)
    opens, highs, lows, closes, volumes = [], [], [], [], []
    price = 71_234.0
    for t in range(N):
        open_ = price * (0.65 if t == GAP_BAR else rng.uniform(0.97, 1.03))
        high = open_ * rng.uniform(1.0, 1.06)
        low = open_ * rng.uniform(0.94, 1.0)
        close = rng.uniform(low, high)
        opens.append(open_)
        highs.append(high)
        lows.append(low)
        closes.append(close)
        volumes.append(float(rng.choice([40, 90, 400, 5_000])))
        price = close
    stamps = (START_NS + np.arange(N, dtype=np.int64) * DAY_NS).view("datetime64[ns]")

    def row(values: list[float]) -> np.ndarray:
        return np.array([values], dtype=np.float64)

    return BarPanel((SYMBOL,), stamps, row(opens), row(highs), row(lows), row(closes), row(volumes))


def signals(panel: BarPanel) -> SignalArrays:
    entries = np.zeros((1, N), dtype=bool)
    exits = np.zeros((1, N), dtype=bool)
    entries[0, list(ENTRIES)] = True
    exits[0, list(EXITS)] = True
    return SignalArrays(
        symbols=panel.symbols,
        timestamps=panel.timestamps,
        entries=entries,
        exits=exits,
        entry_confidence=np.where(entries, 1.0, np.nan),
        exit_confidence=np.where(exits, 1.0, np.nan),
        reasons=np.zeros((1, N), dtype=np.int64),
        reason_names=(),
    )


@pytest.mark.parametrize(
    ("seed", "stop_loss", "take_profit"),
    [
        (3, 0.03, 0.05),  # stops and take profits, a take profit split by the volume cap
        (11, 0.03, 0.05),
        (29, 0.25, 0.6),  # signal exits; the exit into the gap bar is refused by the band
    ],
)
async def test_replay_through_the_paper_broker_fills_like_the_kernel(
    open_paper: PaperFactory, seed: int, stop_loss: float, take_profit: float
) -> None:
    panel = market(seed)
    config = SimulationConfig(
        cash=30_000_000.0,
        commission=0.00015,
        slippage_bps=7.0,
        slippage_range=0.05,
        participation=0.5,
        stop_loss=stop_loss,
        take_profit=take_profit,
    ).with_markets([Market.KRX])
    simulation = simulate(panel, signals(panel), config)
    kernel_fills = [
        (int(f["bar"]), int(f["side"]), f["quantity"], f["price"], f["fee"], f["tax"])
        for f in simulation.fills
    ]
    entry_quantity = {int(f["bar"]): f["quantity"] for f in simulation.fills if f["side"] > 0}
    broker = open_paper(PaperSettings.from_simulation(config, (SYMBOL,)), cash=Decimal(30_000_000))
    number = 0

    for t in range(N):
        bar = daily_bar(
            t,
            panel.open[0, t],
            panel.high[0, t],
            panel.low[0, t],
            panel.close[0, t],
            panel.volume[0, t],
        )
        for update in await broker.begin_bar(bar):
            if isinstance(update, FillUpdate) and update.fill.side is Side.BUY:
                # The execution agent places the position's stop and take profit.
                entry, held = float(update.fill.price), update.fill.quantity
                stop = Decimal(repr(entry * (1.0 - stop_loss)))
                target = Decimal(repr(entry * (1.0 + take_profit)))
                number += 1
                await broker.submit(sell(f"sl{number}", held, stop=stop, tif=TimeInForce.GTC))
                await broker.submit(sell(f"tp{number}", held, limit=target, tif=TimeInForce.GTC))
        await broker.trade_bar(bar)
        held = (await broker.positions()).get(SYMBOL, Decimal(0))
        if held == 0:
            for order in await broker.open_orders():
                if order.side is Side.SELL:
                    await broker.cancel(order.order_id)
        pending_exit = any(o.order_type.value == "market" for o in await broker.open_orders())
        if t in EXITS and held > 0 and not pending_exit:
            number += 1
            await broker.submit(sell(f"x{number}", held, tif=TimeInForce.GTC))
        elif t in ENTRIES and held == 0 and t + 1 in entry_quantity:
            number += 1
            quantity = Decimal(int(entry_quantity[t + 1]))
            await broker.submit(buy(f"e{number}", quantity, tif=TimeInForce.IOC))

    paper_fills = [
        (
            (f.filled_at - daily_bar(0, 1).start).days,
            f.side.sign,
            float(f.quantity),
            float(f.price),
            float(f.fee),
            float(f.tax),
        )
        for f in await broker.fills()
    ]
    assert len(kernel_fills) >= 8
    assert paper_fills == kernel_fills
    if stop_loss > 0.2:
        assert simulation.refusals["price_limit"] >= 1  # the exit into the gap was refused
        assert (GAP_BAR + 1, -1) in [fill[:2] for fill in paper_fills]
    final_equity = float(broker.equity())
    assert final_equity == pytest.approx(float(simulation.equity[0, -1]), rel=1e-9)
