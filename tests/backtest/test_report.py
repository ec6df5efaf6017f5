"""The plotly report: monthly returns, the figure's traces and the standalone HTML page."""

from __future__ import annotations

import math
import re
from pathlib import Path

import empyrical
import numpy as np
import pandas as pd
import plotly
import plotly.graph_objects as go
import pytest

from orchestrade.backtest.metrics import Metrics, compute_metrics
from orchestrade.backtest.report import (
    FIGURE_DIV_ID,
    SUBPLOT_TITLES,
    monthly_returns,
    report_figure,
    report_html,
)
from orchestrade.backtest.tables import check_trades, empty_trades


def stamps(*texts: str) -> pd.DatetimeIndex:
    return pd.DatetimeIndex([pd.Timestamp(text, tz="UTC") for text in texts])


def metrics_for(equity: pd.Series) -> Metrics:
    return compute_metrics(
        equity,
        empty_trades(),
        positions=np.zeros(len(equity)),
        traded_value=0.0,
        periods_per_year=252,
    )


def trades_for(
    rows: list[tuple[str, int, float, int, float]], index: pd.DatetimeIndex
) -> pd.DataFrame:
    """Rows of (symbol, entry bar, entry price, exit bar, exit price), quantity 1."""
    return check_trades(
        pd.DataFrame(
            {
                "symbol": [row[0] for row in rows],
                "entry_time": index[[row[1] for row in rows]],
                "entry_price": [row[2] for row in rows],
                "exit_time": index[[row[3] for row in rows]],
                "exit_price": [row[4] for row in rows],
                "qty": [1.0] * len(rows),
                "pnl": [row[4] - row[2] for row in rows],
                "fees": [0.0] * len(rows),
                "exit_reason": ["signal"] * len(rows),
                "return_pct": [100 * (row[4] / row[2] - 1) for row in rows],
                "bars_held": [row[3] - row[1] for row in rows],
            }
        )
    )


def sample_figure(top_symbols: int = 5) -> tuple[go.Figure, pd.DataFrame, pd.DataFrame]:
    index = pd.date_range("2023-11-01", periods=90, freq="D", tz="UTC")
    equity = pd.Series(1_000.0 + 10 * np.sin(np.arange(90) / 7), index=index)
    closes = pd.DataFrame(
        {s: 50.0 + np.arange(90.0) * (k + 1) for k, s in enumerate("ABC")}, index=index
    )
    trades = trades_for(
        [
            ("B", 1, 51.0, 5, 55.0),
            ("B", 10, 60.0, 12, 58.0),
            ("A", 3, 53.0, 8, 58.0),
            ("Z", 2, 9.0, 4, 8.0),
        ],
        index,
    )
    figure = report_figure(
        equity=equity,
        trades=trades,
        metrics=metrics_for(equity),
        closes=closes,
        top_symbols=top_symbols,
    )
    return figure, trades, closes


def test_monthly_returns_compound_each_calendar_month() -> None:
    equity = pd.Series(
        [100.0, 110.0, 99.0, 121.0, 133.1],
        index=stamps("2024-01-01", "2024-01-31", "2024-02-15", "2024-02-29", "2024-03-10"),
    )

    table = monthly_returns(equity)

    assert list(table.index) == [2024]
    assert list(table.columns) == list(range(1, 13))
    assert table.loc[2024, [1, 2, 3]].to_numpy() == pytest.approx([0.1, 0.1, 0.1])
    assert table.loc[2024, 4:].isna().all()


def test_monthly_returns_span_years_and_leave_missing_months_empty() -> None:
    equity = pd.Series([100.0, 90.0, 99.0], index=stamps("2023-12-01", "2023-12-31", "2024-02-01"))

    table = monthly_returns(equity)

    assert list(table.index) == [2023, 2024]
    assert table.loc[2023, 12] == pytest.approx(-0.1)
    assert table.loc[2024, 2] == pytest.approx(0.1)
    assert math.isnan(table.loc[2024, 1])


def test_monthly_returns_equal_empyricals_aggregate_returns_on_krx_closes(
    shared_data: Path,
) -> None:
    frame = pd.read_csv(shared_data / "krx" / "005930.csv.gz", usecols=["date", "close"])
    closes = pd.Series(
        frame["close"].to_numpy(dtype=np.float64),
        index=pd.to_datetime(frame["date"].astype(str), format="%Y%m%d", utc=True),
    )

    ours = monthly_returns(closes).stack()
    theirs = empyrical.aggregate_returns(closes.pct_change().iloc[1:], "monthly")

    assert len(theirs) > 390
    first = (closes.index[0].year, closes.index[0].month)
    assert set(ours.index) - set(theirs.index) <= {first}
    for key, value in theirs.items():
        assert math.isclose(ours[key], value, rel_tol=1e-9, abs_tol=1e-12), key


