"""Paper broker fill semantics, each number computed by hand in the test."""

from __future__ import annotations

from collections.abc import Sequence
from decimal import Decimal

import pytest

from fakes import DAY0, buy, daily_bar, sell
from orchestrade.brokers.paper import PaperBroker, PaperSettings, SymbolRules
from orchestrade.domain import (
    FillId,
    InstrumentKind,
    Market,
    OrderId,
    OrderStatus,
    OrderType,
    Symbol,
    TimeInForce,
)
from orchestrade.execution import BrokerUpdate, FillUpdate, OrderUpdate

from .conftest import PaperFactory

pytestmark = pytest.mark.anyio

D = Decimal
S = OrderStatus
KRX = SymbolRules.for_market(Market.KRX)
SAMSUNG = Symbol("005930")
GTC = TimeInForce.GTC
IOC = TimeInForce.IOC


def fills_of(updates: Sequence[BrokerUpdate]) -> list[tuple[str, Decimal, Decimal]]:
    return [
        (u.fill.fill_id, u.fill.quantity, u.fill.price)
        for u in updates
        if isinstance(u, FillUpdate)
    ]


async def hold(broker: PaperBroker, quantity: int, price: int, *, day: int = 0) -> None:
    """Buy `quantity` at `price` on a flat bar of `day` (no slippage settings assumed)."""
    await broker.submit(buy(f"seed-{day}", quantity))
    await broker.trade_bar(daily_bar(day, price))
    assert (await broker.positions())[SAMSUNG] == quantity


async def test_a_market_order_fills_at_the_open_with_bps_and_range_slippage_on_the_krx_grid(
    open_paper: PaperFactory,
) -> None:
    settings = PaperSettings(
        commission=0.00015, slippage_bps=10, slippage_range=0.1, default_rules=KRX
    )
    broker = open_paper(settings)

    await broker.submit(buy("b", 10))
    updates = await broker.begin_bar(daily_bar(1, 70_000, 71_000, 69_000, 70_500))

    # move = 70000 x 10 x 1e-4 + 0.1 x (71000 - 69000) = 70 + 200 = 270 -> 70270,
    # rounded up to the 100-won tick of 50,000-200,000 -> 70300.
    (fill,) = [u.fill for u in updates if isinstance(u, FillUpdate)]
    assert (fill.fill_id, fill.quantity, fill.price) == ("b-1", D(10), D(70_300))
    assert fill.filled_at == daily_bar(1, 1).start
    # fee = 703,000 x 0.00015 = 105.45 (as the float 105.44999999999999); no tax on buys.
    assert fill.fee == D(repr(703_000 * 0.00015))
    assert abs(fill.fee - D("105.45")) < D("1e-9")
    assert fill.tax == 0

    await broker.trade_bar(daily_bar(1, 70_000, 71_000, 69_000, 70_500))
    await broker.submit(sell("s", 10))
    updates = await broker.begin_bar(daily_bar(2, 72_000, 72_500, 71_000, 72_000))

    # move = 72000 x 1e-3 + 0.1 x 1500 = 72 + 150 = 222 -> 71778, rounded down -> 71700.
    (fill,) = [u.fill for u in updates if isinstance(u, FillUpdate)]
    assert fill.price == D(71_700)
    assert fill.tax == D(1434)  # 717,000 x 0.20%
    assert abs(fill.fee - D("107.55")) < D("1e-9")
    # cash = 10,000,000 - 703,000 - 105.45 + 717,000 - 107.55 - 1,434 = 10,012,353
    account = await broker.account()
    assert abs(account.cash - D(10_012_353)) < D("1e-9")
    assert await broker.positions() == {}


async def test_a_market_order_submitted_while_the_bar_is_open_fills_at_once(
    open_paper: PaperFactory,
) -> None:
    broker = open_paper(PaperSettings(default_rules=KRX))
    await broker.begin_bar(daily_bar(1, 70_000, 71_000, 69_000, 70_500))

    result = await broker.submit(buy("b", 10))

    assert (result.status, result.average_fill_price) == (S.FILLED, D(70_000))


async def test_market_orders_submitted_after_the_bar_traded_wait_for_the_next_open(
    open_paper: PaperFactory,
) -> None:
    broker = open_paper()
    await broker.trade_bar(daily_bar(1, 100, 110, 90, 105))

    result = await broker.submit(buy("b", 10))
    updates = await broker.begin_bar(daily_bar(2, 107, 109, 101, 108))

    assert result.status is S.ACCEPTED
    assert fills_of(updates) == [("b-1", D(10), D(107))]


