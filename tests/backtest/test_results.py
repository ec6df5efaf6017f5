"""BacktestResult: checked inputs, the JSON document, notebook HTML and the report entry points."""

from __future__ import annotations

import json
import math
from datetime import datetime
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import plotly.graph_objects as go
import pytest

from orchestrade.backtest.errors import InputError
from orchestrade.backtest.metrics import per_symbol_metrics, run_metrics
from orchestrade.backtest.results import JSON_TRADE_FIELDS, BacktestResult, iso_utc
from orchestrade.backtest.tables import TRADE_COLUMNS, empty_fills, empty_trades
from orchestrade.domain import Market

TIMING = {"bars": 120, "seconds": 0.25, "load_seconds": 1.5}


def frames(symbols: tuple[str, ...] = ("A", "B"), bars: int = 40) -> dict[str, pd.DataFrame]:
    """Equity, positions, trades, fills and closes of a small isolated run."""
    index = pd.date_range("2024-01-01", periods=bars, freq="D", tz="UTC")
    steps = np.linspace(0.0, 1.0, bars)
    equity = pd.DataFrame(
        {symbol: 1_000.0 * (1 + 0.1 * np.sin(steps * (k + 3))) for k, symbol in enumerate(symbols)},
        index=index,
    )
    equity["total"] = equity[list(symbols)].sum(axis=1)
    positions = pd.DataFrame(0.0, index=index, columns=list(symbols))
    positions.iloc[2:6, 0] = 3.0
    trades = pd.DataFrame(
        {
            "symbol": [symbols[0], symbols[0], symbols[-1]],
            "entry_time": index[[2, 10, 5]],
            "entry_price": [100.0, 102.0, 50.0],
            "exit_time": index[[6, 12, bars - 1]],
            "exit_price": [110.0, 101.0, 55.5],
            "qty": [3.0, 3.0, 2.0],
            "pnl": [29.4, -3.6, 10.9],
            "fees": [0.6, 0.6, 0.1],
            "exit_reason": ["signal", "stop_loss", "end"],
            "return_pct": [9.8, -1.18, 10.9],
            "bars_held": [4, 2, bars - 6],
        }
    )
    fills = pd.DataFrame(
        {
            "symbol": [symbols[0]] * 4 + [symbols[-1]],
            "time": index[[2, 6, 10, 12, 5]],
            "side": ["buy", "sell", "buy", "sell", "buy"],
            "qty": [3.0, 3.0, 3.0, 3.0, 2.0],
            "price": [100.0, 110.0, 102.0, 101.0, 50.0],
            "fee": [0.3] * 4 + [0.1],
            "tax": [0.0] * 5,
            "reason": ["entry_market", "exit_signal", "entry_market", "stop_loss", "entry_market"],
        }
    )
    closes = pd.DataFrame(
        {symbol: 100.0 + np.arange(bars, dtype=float) for symbol in symbols}, index=index
    )
    return {
        "equity": equity,
        "positions": positions,
        "trades": trades,
        "fills": fills,
        "closes": closes,
    }


def build(**changes: Any) -> BacktestResult:
    arguments: dict[str, Any] = {
        **frames(),
        "periods_per_year": 252,
        "timing": TIMING,
        "parameters": {"fast": 10, "slow": 30},
        "settings": {"mode": "isolated", "fill": "next_open", "commission": 0.001},
    }
    arguments.update(changes)
    return BacktestResult.from_frames(**arguments)


def test_from_frames_computes_run_and_symbol_metrics() -> None:
    parts = frames()

    result = build()

    expected = run_metrics(
        parts["equity"], parts["trades"], parts["fills"], parts["positions"], periods_per_year=252
    )
    per_symbol = per_symbol_metrics(
        parts["equity"], parts["trades"], parts["fills"], parts["positions"], periods_per_year=252
    )
    assert result.summary == expected
    assert result.metrics == expected.to_dict()
    assert result.symbol_summaries == per_symbol
    assert list(result.per_symbol) == ["A", "B"]
    assert result.per_symbol["A"]["trades"] == 2
    assert result.per_symbol["B"]["final_equity"] == parts["equity"]["B"].iloc[-1]
    assert result.metrics["trades"] == 3


