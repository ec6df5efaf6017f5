"""Run the quality checks on what a user points at: files before import, or the store."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from orchestrade.data.errors import DataFileError
from orchestrade.data.files import discover_files, read_market_file
from orchestrade.data.ports import BarStore
from orchestrade.data.quality.book import check_book_quality
from orchestrade.data.quality.check import check_quality
from orchestrade.data.quality.report import TABLE_COLUMNS, QualityReport
from orchestrade.domain import Market


@dataclass(frozen=True, slots=True)
class QualityTarget:
    """The quality report of one file or one (timeframe) section of the store.

    `report` is None when the file could not be read at all; `error` then says why.
    """

    label: str
    kind: str
    report: QualityReport | None
    error: str | None = None

    def table_rows(self) -> list[dict[str, str | int | float]]:
        """Rows for a table (keys `TABLE_COLUMNS`); one row saying "unreadable" on error."""
        if self.report is None:
            unreadable: dict[str, str | int | float] = dict.fromkeys(TABLE_COLUMNS, "")
            unreadable.update(
                symbol="-", rows=0, score=0.0, recommendation="reject", errors=self.error or ""
            )
            return [unreadable]
        return self.report.table_rows()

    def detail_lines(self) -> list[str]:
        """One line per finding with its examples, for `--details`."""
        if self.report is None:
            return []
        lines = [f"(frame) {found.message}" for found in self.report.frame_findings]
        for result in self.report.symbols:
            for found in result.findings:
                examples = "; ".join(
                    f"{example.timestamp or '?'} {example.detail}" for example in found.examples
                )
                lines.append(f"{result.symbol}: {found.message} [{examples}]")
        return lines

    def caption(self) -> str:
        """The overall verdict in one line."""
        if self.report is None:
            return f"unreadable: {self.error}"
        summary = self.report.summary()
        return (
            f"{summary['symbols']} symbols, {summary['rows']:,} rows, timeframe "
            f"{summary['timeframe']}: mean score {summary['mean_score']:.3f}, "
            f"overall: {summary['recommendation']}"
        )

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form."""
        return {
            "label": self.label,
            "kind": self.kind,
            "error": self.error,
            "report": None if self.report is None else self.report.to_dict(),
        }


def quality_of_files(
    paths: Iterable[Path | str], market: Market | str | None = None
) -> list[QualityTarget]:
    """Check every bar or order-book file under `paths` as it is on disk, warts included."""
    targets = []
    for path in discover_files(paths):
        try:
            market_file = read_market_file(path, market=market)
        except DataFileError as error:
            targets.append(QualityTarget(str(path), "unreadable", None, str(error)))
            continue
        if market_file.kind == "book":
            report = check_book_quality(market_file.frame, market_of=market_file.markets)
        else:
            report = check_quality(
                market_file.frame,
                market_of=market_file.markets,
                timeframe=market_file.timeframe or "1d",
            )
        targets.append(QualityTarget(str(path), market_file.kind, report))
    return targets


def quality_of_store(
    store: BarStore, market: Market | str | None = None, timeframe: str | None = None
) -> list[QualityTarget]:
    """Check the bars a store holds, one report per market and timeframe."""
    chosen = Market(market) if market is not None else None
    summaries = store.bar_summaries(chosen)
    sections = sorted(
        {(s.market, s.timeframe) for s in summaries if timeframe in (None, s.timeframe)}
    )
    targets = []
    for market_name, section_timeframe in sections:
        section_market = Market(market_name)
        panel = store.load_bars(None, None, None, section_timeframe, market=section_market)
        report = check_quality(
            panel.to_frame(), market_of=section_market, timeframe=section_timeframe
        )
        label = f"store, {section_market.value} {section_timeframe} bars"
        targets.append(QualityTarget(label, "bars", report))
    return targets
