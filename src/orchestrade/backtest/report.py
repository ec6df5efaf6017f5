"""The plotly report of a backtest: equity, drawdown, monthly returns, trades on price, metrics.

`report_figure` builds one figure from plain frames; `report_html` wraps it with the summary
tables into a standalone page that embeds plotly.js from the installed plotly package, so
the file opens offline and loads nothing from the network. The output is deterministic:
the same inputs give the same bytes.
"""

from __future__ import annotations

import html

import numpy as np
import pandas as pd
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from orchestrade.backtest.metrics import Metrics
from orchestrade.backtest.performance import drawdowns
from orchestrade.backtest.summary import metrics_rows

MONTH_NAMES = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")
SUBPLOT_TITLES = ("Equity", "Drawdown", "Monthly returns (%)", "Trades on price", "Metrics")
FIGURE_DIV_ID = "orchestrade-report"
"""Fixed id of the figure's div, so that a report's HTML does not change between runs."""

_ROW_HEIGHTS = (0.21, 0.11, 0.18, 0.26, 0.24)


def monthly_returns(equity: pd.Series) -> pd.DataFrame:
    """Compounded return of each calendar month (UTC) of an equity curve.

    Rows are years, columns the months 1..12 (NaN for months without bars). A month's
    return is its last equity over the previous month's last equity, minus 1; the first
    month starts from the first bar. This equals empyrical's
    ``aggregate_returns(returns, "monthly")`` on the curve's returns.
    """
    index = pd.DatetimeIndex(equity.index)
    keys = pd.MultiIndex.from_arrays([index.year, index.month], names=["year", "month"])
    month_end = (
        pd.Series(equity.to_numpy(dtype=np.float64), index=keys).groupby(level=[0, 1]).last()
    )
    previous = month_end.shift(1)
    previous.iloc[0] = float(equity.iloc[0])
    table = (month_end / previous - 1.0).unstack("month")
    return table.reindex(columns=range(1, 13)).astype(np.float64)


def report_figure(
    *,
    equity: pd.Series,
    trades: pd.DataFrame,
    metrics: Metrics,
    closes: pd.DataFrame | None = None,
    top_symbols: int = 5,
    title: str = "Backtest report",
) -> go.Figure:
    """One figure with five rows: equity, drawdown, monthly heatmap, trades, metrics table.

    Args:
        equity: the whole account's equity at each bar (aware UTC index).
        trades: trades table (`orchestrade.backtest.tables.TRADE_COLUMNS`).
        metrics: the whole run's metrics, shown as a table.
        closes: close price of each symbol (columns) at each bar; when given, the trades
            row draws the close line under the entry and exit markers.
        top_symbols: how many symbols the trades row offers (those with the most trades,
            ties by name); a dropdown switches between them.
        title: the figure's title.
    """
    figure = make_subplots(
        rows=5,
        cols=1,
        row_heights=list(_ROW_HEIGHTS),
        vertical_spacing=0.045,
        subplot_titles=SUBPLOT_TITLES,
        specs=[
            [{"type": "xy"}],
            [{"type": "xy"}],
            [{"type": "xy"}],
            [{"type": "xy"}],
            [{"type": "table"}],
        ],
    )
    times = pd.DatetimeIndex(equity.index)
    values = equity.to_numpy(dtype=np.float64)
    figure.add_trace(go.Scatter(x=times, y=values, mode="lines", name="Equity"), row=1, col=1)
    figure.add_trace(
        go.Scatter(
            x=times,
            y=drawdowns(values) * 100.0,
            mode="lines",
            fill="tozeroy",
            name="Drawdown (%)",
            line={"color": "firebrick"},
        ),
        row=2,
        col=1,
    )
    figure.add_trace(_heatmap(monthly_returns(equity), figure), row=3, col=1)
    leading = len(figure.data)  # always visible, like the metrics table added last
    groups = _add_symbol_traces(figure, trades, closes, top_symbols)
    figure.add_trace(_metrics_table(metrics), row=5, col=1)
    figure.update_xaxes(matches="x", row=2, col=1)
    figure.update_yaxes(title_text="equity", row=1, col=1)
    figure.update_yaxes(title_text="%", row=2, col=1)
    figure.update_yaxes(autorange="reversed", type="category", row=3, col=1)
    top = figure.layout.yaxis4.domain[1]
    figure.update_layout(
        title={"text": html.escape(title)},
        height=1800,
        showlegend=False,
        template="plotly_white",
        updatemenus=_symbol_menu(groups, leading, top) if len(groups) > 1 else [],
    )
    if not groups:
        figure.add_annotation(
            text="no trades", showarrow=False, xref="x4 domain", yref="y4 domain", x=0.5, y=0.5
        )
    return figure


