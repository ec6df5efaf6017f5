"""Position stops: hand-computed levels and exits per branch, and agreement with the kernel."""

from __future__ import annotations

import math
import re
from datetime import UTC, datetime
from decimal import Decimal

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from orchestrade.backtest.config import SimulationConfig
from orchestrade.backtest.costs import TICK_KINDS, round_to_tick, tick_bands
from orchestrade.backtest.kernel import simulate
from orchestrade.backtest.records import FillReason
from orchestrade.data import BarPanel
from orchestrade.domain import (
    BotId,
    FixedTick,
    KrxTickRule,
    OrderId,
    OrderStatus,
    OrderType,
    Side,
    Symbol,
    TimeInForce,
    UsEquityTickRule,
    ValidationError,
)
from orchestrade.risk import (
    PositionStops,
    ProtectivePrices,
    RiskConfigurationError,
    RoundToTick,
    StopExit,
    StopLevels,
    StopReason,
    StopSettings,
    no_rounding,
    protective_orders,
    protective_prices,
)
from orchestrade.strategies.arrays import SignalArrays

UPPER, TICKS = tick_bands()
T0 = datetime(2024, 1, 2, 0, 0, tzinfo=UTC)


def kernel_rounding(kind: str) -> RoundToTick:
    """The kernel's tick rounding bound to one grid, as the runtime injects it."""
    code = TICK_KINDS[kind]
    return lambda price, upward: float(round_to_tick(price, upward, code, 0.0, UPPER, TICKS))


KRX = kernel_rounding("krx")


# --- settings -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("stop_loss", 0.0, "stop_loss must be in (0, 1), got 0.0"),
        ("stop_loss", 1.0, "stop_loss must be in (0, 1), got 1.0"),
        ("trailing_stop", -0.1, "trailing_stop must be in (0, 1), got -0.1"),
        ("take_profit", 0.0, "take_profit must be > 0, got 0.0"),
        ("take_profit", math.inf, "take_profit must be a finite number or None, got inf"),
        ("stop_loss", "5%", "stop_loss must be a finite number or None, got '5%'"),
        ("stop_loss", True, "stop_loss must be a finite number or None, got True"),
    ],
)
def test_settings_refuse_out_of_range_fractions(field, value, message):
    with pytest.raises(RiskConfigurationError, match=re.escape(message)):
        StopSettings(**{field: value})


def test_settings_read_nan_as_off_and_take_ints():
    settings_ = StopSettings(stop_loss=math.nan, take_profit=2, trailing_stop=None)
    assert settings_ == StopSettings(take_profit=2.0)
    assert isinstance(settings_.take_profit, float)
    assert StopSettings().is_off
    assert not settings_.is_off


@pytest.mark.parametrize("entry", [0.0, -1.0, math.nan, math.inf])
def test_entry_price_must_be_positive(entry):
    with pytest.raises(RiskConfigurationError, match="entry_price must be a finite number > 0"):
        PositionStops(entry, StopSettings(stop_loss=0.05))


# --- levels -------------------------------------------------------------------------


def test_levels_without_stops_are_all_off():
    stops = PositionStops(100.0, StopSettings())
    assert stops.levels == StopLevels(stop=None, stop_reason=None, target=None)
    assert stops.check_bar(1.0, 1_000.0, 0.5) is None


def test_stop_loss_level_is_entry_times_one_minus_the_fraction():
    stops = PositionStops(100.0, StopSettings(stop_loss=0.05))
    assert stops.levels == StopLevels(stop=95.0, stop_reason=StopReason.STOP_LOSS, target=None)


def test_take_profit_target_is_rounded_up_to_the_grid():
    # 10_000 x 1.0333 = 10_333 -> 10_340 on the 10-won grid (10_000..20_000)
    stops = PositionStops(10_000.0, StopSettings(take_profit=0.0333), KRX)
    assert stops.levels.target == 10_340.0
    # without a grid the raw float stays: 100 x 1.1 = 110.00000000000001
    assert PositionStops(100.0, StopSettings(take_profit=0.1)).levels.target == 100.0 * 1.1


def test_trailing_stop_follows_the_highest_high_and_takes_over_from_the_stop_loss():
    stops = PositionStops(100.0, StopSettings(stop_loss=0.1, trailing_stop=0.1))
    # equal levels (100 x 0.9 both): the stop loss is in force (trailing must be higher)
    assert stops.levels == StopLevels(90.0, StopReason.STOP_LOSS, None)
    assert stops.after_bar(101.0) == StopLevels(101.0 * 0.9, StopReason.TRAILING_STOP, None)
    assert stops.levels.stop == pytest.approx(90.9)
    stops.after_bar(99.0)  # a lower high leaves the level where it is
    assert stops.highest == 101.0
    assert stops.levels.stop == pytest.approx(90.9)


