"""Cleaning raw frames: each bad row class is counted once, the rest is kept and sorted."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from orchestrade.data.cleaning import RejectReason, clean_bars, clean_book_levels
from orchestrade.data.errors import FrameError
from orchestrade.data.files import BAR_COLUMNS, BOOK_COLUMNS, read_market_file

NAN = np.nan


def raw_bars(rows: list[tuple[object, ...]]) -> pd.DataFrame:
    frame = pd.DataFrame(rows, columns=list(BAR_COLUMNS))
    frame["symbol"] = frame["symbol"].astype("object")
    frame["timestamp"] = pd.to_datetime(frame["timestamp"], utc=True)
    return frame.astype({name: "float64" for name in BAR_COLUMNS[2:]})


def test_each_bad_row_is_counted_under_its_first_reason_with_example_positions() -> None:
    raw = raw_bars(
        [
            ("B", "2024-01-03", 10, 11, 9, 10.5, 100),  # 0 kept
            ("A", None, 10, 11, 9, 10.5, 100),  # 1 unparseable timestamp (also no price)
            (None, "2024-01-02", 10, 11, 9, 10.5, 100),  # 2 missing symbol
            ("A", "2024-01-02", NAN, 11, 9, 10.5, 100),  # 3 missing price
            ("A", "2024-01-03", 10, 11, 9, np.inf, 100),  # 4 missing price (inf)
            ("A", "2024-01-04", 0, 11, 9, 10.5, 100),  # 5 non-positive price
            ("A", "2024-01-05", 10, 11, 9, 10.5, -1),  # 6 negative volume
            ("B", "2024-01-03", 20, 21, 19, 20.5, 5),  # 7 duplicate of row 0
            ("A", "2024-01-01", 10, 11, 9, 10.5, NAN),  # 8 kept, volume filled with 0
            ("A", "2024-01-06", 10, 9, 11, 10.5, 7),  # 9 kept: OHLC-inconsistent is a wart
        ]
    )

    clean, rejected = clean_bars(raw)

    assert rejected.to_dict() == {
        "unparseable_timestamp": 1,
        "missing_symbol": 1,
        "missing_price": 2,
        "non_positive_price": 1,
        "negative_volume": 1,
        "invalid_field": 0,
        "duplicate": 1,
    }
    assert rejected.total == 7
    assert rejected.examples[RejectReason.MISSING_PRICE] == (3, 4)
    assert rejected.examples[RejectReason.DUPLICATE] == (7,)
    assert rejected.filled_volume == 1
    assert clean[["symbol", "close", "volume"]].values.tolist() == [
        ["A", 10.5, 0.0],
        ["A", 10.5, 7.0],
        ["B", 10.5, 100.0],
    ]
    assert clean["timestamp"].dt.day.tolist() == [1, 6, 3]


def test_a_duplicate_of_a_rejected_row_is_not_a_duplicate() -> None:
    raw = raw_bars(
        [
            ("A", "2024-01-02", NAN, 11, 9, 10.5, 1),
            ("A", "2024-01-02", 10, 11, 9, 10.5, 1),
        ]
    )

    clean, rejected = clean_bars(raw)

    assert rejected.counts[RejectReason.MISSING_PRICE] == 1
    assert rejected.counts[RejectReason.DUPLICATE] == 0
    assert len(clean) == 1


def test_clean_frame_keeps_the_contract_dtypes_and_a_fresh_index() -> None:
    raw = raw_bars([("B", "2024-01-02", 1, 1, 1, 1, 1), ("A", "2024-01-02", 2, 2, 2, 2, 2)])

    clean, rejected = clean_bars(raw)

    assert list(clean.columns) == list(BAR_COLUMNS)
    assert str(clean["timestamp"].dtype) == "datetime64[ns, UTC]"
    assert clean.index.tolist() == [0, 1]
    assert clean["symbol"].tolist() == ["A", "B"]
    assert rejected.total == 0


def test_a_frame_without_the_bar_columns_is_refused() -> None:
    with pytest.raises(FrameError, match="lacks column"):
        clean_bars(pd.DataFrame({"symbol": ["A"]}))


def raw_book(rows: list[tuple[object, ...]]) -> pd.DataFrame:
    frame = pd.DataFrame(rows, columns=list(BOOK_COLUMNS))
    for name in ("timestamp", "local_timestamp"):
        frame[name] = pd.to_datetime(frame[name], utc=True)
    return frame.astype(
        {"msg_id": "Int64", "level": "Int64", "price": "float64", "size": "float64"}
    )


def test_book_rows_are_checked_and_kept_in_message_order() -> None:
    t = "2024-12-01T00:00:00.589Z"
    raw = raw_book(
        [
            (t, t, "bybit", "XRP", 0, "snapshot", "bid", 0, 1.95, 10.0),
            (t, t, "bybit", "XRP", 0, "snapshot", "ask", 0, 1.96, 5.0),
            (t, t, "bybit", "XRP", 0, "snapshot", "ask", 1, 1.96, 5.0),  # duplicate key
            (t, t, "bybit", "XRP", 1, "delta", "sideways", None, 1.97, 1.0),  # invalid side
            (t, t, "bybit", "XRP", None, "delta", "bid", None, 1.97, 1.0),  # no msg_id
            (t, t, "bybit", "XRP", 1, "delta", "bid", None, 1.94, -1.0),  # negative size
            (t, t, "bybit", "XRP", 1, "delta", "bid", None, 1.93, 0.0),  # kept: removal
        ]
    )

    clean, rejected = clean_book_levels(raw)

    assert rejected.counts[RejectReason.DUPLICATE] == 1
    assert rejected.counts[RejectReason.INVALID_FIELD] == 2
    assert rejected.counts[RejectReason.NEGATIVE_VOLUME] == 1
    assert clean["price"].tolist() == [1.95, 1.96, 1.93]
    assert clean["msg_id"].dtype == np.int64
    assert clean["level"].isna().tolist() == [False, False, True]


@pytest.mark.slow
@pytest.mark.shared_data
def test_sp500_rejects_exactly_the_eleven_readme_rows_with_an_empty_open(
    shared_data: Path,
) -> None:
    raw = read_market_file(shared_data / "us_daily" / "sp500_5yr.csv.gz").frame

    clean, rejected = clean_bars(raw)

    dropped = raw[raw["open"].isna()]
    assert sorted(
        zip(dropped["symbol"], dropped["timestamp"].dt.strftime("%Y-%m-%d"), strict=True)
    ) == [
        ("BHF", "2017-07-26"),
        ("DHR", "2015-07-17"),
        ("DHR", "2016-01-12"),
        ("ES", "2015-07-17"),
        ("FTV", "2016-07-01"),
        ("O", "2015-07-17"),
        ("O", "2016-01-12"),
        ("REGN", "2015-06-09"),
        ("UA", "2016-04-07"),
        ("VRTX", "2015-05-12"),
        ("WRK", "2015-06-26"),
    ]
    assert rejected.to_dict() == {reason.value: 0 for reason in RejectReason} | {
        "missing_price": 11
    }
    assert len(clean) == 619_029
    # OHLC-inconsistent rows are quality warts, kept: 1 high below open/close, 11 lows above.
    assert int((clean["high"] < clean[["open", "close"]].max(axis=1)).sum()) == 1
    assert int((clean["low"] > clean[["open", "close"]].min(axis=1)).sum()) == 11


@pytest.mark.shared_data
def test_the_crypto_hourly_file_has_no_duplicates_after_the_documented_fix(
    shared_data: Path,
) -> None:
    raw = read_market_file(shared_data / "crypto" / "binance_spot_1h_2017_2021.csv.gz").frame

    clean, rejected = clean_bars(raw)

    assert rejected.total == 0
    assert len(clean) == 81_782
    assert clean.groupby("symbol").size().to_dict() == {
        "ADAUSDT": 7_478,
        "BNBUSDT": 7_478,
        "BTCUSDT": 33_413,
        "ETHUSDT": 33_413,
    }
