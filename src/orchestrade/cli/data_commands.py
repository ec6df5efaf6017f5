"""`orchestrade data ...`: import, list, check and synthesize market data."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer

from orchestrade.cli.console import console, error_console, reports_user_errors
from orchestrade.cli.options import DatabaseOption, JsonOption, MarketOption, open_database
from orchestrade.cli.tables import import_table, instruments_table, quality_table
from orchestrade.data.importing import import_paths, store_synthetic
from orchestrade.data.quality.targets import QualityTarget, quality_of_files, quality_of_store
from orchestrade.data.synthetic import synthesize_market
from orchestrade.domain import Market

data_app = typer.Typer(
    help="Import, inspect, check and synthesize market data.", no_args_is_help=True
)


@data_app.command("import")
@reports_user_errors
def import_command(
    paths: Annotated[list[Path], typer.Argument(help="Files or folders (CSV, CSV.gz, Parquet).")],
    market: MarketOption = None,
    db: DatabaseOption = None,
    as_json: JsonOption = False,
) -> None:
    """Import bar and order-book files into the store; re-importing adds nothing.

    Columns are detected by name; rows that cannot be stored are counted per reason and
    skipped; a file that cannot be understood is reported and leaves the store unchanged.
    """
    missing = [str(path) for path in paths if not path.exists()]
    if missing:
        raise typer.BadParameter(f"no such file or folder: {', '.join(missing)}")
    with open_database(db) as store:
        report = import_paths(paths, store, market)
    if as_json:
        console.print_json(json.dumps(report.to_dict()))
    else:
        console.print(import_table(report))
    if not report.files:
        console.print("[yellow]no CSV, CSV.gz or Parquet files found[/]")
    for failed in report.failed:
        error_console.print(f"[bold red]failed:[/] {failed.error}", highlight=False)
    if not report.ok:
        raise typer.Exit(1)


@data_app.command("list")
@reports_user_errors
def list_command(
    market: MarketOption = None,
    db: DatabaseOption = None,
    as_json: JsonOption = False,
) -> None:
    """List the instruments in the store with their bar counts and date ranges."""
    with open_database(db) as store:
        summaries = store.bar_summaries(market)
    if as_json:
        console.print_json(json.dumps([summary.to_dict() for summary in summaries]))
    else:
        console.print(instruments_table(summaries))


@data_app.command("quality")
@reports_user_errors
def quality_command(
    paths: Annotated[
        list[Path] | None,
        typer.Argument(help="Files or folders to check before importing; none = the store."),
    ] = None,
    market: MarketOption = None,
    timeframe: Annotated[
        str | None, typer.Option(help="Only this timeframe of the store (e.g. 1d, 1m).")
    ] = None,
    db: DatabaseOption = None,
    as_json: JsonOption = False,
    details: Annotated[
        bool, typer.Option("--details", help="Also list each finding with examples.")
    ] = False,
) -> None:
    """Check data quality per symbol: a score 0..1, a recommendation and counts per check."""
    targets: list[QualityTarget]
    missing = [str(path) for path in paths or [] if not path.exists()]
    if missing:
        raise typer.BadParameter(f"no such file or folder: {', '.join(missing)}")
    if paths:
        targets = quality_of_files(paths, market)
    else:
        with open_database(db) as store:
            targets = quality_of_store(store.bars, market, timeframe)
    if as_json:
        console.print_json(json.dumps([target.to_dict() for target in targets]))
    elif not targets:
        console.print("[yellow]nothing to check: the store holds no bars[/]")
    else:
        for target in targets:
            console.print(quality_table(target))
            if details:
                for line in target.detail_lines():
                    console.print(f"  {line}", highlight=False, soft_wrap=True)
    if any(target.report is None for target in targets):
        raise typer.Exit(1)


@data_app.command("synth")
@reports_user_errors
def synth_command(
    symbols: Annotated[int, typer.Option("--symbols", min=1, help="How many instruments.")] = 20,
    days: Annotated[int, typer.Option("--days", min=2, help="How many trading days.")] = 500,
    seed: Annotated[int, typer.Option("--seed", help="Random seed (same seed, same data).")] = 7,
    market: Annotated[
        Market, typer.Option(case_sensitive=False, help="Calendar, currency and tick rules.")
    ] = Market.KRX,
    db: DatabaseOption = None,
) -> None:
    """Generate a clearly labelled synthetic market into the store (KRX: SYN0001, US: SYNU0001)."""
    synthetic = synthesize_market(symbols, days, seed, market=market)
    with open_database(db) as store:
        counts = store_synthetic(synthetic, store)
    console.print(
        f"synthetic {market.value} market: {symbols} symbols x {days} days "
        f"(seed {seed}) -> {counts.inserted} bars inserted, {counts.unchanged} unchanged"
    )