async def test_a_sell_stop_fills_at_its_level_intrabar_and_at_the_open_through_a_gap(
    open_paper: PaperFactory,
) -> None:
    broker = open_paper(PaperSettings(default_rules=KRX))
    await hold(broker, 20, 70_000)
    await broker.submit(sell("stop", 10, stop=68_050, tif=GTC))

    intrabar = await broker.trade_bar(daily_bar(1, 69_000, 69_500, 67_900, 68_500))
    # Raw 68,050 (the level; low 67,900 reached it), sells round down to the grid: 68,000.
    assert fills_of(intrabar) == [("stop-1", D(10), D(68_000))]

    await broker.submit(sell("gap", 10, stop=68_050, tif=GTC))
    gap = await broker.trade_bar(daily_bar(2, 67_000, 67_500, 66_000, 67_200))
    # The open is already through the stop: it fills at the open.
    assert fills_of(gap) == [("gap-1", D(10), D(67_000))]


async def test_a_stop_fill_slips_like_a_market_fill(open_paper: PaperFactory) -> None:
    broker = open_paper(PaperSettings(slippage_bps=10, slippage_range=0.1, default_rules=KRX))
    await hold(broker, 10, 70_000)
    await broker.submit(sell("stop", 10, stop=68_050, tif=GTC))

    updates = await broker.trade_bar(daily_bar(1, 69_000, 69_500, 67_900, 68_500))

    # move = 68050 x 1e-3 + 0.1 x 1600 = 228.05 -> 67821.95, rounded down -> 67800.
    assert fills_of(updates) == [("stop-1", D(10), D(67_800))]


async def test_a_buy_stop_rounds_its_level_up_and_fills_at_the_higher_of_open_and_level(
    open_paper: PaperFactory,
) -> None:
    broker = open_paper(PaperSettings(default_rules=KRX))
    await broker.trade_bar(daily_bar(0, 70_000))
    await broker.submit(buy("stop", 1, stop=70_050, tif=GTC))
    intrabar = await broker.trade_bar(daily_bar(1, 69_500, 70_500, 69_400, 70_000))
    await broker.submit(buy("gap", 1, stop=70_050, tif=GTC))
    gap = await broker.trade_bar(daily_bar(2, 70_200, 70_800, 70_100, 70_500))

    # Level 70,050 -> 70,100 on the grid; intrabar at 70,100, through a gap at the open.
    assert fills_of(intrabar) == [("stop-1", D(1), D(70_100))]
    assert fills_of(gap) == [("gap-1", D(1), D(70_200))]


async def test_limit_orders_fill_at_their_level_or_a_better_open_without_slippage(
    open_paper: PaperFactory,
) -> None:
    settings = PaperSettings(slippage_bps=10, slippage_range=0.1, default_rules=KRX)
    broker = open_paper(settings)
    await broker.trade_bar(daily_bar(0, 70_000))

    await broker.submit(buy("lim", 1, limit=69_950, tif=GTC))
    touched = await broker.trade_bar(daily_bar(1, 70_500, 70_600, 69_800, 70_000))
    await broker.submit(buy("gap", 1, limit=69_950, tif=GTC))
    gapped = await broker.trade_bar(daily_bar(2, 69_430, 69_600, 69_400, 69_500))
    await broker.submit(sell("tp", 1, limit=71_020, tif=GTC))
    reached = await broker.trade_bar(daily_bar(3, 70_500, 71_200, 70_400, 71_000))
    await broker.submit(sell("tp-gap", 1, limit=71_020, tif=GTC))
    opened_above = await broker.trade_bar(daily_bar(4, 71_550, 71_800, 71_400, 71_600))

    # Buy limit 69,950 -> 69,900 (down to the grid): the low 69,800 reaches it.
    assert fills_of(touched) == [("lim-1", D(1), D(69_900))]
    # Open 69,430 -> 69,500 (up to the grid) is better than the level: fills there.
    assert fills_of(gapped) == [("gap-1", D(1), D(69_500))]
    # Sell limit 71,020 -> 71,100 (up): the high 71,200 reaches it.
    assert fills_of(reached) == [("tp-1", D(1), D(71_100))]
    # Open 71,550 -> 71,500 (down) is above the level: fills at the open.
    assert fills_of(opened_above) == [("tp-gap-1", D(1), D(71_500))]


