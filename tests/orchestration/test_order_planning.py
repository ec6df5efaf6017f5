"""OrderPlanner: approved signals become at most one market order at the next open, sized
exactly as the backtest kernel sizes its entries (quantities worked out by hand, then
checked against `orchestrade.backtest.kernel.simulate` on the same bars)."""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta, timezone
from decimal import Decimal

import numpy as np
import pytest

from fakes import DAY0, daily_bar
from orchestrade.backtest.config import SimulationConfig
from orchestrade.backtest.kernel import simulate
from orchestrade.backtest.sizing import Sizing
from orchestrade.data import BarPanel
from orchestrade.domain import (
    Bar,
    BotId,
    Fill,
    FillId,
    OrderId,
    OrderType,
    Side,
    Signal,
    SignalSide,
    StrategyId,
    Symbol,
    TimeInForce,
)
from orchestrade.orchestration.errors import PlanningError
from orchestrade.orchestration.order_planning import (
    OrderPlanner,
    PlannedOrder,
    order_id_for,
    tick_rounding,
)
from orchestrade.portfolio import Ledger
from orchestrade.strategies.arrays import SignalArrays

D = Decimal
BOT = BotId("bot-1")
SAMSUNG = Symbol("005930")
HYNIX = Symbol("000660")


def config(**options: object) -> SimulationConfig:
    settings: dict[str, object] = {"cash": 1_000_000.0, "commission": 0.001}
    settings.update(options)
    return SimulationConfig(**settings)  # type: ignore[arg-type]


def planner_for(
    settings: SimulationConfig, symbols: tuple[Symbol, ...] = (SAMSUNG,)
) -> OrderPlanner:
    ledger = Ledger(mode=settings.mode, track_days=True)
    cash = Decimal(repr(settings.cash))
    if settings.mode == "isolated":
        for symbol in symbols:
            ledger.open_account(ledger.account_id(BOT, symbol), cash, [symbol])
    else:
        ledger.open_account(str(BOT), cash, symbols)
    return OrderPlanner(BOT, settings, symbols, ledger)


def signal(day: int, side: SignalSide, symbol: Symbol = SAMSUNG) -> Signal:
    return Signal(DAY0 + timedelta(days=day), symbol, side, 1.0, StrategyId("test"), BOT, ("test",))


def book_fill(
    planner: OrderPlanner, side: Side, quantity: int, price: int, symbol: Symbol = SAMSUNG
) -> None:
    ledger = planner.ledger
    ledger.apply_fill(
        ledger.account_id(BOT, symbol),
        Fill(
            FillId(f"f-{side}-{quantity}-{price}"),
            OrderId("o"),
            symbol,
            side,
            D(quantity),
            D(price),
            DAY0,
        ),
    )


def trade(planner: OrderPlanner, bar: Bar) -> PlannedOrder | None:
    """One bar as the orchestrator sees it: the ledger opens it, the planner plans, then the
    bar closes (ledger first, then the daily-loss check)."""
    planner.ledger.on_open(bar)
    planned = planner.at_open(bar)
    planner.ledger.on_close(bar)
    planner.at_close(bar)
    return planned


def entry_at(planner: OrderPlanner, bar: Bar) -> Decimal:
    """The quantity of the entry planned at `bar`'s open for a BUY decided the day before."""
    planner.note(signal((bar.start - DAY0).days - 1, SignalSide.BUY, bar.symbol))
    planner.ledger.on_open(bar)
    planned = planner.at_open(bar)
    return D(0) if planned is None else planned.order.quantity


# -- pending decisions ---------------------------------------------------------------------


def test_a_noted_signal_waits_for_the_next_open_of_its_symbol() -> None:
    planner = planner_for(config(), (SAMSUNG, HYNIX))

    planner.note(signal(0, SignalSide.BUY))

    assert planner.pending_symbols() == (SAMSUNG,)
    assert planner.at_open(daily_bar(1, 10_000, symbol="000660")) is None
    assert planner.pending_symbols() == (SAMSUNG,)


