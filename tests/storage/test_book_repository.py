"""BookRepository: order-book levels round trip and idempotent upserts on both backends."""

from __future__ import annotations

import pandas as pd
import pytest

from orchestrade.data.errors import UnknownSymbolError
from orchestrade.data.files import BOOK_COLUMNS, InstrumentInfo
from orchestrade.data.ports import UpsertCounts
from orchestrade.domain import Market
from orchestrade.storage import Store


def infos(market: Market, *symbols: str) -> dict[str, InstrumentInfo]:
    return {
        s: InstrumentInfo(s, market, market.default_exchange, market.default_currency)
        for s in symbols
    }


def levels() -> pd.DataFrame:
    t0 = pd.Timestamp("2024-12-01 00:00:00.589", tz="UTC")
    t1 = pd.Timestamp("2024-12-01 00:00:00.691", tz="UTC")
    frame = pd.DataFrame(
        {
            "timestamp": [t0, t0, t1],
            "local_timestamp": [t1, t1, pd.NaT],
            "exchange": ["bybit-linear"] * 3,
            "symbol": ["XRPUSDT"] * 3,
            "msg_id": [0, 0, 1],
            "update_type": ["snapshot", "snapshot", "delta"],
            "side": ["bid", "ask", "bid"],
            "level": pd.array([0, 0, None], dtype="Int64"),
            "price": [1.9531, 1.9538, 1.9531],
            "size": [6203.0, 10.5, 0.0],
        }
    )
    frame["local_timestamp"] = frame["local_timestamp"].astype("datetime64[ns, UTC]")
    return frame.astype({"msg_id": "int64"})[list(BOOK_COLUMNS)]


def test_book_levels_round_trip_and_re_upsert_changes_nothing(store: Store) -> None:
    with store.transaction() as transaction:
        first = transaction.books.upsert_book_levels(levels(), infos(Market.CRYPTO, "XRPUSDT"))
    with store.transaction() as transaction:
        again = transaction.books.upsert_book_levels(levels(), infos(Market.CRYPTO, "XRPUSDT"))
    with store.reading() as read:
        loaded = read.books.load_book_levels("XRPUSDT")
        only_later = read.books.load_book_levels("XRPUSDT", start="2024-12-01T00:00:00.600Z")

    assert first == UpsertCounts(inserted=3)
    assert again == UpsertCounts(unchanged=3)
    expected = levels().iloc[[1, 0, 2]].reset_index(drop=True)  # ask sorts before bid
    pd.testing.assert_frame_equal(loaded, expected)
    assert only_later["msg_id"].tolist() == [1]


def test_an_unknown_book_symbol_is_an_error(store: Store) -> None:
    with pytest.raises(UnknownSymbolError), store.reading() as read:
        read.books.load_book_levels("NOPE")