def report_html(figure: go.Figure, *, summary: str, title: str) -> str:
    """A standalone HTML page: `summary` (trusted HTML) above the figure, plotly.js inline."""
    body = figure.to_html(
        full_html=False,
        include_plotlyjs=True,
        include_mathjax=False,
        div_id=FIGURE_DIV_ID,
        config={"displaylogo": False, "responsive": True},
    )
    return (
        '<!DOCTYPE html>\n<html lang="en">\n<head>\n<meta charset="utf-8">\n'
        f"<title>{html.escape(title)}</title>\n<style>{_STYLE}</style>\n</head>\n<body>\n"
        f"<h1>{html.escape(title)}</h1>\n{summary}\n{body}\n</body>\n</html>\n"
    )


_STYLE = (
    "body{font-family:system-ui,sans-serif;margin:1.5em;}"
    ".orchestrade-summary table{border-collapse:collapse;margin:0 1em 1em 0;display:inline-table;"
    "vertical-align:top;font-size:0.9em;}"
    ".orchestrade-summary th,.orchestrade-summary td{border:1px solid #ddd;padding:2px 8px;"
    "text-align:right;}"
    ".orchestrade-summary caption{font-weight:bold;text-align:left;}"
)


def _heatmap(table: pd.DataFrame, figure: go.Figure) -> go.Heatmap:
    percent = table.to_numpy(dtype=np.float64) * 100.0
    text = [["" if np.isnan(value) else f"{value:.1f}" for value in row] for row in percent]
    domain = figure.layout.yaxis3.domain
    return go.Heatmap(
        z=[[None if np.isnan(value) else float(value) for value in row] for row in percent],
        x=list(MONTH_NAMES),
        y=[str(year) for year in table.index],
        text=text,
        texttemplate="%{text}",
        colorscale="RdYlGn",
        zmid=0.0,
        name="Monthly returns",
        hovertemplate="%{y} %{x}: %{z:.2f}%<extra></extra>",
        colorbar={"y": (domain[0] + domain[1]) / 2, "len": domain[1] - domain[0], "title": "%"},
    )


def _add_symbol_traces(
    figure: go.Figure, trades: pd.DataFrame, closes: pd.DataFrame | None, top_symbols: int
) -> list[tuple[str, int]]:
    """Add close/entry/exit traces of the chosen symbols; return (symbol, trace count) each."""
    counts = trades["symbol"].value_counts()
    candidates = set(counts.index) | (set(closes.columns) if closes is not None else set())
    ranked = sorted(candidates, key=lambda symbol: (-int(counts.get(symbol, 0)), str(symbol)))
    groups: list[tuple[str, int]] = []
    for position, symbol in enumerate(ranked[: max(top_symbols, 0)]):
        visible = position == 0
        added = 0
        if closes is not None and symbol in closes.columns:
            close = closes[symbol].dropna()
            figure.add_trace(
                go.Scatter(
                    x=pd.DatetimeIndex(close.index),
                    y=close.to_numpy(dtype=np.float64),
                    mode="lines",
                    name=f"{symbol} close",
                    line={"color": "#555555", "width": 1},
                    visible=visible,
                ),
                row=4,
                col=1,
            )
            added += 1
        own = trades[trades["symbol"] == symbol]
        for side, time_column, price_column, marker in (
            ("entry", "entry_time", "entry_price", {"symbol": "triangle-up", "color": "green"}),
            ("exit", "exit_time", "exit_price", {"symbol": "triangle-down", "color": "red"}),
        ):
            figure.add_trace(
                go.Scatter(
                    x=pd.DatetimeIndex(own[time_column]),
                    y=own[price_column].to_numpy(dtype=np.float64),
                    mode="markers",
                    name=f"{symbol} {side}",
                    marker={**marker, "size": 9},
                    customdata=own["pnl"].to_numpy(dtype=np.float64),
                    hovertemplate=f"{side} %{{x}}<br>price %{{y}}<br>pnl %{{customdata:,.2f}}"
                    "<extra></extra>",
                    visible=visible,
                ),
                row=4,
                col=1,
            )
            added += 1
        groups.append((str(symbol), added))
    return groups


def _symbol_menu(
    groups: list[tuple[str, int]], leading: int, top: float
) -> list[dict[str, object]]:
    """A dropdown whose buttons show one symbol's traces; the other traces stay visible."""
    buttons = []
    for chosen, _count in groups:
        visible = [True] * leading
        for symbol, count in groups:
            visible.extend([symbol == chosen] * count)
        visible.append(True)
        buttons.append({"label": chosen, "method": "restyle", "args": [{"visible": visible}]})
    return [
        {
            "buttons": buttons,
            "direction": "down",
            "x": 1.0,
            "xanchor": "right",
            "y": top,
            "yanchor": "bottom",
            "showactive": True,
        }
    ]


def _metrics_table(metrics: Metrics) -> go.Table:
    """Two label/value column pairs, so that every metric fits in the row."""
    rows = metrics_rows(metrics)
    half = (len(rows) + 1) // 2
    left, right = rows[:half], rows[half:] + [("", "")] * (2 * half - len(rows))
    return go.Table(
        header={"values": ["Metric", "Value", "Metric", "Value"], "align": "left"},
        cells={
            "values": [
                [label for label, _ in left],
                [value for _, value in left],
                [label for label, _ in right],
                [value for _, value in right],
            ],
            "align": "left",
        },
        name="Metrics",
    )