def test_a_discarded_decision_becomes_no_order() -> None:
    planner = planner_for(config())
    planner.note(signal(0, SignalSide.BUY))

    planner.discard(SAMSUNG)
    planner.discard(HYNIX)  # nothing pending: no error

    assert planner.pending_symbols() == ()
    assert trade(planner, daily_bar(1, 10_000)) is None


def test_a_decision_is_used_once() -> None:
    planner = planner_for(config())
    planner.note(signal(0, SignalSide.BUY))

    first = trade(planner, daily_bar(1, 10_000))
    second = planner.at_open(daily_bar(2, 10_000))

    assert first is not None
    assert second is None
    assert planner.pending_symbols() == ()


def test_an_exit_wins_over_an_entry_of_the_same_bar_in_either_order() -> None:
    sell_then_buy = planner_for(config())
    buy_then_sell = planner_for(config())
    for planner in (sell_then_buy, buy_then_sell):
        book_fill(planner, Side.BUY, 10, 10_000)

    sell_then_buy.note(signal(0, SignalSide.SELL))
    sell_then_buy.note(signal(0, SignalSide.BUY))
    buy_then_sell.note(signal(0, SignalSide.BUY))
    buy_then_sell.note(signal(0, SignalSide.SELL))

    for planner in (sell_then_buy, buy_then_sell):
        planned = planner.at_open(daily_bar(1, 10_000))
        assert planned is not None
        assert (planned.purpose, planned.order.side) == ("exit", Side.SELL)


def test_a_later_signal_replaces_an_earlier_pending_one() -> None:
    planner = planner_for(config())
    book_fill(planner, Side.BUY, 10, 10_000)

    planner.note(signal(0, SignalSide.SELL))
    planner.note(signal(1, SignalSide.BUY))  # a later bar: the exit no longer holds

    assert planner.at_open(daily_bar(2, 10_000)) is None  # a buy while holding: nothing


# -- exits -----------------------------------------------------------------------------------


def test_an_exit_sells_the_whole_position_good_till_cancelled() -> None:
    planner = planner_for(config())
    book_fill(planner, Side.BUY, 37, 10_000)
    planner.note(signal(0, SignalSide.SELL))

    planned = trade(planner, daily_bar(1, 9_000))

    assert planned is not None
    order = planned.order
    assert planned.account_id == "bot-1/005930"
    assert planned.purpose == "exit"
    assert order.order_id == OrderId("bot-1-005930-20240103T000000-exit")
    assert (order.symbol, order.side, order.order_type) == (SAMSUNG, Side.SELL, OrderType.MARKET)
    assert order.quantity == 37
    assert order.time_in_force is TimeInForce.GTC
    assert order.created_at == DAY0 + timedelta(days=1)
    assert order.bot_id == BOT
    assert (order.limit_price, order.stop_price) == (None, None)


def test_an_exit_without_a_position_is_no_order() -> None:
    planner = planner_for(config())
    planner.note(signal(0, SignalSide.SELL))

    assert trade(planner, daily_bar(1, 10_000)) is None


def test_a_flat_signal_is_no_order() -> None:
    planner = planner_for(config())
    planner.note(signal(0, SignalSide.FLAT))

    assert trade(planner, daily_bar(1, 10_000)) is None


# -- entries and sizing ----------------------------------------------------------------------


def test_an_all_cash_entry_buys_what_the_cash_pays_with_commission_immediate_or_cancel() -> None:
    planner = planner_for(config())
    planner.note(signal(0, SignalSide.BUY))

    planned = trade(planner, daily_bar(1, 10_000))

    # floor(1,000,000 / (10,000 x 1.001)) = floor(99.9001) = 99
    assert planned is not None
    order = planned.order
    assert planned.purpose == "entry"
    assert order.order_id == OrderId("bot-1-005930-20240103T000000-entry")
    assert (order.side, order.order_type, order.quantity) == (Side.BUY, OrderType.MARKET, D(99))
    assert order.time_in_force is TimeInForce.IOC
    assert order.bot_id == BOT


