"""What a backtest run hands back: tables, metrics, timing, and ways to save and show them.

`BacktestResult.from_frames` computes the metrics from the equity, positions, trades and
fills tables (contracts in `orchestrade.backtest.tables`); the constructor takes metrics
already computed. Every table is copied in and out, so a result never changes after it
is built.
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime
from enum import Enum
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from orchestrade.backtest.errors import InputError
from orchestrade.backtest.metrics import (
    JsonNumber,
    Metrics,
    metrics_to_json,
    per_symbol_metrics,
    run_metrics,
)
from orchestrade.backtest.summary import summary_html
from orchestrade.backtest.tables import (
    TOTAL_COLUMN,
    check_equity,
    check_fills,
    check_positions,
    check_time_index,
    check_trades,
)

if TYPE_CHECKING:
    import plotly.graph_objects as go

TIMING_KEYS = ("bars", "seconds", "load_seconds")
"""`timing`: bars simulated, seconds from loaded arrays to results, seconds spent loading."""
JSON_TRADE_FIELDS = (
    "symbol",
    "entry_time",
    "entry_price",
    "exit_time",
    "exit_price",
    "qty",
    "pnl",
    "fees",
)
"""The fields of each trade in `BacktestResult.to_dict()["trades"]`."""


class BacktestResult:
    """Equity, positions, trades and fills of one run, with its metrics and timing.

    Attributes are read through properties: `metrics` and `per_symbol` are JSON-ready
    dicts, `summary` and `symbol_summaries` the `Metrics` objects, `trades`, `equity`,
    `positions` and `fills` DataFrame copies.
    """

    __slots__ = (
        "_closes",
        "_equity",
        "_fills",
        "_parameters",
        "_per_symbol",
        "_positions",
        "_settings",
        "_summary",
        "_timing",
        "_trades",
    )

    def __init__(
        self,
        *,
        equity: pd.DataFrame,
        positions: pd.DataFrame,
        trades: pd.DataFrame,
        fills: pd.DataFrame,
        metrics: Metrics,
        per_symbol: Mapping[str, Metrics],
        timing: Mapping[str, float | int],
        parameters: Mapping[str, Any] | None = None,
        settings: Mapping[str, Any] | None = None,
        closes: pd.DataFrame | None = None,
    ) -> None:
        """Check and copy every input.

        Args:
            equity, positions, trades, fills: the run's tables (`orchestrade.backtest.tables`).
            metrics: the whole run's metrics.
            per_symbol: metrics of each symbol, keyed by every symbol of `equity`.
            timing: ``bars``, ``seconds`` and ``load_seconds`` (see `TIMING_KEYS`).
            parameters: the strategy parameters the run used (JSON-able values).
            settings: a summary of the run's settings (mode, fill, costs, ...; JSON-able).
            closes: close prices per symbol, for the trades-on-price chart only.

        Raises:
            InputError: when a table breaks its contract or the pieces do not fit together.
        """
        tables = _RunTables.checked(equity, positions, trades, fills)
        self._assign(tables, metrics, per_symbol, timing, parameters, settings, closes)

    @classmethod
    def from_frames(
        cls,
        *,
        equity: pd.DataFrame,
        positions: pd.DataFrame,
        trades: pd.DataFrame,
        fills: pd.DataFrame,
        periods_per_year: float,
        timing: Mapping[str, float | int],
        parameters: Mapping[str, Any] | None = None,
        settings: Mapping[str, Any] | None = None,
        closes: pd.DataFrame | None = None,
    ) -> BacktestResult:
        """Build a result and compute its metrics (`orchestrade.backtest.metrics`)."""
        tables = _RunTables.checked(equity, positions, trades, fills)
        frames = (tables.equity, tables.trades, tables.fills, tables.positions)
        result = cls.__new__(cls)
        result._assign(
            tables,
            run_metrics(*frames, periods_per_year=periods_per_year),
            per_symbol_metrics(*frames, periods_per_year=periods_per_year),
            timing,
            parameters,
            settings,
            closes,
        )
        return result

    def _assign(
        self,
        tables: _RunTables,
        metrics: Metrics,
        per_symbol: Mapping[str, Metrics],
        timing: Mapping[str, float | int],
        parameters: Mapping[str, Any] | None,
        settings: Mapping[str, Any] | None,
        closes: pd.DataFrame | None,
    ) -> None:
        symbols = tables.symbols
        if sorted(per_symbol) != sorted(symbols):
            raise InputError(f"per_symbol metrics must cover the equity symbols {symbols}")
        self._equity = tables.equity
        self._positions = tables.positions
        self._trades = tables.trades
        self._fills = tables.fills
        self._summary = metrics
        self._per_symbol = {symbol: per_symbol[symbol] for symbol in symbols}
        self._timing = _checked_timing(timing)
        self._parameters = _json_safe(dict(parameters or {}), "parameters")
        self._settings = _json_safe(dict(settings or {}), "settings")
        self._closes = _checked_closes(closes)

    @property
    def metrics(self) -> dict[str, JsonNumber]:
        """Whole-run metrics as a JSON-ready dict (NaN and inf as None)."""
        return self._summary.to_dict()

    @property
    def per_symbol(self) -> dict[str, dict[str, JsonNumber]]:
        """`{symbol: metrics dict}` for every symbol, in equity column order."""
        return metrics_to_json(self._per_symbol)

    @property
    def summary(self) -> Metrics:
        """Whole-run metrics as a `Metrics` object (NaN and inf kept)."""
        return self._summary

    @property
    def symbol_summaries(self) -> dict[str, Metrics]:
        """Per-symbol `Metrics` objects."""
        return dict(self._per_symbol)

    @property
    def equity(self) -> pd.DataFrame:
        """Equity per symbol and ``total`` at each bar's close."""
        return self._equity.copy()

    @property
    def positions(self) -> pd.DataFrame:
        """Quantity held per symbol at each bar's close."""
        return self._positions.copy()

    @property
    def trades(self) -> pd.DataFrame:
        """One row per round trip (`orchestrade.backtest.tables.TRADE_COLUMNS`)."""
        return self._trades.copy()

    @property
    def fills(self) -> pd.DataFrame:
        """One row per execution (`orchestrade.backtest.tables.FILL_COLUMNS`)."""
        return self._fills.copy()

    @property
    def timing(self) -> dict[str, float | int]:
        """``bars``, ``seconds`` and ``load_seconds`` of the run."""
        return dict(self._timing)

    @property
    def parameters(self) -> dict[str, Any]:
        """Strategy parameters of the run (JSON-ready)."""
        return json.loads(json.dumps(self._parameters))  # type: ignore[no-any-return]

    @property
    def settings(self) -> dict[str, Any]:
        """Settings summary of the run (JSON-ready)."""
        return json.loads(json.dumps(self._settings))  # type: ignore[no-any-return]

    def to_dict(self) -> dict[str, Any]:
        """The JSON document of the run.

        Shape: ``metrics`` (whole run), ``per_symbol`` (``{symbol: metrics}``), ``trades``
        (list of `JSON_TRADE_FIELDS` objects, times as ISO 8601 UTC strings), ``timing``,
        ``parameters`` and ``settings``. NaN and infinite numbers are null.
        """
        return {
            "metrics": self.metrics,
            "per_symbol": self.per_symbol,
            "trades": _trade_records(self._trades),
            "timing": self.timing,
            "parameters": self.parameters,
            "settings": self.settings,
        }

    def to_json(self, path: str | Path) -> Path:
        """Write `to_dict()` as UTF-8 JSON to `path` and return the path."""
        target = Path(path)
        text = json.dumps(self.to_dict(), indent=2, ensure_ascii=False, allow_nan=False)
        target.write_text(text + "\n", encoding="utf-8")
        return target

    def plot(self, *, top_symbols: int = 5, title: str = "Backtest report") -> go.Figure:
        """The plotly report figure (`orchestrade.backtest.report.report_figure`)."""
        # Imported here: plotly is loaded only by those who draw.
        from orchestrade.backtest.report import report_figure

        return report_figure(
            equity=self._equity[TOTAL_COLUMN],
            trades=self._trades,
            metrics=self._summary,
            closes=self._closes,
            top_symbols=top_symbols,
            title=title,
        )

    def to_html(
        self, path: str | Path, *, top_symbols: int = 5, title: str = "Backtest report"
    ) -> Path:
        """Write a standalone HTML report (plotly.js embedded, no network) and return the path."""
        from orchestrade.backtest.report import report_html

        target = Path(path)
        page = report_html(
            self.plot(top_symbols=top_symbols, title=title),
            summary=self._summary_html(max_symbols=50),
            title=title,
        )
        target.write_text(page, encoding="utf-8")
        return target

    def _repr_html_(self) -> str:
        """A compact summary table for Jupyter."""
        return self._summary_html(max_symbols=20)

    def __repr__(self) -> str:
        m = self._summary
        return (
            f"BacktestResult(symbols={len(self._per_symbol)}, bars={m.bars}, trades={m.trades}, "
            f"total_return={m.total_return:.4f}, sharpe_ratio={m.sharpe_ratio:.3f})"
        )

    def _summary_html(self, *, max_symbols: int) -> str:
        return summary_html(
            metrics=self._summary,
            per_symbol=self._per_symbol,
            parameters=self._parameters,
            timing=self._timing,
            max_symbols=max_symbols,
        )


