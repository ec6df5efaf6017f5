"""BarRepository on SQLite and PostgreSQL: exact counts, exact values, filters, alignment."""

from __future__ import annotations

from datetime import UTC, date, datetime

import numpy as np
import pandas as pd
import pytest
from sqlalchemy import text

from orchestrade.data.errors import (
    AmbiguousSymbolError,
    FrameError,
    QueryError,
    StoreError,
    UnknownSymbolError,
)
from orchestrade.data.files import BAR_COLUMNS, InstrumentInfo
from orchestrade.data.ports import UpsertCounts
from orchestrade.domain import Market
from orchestrade.storage import Store, load_bars
from orchestrade.storage.blocks import BLOCK_BARS


def bar_frame(rows: list[tuple[str, str | int, float, float]]) -> pd.DataFrame:
    """Clean bars from (symbol, time, close, volume); open/high/low derive from close.

    A time given as int is epoch nanoseconds.
    """
    stamps = [
        pd.Timestamp(t, tz="UTC") if isinstance(t, int) else pd.Timestamp(t).tz_localize("UTC")
        for _, t, _, _ in rows
    ]
    frame = pd.DataFrame(
        {
            "symbol": pd.Series([r[0] for r in rows], dtype="object"),
            "timestamp": pd.DatetimeIndex(stamps).astype("datetime64[ns, UTC]"),
            "open": [r[2] * 0.99 for r in rows],
            "high": [r[2] * 1.01 for r in rows],
            "low": [r[2] * 0.98 for r in rows],
            "close": [r[2] for r in rows],
            "volume": [r[3] for r in rows],
        }
    )
    return frame[list(BAR_COLUMNS)]


def infos(market: Market, *symbols: str) -> dict[str, InstrumentInfo]:
    return {
        s: InstrumentInfo(s, market, market.default_exchange, market.default_currency)
        for s in symbols
    }


DAILY = bar_frame(
    [
        ("005930", "2024-01-02", 78500.0, 1.0e7),
        ("005930", "2024-01-03", 77000.0, 2.0e7),
        ("000660", "2024-01-03", 140000.0, 3.0e6),
        ("000660", "2024-01-04", 138500.0, 4.0e6),
    ]
)


def upsert(
    store: Store, frame: pd.DataFrame, market: Market = Market.KRX, tf: str = "1d"
) -> UpsertCounts:
    with store.transaction() as transaction:
        symbols = sorted(set(frame["symbol"]))
        return transaction.bars.upsert_bars(frame, infos(market, *symbols), tf)


def test_upsert_counts_inserted_updated_and_unchanged_exactly(store: Store) -> None:
    first = upsert(store, DAILY)
    again = upsert(store, DAILY)
    changed = DAILY.copy()
    changed.loc[1, "close"] = 77100.0
    extra = pd.concat([changed, bar_frame([("005930", "2024-01-04", 76000.0, 5.0)])])
    mixed = upsert(store, extra.reset_index(drop=True))

    assert first == UpsertCounts(inserted=4, updated=0, unchanged=0)
    assert again == UpsertCounts(inserted=0, updated=0, unchanged=4)
    assert mixed == UpsertCounts(inserted=1, updated=1, unchanged=3)
    assert store.load_bars("005930").panel.close[0].tolist() == [78500.0, 77100.0, 76000.0]


def test_values_and_nanosecond_times_round_trip_exactly(store: Store) -> None:
    awkward = [0.1 + 0.2, 1e-300, 123456789.12345679, 5e-324, 1.2345678901234567e307]
    stamps = [1_700_000_000_123_456_789 + i * 60_000_000_017 for i in range(len(awkward))]
    frame = bar_frame([("BTCUSDT", stamps[i], value, value) for i, value in enumerate(awkward)])

    upsert(store, frame, Market.CRYPTO, "1m")
    loaded = store.load_bars("BTCUSDT", timeframe="1m").frame

    pd.testing.assert_frame_equal(loaded, frame)
    assert loaded["timestamp"].astype("int64").tolist() == stamps


