"""`orchestrade backtest`: one strategy over files or the store, with honest costs."""

from __future__ import annotations

import math
import time
from pathlib import Path
from typing import Annotated, Any

import numpy as np
import pandas as pd
import typer
from rich.table import Table

from orchestrade.backtest.engine import Backtest
from orchestrade.backtest.errors import InputError
from orchestrade.backtest.results import BacktestResult
from orchestrade.cli.console import console, reports_user_errors
from orchestrade.cli.options import open_database
from orchestrade.data.files import infer_instrument_kind
from orchestrade.data.panel import BarPanel
from orchestrade.domain import InstrumentKind, Market
from orchestrade.settings import Settings

StrategyOption = Annotated[
    str, typer.Option("--strategy", help="A built-in name (sma_cross, ...) or a spec JSON file.")
]
ParamsOption = Annotated[
    str | None, typer.Option("--params", help="Strategy parameters: fast=10,slow=30.")
]
DataOption = Annotated[
    str | None,
    typer.Option(
        "--data",
        help="A file or folder (imported on the fly), or a database URL; default: the store.",
    ),
]
SymbolsOption = Annotated[
    str | None, typer.Option("--symbols", help="Comma-separated symbols (default: all).")
]
StartOption = Annotated[str | None, typer.Option("--start", help="First date (inclusive).")]
EndOption = Annotated[str | None, typer.Option("--end", help="Last date (inclusive).")]
TimeframeOption = Annotated[str, typer.Option("--timeframe", help="Bars read from the store.")]
CashOption = Annotated[
    float, typer.Option("--cash", help="Cash per symbol (isolated) or in total (portfolio).")
]
FeeOption = Annotated[float, typer.Option("--fee", help="Commission, fraction of traded value.")]
FeeMinOption = Annotated[float, typer.Option("--fee-min", help="Minimum commission per order.")]
TaxOption = Annotated[
    float | None,
    typer.Option("--tax", help="Sell tax fraction (default: KRX rate on KRX symbols, else 0)."),
]
SlippageOption = Annotated[
    str, typer.Option("--slippage", help="Basis points (5 or 5bps) or range:FRACTION of high-low.")
]
ParticipationOption = Annotated[
    float | None, typer.Option("--participation", help="Max fraction of a bar's volume per fill.")
]
LatencyOption = Annotated[int, typer.Option("--latency", min=0, help="Extra bars before a fill.")]
ModeOption = Annotated[str, typer.Option("--mode", help="isolated or portfolio.")]
FillOption = Annotated[str, typer.Option("--fill", help="next_open or close.")]
MinConfidenceOption = Annotated[
    float | None,
    typer.Option("--min-confidence", help="Signals below are not traded (default: rules, 0.65)."),
]
RiskOption = Annotated[
    str | None, typer.Option("--risk", help="Risk limits: a YAML/JSON file or none.")
]
MarketOption = Annotated[
    Market | None, typer.Option("--market", case_sensitive=False, help="krx, us or crypto.")
]


@reports_user_errors
def backtest(
    strategy: StrategyOption,
    params: ParamsOption = None,
    data: DataOption = None,
    symbols: SymbolsOption = None,
    start: StartOption = None,
    end: EndOption = None,
    timeframe: TimeframeOption = "1d",
    cash: CashOption = 10_000_000.0,
    fee: FeeOption = 0.001,
    fee_min: FeeMinOption = 0.0,
    tax: TaxOption = None,
    slippage: SlippageOption = "0",
    participation: ParticipationOption = None,
    latency: LatencyOption = 0,
    mode: ModeOption = "isolated",
    fill: FillOption = "next_open",
    min_confidence: MinConfidenceOption = None,
    risk: RiskOption = None,
    market: MarketOption = None,
    json_out: Annotated[Path | None, typer.Option("--json", help="Write results JSON.")] = None,
    report: Annotated[Path | None, typer.Option("--report", help="Write HTML report.")] = None,
) -> None:
    """Backtest a strategy: signals, fills with costs and risk limits, metrics and reports."""
    engine = make_backtest(
        strategy,
        data=data,
        symbols=symbols,
        start=start,
        end=end,
        timeframe=timeframe,
        cash=cash,
        fee=fee,
        fee_min=fee_min,
        tax=tax,
        slippage=slippage,
        participation=participation,
        latency=latency,
        mode=mode,
        fill=fill,
        min_confidence=min_confidence,
        risk=risk,
        market=market,
    )
    result = engine.run(**parse_params(params))
    console.print(result_table(result, engine.strategy_name))
    if json_out is not None:
        console.print(f"results JSON: {result.to_json(json_out)}")
    if report is not None:
        console.print(f"HTML report: {result.to_html(report, title=engine.strategy_name)}")


def make_backtest(
    strategy: str,
    *,
    data: str | pd.DataFrame | None,
    symbols: str | None,
    start: str | None,
    end: str | None,
    timeframe: str,
    cash: float,
    fee: float,
    fee_min: float,
    tax: float | None,
    slippage: str,
    participation: float | None,
    latency: int,
    mode: str,
    fill: str,
    min_confidence: float | None,
    risk: str | None,
    market: Market | None,
) -> Backtest:
    """The `Backtest` the shared command-line options describe (backtest and sweep)."""
    started = time.perf_counter()
    bars, markets, kinds = load_bars_option(data, symbols, start, end, timeframe, market)
    load_seconds = time.perf_counter() - started
    slippage_bps, slippage_range = parse_slippage(slippage)
    return Backtest(
        bars,
        strategy,
        cash=cash,
        fees=fee,
        fee_min=fee_min,
        tax=tax,
        slippage_bps=slippage_bps,
        slippage_range=slippage_range,
        participation=participation,
        latency_bars=latency,
        mode=_choice("--mode", mode, ("isolated", "portfolio")),  # type: ignore[arg-type]
        fill=_choice("--fill", fill, ("next_open", "close")),  # type: ignore[arg-type]
        risk=risk,
        min_confidence=min_confidence,
        market=market,
        markets=markets,
        kinds=kinds,
        load_seconds=load_seconds,
    )