@dataclass(frozen=True, slots=True)
class _RunTables:
    """The four tables of a run, checked one by one and against each other."""

    equity: pd.DataFrame
    positions: pd.DataFrame
    trades: pd.DataFrame
    fills: pd.DataFrame
    symbols: list[str]

    @classmethod
    def checked(
        cls,
        equity: pd.DataFrame,
        positions: pd.DataFrame,
        trades: pd.DataFrame,
        fills: pd.DataFrame,
    ) -> _RunTables:
        checked_equity = check_equity(equity)
        symbols = [str(column) for column in checked_equity.columns if column != TOTAL_COLUMN]
        tables = cls(
            checked_equity,
            check_positions(positions, checked_equity),
            check_trades(trades),
            check_fills(fills),
            symbols,
        )
        for what, table in (("trades", tables.trades), ("fills", tables.fills)):
            unknown = sorted(set(table["symbol"]) - set(symbols))
            if unknown:
                raise InputError(f"{what} name symbols not in equity: {unknown}")
        return tables


def iso_utc(times: pd.Series) -> list[str]:
    """ISO 8601 UTC strings of aware times, "2024-01-02T00:00:00Z" (with nanoseconds when a
    time has a fraction of a second)."""
    values = times.dt.tz_convert("UTC").to_numpy(dtype="datetime64[ns]")
    whole_seconds = bool((values.view(np.int64) % 1_000_000_000 == 0).all())
    text = np.datetime_as_string(values, unit="s" if whole_seconds else "ns", timezone="UTC")
    return [str(item) for item in text]