def test_an_entry_while_holding_is_no_order() -> None:
    planner = planner_for(config())
    book_fill(planner, Side.BUY, 1, 10_000)
    planner.note(signal(0, SignalSide.BUY))

    assert trade(planner, daily_bar(1, 10_000)) is None


def test_an_entry_the_cash_cannot_pay_is_no_order() -> None:
    planner = planner_for(config(cash=5_000.0))
    planner.note(signal(0, SignalSide.BUY))

    assert trade(planner, daily_bar(1, 10_000)) is None  # floor(5,000 / 10,010) = 0


@pytest.mark.parametrize(
    ("options", "expected", "why"),
    [
        ({"sizing": Sizing.fixed_qty(30)}, 30, "30 units, affordable"),
        ({"sizing": Sizing.fixed_qty(200)}, 99, "200 wanted, the cash pays 99"),
        ({"sizing": Sizing.fixed_qty(30.7)}, 30, "whole lots: floor(30.7)"),
        ({"sizing": Sizing.percent_equity(0.25)}, 24, "250,000 / 10,010 = 24.98"),
        ({"position_allocation": 0.3}, 29, "budget 300,000 / 10,010 = 29.97"),
        ({"commission": 0.0, "commission_min": 100.0}, 9, "10 x 10,000 + 100 > 100,000"),
        ({"commission": 0.0, "commission_min": 0.0}, 10, "no minimum: 100,000 / 10,000"),
        ({"max_position_pct": 0.5}, 50, "the cap floor(0.5 x 1,000,000 / 10,000) shrinks 99"),
        ({"max_position_pct": 0.5, "sizing": Sizing.fixed_qty(40)}, 40, "under the cap"),
        ({"max_order_notional": 500_000.0}, 0, "99 x 10,000 = 990,000 > 500,000: refused"),
        (
            {"max_order_notional": 500_000.0, "sizing": Sizing.fixed_qty(40)},
            40,
            "400,000 <= 500,000",
        ),
        ({"max_order_notional": 400_000.0, "sizing": Sizing.fixed_qty(40)}, 40, "not above"),
    ],
)
def test_entry_quantities(options: dict[str, object], expected: int, why: str) -> None:
    cash = 100_000.0 if "commission_min" in options else 1_000_000.0
    settings = config(cash=cash, **options)
    planner = planner_for(settings)

    quantity = entry_at(planner, daily_bar(1, 10_000))

    assert quantity == expected, why
    assert quantity == kernel_entry_quantity(settings, daily_bar(1, 10_000)), why


def test_portfolio_mode_is_refused() -> None:
    # Shared cash needs entries at one open sized in turn (the kernel's rule); not planned yet.
    with pytest.raises(PlanningError, match="portfolio mode is not supported"):
        planner_for(config(mode="portfolio"), (SAMSUNG, HYNIX))


# -- expected buy price: slippage and tick rounding -----------------------------------------------


