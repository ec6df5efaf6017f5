"""Trade-print files: columns found by name, times to UTC, bad rows named, and the prints as
domain ticks in time order."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path

import pytest

from orchestrade.data.errors import DataFileError
from orchestrade.data.tick_files import read_tick_file, ticks_of
from orchestrade.domain import Side, Tick


def write(tmp_path: Path, text: str, name: str = "ticks.csv") -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def test_prints_are_read_by_column_name_and_sorted_by_time(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        "Time,Ticker,Price,Qty,Side\n"
        "2024-01-02T09:00:01+09:00,005930,71000,10,b\n"
        "2024-01-02T00:00:00Z,000660,130500,3,SELL\n"
        "2024-01-02T00:00:00Z,000660,130600,1,\n",
    )

    frame = read_tick_file(path)

    assert list(frame.columns) == ["timestamp", "symbol", "price", "size", "side"]
    assert [str(t) for t in frame["timestamp"]] == [
        "2024-01-02 00:00:00+00:00",
        "2024-01-02 00:00:00+00:00",
        "2024-01-02 00:00:01+00:00",  # 09:00:01 in Seoul
    ]
    assert list(frame["symbol"]) == ["000660", "000660", "005930"]  # ties keep file order
    assert list(frame["side"]) == ["sell", None, "buy"]
    assert list(ticks_of(frame)) == [
        Tick("000660", datetime(2024, 1, 2, tzinfo=UTC), Decimal("130500.0"), Decimal("3.0"),
             Side.SELL),
        Tick("000660", datetime(2024, 1, 2, tzinfo=UTC), Decimal("130600.0"), Decimal("1.0")),
        Tick("005930", datetime(2024, 1, 2, 0, 0, 1, tzinfo=UTC), Decimal("71000.0"),
             Decimal("10.0"), Side.BUY),
    ]  # fmt: skip


def test_a_one_symbol_file_may_name_its_symbol_and_epoch_times_are_read(tmp_path: Path) -> None:
    path = write(tmp_path, "ts,price,amount\n1704067200000,42000.5,0.25\n")

    (tick,) = ticks_of(read_tick_file(path, symbol="BTCUSDT"))

    assert tick == Tick("BTCUSDT", datetime(2024, 1, 1, tzinfo=UTC), Decimal("42000.5"),
                        Decimal("0.25"))  # fmt: skip


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("price,size\n1,1\n", "no time column"),
        ("time,price,size\n2024-01-02,1,1\n", "no symbol column"),
        ("time,symbol,size\n2024-01-02,A,1\n", "no price column"),
        ("time,symbol,price,size,qty\n2024-01-02,A,1,1,1\n", "ambiguous size columns"),
        ("time,symbol,price,size\n2024-01-02,A,1,1\nnever,A,1,1\n", "time of data row 2"),
        ("time,symbol,price,size\n2024-01-02,A,0,1\n2024-01-02,A,-1,1\n", "price of data row 1"),
        ("time,symbol,price,size\n2024-01-02,A,1,0\n", "size of data row 1"),
        ("time,symbol,price,size,side\n2024-01-02,A,1,1,long\n", "side of data row 1"),
        ("time,symbol,price,size\n2024-01-02,,1,1\n", "symbol of data row 1 is empty"),
        ("time,symbol,price,size\n", "holds no trades"),
    ],
)
def test_bad_files_name_the_file_the_column_and_the_row(
    tmp_path: Path, text: str, message: str
) -> None:
    path = write(tmp_path, text)
    with pytest.raises(DataFileError, match=message) as caught:
        read_tick_file(path)
    assert str(path) in str(caught.value)


def test_a_missing_file_is_named(tmp_path: Path) -> None:
    with pytest.raises(DataFileError, match="no such file"):
        read_tick_file(tmp_path / "absent.csv")