def _trade_records(trades: pd.DataFrame) -> list[dict[str, Any]]:
    columns: dict[str, list[Any]] = {
        "symbol": [str(symbol) for symbol in trades["symbol"]],
        "entry_time": iso_utc(trades["entry_time"]),
        "exit_time": iso_utc(trades["exit_time"]),
    }
    for name in ("entry_price", "exit_price", "qty", "pnl", "fees"):
        columns[name] = trades[name].to_numpy(dtype=np.float64).tolist()
    return [{name: columns[name][row] for name in JSON_TRADE_FIELDS} for row in range(len(trades))]


def _checked_timing(timing: Mapping[str, float | int]) -> dict[str, float | int]:
    missing = [key for key in TIMING_KEYS if key not in timing]
    if missing:
        raise InputError(f"timing lacks {', '.join(missing)} (needs {', '.join(TIMING_KEYS)})")
    checked: dict[str, float | int] = {}
    for key, value in timing.items():
        if isinstance(value, bool) or not isinstance(value, int | float | np.integer | np.floating):
            raise InputError(f"timing.{key} must be a number, got {value!r}")
        if not (math.isfinite(float(value)) and value >= 0):
            raise InputError(f"timing.{key} must be finite and >= 0, got {value!r}")
        checked[str(key)] = int(value) if key == "bars" else float(value)
    if float(timing["bars"]) != int(timing["bars"]):
        raise InputError(f"timing.bars must be a whole number, got {timing['bars']!r}")
    return checked


def _checked_closes(closes: pd.DataFrame | None) -> pd.DataFrame | None:
    if closes is None:
        return None
    if not isinstance(closes, pd.DataFrame):
        raise InputError(f"closes must be a DataFrame, not {type(closes).__name__}")
    frame = closes.astype(np.float64)
    frame.index = check_time_index(closes.index, "closes")
    return frame


def _json_safe(value: Any, path: str) -> Any:
    """`value` made of JSON types only; NaN/inf become None, times ISO 8601 strings.

    Raises:
        InputError: a value of another type, or a naive datetime, named by its path.
    """
    if value is None or isinstance(value, bool | str):
        return value
    if isinstance(value, Enum):
        return _json_safe(value.value, path)
    if isinstance(value, int | np.integer) and not isinstance(value, np.bool_):
        return int(value)
    if isinstance(value, np.bool_):
        return bool(value)
    if isinstance(value, float | np.floating):
        number = float(value)
        return number if math.isfinite(number) else None
    if isinstance(value, datetime):
        if value.tzinfo is None:
            raise InputError(f"{path} is a naive datetime; use aware UTC times")
        return iso_utc(pd.Series([pd.Timestamp(value).tz_convert("UTC")]))[0]
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, Path):
        return str(value)
    if isinstance(value, Mapping):
        return {str(key): _json_safe(item, f"{path}.{key}") for key, item in value.items()}
    if isinstance(value, list | tuple | np.ndarray):
        return [_json_safe(item, f"{path}[{index}]") for index, item in enumerate(value)]
    raise InputError(f"{path} holds a {type(value).__name__}, which JSON cannot represent")
