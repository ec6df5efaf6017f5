"""`orchestrade optimize`: Markowitz weights for return series, or for stored bots.

``--returns`` names a wide CSV of daily simple returns, a folder of price files (read by
`orchestrade.data`, returns from the closes on common dates), or stored bots: ``bots`` for
every running bot, or bot ids separated by commas (their equity snapshots in ``--db``).
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping
from datetime import UTC
from pathlib import Path
from typing import Annotated, Any

import numpy as np
import pandas as pd
import typer
from rich.table import Table

from orchestrade.cli.console import console, reports_user_errors
from orchestrade.cli.options import DatabaseOption, open_database
from orchestrade.data.cleaning import clean_bars
from orchestrade.data.files import discover_files, read_market_file
from orchestrade.domain import BotId, BotState
from orchestrade.portfolio.analysis import daily_returns, diversification_ratio, risk_contributions
from orchestrade.portfolio.errors import ReturnsFileError
from orchestrade.portfolio.optimization import (
    Estimates,
    OptimizationResult,
    WeightBounds,
    estimate,
    optimize_estimates,
    parse_covariance,
    parse_objective,
)
from orchestrade.portfolio.returns_files import load_returns
from orchestrade.storage import BotRepository, PortfolioRepository, Store

ObjectiveOption = Annotated[
    str,
    typer.Option(
        "--objective",
        help="min_variance, max_sharpe or max_return (or conservative, moderate, aggressive).",
    ),
]
BoundsOption = Annotated[
    str, typer.Option("--bounds", help="Least and most weight of any one asset: LOWER,UPPER.")
]
RiskFreeOption = Annotated[
    float, typer.Option("--risk-free", help="Annual risk-free rate of the Sharpe ratio.")
]
CovarianceOption = Annotated[
    str, typer.Option("--covariance", help="Covariance estimate: sample or ledoit_wolf.")
]
MaxVolatilityOption = Annotated[
    float | None,
    typer.Option("--max-volatility", help="max_return: annual volatility cap (default: none)."),
]


@reports_user_errors
def optimize(
    returns: Annotated[
        str,
        typer.Option(
            "--returns",
            help="A wide CSV of daily returns, a folder of price files, or stored bots "
            "('bots' or ids separated by commas).",
        ),
    ],
    objective: ObjectiveOption,
    bounds: BoundsOption = "0.05,0.40",
    risk_free: RiskFreeOption = 0.0,
    covariance: CovarianceOption = "sample",
    max_volatility: MaxVolatilityOption = None,
    json_out: Annotated[
        Path | None, typer.Option("--json", help="Write the allocation as JSON to this file.")
    ] = None,
    db: DatabaseOption = None,
) -> None:
    """Optimal weights (Markowitz, annualised over 252 days) for assets or bots."""
    goal = parse_objective(objective)
    method = parse_covariance(covariance)
    weight_bounds = WeightBounds.parse(bounds)
    frame = read_returns(returns, db)
    weight_bounds.check(frame.shape[1])
    estimates = estimate(frame, method)
    result = optimize_estimates(
        estimates,
        objective=goal,
        bounds=weight_bounds,
        risk_free=risk_free,
        max_volatility=max_volatility,
    )
    console.print(allocation_table(result, estimates, frame))
    if json_out is not None:
        document = allocation_json(result, estimates, frame)
        json_out.parent.mkdir(parents=True, exist_ok=True)
        json_out.write_text(json.dumps(document, indent=2) + "\n", encoding="utf-8")
        console.print(f"allocation JSON: {json_out}")


def read_returns(source: str, db: str | None) -> pd.DataFrame:
    """Daily returns from a file, a folder of price files, or stored bots' equity."""
    path = Path(source).expanduser()
    if path.exists():
        return load_returns(path, read_closes=read_closes)
    with open_database(db) as store:
        return bot_returns(store, source)


def read_closes(folder: Path) -> dict[str, pd.Series]:
    """The daily closes of every symbol in the price files under `folder`.

    Raises:
        ReturnsFileError: no price file, or a file that is not daily bars.
        DataFileError: a file cannot be read (from `orchestrade.data`).
    """
    files = discover_files([folder])
    if not files:
        raise ReturnsFileError(folder, "no CSV, CSV.gz or Parquet price files in this folder")
    closes: dict[str, pd.Series] = {}
    for path in files:
        market_file = read_market_file(path)
        if market_file.kind != "bars":
            raise ReturnsFileError(path, "an order-book file, not price bars")
        if market_file.timeframe != "1d":
            raise ReturnsFileError(
                path, f"{market_file.timeframe} bars; daily returns need daily closes (1d)"
            )
        bars, _ = clean_bars(market_file.frame)
        for symbol, rows in bars.groupby("symbol", sort=False):
            if str(symbol) in closes:
                raise ReturnsFileError(path, f"{symbol} is in another file of the folder too")
            closes[str(symbol)] = pd.Series(
                rows["close"].to_numpy(dtype=np.float64), index=pd.DatetimeIndex(rows["timestamp"])
            )
    return closes