def test_the_panel_aligns_symbols_with_nan_where_a_bar_is_missing(store: Store) -> None:
    upsert(store, DAILY)

    loaded = store.load_bars()
    panel = loaded.panel

    assert panel.symbols == ("000660", "005930")
    np.testing.assert_array_equal(
        panel.close, [[np.nan, 140000.0, 138500.0], [78500.0, 77000.0, np.nan]]
    )
    expected = DAILY.sort_values(["symbol", "timestamp"]).reset_index(drop=True)
    pd.testing.assert_frame_equal(loaded.frame, expected)


@pytest.mark.parametrize(
    ("start", "end", "days"),
    [
        ("2024-01-03", None, [3, 4, 3]),
        (None, "2024-01-03", [3, 2, 3]),
        (date(2024, 1, 3), date(2024, 1, 3), [3, 3]),
        (datetime(2024, 1, 3, tzinfo=UTC), datetime(2024, 1, 3, tzinfo=UTC), [3, 3]),
        ("2024-01-03T00:00:01Z", None, [4]),
    ],
)
def test_start_and_end_are_inclusive_bar_start_bounds(
    store: Store, start: object, end: object, days: list[int]
) -> None:
    upsert(store, DAILY)

    frame = store.load_bars(None, start, end).frame  # type: ignore[arg-type]

    assert frame["timestamp"].dt.day.tolist() == days


def test_a_date_end_bound_includes_the_whole_day_of_intraday_bars(store: Store) -> None:
    frame = bar_frame([("SPY", f"2024-02-20 {h:02d}:00", 500.0, 1.0) for h in (9, 14, 20)])
    frame = pd.concat([frame, bar_frame([("SPY", "2024-02-21 09:00", 501.0, 1.0)])])
    upsert(store, frame.reset_index(drop=True), Market.US, "1h")

    loaded = store.load_bars(["SPY"], "2024-02-20", "2024-02-20", "1h").frame

    assert loaded["timestamp"].dt.hour.tolist() == [9, 14, 20]


def test_a_requested_symbol_without_bars_in_range_is_an_all_nan_row(store: Store) -> None:
    upsert(store, DAILY)

    panel = store.load_bars(["005930", "000660"], "2024-01-04", None).panel

    assert panel.symbols == ("000660", "005930")
    assert panel.close.tolist()[0] == [138500.0]
    assert np.isnan(panel.close[1]).all()


def test_unknown_and_ambiguous_symbols_and_bad_requests_are_errors(store: Store) -> None:
    upsert(store, DAILY)
    upsert(store, bar_frame([("005930", "2024-01-02", 1.0, 1.0)]), Market.US)

    with pytest.raises(UnknownSymbolError, match="TYPO"):
        store.load_bars(["005930", "TYPO"], market=Market.KRX)
    with pytest.raises(AmbiguousSymbolError, match="005930 exists in markets krx, us"):
        store.load_bars("005930")
    with pytest.raises(AmbiguousSymbolError, match="pass market="):
        store.load_bars()
    with pytest.raises(QueryError, match="unknown timeframe '2d'"):
        store.load_bars("005930", timeframe="2d", market="krx")
    with pytest.raises(QueryError, match="cannot read start bound"):
        store.load_bars("005930", start="yesterday-ish", market="krx")
    assert store.load_bars("005930", market="us").panel.close.tolist() == [[1.0]]


def test_frames_that_break_the_contract_are_refused(store: Store) -> None:
    broken = DAILY.assign(close=[1.0, np.nan, 1.0, 1.0])

    with pytest.raises(FrameError, match="finite"), store.transaction() as transaction:
        transaction.bars.upsert_bars(broken, infos(Market.KRX, "005930", "000660"), "1d")
    with pytest.raises(FrameError, match="no instrument details"), store.transaction() as tx:
        tx.bars.upsert_bars(DAILY, infos(Market.KRX, "005930"), "1d")


def test_a_failed_transaction_leaves_no_bar_behind(store: Store) -> None:
    def write_then_fail() -> None:
        with store.transaction() as transaction:
            transaction.bars.upsert_bars(DAILY, infos(Market.KRX, "005930", "000660"), "1d")
            transaction.connection.execute(text("SELECT * FROM no_such_table"))

    with pytest.raises(StoreError, match="no_such_table"):
        write_then_fail()

    assert store.list_instruments() == []
    assert store.load_bars().panel.shape == (0, 0)


