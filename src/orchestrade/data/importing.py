"""The import use case: files and folders in, an idempotent store update and a report out.

Each file is read, cleaned and written in its own transaction: a file that cannot be read or
written is reported as failed with its message, leaves the store as it was, and does not
stop the files after it. Re-importing a file inserts nothing (upserts by key).
"""

from __future__ import annotations

import hashlib
import time
from collections.abc import Iterable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Literal

from orchestrade.data.cleaning import RejectedRows, clean_bars, clean_book_levels
from orchestrade.data.errors import DataError, DataFileError
from orchestrade.data.files import InstrumentInfo, discover_files, read_market_file
from orchestrade.data.ports import ImportRecord, MarketDataStore, UpsertCounts
from orchestrade.data.synthetic import SyntheticMarket
from orchestrade.domain import Market

ImportStatus = Literal["imported", "failed"]


@dataclass(frozen=True, slots=True)
class FileImport:
    """The outcome of importing one file (plain fields: one table row, one JSON object)."""

    path: str
    status: ImportStatus
    kind: str | None = None  # "bars" | "book"; None when the file could not be read
    symbols: tuple[str, ...] = ()
    timeframe: str | None = None
    rows_read: int = 0
    inserted: int = 0
    updated: int = 0
    unchanged: int = 0
    rejected: dict[str, int] = field(default_factory=dict)  # every reason, zeros included
    filled_volume: int = 0  # kept bars whose missing volume became 0
    sha256: str | None = None
    seconds: float = 0.0
    error: str | None = None

    @property
    def rejected_total(self) -> int:
        """Rows dropped for any reason."""
        return sum(self.rejected.values())

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready dict (symbols as a list, plus `rejected_total`)."""
        data = asdict(self)
        data["symbols"] = list(self.symbols)
        data["rejected_total"] = self.rejected_total
        return data


@dataclass(frozen=True, slots=True)
class ImportReport:
    """The outcome of one `import_paths` call, one entry per file in import order."""

    files: tuple[FileImport, ...]

    @property
    def ok(self) -> bool:
        """True when every file was imported (vacuously true for no files)."""
        return all(f.status == "imported" for f in self.files)

    @property
    def failed(self) -> tuple[FileImport, ...]:
        """The files that could not be imported."""
        return tuple(f for f in self.files if f.status == "failed")

    @property
    def rows_read(self) -> int:
        return sum(f.rows_read for f in self.files)

    @property
    def inserted(self) -> int:
        return sum(f.inserted for f in self.files)

    @property
    def updated(self) -> int:
        return sum(f.updated for f in self.files)

    @property
    def unchanged(self) -> int:
        return sum(f.unchanged for f in self.files)

    @property
    def rejected_total(self) -> int:
        return sum(f.rejected_total for f in self.files)

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready dict: per-file entries and totals."""
        return {
            "ok": self.ok,
            "files": [f.to_dict() for f in self.files],
            "totals": {
                "files": len(self.files),
                "failed": len(self.failed),
                "rows_read": self.rows_read,
                "inserted": self.inserted,
                "updated": self.updated,
                "unchanged": self.unchanged,
                "rejected": self.rejected_total,
            },
        }


def import_paths(
    paths: Iterable[Path | str],
    store: MarketDataStore,
    market: Market | str | None = None,
    *,
    timeframe: str | None = None,
) -> ImportReport:
    """Import bar and order-book files (folders are searched recursively) into `store`.

    Args:
        paths: files and folders; inside folders only .csv, .csv.gz and .parquet are read.
        store: where the bars, book levels and the audit entries go.
        market: the market of every symbol; None infers it per symbol.
        timeframe: the bar length of every bar file; None infers it per file.
    """
    chosen = Market(market) if market is not None else None
    return ImportReport(
        tuple(_import_file(path, store, chosen, timeframe) for path in discover_files(paths))
    )


def _import_file(
    path: Path, store: MarketDataStore, market: Market | None, timeframe: str | None
) -> FileImport:
    started = time.perf_counter()
    try:
        source = read_market_file(path, market=market, timeframe=timeframe)
        digest = _sha256(path)
        bar_timeframe = source.timeframe if source.kind == "bars" else None
        if source.kind == "book":
            clean, rejected = clean_book_levels(source.frame)
        elif bar_timeframe is None:
            raise DataFileError(path, "a bar file needs a timeframe")
        else:
            clean, rejected = clean_bars(source.frame)
        with store.transaction() as transaction:
            if bar_timeframe is None:
                counts = transaction.books.upsert_book_levels(clean, source.instruments)
            else:
                counts = transaction.bars.upsert_bars(clean, source.instruments, bar_timeframe)
            transaction.imports.record(
                ImportRecord(
                    path=str(path),
                    sha256=digest,
                    kind=source.kind,
                    rows=len(source.frame),
                    inserted=counts.inserted,
                    updated=counts.updated,
                    rejected=rejected.to_dict(),
                )
            )
    except DataError as error:
        return FileImport(
            path=str(path), status="failed", seconds=_since(started), error=str(error)
        )
    except OSError as error:  # the file vanished or became unreadable between steps
        return FileImport(
            path=str(path), status="failed", seconds=_since(started), error=f"{path}: {error}"
        )
    return _imported(
        path,
        source.kind,
        source.symbols,
        source.timeframe,
        len(source.frame),
        counts,
        rejected,
        digest,
        started,
    )


def _imported(
    path: Path,
    kind: str,
    symbols: tuple[str, ...],
    timeframe: str | None,
    rows_read: int,
    counts: UpsertCounts,
    rejected: RejectedRows,
    digest: str,
    started: float,
) -> FileImport:
    return FileImport(
        path=str(path),
        status="imported",
        kind=kind,
        symbols=symbols,
        timeframe=timeframe,
        rows_read=rows_read,
        inserted=counts.inserted,
        updated=counts.updated,
        unchanged=counts.unchanged,
        rejected=rejected.to_dict(),
        filled_volume=rejected.filled_volume,
        sha256=digest,
        seconds=_since(started),
    )


def _sha256(path: Path) -> str:
    with path.open("rb") as handle:
        return hashlib.file_digest(handle, "sha256").hexdigest()


def _since(started: float) -> float:
    return time.perf_counter() - started


def store_synthetic(synthetic: SyntheticMarket, store: MarketDataStore) -> UpsertCounts:
    """Write a synthetic market's daily bars and instruments in one transaction (idempotent)."""
    instruments: dict[str, InstrumentInfo] = {
        str(instrument.symbol): InstrumentInfo(
            instrument.symbol,
            instrument.market,
            instrument.exchange,
            instrument.currency,
            instrument.name,
        )
        for instrument in synthetic.instruments
    }
    with store.transaction() as transaction:
        return transaction.bars.upsert_bars(synthetic.bars, instruments, "1d")