@pytest.mark.parametrize(
    ("options", "bar", "expected"),
    [
        ({}, daily_bar(1, 10_000, 10_100, 9_900), 10_000.0),
        ({"slippage_bps": 50.0}, daily_bar(1, 10_000, 10_100, 9_900), 10_050.0),
        # 10,000 x (1 + 0.0025) = 10,025, up to the 10-won grid: 10,030
        ({"slippage_bps": 25.0, "tick_kind": "krx"}, daily_bar(1, 10_000), 10_030.0),
        # 0.1 x (10,100 - 9,900) = 20: 10,020 is on the grid
        (
            {"slippage_range": 0.1, "tick_kind": "krx"},
            daily_bar(1, 10_000, 10_100, 9_900),
            10_020.0,
        ),
        # 25 + 20 = 45: 10,045 -> 10,050
        (
            {"slippage_bps": 25.0, "slippage_range": 0.1, "tick_kind": "krx"},
            daily_bar(1, 10_000, 10_100, 9_900),
            10_050.0,
        ),
        # 4,998 on the 5-won band rounds up to 5,000, the bound of the 10-won band
        ({"tick_kind": "krx"}, daily_bar(1, 4_998), 5_000.0),
        # 4,990 + 0.5% = 5,014.95: above 5,000 the tick is 10 -> 5,020
        ({"slippage_bps": 50.0, "tick_kind": "krx"}, daily_bar(1, 4_990), 5_020.0),
        ({"tick_kind": "us"}, daily_bar(1, "12.341"), 12.35),
        ({"tick_kind": "fixed", "tick_size": 0.5}, daily_bar(1, "100.2"), 100.5),
    ],
)
def test_the_expected_buy_price_is_the_open_moved_by_slippage_and_rounded_up(
    options: dict[str, object], bar: Bar, expected: float
) -> None:
    planner = planner_for(config(**options))

    assert planner.expected_buy_price(bar) == expected


def test_the_entry_is_sized_at_the_expected_buy_price() -> None:
    settings = config(cash=1_002_000.0, commission=0.0, slippage_bps=25.0, tick_kind="krx")
    planner = planner_for(settings)

    quantity = entry_at(planner, daily_bar(1, 10_000))

    # at the open: 1,002,000 / 10,000 = 100.2; at 10,030: 99.9 -> 99
    assert quantity == 99
    assert quantity == kernel_entry_quantity(settings, daily_bar(1, 10_000))


def test_per_symbol_rules_follow_the_symbols_order() -> None:
    settings = config(tick_kind=("krx", "us"), lot_size=(1.0, 1.0))
    planner = planner_for(settings, (SAMSUNG, Symbol("AAPL")))

    assert planner.expected_buy_price(daily_bar(1, 10_025)) == 10_030.0
    assert planner.expected_buy_price(daily_bar(1, "10.021", symbol="AAPL")) == 10.03
    assert planner.symbols == frozenset({SAMSUNG, Symbol("AAPL")})


def test_tick_rounding_binds_the_kernel_rounding_to_each_symbols_grid() -> None:
    settings = config(tick_kind=("krx", "none", "fixed"), tick_size=(0.0, 0.0, 0.25))

    rounding = tick_rounding(settings, ["005930", "BTCUSDT", "X"])

    krx, none, fixed = rounding[SAMSUNG], rounding[Symbol("BTCUSDT")], rounding[Symbol("X")]
    assert (krx(10_025.0, True), krx(10_025.0, False)) == (10_030.0, 10_020.0)
    assert krx(10_020.0, True) == 10_020.0
    assert (none(1.2345, True), none(1.2345, False)) == (1.2345, 1.2345)
    assert (fixed(1.1, True), fixed(1.1, False)) == (1.25, 1.0)


# -- the daily-loss halt -------------------------------------------------------------------------


def lose_a_day(planner: OrderPlanner, close_day_1: int, *, sell_at_open: bool) -> None:
    """Day 0: buy 90 @ 1,000 (cash 100,000 -> 10,000), close 1,000. Day 1 opens at 1,000
    (the day starts at equity 100,000); with `sell_at_open` all 90 are sold at 850
    (cash 86,500); the day closes at `close_day_1`."""
    trade_day_0 = daily_bar(0, 1_000)
    planner.ledger.on_open(trade_day_0)
    book_fill(planner, Side.BUY, 90, 1_000)
    planner.ledger.on_close(trade_day_0)
    planner.at_close(trade_day_0)
    day_1 = daily_bar(1, 1_000, 1_000, min(850, close_day_1), close_day_1)
    planner.ledger.on_open(day_1)
    if sell_at_open:
        book_fill(planner, Side.SELL, 90, 850)
    planner.ledger.on_close(day_1)
    planner.at_close(day_1)


