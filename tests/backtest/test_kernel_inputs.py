"""Bad configuration and mismatched inputs fail with errors naming the problem."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest

from orchestrade.backtest.config import SimulationConfig
from orchestrade.backtest.errors import ConfigError, InputError
from orchestrade.backtest.kernel import simulate
from orchestrade.backtest.sizing import Sizing
from orchestrade.domain import Market


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("mode", "shared", "mode must be one of"),
        ("fill", "open", "fill must be one of"),
        ("cash", 0.0, "cash must be >"),
        ("commission", 1.0, "commission must be <"),
        ("commission_min", -1.0, "commission_min must be >="),
        ("slippage_bps", float("nan"), "slippage_bps must be a finite number"),
        ("participation", 1.5, "participation must be <="),
        ("latency_bars", -1, "latency_bars must be >= 0"),
        ("latency_bars", 1.5, "latency_bars must be an int"),
        ("tick_kind", "nyse", "tick_kind must be one of"),
        ("tick_kind", ("krx", "bad"), "tick_kind[1] must be one of"),
        ("lot_size", (1.0, 0.0), "lot_size[1] must be >"),
        ("price_limit", 1.0, "price_limit must be <"),
        ("stop_loss", 1.0, "stop_loss must be <"),
        ("take_profit", -0.1, "take_profit must be >"),
        ("max_daily_loss_pct", 1.5, "max_daily_loss_pct must be <="),
        ("max_open_positions", 0, "max_open_positions must be an int >= 1"),
        ("min_confidence", 1.1, "min_confidence must be <="),
        ("position_allocation", 0.0, "position_allocation must be >"),
        ("sizing", "all_cash", "sizing must be a Sizing"),
    ],
)
def test_config_rejects_bad_values(field, value, message):
    with pytest.raises(ConfigError, match=message.replace("[", r"\[").replace("]", r"\]")):
        SimulationConfig(**{field: value})


def test_sizing_requires_its_parameters():
    with pytest.raises(ConfigError, match=r"sizing\.quantity"):
        Sizing(method="fixed_qty")
    with pytest.raises(ConfigError, match=r"sizing\.fraction"):
        Sizing(method="percent_equity", fraction=0.0)
    with pytest.raises(ConfigError, match=r"sizing\.method"):
        Sizing(method="kelly")  # type: ignore[arg-type]
    with pytest.raises(ConfigError, match=r"sizing\.lookback"):
        Sizing.volatility_target(0.1, lookback=1)


def test_nan_stop_means_off():
    assert SimulationConfig(stop_loss=float("nan")).stop_loss is None


def test_with_markets_sets_per_symbol_rules():
    config = SimulationConfig().with_markets([Market.KRX, Market.CRYPTO])
    assert config.tick_kind == ("krx", "none")
    assert config.lot_size == (1.0, 1e-8)
    assert config.price_limit == (0.3, 0.0)


def test_per_symbol_lengths_are_checked_against_the_panel(kit):
    panel = kit.panel([[100.0, 101.0], [50.0, 51.0]])
    with pytest.raises(ConfigError, match="lot_size has 3 values for 2 symbols"):
        simulate(panel, kit.signals(panel), SimulationConfig(lot_size=(1.0, 1.0, 1.0)))
    with pytest.raises(ConfigError, match="tick_size must be > 0"):
        simulate(panel, kit.signals(panel), SimulationConfig(tick_kind="fixed"))


def test_signals_must_match_the_prices(kit):
    panel = kit.panel([100.0, 101.0, 102.0])
    other = kit.panel([100.0, 101.0, 102.0], symbols=["X"])
    with pytest.raises(InputError, match="same, in the same order"):
        simulate(panel, kit.signals(other))
    shifted = dataclasses.replace(panel, timestamps=panel.timestamps + np.timedelta64(1, "D"))
    with pytest.raises(InputError, match="timestamps must equal"):
        simulate(panel, kit.signals(shifted))


def test_entries_must_be_boolean(kit):
    panel = kit.panel([100.0, 101.0, 102.0])
    valid = kit.signals(panel)
    loose = type("Loose", (), {name: getattr(valid, name) for name in valid.__slots__})()
    loose.entries = np.zeros((1, 3), dtype=np.int64)
    with pytest.raises(InputError, match="entries must be bool"):
        simulate(panel, loose)


def test_non_positive_prices_are_refused_with_symbol_and_time(kit):
    panel = kit.panel([100.0, 0.0, 102.0], symbols=["005930"])
    with pytest.raises(InputError, match="prices of 005930 at 2024-01-03"):
        simulate(panel, kit.signals(panel), SimulationConfig())
    with pytest.raises(InputError, match="prices of 005930"):
        simulate(panel, kit.signals(panel), SimulationConfig(mode="portfolio"))


def test_empty_panel(kit):
    panel = kit.panel(np.empty((1, 0)))
    sim = simulate(panel, kit.signals(panel))
    assert sim.equity.shape == (1, 0)
    assert sim.final_equity.tolist() == [10_000_000.0]
