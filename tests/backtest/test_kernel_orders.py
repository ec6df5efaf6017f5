"""Limit and stop entries, and position stops (loss, trailing, take profit, gaps)."""

from __future__ import annotations

import pytest

from orchestrade.backtest.config import SimulationConfig
from orchestrade.backtest.kernel import simulate
from orchestrade.backtest.records import ExitReason, FillReason

CASH = 10_000.0


def bars(kit, rows):
    """A one-symbol panel from (open, high, low, close) rows."""
    o, h, lo, c = (list(column) for column in zip(*rows, strict=True))
    return kit.panel(o, high=h, low=lo, close=c)


def entry_at_open(kit, rows, config, **signal_options):
    panel = bars(kit, rows)
    sim = simulate(panel, kit.signals(panel, **signal_options), config)
    kit.check_invariants(sim, panel)
    return sim


FLAT = (100.0, 101.0, 99.0, 100.0)


@pytest.mark.parametrize(
    ("bar", "expected"),
    [
        ((100.0, 101.0, 97.0, 99.0), 98.0),  # low reaches the limit: fill at the limit
        ((96.0, 97.0, 95.0, 96.0), 96.0),  # opens below the limit: fill at the open
        ((100.0, 101.0, 99.0, 100.0), None),  # never reaches 98: expires
    ],
)
def test_limit_buy_fills_at_min_of_open_and_limit(kit, bar, expected):
    config = SimulationConfig(cash=CASH)
    sim = entry_at_open(kit, [FLAT, FLAT, bar, FLAT], config, entries=(1,), limit={1: 98.0})
    if expected is None:
        assert len(sim.fills) == 0
        assert sim.refusals["not_triggered"] == 1
    else:
        (fill,) = sim.fills
        assert (fill["bar"], fill["price"], fill["reason"]) == (2, expected, FillReason.ENTRY_LIMIT)


def test_limit_order_is_valid_for_one_bar_only(kit):
    rows = [FLAT, FLAT, FLAT, (100.0, 101.0, 90.0, 95.0)]
    sim = entry_at_open(kit, rows, SimulationConfig(cash=CASH), entries=(1,), limit={1: 98.0})
    assert len(sim.fills) == 0


@pytest.mark.parametrize(
    ("bar", "expected"),
    [
        ((100.0, 104.0, 99.0, 103.0), 103.0),  # trades through the stop: fill at the stop
        ((105.0, 106.0, 104.0, 105.0), 105.0),  # gaps above: fill at the open
        ((100.0, 102.0, 99.0, 100.0), None),
    ],
)
def test_stop_buy_fills_at_max_of_open_and_stop(kit, bar, expected):
    config = SimulationConfig(cash=CASH)
    sim = entry_at_open(kit, [FLAT, FLAT, bar, FLAT], config, entries=(1,), stop={1: 103.0})
    if expected is None:
        assert sim.refusals["not_triggered"] == 1
    else:
        (fill,) = sim.fills
        assert (fill["price"], fill["reason"]) == (expected, FillReason.ENTRY_STOP)


def test_stop_entry_gets_slippage_and_limit_entry_does_not(kit):
    config = SimulationConfig(cash=CASH, slippage_bps=100.0)
    stop = entry_at_open(
        kit, [FLAT, FLAT, (100.0, 104.0, 99.0, 103.0), FLAT], config, entries=(1,), stop={1: 103.0}
    )
    limit = entry_at_open(
        kit, [FLAT, FLAT, (100.0, 101.0, 97.0, 99.0), FLAT], config, entries=(1,), limit={1: 98.0}
    )
    assert stop.fills[0]["price"] == pytest.approx(103 * 1.01)
    assert limit.fills[0]["price"] == 98.0


def test_fat_finger_refuses_a_limit_far_from_the_last_close(kit):
    config = SimulationConfig(cash=CASH, max_price_deviation_pct=0.05)
    far = entry_at_open(kit, [FLAT] * 4, config, entries=(1,), limit={1: 90.0})
    near = entry_at_open(kit, [FLAT] * 4, config, entries=(1,), limit={1: 99.5})
    gapped = entry_at_open(
        kit, [FLAT, FLAT, (120.0, 121.0, 119.0, 120.0), FLAT], config, entries=(1,)
    )
    small_gap = entry_at_open(
        kit, [FLAT, FLAT, (105.0, 106.0, 104.0, 105.0), FLAT], config, entries=(1,)
    )
    assert far.refusals["price_deviation"] == 1
    assert len(far.fills) == 0
    assert len(near.fills) == 1
    # A market entry is checked through the open it fills at, as the live risk engine
    # checks a market order's reference price: 20% above the last close is refused, 5%
    # (exactly the limit) is not.
    assert gapped.refusals["price_deviation"] == 1
    assert len(gapped.fills) == 0
    assert len(small_gap.fills) == 1