def load_bars_option(
    data: str | pd.DataFrame | None,
    symbols: str | None,
    start: str | None,
    end: str | None,
    timeframe: str,
    market: Market | None,
) -> tuple[BarPanel, dict[str, Market], dict[str, InstrumentKind]]:
    """The bars `--data` names (files, a database URL or the default store; or a frame of
    bars already made, e.g. from trade prints), filtered, with the market and product kind
    of each symbol."""
    wanted = [s.strip() for s in symbols.split(",") if s.strip()] if symbols else None
    if data is not None and (not isinstance(data, str) or "://" not in data):
        from orchestrade.backtest.inputs import load_bar_data

        source = Path(data).expanduser() if isinstance(data, str) else data
        prepared = load_bar_data(source, market=market)
        panel = prepared.panel.select(wanted, _time(start, "start"), _time(end, "end", True))
        markets = dict(zip(prepared.panel.symbols, prepared.markets, strict=True))
        kinds = dict(zip(prepared.panel.symbols, prepared.kinds, strict=True))
        return (
            panel,
            {symbol: markets[symbol] for symbol in panel.symbols},
            {symbol: kinds[symbol] for symbol in panel.symbols},
        )
    with open_database(data or Settings().database_url) as store:
        loaded = store.load_bars(wanted, start, end, timeframe, market=market)
        instruments = store.list_instruments(market)
    known = {info.symbol: info for info in instruments if info.symbol in loaded.panel.symbols}
    return (
        loaded.panel,
        {symbol: info.market for symbol, info in known.items()},
        {
            symbol: infer_instrument_kind(symbol, info.market, info.name)
            for symbol, info in known.items()
        },
    )


def parse_params(text: str | None) -> dict[str, Any]:
    """`fast=10,slow=30` -> {"fast": 10, "slow": 30} (ints, floats, booleans, else text)."""
    if not text:
        return {}
    params: dict[str, Any] = {}
    for item in text.split(","):
        name, sep, raw = item.partition("=")
        if not sep or not name.strip():
            raise InputError(f"--params expects name=value pairs separated by commas, got {item!r}")
        params[name.strip()] = _value(raw.strip())
    return params


def parse_slippage(text: str) -> tuple[float, float]:
    """`5`, `5bps` -> (5 bps, 0); `range:0.1` -> (0, 10% of the bar's range)."""
    value = text.strip().lower()
    try:
        if value.startswith("range:"):
            return 0.0, float(value.removeprefix("range:"))
        return float(value.removesuffix("bps")), 0.0
    except ValueError:
        raise InputError(
            f"--slippage must be basis points (5, 5bps) or range:FRACTION, got {text!r}"
        ) from None


def result_table(result: BacktestResult, name: str, *, kind: str = "backtest") -> Table:
    """The headline metrics of a run (`kind`: backtest, replay or paper)."""
    metrics = result.metrics
    table = Table(title=f"{kind}: {name}", title_justify="left")
    table.add_column("metric")
    table.add_column("value", justify="right")
    rows = (
        ("total return", _pct(metrics.get("total_return"))),
        ("CAGR", _pct(metrics.get("cagr"))),
        ("annual volatility", _pct(metrics.get("annual_volatility"))),
        ("Sharpe", _number(metrics.get("sharpe_ratio"))),
        ("Sortino", _number(metrics.get("sortino_ratio"))),
        ("Calmar", _number(metrics.get("calmar_ratio"))),
        ("max drawdown", _pct(metrics.get("max_drawdown"))),
        ("trades", _number(metrics.get("trades"), digits=0)),
        ("win rate", _pct(metrics.get("win_rate"))),
        ("profit factor", _number(metrics.get("profit_factor"))),
        ("exposure", _pct(metrics.get("exposure"))),
        ("final equity", _number(metrics.get("final_equity"), digits=0)),
    )
    for label, value in rows:
        table.add_row(label, value)
    timing = result.timing
    table.caption = (
        f"{timing['bars']:,} bars in {timing['seconds']:.3f} s "
        f"(+{timing['load_seconds']:.2f} s loading)"
    )
    return table


def _choice(option: str, value: str, allowed: tuple[str, ...]) -> str:
    if value not in allowed:
        raise InputError(f"{option} must be one of {', '.join(allowed)}, got {value!r}")
    return value


def _time(text: str | None, option: str, end: bool = False) -> np.datetime64 | None:
    if text is None:
        return None
    try:
        moment = np.datetime64(text, "ns")
    except ValueError:
        raise InputError(f"--{option} must be a date like 2020-01-31, got {text!r}") from None
    if end and len(text) <= 10:
        moment = moment + np.timedelta64(1, "D") - np.timedelta64(1, "ns")
    return moment


def _value(raw: str) -> Any:
    lowered = raw.lower()
    if lowered in {"true", "false"}:
        return lowered == "true"
    for kind in (int, float):
        try:
            return kind(raw)
        except ValueError:
            continue
    return raw


def _pct(value: Any) -> str:
    if value is None or (isinstance(value, float) and not math.isfinite(value)):
        return "-"
    return f"{100 * float(value):.2f}%"


def _number(value: Any, digits: int = 3) -> str:
    if value is None or (isinstance(value, float) and not math.isfinite(value)):
        return "-"
    return f"{float(value):,.{digits}f}"
