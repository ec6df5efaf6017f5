"""What loading a spec and backtesting it in array form imports: no more than it needs.

Loading a spec must not load numba (agents load specs and never run the kernel), and an
array backtest whose indicators `orchestrade.indicators.native` computes must not load
TA-Lib, nor the pandas and pyarrow that TA-Lib imports. Each case runs in a fresh
interpreter, since this one has loaded everything already.
"""

from __future__ import annotations

import importlib
import json
import subprocess
import sys

import pytest

import orchestrade.indicators
import orchestrade.strategies

HEAVY = ("numba", "pandas", "pyarrow", "talib", "scipy")

_PANEL = """
import numpy as np
from dataclasses import dataclass

@dataclass(frozen=True)
class Panel:
    symbols: tuple
    timestamps: np.ndarray
    open: np.ndarray
    high: np.ndarray
    low: np.ndarray
    close: np.ndarray
    volume: np.ndarray

rng = np.random.default_rng(5)
close = 100.0 * np.exp(np.cumsum(rng.normal(0.0, 0.02, (3, 300)), axis=1))
close[1, :40] = np.nan
stamps = np.arange(300).astype("datetime64[D]").astype("datetime64[ns]")
panel = Panel(("A", "B", "C"), stamps, close, close * 1.01, close * 0.99, close, close * 0 + 1e4)
"""


def loaded_after(code: str) -> list[str]:
    """The heavy top-level packages loaded after running `code` in a fresh interpreter."""
    heavy = set(HEAVY)
    script = code + f"\nimport sys, json\nprint(json.dumps(sorted({heavy!r} & set(sys.modules))))"
    done = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, check=True
    )
    loaded: list[str] = json.loads(done.stdout.strip().splitlines()[-1])
    return loaded


def test_loading_a_spec_loads_neither_numba_nor_talib_nor_pandas() -> None:
    code = (
        "from orchestrade.strategies.builtin import builtin_spec\n"
        "spec = builtin_spec('sma_cross').with_params(fast=5, slow=12)\n"
    )

    assert loaded_after(code) == []


def test_an_array_backtest_of_native_indicators_loads_numba_only() -> None:
    code = _PANEL + (
        "from orchestrade.backtest.kernel import simulate\n"
        "from orchestrade.strategies.builtin import builtin_spec\n"
        "from orchestrade.strategies.compiler import compile_trading_signals\n"
        "signals = compile_trading_signals(builtin_spec('sma_cross'), panel, {'slow': 20})\n"
        "simulation = simulate(panel, signals)\n"
        "assert signals.entries.any() and simulation.trades.size > 0\n"
    )

    loaded = loaded_after(code)
    assert "numba" in loaded
    assert {"pandas", "pyarrow", "talib"}.isdisjoint(loaded)


def test_other_indicators_are_computed_by_talib() -> None:
    code = _PANEL + (
        "from orchestrade.strategies.builtin import builtin_spec\n"
        "from orchestrade.strategies.compiler import compile_trading_signals\n"
        "compile_trading_signals(builtin_spec('rsi_reversion'), panel)\n"
    )

    assert {"talib", "pandas"} <= set(loaded_after(code))


@pytest.mark.parametrize("package", [orchestrade.indicators, orchestrade.strategies])
def test_every_public_name_is_its_home_modules_object(package: object) -> None:
    homes: dict[str, str] = package._HOMES  # type: ignore[attr-defined]

    assert sorted(homes) == sorted(package.__all__)  # type: ignore[attr-defined]
    for name in package.__all__:  # type: ignore[attr-defined]
        assert getattr(package, name) is getattr(importlib.import_module(homes[name]), name)
        assert name in dir(package)


@pytest.mark.parametrize("package", [orchestrade.indicators, orchestrade.strategies])
def test_an_unknown_name_is_an_attribute_error(package: object) -> None:
    with pytest.raises(AttributeError, match="no attribute 'compute_signals'"):
        package.compute_signals  # type: ignore[attr-defined]  # noqa: B018
