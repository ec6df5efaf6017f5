"""`orchestrade anomalies`: the anomalies and breaker trips kept in the store, and
`orchestrade anomalies scan PATH`: the market detectors run over data files.

    orchestrade anomalies --since 1d --severity high
    orchestrade anomalies --bot bot-1 --json
    orchestrade anomalies scan ../shared/data/intraday --limit 5
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.table import Table

from orchestrade.anomaly import (
    AnomalyThresholds,
    ScanReport,
    load_thresholds,
    scan_bars,
    scan_book,
)
from orchestrade.cli.console import console, error_console, reports_user_errors
from orchestrade.cli.options import DatabaseOption, JsonOption, MarketOption, open_database
from orchestrade.data import clean_bars, clean_book_levels, discover_files, read_market_file
from orchestrade.data.errors import DataError
from orchestrade.domain import BotId, Market, Severity
from orchestrade.storage.anomalies import AnomalyRepository, StoredAnomaly

anomalies_app = typer.Typer(
    help="Anomalies and circuit-breaker trips: list the kept ones, or scan data files.",
    invoke_without_command=True,
)

_SEVERITY_STYLE = {
    Severity.LOW: "dim",
    Severity.MEDIUM: "yellow",
    Severity.HIGH: "red",
    Severity.CRITICAL: "bold red",
}
_DURATION = re.compile(r"(\d+(?:\.\d+)?)\s*(s|m|min|h|d|w)", re.IGNORECASE)
_UNIT_SECONDS = {"s": 1, "m": 60, "min": 60, "h": 3600, "d": 86_400, "w": 604_800}


@anomalies_app.callback()
@reports_user_errors
def anomalies(
    context: typer.Context,
    since: Annotated[
        str | None,
        typer.Option(
            help="Only anomalies detected since then: an ISO date or time (UTC unless it "
            "has an offset) or a duration back from now (90s, 15m, 2h, 7d, 1w).",
            show_default=False,
        ),
    ] = None,
    severity: Annotated[
        Severity | None,
        typer.Option(
            case_sensitive=False, help="Only this severity and worse (low, medium, high, critical)."
        ),
    ] = None,
    bot: Annotated[
        str | None, typer.Option("--bot", help="Only anomalies of this bot.", show_default=False)
    ] = None,
    detector: Annotated[
        str | None,
        typer.Option(help="Only this detector (or breaker, e.g. daily_loss).", show_default=False),
    ] = None,
    limit: Annotated[int, typer.Option(min=1, max=10_000, help="At most this many.")] = 50,
    db: DatabaseOption = None,
    as_json: JsonOption = False,
) -> None:
    """List the anomalies and circuit-breaker trips kept in the store, newest first."""
    if context.invoked_subcommand is not None:
        return
    start = parse_since(since, now=datetime.now(UTC)) if since is not None else None
    with open_database(db) as store:
        found = AnomalyRepository(store).recent(
            since=start,
            limit=limit,
            min_severity=severity,
            bot_id=BotId(bot) if bot else None,
            detector=detector,
        )
    if as_json:
        console.print_json(json.dumps([item.to_dict() for item in found]))
        return
    if not found:
        console.print("[yellow]no anomalies kept" + (" in that window[/]" if since else "[/]"))
        return
    console.print(anomalies_table(found))


@anomalies_app.command("scan")
@reports_user_errors
def scan_command(
    paths: Annotated[list[Path], typer.Argument(help="Files or folders (CSV, CSV.gz, Parquet).")],
    thresholds: Annotated[
        Path | None,
        typer.Option(
            "--thresholds",
            help="YAML/JSON file of thresholds (its `anomaly` section, or the whole file).",
            show_default=False,
        ),
    ] = None,
    market: MarketOption = None,
    limit: Annotated[
        int, typer.Option(min=0, help="Findings listed per file, largest first (0: all).")
    ] = 10,
    as_json: JsonOption = False,
) -> None:
    """Run the market detectors (price move, volume spike, book imbalance) over bar and
    order-book files, as a live feed would, and list what trips them."""
    missing = [str(path) for path in paths if not path.exists()]
    if missing:
        raise typer.BadParameter(f"no such file or folder: {', '.join(missing)}")
    chosen = load_thresholds(thresholds) if thresholds is not None else AnomalyThresholds()
    result = scan_files(paths, chosen, market=market)
    if as_json:
        console.print_json(json.dumps(result.to_dict()))
    else:
        console.print(scan_summary_table(result))
        for report in result.reports:
            if report.findings:
                console.print(findings_table(report, limit))
    if not result.reports and not result.failed:
        console.print("[yellow]no CSV, CSV.gz or Parquet files found[/]")
    for _path, error in result.failed:
        error_console.print(f"[bold red]failed:[/] {error}", highlight=False, soft_wrap=True)
    if result.failed:
        raise typer.Exit(1)


def parse_since(text: str, *, now: datetime) -> datetime:
    """An aware UTC instant from an ISO date/time or a duration back from `now`.

    Raises:
        typer.BadParameter: neither a date/time nor a duration.
    """
    value = text.strip()
    duration = _DURATION.fullmatch(value)
    if duration is not None:
        amount, unit = float(duration.group(1)), duration.group(2).lower()
        return now - timedelta(seconds=amount * _UNIT_SECONDS[unit])
    try:
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        raise typer.BadParameter(
            f"--since {text!r} is neither an ISO date/time (2024-03-01, "
            "2024-03-01T09:00+09:00) nor a duration (90s, 15m, 2h, 7d, 1w)"
        ) from None
    return parsed.replace(tzinfo=UTC) if parsed.tzinfo is None else parsed.astimezone(UTC)


@dataclass(slots=True)
class FilesScan:
    """The scans of several files, and the files that could not be read."""

    reports: list[ScanReport] = field(default_factory=list)
    failed: list[tuple[str, str]] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return {
            "files": [_report_dict(report) for report in self.reports],
            "failed": [{"path": path, "error": error} for path, error in self.failed],
        }


def scan_files(
    paths: list[Path], thresholds: AnomalyThresholds, *, market: Market | None = None
) -> FilesScan:
    """Read, clean and scan every data file under `paths` (a file that cannot be read is
    listed in `failed`; the others are still scanned)."""
    result = FilesScan()
    for path in discover_files(paths):
        try:
            data = read_market_file(path, market=market)
        except DataError as error:
            result.failed.append((str(path), str(error)))
            continue
        if data.kind == "book":
            levels, _ = clean_book_levels(data.frame)
            result.reports.append(scan_book(levels, thresholds=thresholds, source=path.name))
        else:
            bars, _ = clean_bars(data.frame)
            timeframe = data.timeframe or "1d"
            result.reports.append(
                scan_bars(bars, timeframe, thresholds=thresholds, source=path.name)
            )
    return result


def anomalies_table(found: list[StoredAnomaly]) -> Table:
    """One row per kept anomaly or trip, newest first: when and how bad, what and about
    whom, and the reason (which states the value and the limit; `--json` has them as
    numbers)."""
    table = Table(title="anomalies (newest first)", title_justify="left", show_lines=True)
    table.add_column("detected (UTC)\nseverity", no_wrap=True)
    table.add_column("detector\nsubject", no_wrap=True)
    table.add_column("reason", overflow="fold", ratio=1)
    for item in found:
        style = _SEVERITY_STYLE[item.severity]
        bot = item.event.bot_id
        subject = item.subject if bot is None or bot == item.subject else f"{item.subject} ({bot})"
        table.add_row(
            f"{item.detected_at:%Y-%m-%d %H:%M:%S}\n[{style}]{item.severity.value}[/]",
            f"{item.detector}\n{subject}",
            item.event.reason,
        )
    table.caption = f"{len(found)} shown"
    return table


def scan_summary_table(result: FilesScan) -> Table:
    """One row per file: what was scanned and how many findings of each detector."""
    table = Table(title="anomaly scan (findings per detector)", title_justify="left")
    table.add_column("file", overflow="fold", ratio=1)
    for column in ("kind", "tf", "symbols", "rows", "price", "volume", "book"):
        table.add_column(column, justify="left" if column in {"kind", "tf"} else "right")
    for report in result.reports:
        counts = report.counts()
        table.add_row(
            report.source,
            report.kind,
            report.timeframe or "-",
            str(report.symbols),
            f"{report.rows:,}",
            str(counts.get("price_move", 0)),
            str(counts.get("volume_spike", 0)),
            str(counts.get("book_imbalance", 0)),
        )
    total = sum(len(report.findings) for report in result.reports)
    table.caption = f"{len(result.reports)} files, {total:,} findings"
    return table


def findings_table(report: ScanReport, limit: int) -> Table:
    """The findings of one file, largest value first (`limit` 0: all)."""
    ranked = sorted(report.findings, key=lambda found: -abs(found.anomaly.value))
    shown = ranked if limit == 0 else ranked[:limit]
    table = Table(
        title=f"{report.source}: {len(shown)} of {len(ranked)} findings", title_justify="left"
    )
    table.add_column("bar / message (UTC)", no_wrap=True)
    table.add_column("detector")
    table.add_column("value", justify="right")
    table.add_column("reason", overflow="fold", ratio=1)
    for found in shown:
        anomaly = found.anomaly
        table.add_row(
            _when(found.at, report),
            anomaly.detector,
            _number(anomaly.value),
            anomaly.reason,
        )
    return table


def _report_dict(report: ScanReport) -> dict[str, Any]:
    return {
        "source": report.source,
        "kind": report.kind,
        "timeframe": report.timeframe,
        "rows": report.rows,
        "symbols": report.symbols,
        "counts": dict(report.counts()),
        "findings": [
            {
                "at": found.at.isoformat(),
                "detector": found.anomaly.detector,
                "severity": found.anomaly.severity.value,
                "subject": found.anomaly.subject,
                "value": found.anomaly.value,
                "threshold": found.anomaly.threshold,
                "reason": found.anomaly.reason,
            }
            for found in report.findings
        ],
    }


def _when(at: datetime, report: ScanReport) -> str:
    if report.kind == "book":
        return at.strftime("%Y-%m-%d %H:%M:%S.%f")[:-3]
    if report.timeframe in ("1d", "1w"):
        return at.strftime("%Y-%m-%d")
    return at.strftime("%Y-%m-%d %H:%M")


def _number(value: object) -> str:
    return f"{float(str(value)):.4g}"