async def test_a_stop_and_a_take_profit_in_one_bar_fill_the_stop_first(
    open_paper: PaperFactory,
) -> None:
    broker = open_paper(PaperSettings(default_rules=KRX))
    await hold(broker, 10, 70_000)
    await broker.submit(sell("tp", 10, limit=72_000, tif=GTC))
    await broker.submit(sell("sl", 10, stop=68_000, tif=GTC))

    updates = await broker.trade_bar(daily_bar(1, 70_000, 72_500, 67_500, 71_000))

    assert fills_of(updates) == [("sl-1", D(10), D(68_000))]
    assert (await broker.order(OrderId("tp"))).status is S.CANCELLED  # type: ignore[union-attr]
    assert broker.reason(OrderId("tp")) == "no short selling: no position in 005930 left to sell"


async def test_a_gap_up_through_the_take_profit_fills_it_before_the_stop(
    open_paper: PaperFactory,
) -> None:
    broker = open_paper(PaperSettings(default_rules=KRX))
    await hold(broker, 10, 70_000)
    await broker.submit(sell("sl", 10, stop=68_000, tif=GTC))
    await broker.submit(sell("tp", 10, limit=72_000, tif=GTC))

    updates = await broker.trade_bar(daily_bar(1, 72_100, 72_600, 67_000, 70_000))

    assert fills_of(updates) == [("tp-1", D(10), D(72_100))]
    assert (await broker.order(OrderId("sl"))).status is S.CANCELLED  # type: ignore[union-attr]


async def test_a_fill_outside_the_price_band_does_not_happen(open_paper: PaperFactory) -> None:
    broker = open_paper(PaperSettings(slippage_bps=10, default_rules=KRX))
    await broker.trade_bar(daily_bar(0, 10_000))
    await broker.submit(buy("ioc", 5, tif=IOC))
    await broker.submit(buy("gtc", 5, tif=GTC))

    refused = await broker.begin_bar(daily_bar(1, 13_000, 13_000, 12_800, 12_900))

    # 13,000 + 13 = 13,013 -> 13,020 on the 10-won grid, above the ceiling
    # 10,000 x 1.3 = 13,000: no fill. The IOC order ends, the GTC order waits.
    assert fills_of(refused) == []
    assert (await broker.order(OrderId("ioc"))).status is S.CANCELLED  # type: ignore[union-attr]
    assert broker.reason(OrderId("ioc")) == (
        "immediate-or-cancel: fill price 13020.0 of 005930 is outside the price band "
        "[7000.0, 13000.0] around the previous close 10000.0"
    )
    assert (await broker.order(OrderId("gtc"))).status is S.ACCEPTED  # type: ignore[union-attr]

    await broker.trade_bar(daily_bar(1, 13_000, 13_000, 12_800, 12_900))
    later = await broker.begin_bar(daily_bar(2, 12_900, 13_100, 12_800, 13_000))

    # Band now around 12,900; 12,900 + 12.9 = 12,912.9 -> 12,920.
    assert fills_of(later) == [("gtc-1", D(5), D(12_920))]


async def test_participation_caps_each_bar_and_the_rest_fills_on_later_bars(
    open_paper: PaperFactory,
) -> None:
    broker = open_paper(PaperSettings(participation=0.1))
    await broker.submit(buy("b", 60, tif=GTC))

    first = await broker.trade_bar(daily_bar(1, 100, volume=250))
    second = await broker.trade_bar(daily_bar(2, 101, volume=300))
    third = await broker.trade_bar(daily_bar(3, 102, volume=1_000))

    # floor(0.1 x 250) = 25, floor(0.1 x 300) = 30, then the 5 left of 100 allowed.
    assert fills_of(first) == [("b-1", D(25), D(100))]
    assert fills_of(second) == [("b-2", D(30), D(101))]
    assert fills_of(third) == [("b-3", D(5), D(102))]
    order = await broker.order(OrderId("b"))
    assert order is not None
    assert (order.status, order.filled_quantity) == (S.FILLED, D(60))
    # (25 x 100 + 30 x 101 + 5 x 102) / 60 = 6040 / 60
    assert order.average_fill_price is not None
    assert abs(order.average_fill_price - D(6040) / D(60)) < D("1e-24")


async def test_an_ioc_order_keeps_what_the_cap_allows_and_drops_the_rest(
    open_paper: PaperFactory,
) -> None:
    broker = open_paper(PaperSettings(participation=0.1))
    await broker.submit(buy("b", 60, tif=IOC))

    await broker.trade_bar(daily_bar(1, 100, volume=250))

    order = await broker.order(OrderId("b"))
    assert order is not None
    assert (order.status, order.filled_quantity) == (S.CANCELLED, D(25))
    assert broker.reason(OrderId("b")) == "immediate-or-cancel: 35 of 60 unfilled"