def test_to_dict_has_the_documented_shape_and_iso_utc_times() -> None:
    result = build()

    document = result.to_dict()

    assert set(document) == {"metrics", "per_symbol", "trades", "timing", "parameters", "settings"}
    assert document["timing"] == TIMING
    assert document["parameters"] == {"fast": 10, "slow": 30}
    assert document["settings"]["mode"] == "isolated"
    assert {"final_equity", "trades", "total_return"} <= set(document["per_symbol"]["A"])
    first = document["trades"][0]
    assert tuple(first) == JSON_TRADE_FIELDS
    assert first == {
        "symbol": "A",
        "entry_time": "2024-01-03T00:00:00Z",
        "entry_price": 100.0,
        "exit_time": "2024-01-07T00:00:00Z",
        "exit_price": 110.0,
        "qty": 3.0,
        "pnl": 29.4,
        "fees": 0.6,
    }
    assert datetime.fromisoformat(first["entry_time"]) == result.trades["entry_time"].iloc[0]
    assert len(document["trades"]) == 3


def test_to_json_writes_strict_json_with_null_for_undefined_numbers(tmp_path: Path) -> None:
    parts = frames()
    parts["equity"]["B"] = 1_000.0  # a flat account: Sharpe and Sortino are undefined
    parts["equity"]["total"] = parts["equity"]["A"] + parts["equity"]["B"]
    result = build(**parts, parameters={"threshold": math.nan, "market": Market.KRX})

    path = result.to_json(tmp_path / "run.json")

    text = path.read_text(encoding="utf-8")
    assert "NaN" not in text
    assert "Infinity" not in text
    loaded = json.loads(text)
    assert loaded == result.to_dict()
    assert loaded["per_symbol"]["B"]["sharpe_ratio"] is None
    assert loaded["parameters"] == {"threshold": None, "market": "krx"}


def test_parameters_and_settings_are_converted_to_json_types() -> None:
    settings = {
        "count": np.int64(3),
        "ratio": np.float64(0.5),
        "flag": np.bool_(True),
        "path": Path("/tmp/data"),
        "symbols": ("005930", "000660"),
        "when": datetime.fromisoformat("2024-01-02T09:00:00+09:00"),
        "nested": {"limits": [np.float32(1.5), math.inf]},
    }

    result = build(settings=settings)

    assert result.settings == {
        "count": 3,
        "ratio": 0.5,
        "flag": True,
        "path": "/tmp/data",
        "symbols": ["005930", "000660"],
        "when": "2024-01-02T00:00:00Z",
        "nested": {"limits": [1.5, None]},
    }


@pytest.mark.parametrize(
    ("settings", "message"),
    [
        ({"tags": {"a", "b"}}, r"settings\.tags holds a set"),
        ({"nested": {"when": datetime(2024, 1, 2)}}, r"settings\.nested\.when is a naive"),  # noqa: DTZ001
        ({"items": [1, object()]}, r"settings\.items\[1\] holds a object"),
    ],
)
def test_values_json_cannot_hold_are_refused_with_their_path(
    settings: dict[str, Any], message: str
) -> None:
    with pytest.raises(InputError, match=message):
        build(settings=settings)


def test_tables_are_copies_that_callers_cannot_change() -> None:
    result = build()

    trades, equity, parameters = result.trades, result.equity, result.parameters
    trades.loc[0, "pnl"] = 1e9
    equity.iloc[0, 0] = 1e9
    parameters["fast"] = 99

    assert result.trades.loc[0, "pnl"] == 29.4
    assert result.equity.iloc[0, 0] == 1_000.0
    assert result.parameters["fast"] == 10
    assert tuple(result.trades.columns) == TRADE_COLUMNS
    assert str(result.trades["entry_time"].dtype) == "datetime64[ns, UTC]"
    assert result.timing == TIMING
    assert list(result.positions.columns) == ["A", "B"]
    assert len(result.fills) == 5


def test_a_run_without_trades_has_empty_lists_and_undefined_trade_statistics() -> None:
    result = build(trades=empty_trades(), fills=empty_fills())

    document = result.to_dict()

    assert document["trades"] == []
    assert document["metrics"]["trades"] == 0
    assert document["metrics"]["win_rate"] is None
    assert document["metrics"]["turnover"] == 0.0
    assert isinstance(result.plot(), go.Figure)


