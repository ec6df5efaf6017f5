"""Rich tables for the reports the data commands print."""

from __future__ import annotations

from pathlib import Path

from rich.table import Table

from orchestrade.data.importing import ImportReport
from orchestrade.data.quality.targets import QualityTarget
from orchestrade.data.summaries import BarSummary

_VERDICT_STYLE = {"use": "green", "use with care": "yellow", "reject": "bold red"}


def import_table(report: ImportReport) -> Table:
    """One row per file: what was read, stored, skipped, and why a file failed."""
    table = Table(
        title="import (new: bars inserted, kept: already stored, bad: rows rejected)",
        title_justify="left",
    )
    table.add_column("file", overflow="fold", min_width=16)
    for column in ("kind", "tf", "symbols", "read", "new", "kept", "bad"):
        table.add_column(column, justify="right" if column in _NUMERIC else "left", no_wrap=True)
    table.add_column("notes", overflow="fold")
    for item in report.files:
        rejected = ", ".join(
            f"{reason} {count}" for reason, count in item.rejected.items() if count
        )
        notes = "failed, see below" if item.error else rejected
        table.add_row(
            Path(item.path).name,
            item.kind or "-",
            item.timeframe or "-",
            str(len(item.symbols)),
            f"{item.rows_read:,}",
            f"{item.inserted:,}",
            f"{item.unchanged + item.updated:,}",
            f"{item.rejected_total:,}",
            f"[red]{notes}[/]" if item.error else notes,
        )
    table.caption = (
        f"{len(report.files)} files, {len(report.failed)} failed; {report.rows_read:,} rows read, "
        f"{report.inserted:,} inserted, {report.rejected_total:,} rejected"
    )
    return table


def instruments_table(summaries: list[BarSummary]) -> Table:
    """One row per instrument and timeframe in the store."""
    table = Table(title="instruments in the store", title_justify="left")
    for column in ("symbol", "market", "exchange", "name", "tf", "bars", "first", "last"):
        table.add_column(column, justify="right" if column == "bars" else "left")
    for summary in summaries:
        table.add_row(
            summary.symbol,
            summary.market,
            summary.exchange,
            summary.name or "",
            summary.timeframe,
            f"{summary.bars:,}",
            summary.first,
            summary.last,
        )
    return table


def quality_table(target: QualityTarget) -> Table:
    """The per-symbol quality of one file or store section."""
    table = Table(title=f"quality: {target.label}", title_justify="left")
    for column in ("symbol", "market", "rows", "score", "verdict", "errors", "warnings"):
        table.add_column(column, justify="right" if column in {"rows", "score"} else "left")
    for row in target.table_rows():
        verdict = str(row["recommendation"])
        style = _VERDICT_STYLE.get(verdict, "")
        table.add_row(
            str(row["symbol"]),
            str(row["market"]),
            f"{int(row['rows']):,}",
            f"{float(row['score']):.3f}",
            f"[{style}]{verdict}[/]" if style else verdict,
            str(row["errors"]),
            str(row["warnings"]),
        )
    table.caption = target.caption()
    return table


_NUMERIC = {"symbols", "read", "new", "kept", "bad"}
