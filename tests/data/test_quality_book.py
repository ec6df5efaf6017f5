"""Order-book quality: replaying snapshots and deltas flags what a venue cannot send."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from orchestrade.data.files import read_market_file
from orchestrade.data.quality import Check, Recommendation
from orchestrade.data.quality.book import check_book_quality

T0 = "2024-12-01T00:00:00.100Z"
T1 = "2024-12-01T00:00:00.200Z"
T2 = "2024-12-01T00:00:00.300Z"


def book(rows: list[tuple[str, int, str, str, float, float]]) -> pd.DataFrame:
    """Rows of (time, msg_id, update_type, side, price, size), one symbol."""
    frame = pd.DataFrame(
        rows, columns=["timestamp", "msg_id", "update_type", "side", "price", "size"]
    )
    frame["timestamp"] = pd.to_datetime(frame["timestamp"], utc=True)
    frame["local_timestamp"] = frame["timestamp"] + pd.Timedelta(milliseconds=5)
    frame["exchange"] = "bybit"
    frame["symbol"] = "XRPUSDT"
    frame["level"] = pd.array([None] * len(frame), dtype="Int64")
    return frame


SNAPSHOT = [
    (T0, 0, "snapshot", "bid", 1.95, 10.0),
    (T0, 0, "snapshot", "bid", 1.94, 5.0),
    (T0, 0, "snapshot", "ask", 1.96, 7.0),
    (T0, 0, "snapshot", "ask", 1.97, 3.0),
]


def test_consistent_snapshot_and_deltas_are_clean() -> None:
    rows = [*SNAPSHOT, (T1, 1, "delta", "bid", 1.95, 0.0), (T1, 1, "delta", "ask", 1.955, 2.0)]

    report = check_book_quality(book(rows))

    result = report["XRPUSDT"]
    assert result.findings == ()
    assert result.score == 1.0
    assert result.recommendation is Recommendation.USE


def test_delta_that_crosses_the_book_is_an_error() -> None:
    rows = [*SNAPSHOT, (T1, 1, "delta", "bid", 1.965, 4.0)]

    result = check_book_quality(book(rows))["XRPUSDT"]

    assert result.count(Check.CROSSED_BOOK) == 1
    assert result.finding(Check.CROSSED_BOOK) is not None
    assert "bid 1.965 >= ask 1.96" in result.finding(Check.CROSSED_BOOK).examples[0].detail  # type: ignore[union-attr]
    assert result.recommendation is not Recommendation.USE


def test_removing_the_crossing_level_uncrosses_the_book() -> None:
    rows = [
        *SNAPSHOT,
        (T1, 1, "delta", "bid", 1.965, 4.0),
        (T2, 2, "delta", "bid", 1.965, 0.0),
    ]

    result = check_book_quality(book(rows))["XRPUSDT"]

    assert result.count(Check.CROSSED_BOOK) == 1


def test_snapshot_levels_out_of_order_are_flagged() -> None:
    rows = [
        (T0, 0, "snapshot", "bid", 1.94, 5.0),
        (T0, 0, "snapshot", "bid", 1.95, 10.0),
        (T0, 0, "snapshot", "ask", 1.96, 7.0),
    ]

    result = check_book_quality(book(rows))["XRPUSDT"]

    assert result.count(Check.UNSORTED_LEVELS) == 3


def test_delta_before_any_snapshot_negative_size_and_bad_side() -> None:
    rows = [
        (T0, 0, "delta", "bid", 1.95, 1.0),
        *[(T1, 1, kind, side, price, size) for (_, _, kind, side, price, size) in SNAPSHOT],
        (T2, 2, "delta", "ask", 1.97, -1.0),
        (T2, 2, "delta", "middle", 1.97, 1.0),
    ]

    result = check_book_quality(book(rows))["XRPUSDT"]

    assert result.count(Check.DELTA_BEFORE_SNAPSHOT) == 1
    assert result.count(Check.NEGATIVE_SIZE) == 1
    assert result.count(Check.UNKNOWN_SIDE) == 1


def test_receive_time_before_exchange_time_and_time_going_back() -> None:
    frame = book(
        [*SNAPSHOT, (T1, 1, "delta", "bid", 1.95, 3.0), (T0, 2, "delta", "bid", 1.95, 4.0)]
    )
    frame.loc[4, "local_timestamp"] = frame.loc[4, "timestamp"] - pd.Timedelta(milliseconds=1)

    result = check_book_quality(frame)["XRPUSDT"]

    assert result.count(Check.RECEIVED_BEFORE_SENT) == 1
    assert result.count(Check.UNSORTED) == 1


def test_frame_without_book_columns_is_a_schema_finding() -> None:
    report = check_book_quality(pd.DataFrame({"timestamp": [], "price": []}))

    assert report.symbols == ()
    assert report.frame_findings[0].check is Check.SCHEMA
    assert "msg_id" in report.frame_findings[0].message


@pytest.mark.shared_data
@pytest.mark.parametrize(
    ("name", "symbol", "rows"),
    [
        ("binance_futures_btcusdt_book25_2020-09-01.csv.gz", "BTCUSDT", 500),
        ("bybit_linear_xrpusdt_ob500_2024-12-01.csv.gz", "XRPUSDT", 3966),
    ],
)
def test_real_order_book_files_replay_clean(
    shared_data: Path, name: str, symbol: str, rows: int
) -> None:
    # The data README: every snapshot is sorted and uncrossed, and replaying the Bybit
    # snapshot + 49 deltas (18 of them level removals) never produces a crossed book.
    market_file = read_market_file(shared_data / "orderbook" / name)

    result = check_book_quality(market_file.frame, market_of=market_file.markets)[symbol]

    assert result.rows == rows
    assert result.findings == ()
    assert result.recommendation is Recommendation.USE