def test_blocks_always_match_the_bars_table_across_overlapping_writes(store: Store) -> None:
    minute = 60_000_000_000
    base = 1_700_000_000 // 60 * minute
    first = bar_frame([("ETHUSDT", base + i * minute, 100.0 + i, 1.0) for i in range(3000)])
    # Overlaps the end of the first write, changes values and spans a block boundary.
    second = bar_frame(
        [("ETHUSDT", base + i * minute, 200.0 + i, 2.0) for i in range(2500, 2000 + BLOCK_BARS * 2)]
    )
    upsert(store, first, Market.CRYPTO, "1m")
    counts = upsert(store, second, Market.CRYPTO, "1m")

    loaded = store.load_bars("ETHUSDT", timeframe="1m").frame
    with store.engine.connect() as connection:
        stored = connection.exec_driver_sql(
            "SELECT ts_ns, close FROM bars WHERE timeframe = '1m' ORDER BY ts_ns"
        ).all()

    assert counts == UpsertCounts(inserted=2000 + BLOCK_BARS * 2 - 3000, updated=500, unchanged=0)
    assert loaded["timestamp"].astype("int64").tolist() == [r[0] for r in stored]
    assert loaded["close"].tolist() == [r[1] for r in stored]
    assert loaded["close"].iloc[2499] == 100.0 + 2499
    assert loaded["close"].iloc[2500] == 200.0 + 2500


def test_the_convenience_loader_returns_frame_and_panel(database_url: str) -> None:
    from orchestrade.storage import open_store

    with open_store(database_url) as store:
        upsert(store, DAILY)

    loaded = load_bars(["005930"], "2024-01-01", "2024-01-31", "1d", url=database_url)

    assert loaded.frame["close"].tolist() == [78500.0, 77000.0]
    assert loaded.panel.close.tolist() == [[78500.0, 77000.0]]


def test_instruments_are_listed_with_their_details(store: Store) -> None:
    upsert(store, DAILY)

    listed = store.list_instruments("krx")

    assert [(i.symbol, i.market, i.exchange, i.currency) for i in listed] == [
        ("000660", Market.KRX, "XKRX", "KRW"),
        ("005930", Market.KRX, "XKRX", "KRW"),
    ]


def test_bar_summaries_give_count_and_range_per_instrument_and_timeframe(store: Store) -> None:
    upsert(store, DAILY)
    minute = bar_frame(
        [("005930", "2024-01-02 00:30", 1.0, 1.0), ("005930", "2024-01-02 00:31:00.5", 2.0, 1.0)]
    )
    upsert(store, minute, Market.KRX, "1m")
    upsert(store, bar_frame([("SPY", "2024-01-02", 470.0, 1.0)]), Market.US)

    summaries = store.bar_summaries("krx")

    assert [s.to_dict() for s in summaries] == [
        {
            "symbol": "000660",
            "market": "krx",
            "exchange": "XKRX",
            "name": None,
            "timeframe": "1d",
            "bars": 2,
            "first": "2024-01-03",
            "last": "2024-01-04",
        },
        {
            "symbol": "005930",
            "market": "krx",
            "exchange": "XKRX",
            "name": None,
            "timeframe": "1m",
            "bars": 2,
            "first": "2024-01-02T00:30:00Z",
            "last": "2024-01-02T00:31:00.5Z",
        },
        {
            "symbol": "005930",
            "market": "krx",
            "exchange": "XKRX",
            "name": None,
            "timeframe": "1d",
            "bars": 2,
            "first": "2024-01-02",
            "last": "2024-01-03",
        },
    ]
    assert len(store.bar_summaries()) == 4


def test_store_bars_is_a_bar_store_that_commits_each_write(store: Store) -> None:
    bars = store.bars

    counts = bars.upsert_bars(DAILY, infos(Market.KRX, "005930", "000660"), "1d")

    assert counts == UpsertCounts(inserted=4)
    assert bars.load_bars(["005930"]).close.tolist() == [[78500.0, 77000.0]]
    assert [i.symbol for i in bars.list_instruments()] == ["000660", "005930"]
    assert [s.bars for s in bars.bar_summaries()] == [2, 2]