def test_an_entry_decided_on_the_day_the_account_lost_too_much_is_dropped() -> None:
    planner = planner_for(config(cash=100_000.0, commission=0.0, max_daily_loss_pct=0.1))
    lose_a_day(planner, 900, sell_at_open=True)  # equity 86,500: 13.5% below 100,000
    planner.note(signal(1, SignalSide.BUY))

    assert planner.at_open(daily_bar(2, 900)) is None


def test_an_entry_decided_on_a_later_day_is_planned_again() -> None:
    planner = planner_for(config(cash=100_000.0, commission=0.0, max_daily_loss_pct=0.1))
    lose_a_day(planner, 900, sell_at_open=True)
    trade(planner, daily_bar(2, 900))  # day 2 starts at 86,500 and loses nothing
    planner.note(signal(2, SignalSide.BUY))

    planned = trade(planner, daily_bar(3, 900))

    assert planned is not None
    assert planned.order.quantity == 96  # floor(86,500 / 900)


def test_without_a_daily_loss_limit_the_same_entry_is_planned() -> None:
    planner = planner_for(config(cash=100_000.0, commission=0.0))
    lose_a_day(planner, 900, sell_at_open=True)
    planner.note(signal(1, SignalSide.BUY))

    planned = planner.at_open(daily_bar(2, 900))

    assert planned is not None
    assert planned.order.quantity == 96


def test_a_loss_of_exactly_the_limit_does_not_halt() -> None:
    # all-in with 100 shares at 1,000, sold at 900 the next day: exactly 10% down
    planner = planner_for(config(cash=100_000.0, commission=0.0, max_daily_loss_pct=0.1))
    day_0 = daily_bar(0, 1_000)
    planner.ledger.on_open(day_0)
    book_fill(planner, Side.BUY, 100, 1_000)  # cash 0
    planner.ledger.on_close(day_0)
    planner.at_close(day_0)
    day_1 = daily_bar(1, 1_000, 1_000, 900, 900)
    planner.ledger.on_open(day_1)  # day start 100,000
    book_fill(planner, Side.SELL, 100, 900)  # cash 90,000: exactly 10% down
    planner.ledger.on_close(day_1)
    planner.at_close(day_1)
    planner.note(signal(1, SignalSide.BUY))

    planned = planner.at_open(daily_bar(2, 900))

    assert planned is not None
    assert planned.order.quantity == 100


def test_an_exit_decided_on_a_halted_day_still_goes() -> None:
    planner = planner_for(config(cash=100_000.0, commission=0.0, max_daily_loss_pct=0.1))
    lose_a_day(planner, 880, sell_at_open=False)  # 10,000 + 90 x 880 = 89,200: -10.8%
    planner.note(signal(1, SignalSide.SELL))

    planned = planner.at_open(daily_bar(2, 880))

    assert planned is not None
    assert (planned.purpose, planned.order.quantity) == ("exit", D(90))