def _drop(frame: pd.DataFrame, column: str) -> pd.DataFrame:
    return frame.drop(columns=[column])


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (lambda p: {"trades": _drop(p["trades"], "exit_reason")}, r"missing: \['exit_reason'\]"),
        (lambda p: {"trades": p["trades"].assign(note="x")}, r"unexpected: \['note'\]"),
        (
            lambda p: {
                "trades": p["trades"].assign(
                    entry_time=p["trades"]["entry_time"].dt.tz_localize(None)
                )
            },
            "trades.entry_time must hold aware UTC",
        ),
        (lambda p: {"trades": p["trades"].assign(qty=0.0)}, "trades.qty must be positive"),
        (
            lambda p: {
                "trades": p["trades"].assign(
                    exit_time=p["trades"]["entry_time"] - pd.Timedelta(days=1)
                )
            },
            "exit_time must not be before",
        ),
        (lambda p: {"trades": p["trades"].assign(bars_held=1.5)}, "bars_held"),
        (
            lambda p: {"trades": p["trades"].assign(symbol="Z")},
            r"trades name symbols not in equity: \['Z'\]",
        ),
        (
            lambda p: {"fills": p["fills"].assign(side="short")},
            "fills.side must be 'buy' or 'sell'",
        ),
        (lambda p: {"fills": p["fills"].assign(price=-1.0)}, "fills.price must be positive"),
        (lambda p: {"equity": _drop(p["equity"], "total")}, "no 'total' column"),
        (lambda p: {"equity": p["equity"].assign(A=-1.0)}, "column.s. A are not"),
        (lambda p: {"positions": p["positions"].iloc[1:]}, "same index"),
        (lambda p: {"positions": p["positions"][["B", "A"]]}, "must be the equity symbols"),
        (lambda p: {"closes": p["closes"].tz_localize(None)}, "closes index must hold aware UTC"),
        (lambda p: {"timing": {"bars": 1, "seconds": 0.1}}, "timing lacks load_seconds"),
        (lambda p: {"timing": {**TIMING, "seconds": -1.0}}, "timing.seconds must be finite"),
        (lambda p: {"timing": {**TIMING, "bars": 1.5}}, "timing.bars must be a whole number"),
        (lambda p: {"timing": {**TIMING, "bars": "many"}}, "timing.bars must be a number"),
    ],
)
def test_inputs_that_break_a_contract_are_refused_with_the_reason(
    change: Any, message: str
) -> None:
    with pytest.raises(InputError, match=message):
        build(**change(frames()))


def test_constructor_requires_metrics_for_every_symbol() -> None:
    parts = frames()
    del parts["closes"]
    result = build()

    with pytest.raises(InputError, match="per_symbol metrics must cover"):
        BacktestResult(
            **parts,
            metrics=result.summary,
            per_symbol={"A": result.symbol_summaries["A"]},
            timing=TIMING,
        )


def test_repr_html_is_a_compact_escaped_summary() -> None:
    result = build(parameters={"fast": 10, "<script>alert(1)</script>": "a&b"})

    page = result._repr_html_()

    assert page.startswith('<div class="orchestrade-summary">')
    assert "<script" not in page
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page
    assert "a&amp;b" in page
    assert "<th>Sharpe ratio</th>" in page
    assert f"<td>{result.summary.trades}</td>" in page
    assert "<th>A</th>" in page
    assert "<th>B</th>" in page
    assert len(page) < 10_000


def test_repr_html_lists_at_most_twenty_symbols() -> None:
    symbols = tuple(f"S{k:02d}" for k in range(25))
    parts = frames(symbols)

    page = build(**parts)._repr_html_()

    assert "<th>S19</th>" in page
    assert "<th>S20</th>" not in page
    assert "… and 5 more symbols" in page


def test_plot_and_to_html_use_the_report(tmp_path: Path) -> None:
    result = build()

    figure = result.plot(top_symbols=1)
    path = result.to_html(tmp_path / "report.html", title="sma_cross")

    assert isinstance(figure, go.Figure)
    assert [trace.name for trace in figure.data if trace.name.startswith("A ")] == [
        "A close",
        "A entry",
        "A exit",
    ]
    text = path.read_text(encoding="utf-8")
    assert "<title>sma_cross</title>" in text
    assert result._repr_html_().split("\n")[2] in text
    assert "BacktestResult(symbols=2, bars=40, trades=3" in repr(result)


def test_iso_utc_writes_whole_seconds_short_and_keeps_fractions() -> None:
    whole = pd.Series(pd.DatetimeIndex(["2024-03-10 14:30:00"], tz="UTC"))
    seoul = pd.Series(pd.DatetimeIndex(["2024-01-02 09:00:00"], tz="Asia/Seoul"))
    fraction = pd.Series(pd.DatetimeIndex(["2024-01-02 00:00:00.250"], tz="UTC"))

    assert iso_utc(whole) == ["2024-03-10T14:30:00Z"]
    assert iso_utc(seoul) == ["2024-01-02T00:00:00Z"]
    assert iso_utc(fraction) == ["2024-01-02T00:00:00.250000000Z"]
    assert datetime.fromisoformat(iso_utc(whole)[0]) == whole.iloc[0]
