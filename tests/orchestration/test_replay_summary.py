"""replay_result: the portfolio agent's records laid out as the backtest's tables (equity on
every bar time, carried where a symbol has no bar; open positions as "end" trades at the last
close) and measured by the backtest's code. Every number is worked out by hand."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import numpy as np
import pandas as pd
import pytest

from fakes import buy, sell
from orchestrade.agents.portfolio import PortfolioAgent
from orchestrade.backtest.results import BacktestResult
from orchestrade.bus import InMemoryBus
from orchestrade.data import BarPanel
from orchestrade.domain import (
    Bar,
    BarsClosed,
    BarsOpened,
    Fill,
    FillId,
    Message,
    OrderFilled,
    Side,
    Symbol,
)
from orchestrade.orchestration.replay_summary import replay_result
from orchestrade.portfolio import Ledger

pytestmark = pytest.mark.anyio

D = Decimal
NAN = np.nan
DAY0 = datetime(2024, 1, 2, tzinfo=UTC)
HYNIX, SAMSUNG = Symbol("000660"), Symbol("005930")
# (open, close) per day; 005930 has no bar on day 0
PRICES = {
    HYNIX: [(100.0, 100.0), (100.0, 110.0), (120.0, 130.0), (130.0, 125.0)],
    SAMSUNG: [(NAN, NAN), (50.0, 50.0), (50.0, 55.0), (60.0, 60.0)],
}
FILLS = {
    1: [(HYNIX, Side.BUY, 100, 100, "10", "0")],
    2: [(HYNIX, Side.SELL, 100, 120, "12", "24"), (SAMSUNG, Side.BUY, 1_000, 50, "5", "0")],
}


def day(n: int) -> datetime:
    return DAY0 + timedelta(days=n)


def make_panel() -> BarPanel:
    opens = np.array([[o for o, _ in PRICES[s]] for s in (HYNIX, SAMSUNG)])
    closes = np.array([[c for _, c in PRICES[s]] for s in (HYNIX, SAMSUNG)])
    stamps = (np.datetime64("2024-01-02", "D") + np.arange(4)).astype("datetime64[ns]")
    return BarPanel(
        (HYNIX, SAMSUNG),
        stamps,
        opens,
        np.fmax(opens, closes),
        np.fmin(opens, closes),
        closes,
        np.where(np.isnan(closes), NAN, 1e6),
    )


def bars_of(n: int) -> tuple[Bar, ...]:
    bars = []
    for symbol in (HYNIX, SAMSUNG):
        o, c = PRICES[symbol][n]
        if o == o:
            bars.append(
                Bar(
                    symbol,
                    "1d",
                    day(n),
                    D(repr(o)),
                    D(repr(max(o, c))),
                    D(repr(min(o, c))),
                    D(repr(c)),
                    D(1_000_000),
                )
            )
    return tuple(bars)


def filled(
    n: int, symbol: Symbol, side: Side, qty: int, price: int, fee: str, tax: str
) -> OrderFilled:
    order_id = f"{symbol}-{n}-{side}"
    order = (buy if side is Side.BUY else sell)(order_id, qty, symbol=symbol)
    fill = Fill(
        FillId(f"{order_id}-1"),
        order.order_id,
        symbol,
        side,
        D(qty),
        D(price),
        day(n),
        fee=D(fee),
        tax=D(tax),
    )
    return OrderFilled(order, fill)


@pytest.fixture
async def portfolio() -> AsyncIterator[PortfolioAgent]:
    bus = InMemoryBus(name="summary")
    await bus.start()
    ledger = Ledger(mode="isolated", track_days=False)
    for symbol in (HYNIX, SAMSUNG):
        ledger.open_account(ledger.account_id("bot-1", symbol), D(1_000_000), [symbol])
    agent = PortfolioAgent(bus, ledger, heartbeat_interval_s=3600)
    await agent.start()

    async def send(message: Message) -> None:
        await bus.publish(message)
        await bus.wait_idle()

    for n in range(4):
        bars = bars_of(n)
        await send(BarsOpened(day(n), bars))
        for fill in FILLS.get(n, []):
            await send(filled(n, *fill))
        await send(BarsClosed(day(n), bars))
    yield agent
    await agent.stop()
    await bus.stop(timeout_s=1.0)


@pytest.fixture
def result(portfolio: PortfolioAgent) -> BacktestResult:
    return replay_result(
        portfolio,
        make_panel(),
        bot_id="bot-1",
        cash=1_000_000.0,
        periods_per_year=252.0,
        timing={"bars": 7, "seconds": 0.5, "load_seconds": 0.0},
        parameters={"fast": 2},
        settings={"mode": "replay"},
    )


def index() -> pd.DatetimeIndex:
    return pd.DatetimeIndex([day(n) for n in range(4)])


async def test_equity_is_each_accounts_curve_carried_over_bars_it_does_not_have(
    result: BacktestResult,
) -> None:
    # 000660: day 1 989,990 + 100 x 110; day 2 989,990 + 12,000 - 36 (flat)
    # 005930: no bar on day 0 -> the starting cash; day 2 949,995 + 1,000 x 55; day 3 x 60
    expected = pd.DataFrame(
        {
            HYNIX: [1_000_000.0, 1_000_990.0, 1_001_954.0, 1_001_954.0],
            SAMSUNG: [1_000_000.0, 1_000_000.0, 1_004_995.0, 1_009_995.0],
            "total": [2_000_000.0, 2_000_990.0, 2_006_949.0, 2_011_949.0],
        },
        index=index(),
    )
    pd.testing.assert_frame_equal(result.equity, expected, check_freq=False)


async def test_positions_are_the_fills_summed_at_each_close(result: BacktestResult) -> None:
    expected = pd.DataFrame(
        {HYNIX: [0.0, 100.0, 0.0, 0.0], SAMSUNG: [0.0, 0.0, 1_000.0, 1_000.0]}, index=index()
    )
    pd.testing.assert_frame_equal(result.positions, expected, check_freq=False)


async def test_closed_round_trips_and_open_positions_become_trades(result: BacktestResult) -> None:
    got = result.trades.set_index("symbol")

    closed = got.loc[HYNIX]
    # pnl 12,000 - 10,000 - (10 + 12 + 24) = 1,954; 19.54% of 10,000
    assert (closed.entry_time, closed.exit_time) == (pd.Timestamp(day(1)), pd.Timestamp(day(2)))
    assert (closed.entry_price, closed.exit_price, closed.qty) == (100.0, 120.0, 100.0)
    assert (closed.pnl, closed.fees, closed.exit_reason) == (1_954.0, 46.0, "signal")
    assert (closed.return_pct, closed.bars_held) == (pytest.approx(19.54), 1)
    still_open = got.loc[SAMSUNG]
    # valued at the last close, 60: 60,000 - 50,000 - 5 = 9,995
    assert (still_open.entry_time, still_open.exit_time) == (
        pd.Timestamp(day(2)),
        pd.Timestamp(day(3)),
    )
    assert (still_open.exit_price, still_open.qty, still_open.pnl) == (60.0, 1_000.0, 9_995.0)
    assert (still_open.exit_reason, still_open.bars_held) == ("end", 1)
    assert still_open.return_pct == pytest.approx(19.99)


async def test_the_fills_table_lists_every_fill_with_its_costs(result: BacktestResult) -> None:
    fills = result.fills

    assert list(fills["symbol"]) == [HYNIX, HYNIX, SAMSUNG]
    assert list(fills["side"]) == ["buy", "sell", "buy"]
    assert list(fills["qty"]) == [100.0, 100.0, 1_000.0]
    assert list(fills["price"]) == [100.0, 120.0, 50.0]
    assert list(fills["fee"]) == [10.0, 12.0, 5.0]
    assert list(fills["tax"]) == [0.0, 24.0, 0.0]
    assert list(fills["time"]) == [pd.Timestamp(day(n)) for n in (1, 2, 2)]
    assert set(fills["reason"]) == {"replay"}


async def test_the_metrics_and_the_document_have_the_backtests_shape(
    result: BacktestResult,
) -> None:
    document = result.to_dict()

    assert set(document) >= {"metrics", "per_symbol", "trades", "timing"}
    assert set(document["per_symbol"]) == {HYNIX, SAMSUNG}
    metrics = result.summary
    assert (metrics.start_equity, metrics.final_equity) == (2_000_000.0, 2_011_949.0)
    assert metrics.total_return == pytest.approx(11_949 / 2_000_000)
    assert metrics.trades == 2
    assert metrics.fees == pytest.approx(51.0)
    assert result.per_symbol[HYNIX]["final_equity"] == 1_001_954.0
    assert document["timing"] == {"bars": 7, "seconds": 0.5, "load_seconds": 0.0}
    assert document["parameters"] == {"fast": 2}