def test_the_halt_matches_the_kernel() -> None:
    """Kernel, same bars: entry day 0 -> buy at day 1's open; exit day 1 -> sell at day 2's
    open at 850 (cash 85,000); day 2 closes flat, 15% below the day's start of 100,000; the
    entry decided at day 2's close is dropped, the one decided at day 3's close buys
    floor(85,000 / 900) = 94 at day 4's open."""
    rows = [(1_000, 1_000), (1_000, 1_000), (850, 900), (900, 900), (900, 900), (900, 900)]
    settings = config(cash=100_000.0, commission=0.0, max_daily_loss_pct=0.1)
    sim = simulate(
        panel(rows),
        signal_arrays(len(rows), entries=(0, 2, 3), exits=(1,)),
        settings,
    )
    planner = planner_for(settings)
    sides = {0: SignalSide.BUY, 1: SignalSide.SELL, 2: SignalSide.BUY, 3: SignalSide.BUY}
    planned: list[tuple[int, Side, Decimal]] = []

    for day, (open_, close) in enumerate(rows):
        bar = daily_bar(day, open_, max(open_, close), min(open_, close), close)
        planner.ledger.on_open(bar)
        order = planner.at_open(bar)
        if order is not None:
            planned.append((day, order.order.side, order.order.quantity))
            book_fill(planner, order.order.side, int(order.order.quantity), open_)
        planner.ledger.on_close(bar)
        planner.at_close(bar)
        if day in sides:
            planner.note(signal(day, sides[day]))

    kernel = [
        (int(f["bar"]), Side.BUY if f["side"] > 0 else Side.SELL, D(repr(float(f["quantity"]))))
        for f in sim.fills
    ]
    assert (
        planned == kernel == [(1, Side.BUY, D(100)), (2, Side.SELL, D(100)), (4, Side.BUY, D(94))]
    )


# -- configurations the trading stack refuses --------------------------------------------------


@pytest.mark.parametrize(
    ("options", "message"),
    [
        (
            {"sizing": Sizing.volatility_target(0.2)},
            "sizing 'volatility_target' is not supported by the trading stack yet "
            "(supported: all_cash, fixed_qty, percent_equity)",
        ),
        (
            {"fill": "close"},
            "fill 'close' is not supported by the trading stack yet: orders are sent at the "
            "next open (next_open)",
        ),
        ({"latency_bars": 1}, "latency_bars must be 0 in the trading stack"),
    ],
)
def test_configurations_the_stack_cannot_trade_are_refused_with_the_reason(
    options: dict[str, object], message: str
) -> None:
    with pytest.raises(PlanningError) as caught:
        planner_for(config(**options))

    assert str(caught.value) == message


# -- ids ---------------------------------------------------------------------------------------


def test_order_ids_are_derived_from_the_decision() -> None:
    at = datetime(2024, 1, 3, 9, 30, 5, tzinfo=UTC)

    first = order_id_for("bot-1", "005930", at, "entry")
    again = order_id_for("bot-1", "005930", at, "entry")

    assert first == again == OrderId("bot-1-005930-20240103T093005-entry")
    assert order_id_for("bot-1", "005930", at, "exit") != first
    assert order_id_for("bot-2", "005930", at, "entry") != first


@pytest.mark.parametrize(
    "at",
    [
        datetime(2024, 1, 3, 9, 30, 5, 123_456, tzinfo=UTC),
        datetime(1999, 12, 31, 23, 59, 59, tzinfo=UTC),
        datetime(2024, 1, 3, 18, 0, tzinfo=timezone(timedelta(hours=9))),  # local fields, as is
        datetime(999, 1, 2, 3, 4, 5, tzinfo=UTC),  # left to strftime
    ],
)
def test_an_order_id_stamps_the_time_as_strftime_would(at: datetime) -> None:
    assert order_id_for("b", "s", at, "exit") == f"b-s-{at.strftime('%Y%m%dT%H%M%S')}-exit"


def test_orders_planned_at_one_open_and_the_next_carry_their_own_times() -> None:
    planner = planner_for(config(), (SAMSUNG, HYNIX))
    book_fill(planner, Side.BUY, 5, 10_000, symbol=HYNIX)
    for symbol, side in ((SAMSUNG, SignalSide.BUY), (HYNIX, SignalSide.SELL)):
        planner.note(signal(0, side, symbol))

    first = [planner.at_open(daily_bar(1, 10_000, symbol=s)) for s in (SAMSUNG, HYNIX)]
    book_fill(planner, Side.BUY, 5, 10_000, symbol=HYNIX)
    planner.note(signal(1, SignalSide.SELL, HYNIX))
    second = planner.at_open(daily_bar(2, 10_000, symbol=HYNIX))

    assert [p.order.order_id if p else None for p in (*first, second)] == [
        "bot-1-005930-20240103T000000-entry",
        "bot-1-000660-20240103T000000-exit",
        "bot-1-000660-20240104T000000-exit",
    ]