async def test_a_bar_without_volume_fills_nothing_under_a_cap(open_paper: PaperFactory) -> None:
    broker = open_paper(PaperSettings(participation=0.1))
    await broker.submit(buy("b", 10, tif=GTC))

    updates = await broker.trade_bar(daily_bar(1, 100, volume=0))

    assert updates == []
    assert (await broker.order(OrderId("b"))).status is S.ACCEPTED  # type: ignore[union-attr]


async def test_commission_minimum_and_sell_tax_are_charged_per_fill(
    open_paper: PaperFactory,
) -> None:
    broker = open_paper(PaperSettings(commission=0.00015, commission_min=1_000, default_rules=KRX))
    await broker.submit(buy("b", 1))
    bought = await broker.trade_bar(daily_bar(1, 70_000))
    await broker.submit(sell("s", 1))
    sold = await broker.trade_bar(daily_bar(2, 71_000))

    buy_fill = bought[-1].fill  # type: ignore[union-attr]
    sell_fill = sold[-1].fill  # type: ignore[union-attr]
    # 70,000 x 0.015% = 10.5 < 1,000 minimum; 71,000 x 0.20% = 142 tax on the sale.
    assert (buy_fill.fee, buy_fill.tax) == (D(1000), D(0))
    assert (sell_fill.fee, sell_fill.tax) == (D(1000), D(142))
    # 10,000,000 - 70,000 - 1,000 + 71,000 - 1,000 - 142
    assert (await broker.account()).cash == D(9_998_858)


async def test_etfs_pay_no_sell_tax(open_paper: PaperFactory) -> None:
    etf = SymbolRules.for_market(Market.KRX, InstrumentKind.ETF)
    broker = open_paper(PaperSettings(rules={"069500": etf}, default_rules=KRX))
    await broker.submit(buy("b", 3, symbol="069500"))
    await broker.trade_bar(daily_bar(1, 35_000, symbol="069500"))
    await broker.submit(sell("s", 3, symbol="069500"))

    sold = await broker.trade_bar(daily_bar(2, 35_500, symbol="069500"))

    assert sold[-1].fill.tax == 0  # type: ignore[union-attr]


async def test_selling_a_flat_position_is_rejected(open_paper: PaperFactory) -> None:
    broker = open_paper()
    seen: list[OrderUpdate | FillUpdate] = []

    async def listen(update: OrderUpdate | FillUpdate) -> None:
        seen.append(update)

    broker.subscribe(listen)

    result = await broker.submit(sell("s", 1))

    assert result.status is S.REJECTED
    assert [(u.order.status, u.reason) for u in seen] == [  # type: ignore[union-attr]
        (S.REJECTED, "no short selling: no position in 005930 to sell")
    ]


async def test_a_sell_beyond_the_position_is_cut_to_the_position(
    open_paper: PaperFactory,
) -> None:
    broker = open_paper()
    await hold(broker, 10, 100)
    await broker.submit(sell("s", 15))

    updates = await broker.trade_bar(daily_bar(1, 110))

    assert fills_of(updates) == [("s-1", D(10), D(110))]
    order = await broker.order(OrderId("s"))
    assert order is not None
    assert (order.status, order.filled_quantity) == (S.CANCELLED, D(10))
    assert broker.reason(OrderId("s")) == (
        "sell cut to the position: 10 of 15 sold, nothing left to sell"
    )
    assert await broker.positions() == {}


async def test_a_limit_buy_the_cash_cannot_pay_is_rejected_on_arrival(
    open_paper: PaperFactory,
) -> None:
    broker = open_paper(PaperSettings(commission=0.001), cash=D(1_000_000))

    result = await broker.submit(buy("b", 10, limit=100_000))

    assert result.status is S.REJECTED
    # 10 x 100,000 = 1,000,000 plus 1,000 commission
    assert broker.reason(OrderId("b")) == (
        "insufficient cash: buying 10 005930 at up to 100000.0 costs 1001000.0 with fees, "
        "cash is 1000000"
    )


async def test_a_market_buy_the_cash_cannot_pay_is_cancelled_when_it_would_fill(
    open_paper: PaperFactory,
) -> None:
    broker = open_paper(cash=D(1_000_000))
    await broker.submit(buy("b", 20))

    updates = await broker.trade_bar(daily_bar(1, 70_000))

    assert [(u.order.status, u.reason) for u in updates] == [  # type: ignore[union-attr]
        (
            S.CANCELLED,
            "insufficient cash: 20 005930 at 70000.0 cost 1400000.0 with fees, cash is 1000000",
        )
    ]
    assert (await broker.account()).cash == D(1_000_000)


