"""BookRepository: order-book levels behind the data service's BookStore port."""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import pandas as pd
from sqlalchemy import Table, select
from sqlalchemy.engine import Connection

from orchestrade.data.errors import FrameError
from orchestrade.data.files import BOOK_COLUMNS, InstrumentInfo
from orchestrade.data.ports import TimeBound, UpsertCounts
from orchestrade.domain import Market
from orchestrade.storage.bounds import ns_range
from orchestrade.storage.instruments import INSTRUMENTS, InstrumentRepository
from orchestrade.storage.tables import BookLevelRow
from orchestrade.storage.upserts import staged_upsert

BOOK_LEVELS: Table = BookLevelRow.__table__  # type: ignore[assignment]
_KEY = ("instrument_id", "exchange", "ts_ns", "msg_id", "side", "price")
_VALUES = ("local_ts_ns", "update_type", "level", "size")


class BookRepository:
    """Order-book levels; implements BookStore."""

    def __init__(self, connection: Connection) -> None:
        self._connection = connection
        self._instruments = InstrumentRepository(connection)

    def upsert_book_levels(
        self, frame: pd.DataFrame, instruments: Mapping[str, InstrumentInfo]
    ) -> UpsertCounts:
        """Insert new levels and overwrite changed ones of a clean book-levels frame.

        Raises:
            FrameError: columns are missing or a symbol has no instrument entry.
        """
        missing = [name for name in BOOK_COLUMNS if name not in frame.columns]
        if missing:
            raise FrameError(f"book frame lacks column(s) {', '.join(missing)}")
        if frame.empty:
            return UpsertCounts()
        instrument_ids = self._instruments.ids_of_rows(frame["symbol"], instruments)
        columns = [
            instrument_ids.tolist(),
            frame["exchange"].astype(str).tolist(),
            _ns(frame["timestamp"]),
            frame["msg_id"].astype("int64").tolist(),
            frame["side"].astype(str).tolist(),
            frame["price"].astype("float64").tolist(),
            _ns(frame["local_timestamp"]),
            frame["update_type"].astype(str).tolist(),
            [None if pd.isna(v) else int(v) for v in frame["level"]],
            frame["size"].astype("float64").tolist(),
        ]
        rows = list(zip(*columns, strict=True))
        return staged_upsert(self._connection, BOOK_LEVELS, _KEY, _VALUES, rows)

    def load_book_levels(
        self,
        symbol: str,
        start: TimeBound | None = None,
        end: TimeBound | None = None,
        *,
        market: Market = Market.CRYPTO,
        exchange: str | None = None,
    ) -> pd.DataFrame:
        """Levels of one symbol (columns `BOOK_COLUMNS`), ordered by time, message, side,
        then price.

        Raises:
            UnknownSymbolError: the symbol is not stored in `market`.
        """
        ids = self._instruments.lookup([symbol], market)
        low, high = ns_range(start, end)
        table = BOOK_LEVELS
        query = (
            select(
                table.c.ts_ns,
                table.c.local_ts_ns,
                table.c.exchange,
                INSTRUMENTS.c.symbol,
                table.c.msg_id,
                table.c.update_type,
                table.c.side,
                table.c.level,
                table.c.price,
                table.c.size,
            )
            .join(INSTRUMENTS, INSTRUMENTS.c.id == table.c.instrument_id)
            .where(table.c.instrument_id.in_(list(ids)))
            .order_by(table.c.ts_ns, table.c.msg_id, table.c.side, table.c.price)
        )
        if exchange is not None:
            query = query.where(table.c.exchange == exchange)
        if low is not None:
            query = query.where(table.c.ts_ns >= low)
        if high is not None:
            query = query.where(table.c.ts_ns < high)
        rows = self._connection.execute(query).all()
        raw = pd.DataFrame([tuple(r) for r in rows], columns=list(BOOK_COLUMNS), dtype="object")
        return pd.DataFrame(
            {
                "timestamp": _stamps(raw["timestamp"]),
                "local_timestamp": _stamps(raw["local_timestamp"]),
                "exchange": raw["exchange"].astype("object"),
                "symbol": raw["symbol"].astype("object"),
                "msg_id": raw["msg_id"].astype("int64"),
                "update_type": raw["update_type"].astype("object"),
                "side": raw["side"].astype("object"),
                "level": raw["level"].astype("Int64"),
                "price": raw["price"].astype("float64"),
                "size": raw["size"].astype("float64"),
            }
        )


def _ns(stamps: pd.Series) -> list[int | None]:
    ns = stamps.dt.tz_convert("UTC").to_numpy(dtype="datetime64[ns]").view("int64")
    missing = stamps.isna().to_numpy()
    return [None if gap else int(value) for value, gap in zip(ns, missing, strict=True)]


def _stamps(values: pd.Series) -> pd.Series:
    """Epoch ns (None for missing) to UTC times, in integers all the way (no float detour)."""
    nat = np.iinfo(np.int64).min
    ns = np.array([nat if v is None or pd.isna(v) else int(v) for v in values], dtype="int64")
    return pd.Series(ns.view("datetime64[ns]"), index=values.index).dt.tz_localize("UTC")