def test_a_restored_position_keeps_its_highest_high():
    stops = PositionStops(100.0, StopSettings(trailing_stop=0.1), highest=120.0)
    assert stops.levels.stop == 108.0
    assert stops.levels.stop_reason is StopReason.TRAILING_STOP
    with pytest.raises(RiskConfigurationError, match="highest must be"):
        PositionStops(100.0, StopSettings(trailing_stop=0.1), highest=0.0)


# --- exits, one branch each ---------------------------------------------------------


def test_stop_loss_sells_at_its_level_when_the_low_reaches_it():
    stops = PositionStops(100.0, StopSettings(stop_loss=0.05))
    assert stops.check_bar(99.0, 99.5, 94.0) == StopExit(95.0, StopReason.STOP_LOSS)
    assert stops.check_bar(99.0, 99.5, 95.0) == StopExit(95.0, StopReason.STOP_LOSS)
    assert stops.check_bar(99.0, 99.5, 95.5) is None


def test_a_gap_through_the_stop_sells_at_the_open():
    stops = PositionStops(100.0, StopSettings(stop_loss=0.05, take_profit=0.1))
    assert stops.check_bar(90.0, 91.0, 89.0) == StopExit(90.0, StopReason.STOP_LOSS)
    assert stops.check_bar(95.0, 96.0, 95.0) == StopExit(95.0, StopReason.STOP_LOSS)


def test_take_profit_sells_at_its_target_when_the_high_reaches_it():
    stops = PositionStops(10_000.0, StopSettings(take_profit=0.0333), KRX)
    assert stops.check_bar(10_100.0, 10_340.0, 10_000.0) == StopExit(
        10_340.0, StopReason.TAKE_PROFIT
    )
    assert stops.check_bar(10_100.0, 10_330.0, 10_000.0) is None


def test_a_gap_above_the_target_sells_at_the_open_rounded_down():
    stops = PositionStops(10_000.0, StopSettings(take_profit=0.0333), KRX)
    # open 10_347 (off the grid) -> 10_340, equal to the target
    assert stops.check_bar(10_347.0, 10_400.0, 10_300.0) == StopExit(
        10_340.0, StopReason.TAKE_PROFIT
    )
    # open 10_555 -> 10_550 > target 10_340
    assert stops.check_bar(10_555.0, 10_600.0, 10_500.0) == StopExit(
        10_550.0, StopReason.TAKE_PROFIT
    )


def test_stop_comes_first_when_the_bar_spans_both_levels():
    stops = PositionStops(100.0, StopSettings(stop_loss=0.05, take_profit=0.1))
    assert stops.check_bar(100.0, 115.0, 90.0) == StopExit(95.0, StopReason.STOP_LOSS)


def test_an_open_at_the_target_wins_over_a_low_through_the_stop():
    stops = PositionStops(100.0, StopSettings(stop_loss=0.05, take_profit=0.1))
    # o >= target: the take profit, at the open (no grid: 111 > 110.00000000000001)
    assert stops.check_bar(111.0, 112.0, 90.0) == StopExit(111.0, StopReason.TAKE_PROFIT)


def test_trailing_exit_names_the_trailing_stop_and_ignores_the_bars_own_high():
    stops = PositionStops(100.0, StopSettings(stop_loss=0.05, trailing_stop=0.1))
    # highest 100 -> trailing 90 < stop loss 95; this bar's high 120 does not count yet
    assert stops.check_bar(100.0, 120.0, 107.0) is None
    stops.after_bar(120.0)  # trailing 108 > 95
    assert stops.check_bar(115.0, 116.0, 107.0) == StopExit(108.0, StopReason.TRAILING_STOP)
    assert stops.check_bar(105.0, 106.0, 104.0) == StopExit(105.0, StopReason.TRAILING_STOP)


def test_check_bar_changes_nothing():
    stops = PositionStops(100.0, StopSettings(trailing_stop=0.1))
    before = stops.levels
    stops.check_bar(100.0, 150.0, 99.0)
    assert stops.levels == before
    assert stops.highest == 100.0


def test_the_kernel_example_of_a_trailing_stop():
    # tests/backtest/test_kernel_orders.py: bought at 100 at the open of the entry bar
    # (high 101), then three bars; the third sells at 108 (highest 120 x 0.9).
    stops = PositionStops(100.0, StopSettings(trailing_stop=0.1))
    bars = [
        (100.0, 101.0, 99.5),
        (104.0, 110.0, 103.0),
        (112.0, 120.0, 111.0),
        (115.0, 116.0, 107.0),
    ]
    exits = []
    for open_, high, low in bars:
        exits.append(stops.check_bar(open_, high, low))
        stops.after_bar(high)
    assert exits == [None, None, None, StopExit(108.0, StopReason.TRAILING_STOP)]


