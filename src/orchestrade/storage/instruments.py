"""InstrumentRepository: create instruments on first sight and look them up by symbol."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from datetime import UTC, datetime

import numpy as np
import numpy.typing as npt
import pandas as pd
from sqlalchemy import Table, func, select, tuple_
from sqlalchemy.engine import Connection

from orchestrade.data.errors import AmbiguousSymbolError, FrameError, UnknownSymbolError
from orchestrade.data.files import InstrumentInfo
from orchestrade.domain import Market
from orchestrade.storage.tables import InstrumentRow
from orchestrade.storage.upserts import dialect_insert

INSTRUMENTS: Table = InstrumentRow.__table__  # type: ignore[assignment]
_CHUNK = 500


class InstrumentRepository:
    """Instruments keyed by (symbol, market)."""

    def __init__(self, connection: Connection) -> None:
        self._connection = connection

    def ids_of_rows(
        self, symbols: pd.Series, instruments: Mapping[str, InstrumentInfo]
    ) -> npt.NDArray[np.int64]:
        """The instrument id of every row's symbol, creating instruments not yet known.

        Raises:
            FrameError: a symbol of the rows has no entry in `instruments`.
        """
        unknown = set(symbols.unique()) - set(instruments)
        if unknown:
            raise FrameError(f"no instrument details for symbol(s) {sorted(unknown)[:10]}")
        ids = self.ensure(instruments.values())
        by_symbol = {symbol: ids[(symbol, info.market)] for symbol, info in instruments.items()}
        return np.asarray(symbols.map(by_symbol).to_numpy(dtype="int64"), dtype=np.int64)

    def ensure(self, instruments: Iterable[InstrumentInfo]) -> dict[tuple[str, Market], int]:
        """Create the instruments not yet known (a known one only gains a missing name).

        Returns:
            The id of every given instrument, keyed by (symbol, market).
        """
        infos = list(instruments)
        if not infos:
            return {}
        now = datetime.now(UTC)
        rows = [
            {
                "symbol": info.symbol,
                "market": info.market.value,
                "exchange": info.exchange,
                "currency": info.currency,
                "name": info.name,
                "created_at": now,
            }
            for info in infos
        ]
        for start in range(0, len(rows), _CHUNK):
            statement = dialect_insert(self._connection, INSTRUMENTS).values(
                rows[start : start + _CHUNK]
            )
            statement = statement.on_conflict_do_update(
                index_elements=["symbol", "market"],
                set_={"name": func.coalesce(INSTRUMENTS.c.name, statement.excluded.name)},
            )
            self._connection.execute(statement)
        ids: dict[tuple[str, Market], int] = {}
        keys = [(info.symbol, info.market.value) for info in infos]
        for start in range(0, len(keys), _CHUNK):
            query = select(INSTRUMENTS.c.id, INSTRUMENTS.c.symbol, INSTRUMENTS.c.market).where(
                tuple_(INSTRUMENTS.c.symbol, INSTRUMENTS.c.market).in_(keys[start : start + _CHUNK])
            )
            for row_id, symbol, market in self._connection.execute(query):
                ids[(symbol, Market(market))] = row_id
        return ids

    def lookup(self, symbols: Sequence[str], market: Market | None = None) -> dict[int, str]:
        """Ids of the given symbols.

        Raises:
            UnknownSymbolError: a symbol is not known (in that market).
            AmbiguousSymbolError: a symbol is known in several markets and none was given.
        """
        found: dict[str, list[tuple[int, str]]] = {}
        wanted = list(dict.fromkeys(symbols))
        for start in range(0, len(wanted), _CHUNK):
            query = select(INSTRUMENTS.c.id, INSTRUMENTS.c.symbol, INSTRUMENTS.c.market).where(
                INSTRUMENTS.c.symbol.in_(wanted[start : start + _CHUNK])
            )
            if market is not None:
                query = query.where(INSTRUMENTS.c.market == market.value)
            for row_id, symbol, row_market in self._connection.execute(query):
                found.setdefault(symbol, []).append((row_id, row_market))
        missing = [symbol for symbol in wanted if symbol not in found]
        if missing:
            where = f" in market {market.value}" if market is not None else ""
            raise UnknownSymbolError(f"unknown symbol(s){where}: {', '.join(missing[:10])}")
        for symbol, matches in found.items():
            if len(matches) > 1:
                markets = ", ".join(sorted(m for _, m in matches))
                raise AmbiguousSymbolError(
                    f"symbol {symbol} exists in markets {markets}; pass market="
                )
        return {matches[0][0]: symbol for symbol, matches in found.items()}

    def symbols_by_id(self, market: Market | None = None) -> dict[int, str]:
        """Every instrument id (of one market, or all) with its symbol."""
        query = select(INSTRUMENTS.c.id, INSTRUMENTS.c.symbol)
        if market is not None:
            query = query.where(INSTRUMENTS.c.market == market.value)
        return {row_id: symbol for row_id, symbol in self._connection.execute(query)}

    def list_instruments(self, market: Market | None = None) -> list[InstrumentInfo]:
        """Known instruments sorted by market then symbol."""
        query = select(
            INSTRUMENTS.c.symbol,
            INSTRUMENTS.c.market,
            INSTRUMENTS.c.exchange,
            INSTRUMENTS.c.currency,
            INSTRUMENTS.c.name,
        ).order_by(INSTRUMENTS.c.market, INSTRUMENTS.c.symbol)
        if market is not None:
            query = query.where(INSTRUMENTS.c.market == market.value)
        return [
            InstrumentInfo(symbol, Market(row_market), exchange, currency, name)
            for symbol, row_market, exchange, currency, name in self._connection.execute(query)
        ]
