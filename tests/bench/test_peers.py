"""Each benchmark peer reproduces the reference trades exactly on a tiny universe.

Peers whose library is not installed (the `bench` extra) are skipped.
"""

from __future__ import annotations

import gzip
from pathlib import Path

import numpy as np
import pytest

from orchestrade.data import BarPanel
from peers.reference import run_reference
from peers.results import compare
from peers.universe import COPY_STEP, UniverseError, bar_count, load_krx, replicate


def test_replicate_scales_prices_exactly_and_names_the_copies(tiny_panel: BarPanel) -> None:
    copies = replicate(tiny_panel, 3)

    assert copies.symbols[:4] == ("AAA", "BBB", "CCC", "AAA.c1")
    assert copies.symbols[-1] == "CCC.c2"
    assert np.array_equal(copies.close[:3], tiny_panel.close, equal_nan=True)
    assert np.array_equal(copies.open[6:], tiny_panel.open * (1 + 2 * COPY_STEP), equal_nan=True)
    assert np.array_equal(copies.volume[3:6], tiny_panel.volume, equal_nan=True)
    assert bar_count(copies) == 3 * bar_count(tiny_panel)
    with pytest.raises(UniverseError, match="copies must be at least 1"):
        replicate(tiny_panel, 0)


def test_copies_trade_like_their_originals(tiny_panel: BarPanel) -> None:
    run = run_reference(replicate(tiny_panel, 2))
    first, second = run.trades[run.trades["symbol"] < 3], run.trades[run.trades["symbol"] >= 3]

    assert np.array_equal(first["entry_bar"], second["entry_bar"])
    assert np.array_equal(first["exit_bar"], second["exit_bar"])


def test_load_krx_aligns_files_and_drops_non_positive_prices(tmp_path: Path) -> None:
    header = "date,open,high,low,close,volume,ticker,code,name,interval\n"
    rows_a = [
        "20240102,10,11,9,10,100,000001,000001,A,D",
        "20240103,0,11,9,10,100,000001,000001,A,D",
    ]
    rows_b = [
        "20240103,20,21,19,20,5,000002,000002,B,D",
        "20240104,21,22,20,21,5,000002,000002,B,D",
    ]
    for name, rows in (("000001", rows_a), ("000002", rows_b)):
        with gzip.open(tmp_path / f"{name}.csv.gz", "wt") as handle:
            handle.write(header + "\n".join(rows) + "\n")

    panel = load_krx(tmp_path)

    assert panel.symbols == ("000001", "000002")
    assert panel.timestamps.astype("datetime64[D]").astype(str).tolist() == [
        "2024-01-02",
        "2024-01-03",
        "2024-01-04",
    ]
    assert np.array_equal(panel.open, [[10, np.nan, np.nan], [np.nan, 20, 21]], equal_nan=True)


def test_load_krx_rejects_an_empty_folder(tmp_path: Path) -> None:
    with pytest.raises(UniverseError, match="no KRX"):
        load_krx(tmp_path)


@pytest.mark.parametrize("engine", ["rust", pytest.param("numba", marks=pytest.mark.slow)])
def test_vectorbt_reproduces_the_reference(tiny_panel: BarPanel, engine: str) -> None:
    pytest.importorskip("vectorbt")
    from peers.vectorbt_peer import run_vectorbt, rust_available

    if engine == "rust" and not rust_available():
        pytest.skip("vectorbt-rust is not installed")

    run = run_vectorbt(tiny_panel, engine)

    assert compare(run_reference(tiny_panel), run, tiny_panel.symbols).ok


def test_backtesting_reproduces_the_reference(tiny_panel: BarPanel) -> None:
    pytest.importorskip("backtesting")
    from peers.backtesting_peer import run_backtesting

    run = run_backtesting(tiny_panel, symbols=(1, 2))

    agreement = compare(run_reference(tiny_panel), run, tiny_panel.symbols)
    assert agreement.ok, agreement.mismatches
    assert agreement.trades_compared > 3


def test_backtrader_reproduces_the_reference(tiny_panel: BarPanel) -> None:
    pytest.importorskip("backtrader")
    from peers.backtrader_peer import run_backtrader

    run = run_backtrader(tiny_panel)

    agreement = compare(run_reference(tiny_panel), run, tiny_panel.symbols)
    assert agreement.ok, agreement.mismatches


def test_orchestrade_reproduces_the_reference(tiny_panel: BarPanel) -> None:
    from peers.orchestrade_engine import run_orchestrade, run_orchestrade_sweep

    trades, final_equity, seconds = run_orchestrade(tiny_panel)
    equities, counts, _ = run_orchestrade_sweep(tiny_panel, [(10, 30), (5, 20)])

    reference = run_reference(tiny_panel)
    assert trades.tolist() == reference.trades.tolist()
    assert np.allclose(final_equity, reference.final_equity, rtol=1e-12)
    assert seconds > 0
    assert np.allclose(equities[1], run_reference(tiny_panel, fast=5, slow=20).final_equity)
    assert counts[0] == reference.trades.size


@pytest.mark.slow
@pytest.mark.shared_data
def test_backtesting_agrees_with_the_reference_on_real_krx_symbols(shared_data: Path) -> None:
    pytest.importorskip("backtesting")
    from peers.backtesting_peer import run_backtesting

    panel = load_krx(shared_data / "krx")
    rows = (panel.symbols.index("005930"), panel.symbols.index("069500"))

    agreement = compare(run_reference(panel), run_backtesting(panel, symbols=rows), panel.symbols)

    assert agreement.ok, agreement.mismatches
    assert agreement.trades_compared > 100
