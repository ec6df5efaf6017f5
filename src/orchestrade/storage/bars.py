"""BarRepository: the bars table behind the data service's BarStore port."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np
import pandas as pd
from sqlalchemy import Table, func, select
from sqlalchemy.engine import Connection

from orchestrade.data.errors import AmbiguousSymbolError, FrameError, QueryError
from orchestrade.data.files import BAR_COLUMNS, TIMEFRAME_NS, InstrumentInfo
from orchestrade.data.panel import PRICE_FIELDS, BarPanel
from orchestrade.data.ports import TimeBound, UpsertCounts
from orchestrade.data.summaries import BarSummary
from orchestrade.domain import Market
from orchestrade.storage.blocks import BAR_BLOCKS, read_blocks, rebuild_blocks
from orchestrade.storage.bounds import ns_range
from orchestrade.storage.instruments import INSTRUMENTS, InstrumentRepository
from orchestrade.storage.tables import BarRow
from orchestrade.storage.upserts import staged_upsert

BARS: Table = BarRow.__table__  # type: ignore[assignment]


class BarRepository:
    """Bars keyed by (instrument, timeframe, bar start in epoch ns); implements BarStore.

    Writes go to `bars` (the source of truth) and rebuild the packed `bar_blocks` they
    touch in the same transaction; reads come from the blocks (see `storage.blocks`).
    """

    def __init__(self, connection: Connection) -> None:
        self._connection = connection
        self._instruments = InstrumentRepository(connection)

    def upsert_bars(
        self, frame: pd.DataFrame, instruments: Mapping[str, InstrumentInfo], timeframe: str
    ) -> UpsertCounts:
        """Insert new bars and overwrite changed ones; count each kind exactly.

        Args:
            frame: a clean bar frame (unique (symbol, timestamp), finite prices).
            instruments: every symbol of the frame with its market and details.
            timeframe: the bar length of every row.

        Raises:
            FrameError: columns are missing, a symbol has no instrument entry, or a value
                is missing.
            QueryError: the timeframe is unknown.
        """
        _check_timeframe(timeframe)
        missing = [name for name in BAR_COLUMNS if name not in frame.columns]
        if missing:
            raise FrameError(f"bar frame lacks column(s) {', '.join(missing)}")
        if frame.empty:
            return UpsertCounts()
        instrument_ids = self._instruments.ids_of_rows(frame["symbol"], instruments)
        stamps = frame["timestamp"]
        if not isinstance(stamps.dtype, pd.DatetimeTZDtype) or stamps.isna().any():
            raise FrameError("bar timestamps must be datetime64[ns, UTC] with no NaT")
        ts_ns = stamps.dt.tz_convert("UTC").to_numpy(dtype="datetime64[ns]").view("int64")
        values = frame[list(PRICE_FIELDS)].to_numpy(dtype="float64")
        if not np.isfinite(values).all():
            raise FrameError("bar prices and volumes must be finite (clean the frame first)")
        order = np.lexsort((ts_ns, instrument_ids))
        columns = [instrument_ids[order].tolist(), ts_ns[order].tolist()]
        columns += [values[order, i].tolist() for i in range(values.shape[1])]
        rows = list(zip(*columns, strict=True))
        counts = staged_upsert(
            self._connection,
            BARS,
            key=("instrument_id", "timeframe", "ts_ns"),
            values=PRICE_FIELDS,
            rows=rows,
            constants={"timeframe": timeframe},
        )
        if counts.inserted or counts.updated:
            rebuild_blocks(self._connection, timeframe, instrument_ids, ts_ns)
        return counts

    def load_bars(
        self,
        symbols: Sequence[str] | None = None,
        start: TimeBound | None = None,
        end: TimeBound | None = None,
        timeframe: str = "1d",
        *,
        market: Market | None = None,
    ) -> BarPanel:
        """Bars aligned in a panel; start and end are inclusive bar start times.

        With `symbols` every one of them gets a row (all NaN when it has no bar in the
        range); without, every instrument with at least one bar in the range does.

        Raises:
            UnknownSymbolError: a requested symbol is not stored (in `market`).
            AmbiguousSymbolError: a symbol is stored in several markets and no market given.
            QueryError: an unknown timeframe or unreadable bounds.
        """
        _check_timeframe(timeframe)
        low, high = ns_range(start, end)
        if symbols is not None:
            labels = self._instruments.lookup(symbols, market)
        else:
            labels = self._instruments.symbols_by_id(market)
        owners, records = read_blocks(
            self._connection,
            timeframe,
            None if symbols is None else list(labels),
            low,
            high,
            market.value if market is not None else None,
        )
        present, codes = np.unique(owners, return_inverse=True)
        if symbols is None:
            names = [labels[int(i)] for i in present]
            if len(set(names)) != len(names):
                raise AmbiguousSymbolError(
                    "the same symbol has bars in several markets; pass market= to choose"
                )
        else:
            seen = set(present.tolist())
            extra = [i for i in labels if i not in seen]
            present = np.concatenate([present, np.asarray(extra, dtype="int64")])
            names = [labels[int(i)] for i in present]
        return BarPanel.from_arrays(
            codes.reshape(-1), names, records["ts_ns"], *(records[name] for name in PRICE_FIELDS)
        )

    def list_instruments(self, market: Market | None = None) -> list[InstrumentInfo]:
        """Known instruments sorted by market then symbol."""
        return self._instruments.list_instruments(market)

    def bar_summaries(self, market: Market | None = None) -> list[BarSummary]:
        """Bar count and range per instrument and timeframe (from the packed blocks)."""
        instruments = INSTRUMENTS
        blocks = BAR_BLOCKS
        query = (
            select(
                instruments.c.symbol,
                instruments.c.market,
                instruments.c.exchange,
                instruments.c.name,
                blocks.c.timeframe,
                func.sum(blocks.c.rows),
                func.min(blocks.c.first_ns),
                func.max(blocks.c.last_ns),
            )
            .join(instruments, instruments.c.id == blocks.c.instrument_id)
            .group_by(
                instruments.c.symbol,
                instruments.c.market,
                instruments.c.exchange,
                instruments.c.name,
                blocks.c.timeframe,
            )
        )
        if market is not None:
            query = query.where(instruments.c.market == market.value)
        summaries = [
            BarSummary(
                symbol,
                row_market,
                exchange,
                name,
                timeframe,
                int(count),
                _iso(int(first), timeframe),
                _iso(int(last), timeframe),
            )
            for symbol, row_market, exchange, name, timeframe, count, first, last in (
                self._connection.execute(query)
            )
        ]
        return sorted(summaries, key=lambda s: (s.market, s.symbol, TIMEFRAME_NS[s.timeframe]))


def _iso(ns: int, timeframe: str) -> str:
    stamp = pd.Timestamp(ns, tz="UTC")
    if TIMEFRAME_NS[timeframe] >= TIMEFRAME_NS["1d"] and ns % TIMEFRAME_NS["1d"] == 0:
        return stamp.strftime("%Y-%m-%d")
    return (
        stamp.strftime("%Y-%m-%dT%H:%M:%S")
        + (f".{ns % 10**9:09d}".rstrip("0") if ns % 10**9 else "")
        + "Z"
    )


def _check_timeframe(timeframe: str) -> None:
    if timeframe not in TIMEFRAME_NS:
        raise QueryError(f"unknown timeframe {timeframe!r}; use one of {', '.join(TIMEFRAME_NS)}")