# --- protective orders --------------------------------------------------------------


def test_protective_prices_floor_the_stop_and_keep_the_target_on_the_grid():
    levels = StopLevels(stop=9_509.5, stop_reason=StopReason.STOP_LOSS, target=10_340.0)
    assert protective_prices(levels, KrxTickRule()) == ProtectivePrices(
        stop=Decimal(9_500), target=Decimal(10_340)
    )
    # float noise of a level already on a cent grid is not pushed a tick further
    us = StopLevels(stop=95.00000000000001, stop_reason=StopReason.STOP_LOSS, target=100.0 * 1.1)
    assert protective_prices(us, UsEquityTickRule()) == ProtectivePrices(
        stop=Decimal("95.00"), target=Decimal("110.00")
    )
    # off the grid: the target goes up, the stop down
    odd = StopLevels(stop=90.905, stop_reason=StopReason.TRAILING_STOP, target=110.001)
    assert protective_prices(odd, UsEquityTickRule()) == ProtectivePrices(
        stop=Decimal("90.90"), target=Decimal("110.01")
    )
    assert protective_prices(odd) == ProtectivePrices(Decimal("90.905"), Decimal("110.001"))
    assert protective_prices(StopLevels(None, None, None)) == ProtectivePrices(None, None)


def test_protective_prices_change_only_when_the_floored_stop_moves():
    stops = PositionStops(10_000.0, StopSettings(trailing_stop=0.05), KRX)
    first = protective_prices(stops.levels, KrxTickRule())  # 9_500
    second = protective_prices(stops.after_bar(10_005.0), KrxTickRule())  # 9504.75 -> 9_500
    third = protective_prices(stops.after_bar(10_020.0), KrxTickRule())  # 9519 -> 9_510
    assert first == second == ProtectivePrices(Decimal(9_500), None)
    assert third == ProtectivePrices(Decimal(9_510), None)


def test_protective_orders_are_a_sell_stop_and_a_sell_limit_for_the_whole_position():
    ids = iter(["stop-1", "target-1"])
    levels = PositionStops(10_000.0, StopSettings(stop_loss=0.0491, take_profit=0.0333), KRX)
    orders = protective_orders(
        levels.levels,
        symbol=Symbol("005930"),
        quantity=Decimal(7),
        created_at=T0,
        tick_rule=KrxTickRule(),
        bot_id=BotId("bot-1"),
        new_id=lambda: OrderId(next(ids)),
    )
    stop, target = orders.orders()
    assert (stop.order_id, stop.side, stop.order_type) == ("stop-1", Side.SELL, OrderType.STOP)
    assert (stop.stop_price, stop.limit_price) == (Decimal(9_500), None)  # 9509 floored
    assert (target.order_id, target.order_type) == ("target-1", OrderType.LIMIT)
    assert (target.limit_price, target.stop_price) == (Decimal(10_340), None)
    for order in (stop, target):
        assert order.quantity == Decimal(7)
        assert order.time_in_force is TimeInForce.GTC
        assert order.status is OrderStatus.NEW
        assert order.bot_id == "bot-1"
        assert order.created_at == T0


def test_protective_orders_only_for_the_levels_that_are_on():
    levels = PositionStops(100.0, StopSettings(trailing_stop=0.1)).levels
    orders = protective_orders(
        levels, symbol=Symbol("BTCUSDT"), quantity=Decimal("0.5"), created_at=T0,
        tick_rule=FixedTick(Decimal("0.1")),
    )  # fmt: skip
    assert orders.take_profit is None
    assert orders.stop is not None
    assert orders.stop.stop_price == Decimal("90.0")
    assert orders.orders() == (orders.stop,)


def test_a_stop_below_the_smallest_tick_is_refused():
    with pytest.raises(ValidationError, match="below the smallest tick"):
        protective_prices(StopLevels(0.4, StopReason.STOP_LOSS, None), KrxTickRule())


# --- agreement with the kernel ------------------------------------------------------

STOP_CHOICES = [None, 0.03, 0.05]
TARGET_CHOICES = [None, 0.03, 0.08]
TRAIL_CHOICES = [None, 0.03, 0.06]