ENTRY = (100.0, 101.0, 99.5, 100.0)  # bar 1: bought at its open (100)


def stopped(kit, later, **stops):
    config = SimulationConfig(cash=CASH, **stops)
    return entry_at_open(kit, [FLAT, ENTRY, *later], config, entries=(0,))


def test_stop_loss_sells_at_its_level(kit):
    sim = stopped(kit, [(99.0, 99.5, 94.0, 96.0), FLAT], stop_loss=0.05)
    sell = sim.fills[1]
    assert (sell["bar"], sell["price"], sell["reason"]) == (2, 95.0, FillReason.STOP_LOSS)
    assert sim.trades[0]["exit_reason"] == ExitReason.STOP_LOSS


def test_a_gap_through_the_stop_fills_at_the_open(kit):
    sim = stopped(kit, [(90.0, 91.0, 89.0, 90.0), FLAT], stop_loss=0.05)
    assert sim.fills[1]["price"] == 90.0


def test_stop_loss_checks_the_entry_bar_for_an_entry_at_the_open(kit):
    sim = stopped(kit, [], stop_loss=0.004)  # entry bar low 99.5 <= 99.6
    assert (sim.fills[1]["bar"], sim.fills[1]["price"]) == (1, pytest.approx(99.6))


def test_take_profit_sells_at_its_level_or_a_higher_open(kit):
    at_level = stopped(kit, [(105.0, 112.0, 104.0, 108.0)], take_profit=0.1)
    gap = stopped(kit, [(115.0, 116.0, 114.0, 115.0)], take_profit=0.1)
    assert (at_level.fills[1]["price"], at_level.fills[1]["reason"]) == (
        pytest.approx(110.0),
        FillReason.TAKE_PROFIT,
    )
    assert gap.fills[1]["price"] == 115.0
    assert at_level.trades[0]["exit_reason"] == ExitReason.TAKE_PROFIT


def test_stop_wins_when_stop_and_target_are_both_in_the_bar(kit):
    sim = stopped(kit, [(100.0, 115.0, 90.0, 100.0)], stop_loss=0.05, take_profit=0.1)
    assert sim.fills[1]["reason"] == FillReason.STOP_LOSS


def test_trailing_stop_follows_the_highest_high_of_earlier_bars(kit):
    later = [
        (104.0, 110.0, 103.0, 109.0),  # highest before: 101 (entry bar) -> level 90.9
        (112.0, 120.0, 111.0, 118.0),  # highest 110 -> level 99
        (115.0, 116.0, 107.0, 108.0),  # highest 120 -> level 108: hit
    ]
    sim = stopped(kit, later, trailing_stop=0.1)
    sell = sim.fills[1]
    assert (sell["bar"], sell["price"], sell["reason"]) == (4, 108.0, FillReason.TRAILING_STOP)
    assert sim.trades[0]["exit_reason"] == ExitReason.TRAILING_STOP


def test_stops_start_on_the_next_bar_for_an_entry_at_the_close(kit):
    rows = [(100.0, 101.0, 90.0, 100.0), (100.0, 101.0, 90.0, 100.0), FLAT]
    config = SimulationConfig(cash=CASH, fill="close", stop_loss=0.05)
    sim = entry_at_open(kit, rows, config, entries=(0,))
    assert [(f["bar"], f["price"]) for f in sim.fills] == [(0, 100.0), (1, 95.0)]


def test_stop_exits_pay_slippage_and_ticks(kit):
    later = [(9_900.0, 9_950.0, 9_000.0, 9_100.0)]
    config = SimulationConfig(cash=1e6, stop_loss=0.05, slippage_bps=10.0, tick_kind="krx")
    rows = [(10_000.0, 10_100.0, 9_990.0, 10_000.0)] * 2 + later
    sim = entry_at_open(kit, rows, config, entries=(0,))
    # buy 10000 x 1.001 = 10010 (on the 10-won grid);
    # stop 9509.5 x 0.999 = 9499.99 -> 9490 (10-won ticks up to 20000)
    assert sim.fills[0]["price"] == 10_010.0
    assert sim.fills[1]["price"] == 9_490.0
