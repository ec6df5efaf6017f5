"""What the data service needs from outside: somewhere to keep bars, order books and imports.

The storage package implements these Protocols with SQLAlchemy; tests use in-memory twins.
Writes happen inside a `MarketDataStore.transaction()`, so one imported file is all or
nothing.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from contextlib import AbstractContextManager
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Protocol

import pandas as pd

from orchestrade.data.files import InstrumentInfo
from orchestrade.data.panel import BarPanel
from orchestrade.data.summaries import BarSummary
from orchestrade.domain import Market

# A time bound: an aware datetime (naive means UTC), a date or an ISO string. Bounds are
# inclusive on bar start times; a date (or a date-only string) as the end bound means
# "through the end of that day".
TimeBound = datetime | date | str


@dataclass(frozen=True, slots=True)
class UpsertCounts:
    """What an idempotent write did with each row it was given."""

    inserted: int = 0  # new keys
    updated: int = 0  # existing keys whose values changed
    unchanged: int = 0  # existing keys with identical values

    @property
    def total(self) -> int:
        """Rows given to the write."""
        return self.inserted + self.updated + self.unchanged


@dataclass(frozen=True, slots=True)
class ImportRecord:
    """The audit entry of one imported file."""

    path: str
    sha256: str
    kind: str
    rows: int  # rows read from the file
    inserted: int
    updated: int
    rejected: Mapping[str, int] = field(default_factory=dict)
    imported_at: datetime | None = None  # set by the log when None


class BarStore(Protocol):
    """Bars keyed by (instrument, timeframe, bar start)."""

    def upsert_bars(
        self, frame: pd.DataFrame, instruments: Mapping[str, InstrumentInfo], timeframe: str
    ) -> UpsertCounts:
        """Insert new bars and overwrite changed ones of a clean bar frame.

        `instruments` describes every symbol of the frame (created when new).
        """
        ...

    def load_bars(
        self,
        symbols: Sequence[str] | None = None,
        start: TimeBound | None = None,
        end: TimeBound | None = None,
        timeframe: str = "1d",
        *,
        market: Market | None = None,
    ) -> BarPanel:
        """Bars of the given symbols (all when None) aligned in a panel."""
        ...

    def list_instruments(self, market: Market | None = None) -> list[InstrumentInfo]:
        """Known instruments, sorted by market then symbol."""
        ...

    def bar_summaries(self, market: Market | None = None) -> list[BarSummary]:
        """Bar count and range per instrument and timeframe, sorted by market, symbol,
        timeframe."""
        ...


class BookStore(Protocol):
    """Order-book levels keyed by (instrument, exchange, time, message, side, price)."""

    def upsert_book_levels(
        self, frame: pd.DataFrame, instruments: Mapping[str, InstrumentInfo]
    ) -> UpsertCounts:
        """Insert new levels and overwrite changed ones of a clean book-levels frame."""
        ...

    def load_book_levels(
        self,
        symbol: str,
        start: TimeBound | None = None,
        end: TimeBound | None = None,
        *,
        market: Market = Market.CRYPTO,
        exchange: str | None = None,
    ) -> pd.DataFrame:
        """Levels of one symbol in (timestamp, msg_id, side, level, price) order."""
        ...


class ImportLog(Protocol):
    """The audit trail of imported files."""

    def record(self, entry: ImportRecord) -> None:
        """Append one entry."""
        ...


class MarketDataTransaction(Protocol):
    """The stores as seen inside one transaction."""

    @property
    def bars(self) -> BarStore: ...

    @property
    def books(self) -> BookStore: ...

    @property
    def imports(self) -> ImportLog: ...


class MarketDataStore(Protocol):
    """A store whose writes can be grouped into all-or-nothing transactions."""

    def transaction(self) -> AbstractContextManager[MarketDataTransaction]:
        """Commit when the block ends normally, roll back (and re-raise) otherwise.

        Failures of the store itself surface as `orchestrade.data.errors.StoreError`.
        """
        ...