def test_figure_has_every_panel_with_its_title() -> None:
    figure, _trades, _closes = sample_figure()

    titles = [annotation.text for annotation in figure.layout.annotations]
    kinds = [type(trace).__name__ for trace in figure.data]

    assert titles[: len(SUBPLOT_TITLES)] == list(SUBPLOT_TITLES)
    assert kinds[:3] == ["Scatter", "Scatter", "Heatmap"]
    assert kinds[-1] == "Table"
    assert figure.data[0].name == "Equity"
    assert figure.data[1].name == "Drawdown (%)"
    assert list(figure.data[2].x) == [
        "Jan",
        "Feb",
        "Mar",
        "Apr",
        "May",
        "Jun",
        "Jul",
        "Aug",
        "Sep",
        "Oct",
        "Nov",
        "Dec",
    ]
    assert list(figure.data[2].y) == ["2023", "2024"]


def test_drawdown_panel_is_the_percent_below_the_running_peak() -> None:
    equity = pd.Series(
        [100.0, 110.0, 99.0, 120.0], index=pd.date_range("2024-01-01", periods=4, tz="UTC")
    )

    figure = report_figure(equity=equity, trades=empty_trades(), metrics=metrics_for(equity))

    assert list(figure.data[1].y) == pytest.approx([0.0, 0.0, -10.0, 0.0])
    assert list(figure.data[0].y) == [100.0, 110.0, 99.0, 120.0]


def test_trades_panel_offers_the_most_traded_symbols_with_entry_and_exit_markers() -> None:
    figure, trades, closes = sample_figure(top_symbols=3)

    names = [trace.name for trace in figure.data]
    menu = figure.layout.updatemenus[0]

    assert [button.label for button in menu.buttons] == ["B", "A", "Z"]  # C has no trade
    assert names[3:-1] == [
        "B close",
        "B entry",
        "B exit",
        "A close",
        "A entry",
        "A exit",
        "Z entry",
        "Z exit",
    ]
    b_entry = figure.data[4]
    assert list(b_entry.x) == list(trades.loc[trades["symbol"] == "B", "entry_time"])
    assert list(b_entry.y) == [51.0, 60.0]
    assert list(figure.data[5].y) == [55.0, 58.0]
    assert list(figure.data[3].y) == closes["B"].tolist()
    assert [trace.visible for trace in figure.data[3:6]] == [True, True, True]
    assert all(trace.visible is False for trace in figure.data[6:-1])


def test_dropdown_shows_one_symbol_and_keeps_the_other_panels() -> None:
    figure, _trades, _closes = sample_figure(top_symbols=3)

    menu = figure.layout.updatemenus[0]
    visible_for_a = menu.buttons[1].args[0]["visible"]

    assert len(visible_for_a) == len(figure.data)
    assert visible_for_a == [True] * 3 + [False] * 3 + [True] * 3 + [False] * 2 + [True]


def test_symbols_without_closes_still_get_markers_and_top_symbols_limits_the_choice() -> None:
    index = pd.date_range("2024-01-01", periods=10, freq="D", tz="UTC")
    equity = pd.Series(np.linspace(100.0, 110.0, 10), index=index)
    trades = trades_for(
        [("X", 0, 10.0, 2, 11.0), ("Y", 3, 20.0, 4, 19.0), ("Y", 5, 20.0, 6, 21.0)], index
    )

    figure = report_figure(equity=equity, trades=trades, metrics=metrics_for(equity), top_symbols=1)

    assert [trace.name for trace in figure.data[3:-1]] == ["Y entry", "Y exit"]
    assert figure.layout.updatemenus == ()


def test_a_run_without_trades_says_so() -> None:
    index = pd.date_range("2024-01-01", periods=5, freq="D", tz="UTC")
    equity = pd.Series(100.0, index=index)

    figure = report_figure(equity=equity, trades=empty_trades(), metrics=metrics_for(equity))

    assert "no trades" in [annotation.text for annotation in figure.layout.annotations]
    assert len(figure.data) == 4


def test_metrics_table_lists_every_metric() -> None:
    figure, _trades, _closes = sample_figure()

    table = figure.data[-1]
    labels = list(table.cells.values[0]) + list(table.cells.values[2])

    assert len([label for label in labels if label]) == len(Metrics.__dataclass_fields__)
    assert "Sharpe ratio" in labels
    assert "Max drawdown" in labels


def test_html_page_is_standalone_deterministic_and_complete(tmp_path: Path) -> None:
    figure, _trades, _closes = sample_figure()

    page = report_html(figure, summary="<p>summary here</p>", title="<sma & cross>")
    again = report_html(sample_figure()[0], summary="<p>summary here</p>", title="<sma & cross>")
    path = tmp_path / "report.html"
    path.write_text(page, encoding="utf-8")

    assert page == again
    assert path.stat().st_size > 1_000_000  # plotly.js is embedded
    bundle = plotly.offline.get_plotlyjs()
    assert bundle in page
    assert not re.search(r"<script[^>]*\bsrc\s*=", page, flags=re.IGNORECASE)
    outside_bundle = page.replace(bundle, "")
    assert "http://" not in outside_bundle
    assert "https://" not in outside_bundle
    assert "<title>&lt;sma &amp; cross&gt;</title>" in page
    assert f'id="{FIGURE_DIV_ID}"' in page
    assert "<p>summary here</p>" in page
    for title in SUBPLOT_TITLES:
        assert title in page
    for trace in ('"type":"heatmap"', '"type":"table"', '"name":"Equity"', '"name":"B entry"'):
        assert trace in page
