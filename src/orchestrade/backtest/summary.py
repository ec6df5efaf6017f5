"""Compact HTML tables of a backtest's metrics, for notebooks and the top of the report page.

Every text that comes from the caller (symbols, parameter names and values) is escaped.
"""

from __future__ import annotations

import html
import math
from collections.abc import Mapping
from typing import Literal

from orchestrade.backtest.metrics import Metrics

MetricKind = Literal["fraction", "percent", "ratio", "money", "count", "days"]

METRIC_FORMATS: dict[str, tuple[str, MetricKind]] = {
    "start_equity": ("Start equity", "money"),
    "final_equity": ("Final equity", "money"),
    "total_return": ("Total return", "fraction"),
    "cagr": ("CAGR", "fraction"),
    "annual_volatility": ("Annual volatility", "fraction"),
    "sharpe_ratio": ("Sharpe ratio", "ratio"),
    "sortino_ratio": ("Sortino ratio", "ratio"),
    "calmar_ratio": ("Calmar ratio", "ratio"),
    "max_drawdown": ("Max drawdown", "fraction"),
    "max_drawdown_pct": ("Max drawdown %", "percent"),
    "max_drawdown_duration_bars": ("Longest drawdown (bars)", "count"),
    "max_drawdown_duration_days": ("Longest drawdown (days)", "days"),
    "trades": ("Trades", "count"),
    "win_rate": ("Win rate", "fraction"),
    "average_win": ("Average win", "money"),
    "average_loss": ("Average loss", "money"),
    "average_win_pct": ("Average win %", "percent"),
    "average_loss_pct": ("Average loss %", "percent"),
    "profit_factor": ("Profit factor", "ratio"),
    "fees": ("Fees and taxes", "money"),
    "exposure": ("Exposure", "fraction"),
    "turnover": ("Turnover (per year)", "ratio"),
    "bars": ("Bars", "count"),
    "periods_per_year": ("Bars per year", "count"),
}
"""Label and display kind of every `Metrics` field, in display order."""

HEADLINE_METRICS = (
    "final_equity",
    "total_return",
    "cagr",
    "sharpe_ratio",
    "sortino_ratio",
    "calmar_ratio",
    "max_drawdown",
    "max_drawdown_duration_days",
    "trades",
    "win_rate",
    "profit_factor",
    "exposure",
    "turnover",
)
SYMBOL_COLUMNS = (
    "final_equity",
    "total_return",
    "sharpe_ratio",
    "max_drawdown",
    "trades",
    "win_rate",
    "profit_factor",
)


def format_metric(name: str, value: float | int) -> str:
    """`value` of the metric `name` as display text ("n/a" when NaN, "inf" when infinite)."""
    kind = METRIC_FORMATS[name][1]
    number = float(value)
    if math.isnan(number):
        return "n/a"
    if math.isinf(number):
        return "inf" if number > 0 else "-inf"
    if kind == "fraction":
        return f"{number * 100:.2f}%"
    if kind == "percent":
        return f"{number:.2f}%"
    if kind == "ratio":
        return f"{number:.3f}"
    if kind == "money":
        return f"{number:,.2f}"
    if kind == "count":
        return f"{number:,.0f}"
    return f"{number:.1f}"


def metrics_rows(metrics: Metrics, names: tuple[str, ...] | None = None) -> list[tuple[str, str]]:
    """(label, formatted value) of each metric in `names` (default: all, display order)."""
    chosen = names if names is not None else tuple(METRIC_FORMATS)
    return [
        (METRIC_FORMATS[name][0], format_metric(name, getattr(metrics, name))) for name in chosen
    ]


def summary_html(
    *,
    metrics: Metrics,
    per_symbol: Mapping[str, Metrics],
    parameters: Mapping[str, object],
    timing: Mapping[str, float | int],
    max_symbols: int = 20,
) -> str:
    """An HTML fragment: headline metrics, parameters, timing, and one row per symbol.

    Only the first `max_symbols` symbols are listed; a last line says how many were left out.
    """
    parts = ['<div class="orchestrade-summary">', "<h3>Backtest summary</h3>"]
    parts.append(_two_column_table(metrics_rows(metrics, HEADLINE_METRICS), "metrics"))
    if parameters:
        rows = [(str(name), _plain(value)) for name, value in parameters.items()]
        parts.append(_two_column_table(rows, "parameters"))
    if timing:
        rows = [(str(name), _plain(value)) for name, value in timing.items()]
        parts.append(_two_column_table(rows, "timing"))
    if per_symbol:
        parts.append(_symbols_table(per_symbol, max_symbols))
    parts.append("</div>")
    return "\n".join(parts)


def _two_column_table(rows: list[tuple[str, str]], caption: str) -> str:
    body = "".join(
        f"<tr><th>{html.escape(label)}</th><td>{html.escape(value)}</td></tr>"
        for label, value in rows
    )
    return f'<table class="{caption}"><caption>{caption}</caption>{body}</table>'


def _symbols_table(per_symbol: Mapping[str, Metrics], max_symbols: int) -> str:
    header = "".join(f"<th>{html.escape(METRIC_FORMATS[n][0])}</th>" for n in SYMBOL_COLUMNS)
    rows = []
    for symbol, metrics in list(per_symbol.items())[:max_symbols]:
        cells = "".join(
            f"<td>{html.escape(format_metric(name, getattr(metrics, name)))}</td>"
            for name in SYMBOL_COLUMNS
        )
        rows.append(f"<tr><th>{html.escape(symbol)}</th>{cells}</tr>")
    left_out = len(per_symbol) - max_symbols
    if left_out > 0:
        span = len(SYMBOL_COLUMNS) + 1
        rows.append(f'<tr><td colspan="{span}">… and {left_out} more symbols</td></tr>')
    return (
        '<table class="per-symbol"><caption>per symbol</caption>'
        f"<tr><th>Symbol</th>{header}</tr>{''.join(rows)}</table>"
    )


def _plain(value: object) -> str:
    if isinstance(value, float):
        return f"{value:.6g}"
    return str(value)