def test_the_pending_decisions_are_a_live_view() -> None:
    planner = planner_for(config(), (SAMSUNG, HYNIX))
    pending = planner.pending

    planner.note(signal(0, SignalSide.BUY))
    assert dict(pending) == {SAMSUNG: signal(0, SignalSide.BUY)}
    planner.at_open(daily_bar(1, 10_000))

    assert dict(pending) == {}
    with pytest.raises(TypeError):
        pending[HYNIX] = signal(0, SignalSide.BUY)  # type: ignore[index]


def test_only_a_daily_loss_limit_makes_the_planner_watch_the_closes() -> None:
    assert not planner_for(config()).watches_closes
    assert planner_for(config(max_daily_loss_pct=0.1)).watches_closes


# -- the kernel on the same bars ----------------------------------------------------------------


def panel(rows: Sequence[tuple[float, float]]) -> BarPanel:
    """One symbol (005930), daily from DAY0; rows are (open, close); high/low span them."""
    opens = np.array([[float(o) for o, _ in rows]])
    closes = np.array([[float(c) for _, c in rows]])
    stamps = (np.datetime64("2024-01-02", "D") + np.arange(len(rows))).astype("datetime64[ns]")
    return BarPanel(
        ("005930",),
        stamps,
        opens,
        np.maximum(opens, closes),
        np.minimum(opens, closes),
        closes,
        np.full(opens.shape, 1e9),
    )


def signal_arrays(
    n: int, entries: tuple[int, ...] = (), exits: tuple[int, ...] = ()
) -> SignalArrays:
    entry = np.zeros((1, n), dtype=bool)
    exit_ = np.zeros((1, n), dtype=bool)
    entry[0, list(entries)] = True
    exit_[0, list(exits)] = True
    return SignalArrays(
        symbols=("005930",),
        timestamps=panel([(1.0, 1.0)] * n).timestamps,
        entries=entry,
        exits=exit_,
        entry_confidence=np.where(entry, 1.0, np.nan),
        exit_confidence=np.where(exit_, 1.0, np.nan),
        reasons=np.zeros((1, n), dtype=np.int64),
        reason_names=(),
    )


def kernel_entry_quantity(settings: SimulationConfig, bar: Bar) -> Decimal:
    """The quantity the kernel buys at `bar` (day 1) for an entry decided at day 0's close
    (day 0 trades flat at `bar`'s open)."""
    first = float(bar.open)
    prices = panel([(first, first), (first, float(bar.close))])
    prices = dataclasses.replace(
        prices,
        high=np.array([[first, float(bar.high)]]),
        low=np.array([[first, float(bar.low)]]),
    )
    sim = simulate(prices, signal_arrays(2, entries=(0,)), settings)
    buys = [f for f in sim.fills if f["side"] > 0]
    return D(repr(float(buys[0]["quantity"]))) if buys else D(0)


def test_a_fractional_lot_quantity_is_exactly_on_the_lot_grid() -> None:
    # floor(1,000,000 / (70,363.4 x 1.001) / 1e-8) x 1e-8 = 14.19773630 in binary floats is
    # 14.197736300000001; the order carries the exact multiple of the lot a broker accepts.
    settings = config(lot_size=1e-8, cash=1_000_000.0)
    planner = planner_for(settings)

    quantity = entry_at(planner, daily_bar(1, 70_363.4))

    assert quantity % Decimal("1e-8") == 0
    kernel = kernel_entry_quantity(settings, daily_bar(1, 70_363.4))
    assert float(quantity) == pytest.approx(float(kernel), rel=1e-12)
    assert quantity == Decimal("14.1977363")