@st.composite
def kernel_runs(draw: st.DrawFn) -> tuple[object, ...]:
    n_times = draw(st.integers(2, 30))
    rng = np.random.default_rng(draw(st.integers(0, 2**32 - 1)))
    scale = draw(st.sampled_from([0.01, 0.04, 0.1]))
    close = 10_000.0 * np.exp(np.cumsum(rng.normal(0, scale, n_times)))
    open_ = close * np.exp(rng.normal(0, scale / 2, n_times))
    open_ *= rng.choice([0.9, 1.0, 1.0, 1.0, 1.1], n_times)  # gaps through the levels
    high = np.maximum(open_, close) * (1 + rng.uniform(0, scale, n_times))
    low = np.minimum(open_, close) * (1 - rng.uniform(0, scale, n_times))
    wide = rng.random(n_times) < 0.2  # bars that span the stop and the target
    high[wide] *= 1.08
    low[wide] *= 0.92
    tick_kind = draw(st.sampled_from(["none", "krx"]))
    if tick_kind == "krx" and draw(st.booleans()):  # prices on the grid, like real ones
        rounding = kernel_rounding("krx")
        open_, close = (np.array([rounding(p, False) for p in a]) for a in (open_, close))
        high = np.array([rounding(p, True) for p in np.maximum(high, np.maximum(open_, close))])
        low = np.array([rounding(p, False) for p in np.minimum(low, np.minimum(open_, close))])
    stops = StopSettings(
        stop_loss=draw(st.sampled_from(STOP_CHOICES)),
        take_profit=draw(st.sampled_from(TARGET_CHOICES)),
        trailing_stop=draw(st.sampled_from(TRAIL_CHOICES)),
    )
    fill = draw(st.sampled_from(["next_open", "close"]))
    slippage_bps = draw(st.sampled_from([0.0, 10.0]))
    return open_, high, low, close, tick_kind, stops, fill, slippage_bps


def one_symbol(open_, high, low, close):
    n = open_.size
    stamps = (1_704_153_600_000_000_000 + np.arange(n, dtype=np.int64) * 86_400 * 10**9).view(
        "datetime64[ns]"
    )
    rows = [np.asarray(a, dtype=np.float64).reshape(1, n) for a in (open_, high, low, close)]
    return BarPanel(("S",), stamps, *rows, np.full((1, n), 1e9))


def entry_signal(panel):
    shape = panel.close.shape
    entries = np.zeros(shape, dtype=bool)
    entries[0, 0] = True
    return SignalArrays(
        symbols=panel.symbols,
        timestamps=panel.timestamps,
        entries=entries,
        exits=np.zeros(shape, dtype=bool),
        entry_confidence=np.where(entries, 1.0, np.nan),
        exit_confidence=np.full(shape, np.nan),
        reasons=np.zeros(shape, dtype=np.int64),
        reason_names=(),
    )


REASON_FILLS = {
    StopReason.STOP_LOSS: FillReason.STOP_LOSS,
    StopReason.TAKE_PROFIT: FillReason.TAKE_PROFIT,
    StopReason.TRAILING_STOP: FillReason.TRAILING_STOP,
}


@settings(max_examples=300, deadline=None)
@given(kernel_runs())
def test_check_bar_and_after_bar_reproduce_the_kernels_stop_exits(run):
    open_, high, low, close, tick_kind, stop_settings, fill, slippage_bps = run
    panel = one_symbol(open_, high, low, close)
    config = SimulationConfig(
        cash=1e9,
        fill=fill,
        tick_kind=tick_kind,
        slippage_bps=slippage_bps,
        stop_loss=stop_settings.stop_loss,
        take_profit=stop_settings.take_profit,
        trailing_stop=stop_settings.trailing_stop,
    )
    sim = simulate(panel, entry_signal(panel), config)
    rounding = kernel_rounding(tick_kind) if tick_kind != "none" else no_rounding
    buy = sim.fills[0]
    stops = PositionStops(float(buy["price"]), stop_settings, rounding)
    first = int(buy["bar"]) + (0 if fill == "next_open" else 1)
    expected: tuple[int, float, int] | None = None
    for t in range(first, open_.size):
        exit_ = stops.check_bar(float(open_[t]), float(high[t]), float(low[t]))
        if exit_ is not None:
            price = exit_.price
            if exit_.reason is not StopReason.TAKE_PROFIT:  # a stop order: slippage, grid
                price = rounding(max(price - price * slippage_bps * 1e-4, 0.0), False)
            expected = (t, price, int(REASON_FILLS[exit_.reason]))
            break
        stops.after_bar(float(high[t]))
    sells = [(int(f["bar"]), float(f["price"]), int(f["reason"])) for f in sim.fills[1:]]
    assert sells == ([] if expected is None else [expected])