async def test_a_day_order_expires_at_the_first_bar_of_the_next_day(
    open_paper: PaperFactory,
) -> None:
    broker = open_paper()
    await broker.trade_bar(daily_bar(0, 100))
    await broker.submit(buy("d", 1, limit=90))
    await broker.trade_bar(daily_bar(1, 100, 105, 95, 100))

    updates = await broker.begin_bar(daily_bar(2, 100))

    assert [(u.order.status, u.reason) for u in updates] == [  # type: ignore[union-attr]
        (S.EXPIRED, "day order expired at the end of 2024-01-03")
    ]


async def test_an_ioc_limit_order_not_reached_in_its_bar_is_cancelled(
    open_paper: PaperFactory,
) -> None:
    broker = open_paper()
    await broker.submit(buy("i", 1, limit=90, tif=IOC))

    updates = await broker.trade_bar(daily_bar(1, 100, 105, 95, 100))

    assert [(u.order.status, u.reason) for u in updates] == [  # type: ignore[union-attr]
        (S.CANCELLED, "immediate-or-cancel: not triggered in the bar of 2024-01-03T00:00:00+00:00")
    ]


async def test_a_fill_or_kill_order_fills_whole_or_not_at_all(open_paper: PaperFactory) -> None:
    broker = open_paper(PaperSettings(participation=0.1))
    await broker.submit(buy("small", 20, tif=TimeInForce.FOK))
    await broker.submit(buy("big", 30, tif=TimeInForce.FOK))

    updates = await broker.trade_bar(daily_bar(1, 100, volume=250))

    assert fills_of(updates) == [("small-1", D(20), D(100))]
    assert broker.reason(OrderId("big")) == "fill-or-kill: only 25 of 30 could fill"


async def test_with_close_timing_market_orders_fill_at_the_close(
    open_paper: PaperFactory,
) -> None:
    broker = open_paper(PaperSettings(fill_timing="close"))
    await broker.submit(buy("b", 2))

    opened = await broker.begin_bar(daily_bar(1, 100, 110, 90, 105))
    traded = await broker.trade_bar(daily_bar(1, 100, 110, 90, 105))
    after_close = await broker.submit(sell("s", 2))

    assert opened == []
    assert fills_of(traded) == [("b-1", D(2), D(105))]
    assert (after_close.status, after_close.average_fill_price) == (S.FILLED, D(105))


async def test_crypto_trades_fractional_quantities_on_its_lot(open_paper: PaperFactory) -> None:
    crypto = SymbolRules.for_market(Market.CRYPTO, InstrumentKind.CRYPTO_SPOT)
    broker = open_paper(PaperSettings(default_rules=crypto))
    await broker.submit(buy("ok", "0.12345678", symbol="BTCUSDT"))

    refused = await broker.submit(buy("too-fine", "0.123456789", symbol="BTCUSDT"))
    updates = await broker.trade_bar(daily_bar(1, "50000.5", symbol="BTCUSDT"))

    assert fills_of(updates) == [("ok-1", D("0.12345678"), D("50000.5"))]
    assert refused.status is S.REJECTED
    assert broker.reason(OrderId("too-fine")) == (
        "quantity 0.123456789 of BTCUSDT is not a multiple of the lot size 1E-8"
    )


async def test_stop_limit_orders_are_rejected(open_paper: PaperFactory) -> None:
    broker = open_paper()
    order = buy("sl", 1, order_type=OrderType.STOP_LIMIT, limit=101, stop=100)

    result = await broker.submit(order)

    assert result.status is S.REJECTED
    assert broker.reason(OrderId("sl")) == "the paper broker does not take stop_limit orders"


async def test_a_bar_fed_twice_or_out_of_order_is_ignored(open_paper: PaperFactory) -> None:
    broker = open_paper()
    await broker.submit(buy("b", 1, tif=GTC))
    await broker.trade_bar(daily_bar(2, 100))

    again = await broker.trade_bar(daily_bar(2, 100))
    older = await broker.begin_bar(daily_bar(1, 50))

    assert (again, older) == ([], [])
    assert [f.fill_id for f in await broker.fills()] == [FillId("b-1")]
    market = broker.market(SAMSUNG)
    assert market is not None
    assert market.bar.start == DAY0.replace(day=4)