def bot_returns(store: Store, names: str) -> pd.DataFrame:
    """Daily returns of stored bots' equity snapshots: ``bots`` (every running bot) or ids.

    Raises:
        ReturnsFileError: no such file and no such bots, or bots without two days of equity.
    """
    bots = BotRepository(store)
    if names.strip().lower() == "bots":
        chosen = [bot.bot_id for bot in bots.list(state=BotState.RUNNING)]
    else:
        chosen = [BotId(name.strip()) for name in names.split(",") if name.strip()]
        unknown = [name for name in chosen if bots.get(name) is None]
        if unknown:
            raise ReturnsFileError(
                names, f"no such file or folder, and no stored bot {', '.join(unknown)}"
            )
    equity = bot_equity(PortfolioRepository(store), chosen)
    if equity.shape[1] < 2:
        raise ReturnsFileError(
            names,
            f"{equity.shape[1]} of the {len(chosen)} bot(s) have equity snapshots on two days "
            "or more; an allocation needs at least 2",
        )
    return daily_returns(equity)


def bot_equity(portfolio: PortfolioRepository, bots: list[BotId]) -> pd.DataFrame:
    """The equity snapshots of `bots` as columns (bots with under two snapshots left out)."""
    columns: dict[str, pd.Series] = {}
    for bot_id in bots:
        snapshots = portfolio.snapshots(bot_id=bot_id)
        if len({snapshot.time.date() for snapshot in snapshots}) < 2:
            continue
        columns[bot_id] = pd.Series(
            [float(snapshot.equity) for snapshot in snapshots],
            index=pd.DatetimeIndex([snapshot.time.astimezone(UTC) for snapshot in snapshots]),
        )
    return pd.DataFrame(columns)


def allocation_table(
    result: OptimizationResult, estimates: Estimates, frame: pd.DataFrame
) -> Table:
    """One row per asset: weight, its own expected return and volatility, its risk share."""
    weights = np.array([result.weights[name] for name in estimates.assets])
    contributions = risk_contributions(weights, estimates.covariance)
    variance = float(contributions.sum())
    table = Table(
        title=f"allocation: {result.objective.value} ({result.covariance.value} covariance, "
        f"weights {result.bounds})",
        title_justify="left",
    )
    for column in ("asset", "weight", "exp. return", "volatility", "risk share"):
        table.add_column(column, justify="left" if column == "asset" else "right")
    sigmas = np.sqrt(np.clip(np.diag(estimates.covariance), 0.0, None))
    for index, name in enumerate(estimates.assets):
        table.add_row(
            name,
            f"{weights[index]:.2%}",
            f"{estimates.expected_returns[index]:.2%}",
            f"{sigmas[index]:.2%}",
            f"{contributions[index] / variance:.1%}" if variance > 0 else "-",
        )
    ratio = diversification_ratio(weights, estimates.covariance)
    table.caption = (
        f"portfolio: expected return {result.expected_return:.2%}, volatility "
        f"{result.volatility:.2%}, Sharpe {_number(result.sharpe)} (risk-free "
        f"{result.risk_free:.2%}); diversification ratio {_number(ratio)}; "
        f"{result.observations} daily returns {_span(frame)}, annualised over 252 days"
    )
    return table


def allocation_json(
    result: OptimizationResult, estimates: Estimates, frame: pd.DataFrame
) -> dict[str, Any]:
    """`result.to_dict()` plus the period and each asset's own estimates."""
    weights = np.array([result.weights[name] for name in estimates.assets])
    contributions = risk_contributions(weights, estimates.covariance)
    document = result.to_dict()
    document["start"] = _day(frame.index[0])
    document["end"] = _day(frame.index[-1])
    document["diversification_ratio"] = _json_number(
        diversification_ratio(weights, estimates.covariance)
    )
    document["assets"] = _assets(estimates, contributions)
    return document


def _assets(estimates: Estimates, contributions: np.ndarray) -> Mapping[str, dict[str, Any]]:
    return {
        name: {
            "expected_return": float(estimates.expected_returns[index]),
            "volatility": math.sqrt(max(float(estimates.covariance[index, index]), 0.0)),
            "risk_contribution": float(contributions[index]),
        }
        for index, name in enumerate(estimates.assets)
    }


def _span(frame: pd.DataFrame) -> str:
    return f"from {_day(frame.index[0])} to {_day(frame.index[-1])}"


def _day(value: Any) -> str:
    return str(pd.Timestamp(value).date())


def _number(value: float) -> str:
    return f"{value:.2f}" if math.isfinite(value) else "n/a"


def _json_number(value: float) -> float | None:
    return value if math.isfinite(value) else None
