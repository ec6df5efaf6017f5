"""`orchestrade sweep`: score a parameter grid, optionally walk-forward, on all cores."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TimeElapsedColumn
from rich.table import Table

from orchestrade.backtest.errors import InputError
from orchestrade.backtest.sweep import SweepResult, parse_walk_forward, run_sweep
from orchestrade.cli.backtest_command import (
    CashOption,
    DataOption,
    EndOption,
    FeeMinOption,
    FeeOption,
    FillOption,
    LatencyOption,
    MarketOption,
    MinConfidenceOption,
    ModeOption,
    ParticipationOption,
    RiskOption,
    SlippageOption,
    StartOption,
    StrategyOption,
    SymbolsOption,
    TaxOption,
    TimeframeOption,
    make_backtest,
)
from orchestrade.cli.console import console, reports_user_errors
from orchestrade.strategies import StrategySpec, parameter_grid


@reports_user_errors
def sweep(
    strategy: StrategyOption,
    grid: Annotated[
        str | None,
        typer.Option("--grid", help="fast=5:30:5,slow=20:100:10 (default: the spec's ranges)."),
    ] = None,
    walk_forward: Annotated[
        str | None, typer.Option("--walk-forward", help="TRAIN:TEST bar counts, e.g. 500:100.")
    ] = None,
    executor: Annotated[
        str, typer.Option("--executor", help="local (all cores) or ray.")
    ] = "local",
    address: Annotated[
        str | None, typer.Option("--address", help="Ray cluster address (default: local Ray).")
    ] = None,
    workers: Annotated[int | None, typer.Option("--workers", min=1)] = None,
    metric: Annotated[str, typer.Option("--metric", help="Metric to maximise.")] = "sharpe_ratio",
    top: Annotated[int, typer.Option("--top", min=1, help="Rows in the results table.")] = 10,
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
) -> None:
    """Run a strategy over a grid of parameters and rank the combinations."""
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
    if not isinstance(engine.strategy, StrategySpec):
        raise InputError("sweeps need a strategy spec (a built-in name or a spec file)")
    combinations = parameter_grid(engine.strategy, grid)
    folds = parse_walk_forward(walk_forward) if walk_forward else None
    with Progress(
        "[progress.description]{task.description}",
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=console,
        transient=True,
    ) as bar:
        task = bar.add_task("sweeping", total=len(combinations))
        result = run_sweep(
            engine,
            combinations,
            metric=metric,
            executor=executor,
            workers=workers,
            walk_forward=folds,
            address=address,
            progress=lambda done, total: bar.update(task, completed=done, total=total),
        )
    console.print(sweep_table(result, top))
    if result.folds:
        console.print(walk_forward_table(result))
    if json_out is not None:
        json_out.write_text(json.dumps(result.to_dict(), indent=2) + "\n", encoding="utf-8")
        console.print(f"results JSON: {json_out}")


def sweep_table(result: SweepResult, top: int) -> Table:
    """The best combinations with their headline metrics."""
    table = Table(title=f"sweep: best {top} by {result.metric}", title_justify="left")
    names = list(result.best.params)
    for name in [*names, result.metric, "total_return", "max_drawdown", "trades"]:
        table.add_column(name, justify="right")
    for run in result.top(top):
        values = [run.params[name] for name in names]
        metrics = [run.metrics.get(key) for key in (result.metric, "total_return", "max_drawdown")]
        table.add_row(
            *(str(value) for value in values),
            *(_fmt(value) for value in metrics),
            str(run.metrics.get("trades")),
        )
    table.caption = (
        f"{len(result.runs)} combinations in {result.seconds:.2f} s ({result.executor}); "
        f"best: {result.best.params}"
    )
    return table


def walk_forward_table(result: SweepResult) -> Table:
    """Each fold's chosen parameters with in- and out-of-sample scores."""
    table = Table(title=f"walk-forward ({result.metric})", title_justify="left")
    for column in ("train", "test", "best params", "in sample", "out of sample"):
        table.add_column(column)
    for fold in result.folds:
        table.add_row(
            f"{fold.train[0][:10]}..{fold.train[1][:10]}",
            f"{fold.test[0][:10]}..{fold.test[1][:10]}",
            ", ".join(f"{k}={v}" for k, v in fold.best_params.items()),
            _fmt(fold.in_sample.get(result.metric)),
            _fmt(fold.out_of_sample.get(result.metric)),
        )
    summary = result.out_of_sample_summary()
    table.caption = f"out of sample: mean {_fmt(summary['mean'])}, median {_fmt(summary['median'])}"
    return table


def _fmt(value: object) -> str:
    return f"{value:.3f}" if isinstance(value, int | float) else "-"
