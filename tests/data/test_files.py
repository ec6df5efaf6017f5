"""Reading bar and order-book files: column detection, time parsing, markets, timeframes."""

from __future__ import annotations

import gzip
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from orchestrade.data.errors import DataFileError
from orchestrade.data.files import (
    BAR_COLUMNS,
    BOOK_COLUMNS,
    discover_files,
    infer_instrument_kind,
    infer_market,
    infer_timeframe,
    parse_timestamps,
    read_market_file,
)
from orchestrade.domain import InstrumentKind, Market


def write(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    if path.name.endswith(".gz"):
        with gzip.open(path, "wt", encoding="utf-8") as handle:
            handle.write(text)
    else:
        path.write_text(text, encoding="utf-8")
    return path


def utc(text: str) -> pd.Timestamp:
    return pd.Timestamp(text, tz="UTC")


def test_krx_file_takes_ticker_as_symbol_keeps_zeros_and_names_the_instrument(
    tmp_path: Path,
) -> None:
    path = write(
        tmp_path / "krx" / "005930_D.csv.gz",
        "date,open,high,low,close,volume,ticker,code,name,interval\n"
        "19900911,364,365,364,364,471921,005930,005930,삼성전자,D\n"
        "19900912,364,365,359,359,1032603,005930,005930,삼성전자,D\n",
    )

    source = read_market_file(path)

    assert source.kind == "bars"
    assert list(source.frame.columns) == list(BAR_COLUMNS)
    assert source.frame["symbol"].tolist() == ["005930", "005930"]
    assert source.frame["timestamp"].tolist() == [utc("1990-09-11"), utc("1990-09-12")]
    assert source.frame["close"].tolist() == [364.0, 359.0]
    assert source.frame["volume"].dtype == np.float64
    info = source.instruments["005930"]
    assert (info.market, info.exchange, info.currency, info.name) == (
        Market.KRX,
        "XKRX",
        "KRW",
        "삼성전자",
    )
    assert source.timeframe == "1d"


def test_symbol_column_priority_never_takes_name_when_another_exists(tmp_path: Path) -> None:
    path = write(
        tmp_path / "x.csv",
        "Name,Code,Date,Close\nAlpha Corp,000001,2024-01-02,10\nAlpha Corp,000001,2024-01-03,11\n",
    )

    assert read_market_file(path).symbols == ("000001",)


def test_symbol_comes_from_the_file_name_without_known_suffixes(tmp_path: Path) -> None:
    body = "date,open,high,low,close,volume\n2024-01-02,1,2,0.5,1.5,10\n"
    names = {"AAPL_data.csv": "AAPL", "005930_D.csv.gz": "005930", "BTCUSDT_1d.csv": "BTCUSDT"}

    symbols = {name: read_market_file(write(tmp_path / name, body)).symbols for name in names}

    assert symbols == {name: (symbol,) for name, symbol in names.items()}


def test_exact_time_name_wins_over_a_name_containing_it(tmp_path: Path) -> None:
    path = write(
        tmp_path / "bars.csv",
        "local_timestamp,timestamp,symbol,o,h,l,c,v\n"
        "2024-01-01T00:00:07Z,2024-01-01T00:00:00Z,BTCUSDT,1,2,0.5,1.5,3\n"
        "2024-01-01T00:01:09Z,2024-01-01T00:01:00Z,BTCUSDT,1,2,0.5,1.5,3\n",
    )

    source = read_market_file(path)

    assert source.frame["timestamp"].tolist() == [utc("2024-01-01"), utc("2024-01-01 00:01")]
    assert source.timeframe == "1m"


def test_two_exact_time_columns_that_disagree_are_ambiguous(tmp_path: Path) -> None:
    path = write(
        tmp_path / "bars.csv",
        "date,timestamp,symbol,close\n2024-01-01,2024-01-05T00:00:00Z,X,1\n",
    )

    with pytest.raises(
        DataFileError, match=r"bars\.csv: ambiguous time columns 'timestamp' and 'date'"
    ):
        read_market_file(path)


def test_a_date_column_that_is_the_day_of_a_timestamp_column_agrees(tmp_path: Path) -> None:
    path = write(
        tmp_path / "bars.csv",
        "date,timestamp,symbol,close\n"
        "2024-01-02,2024-01-02T14:30:00Z,BKNG,1\n"
        "2024-01-02,2024-01-02T14:31:00Z,BKNG,2\n",
    )

    source = read_market_file(path)

    assert source.frame["timestamp"].tolist() == [utc("2024-01-02 14:30"), utc("2024-01-02 14:31")]


def test_separate_date_and_time_of_day_columns_are_joined(tmp_path: Path) -> None:
    path = write(
        tmp_path / "EURUSD.csv",
        "Date;Time;Open;High;Low;Close;Volume\n"
        "2024-01-02;09:30;1;2;0.5;1.5;10\n2024-01-02;09:35;1;2;0.5;1.5;10\n",
    )

    source = read_market_file(path, market="us")

    assert source.frame["timestamp"].tolist() == [utc("2024-01-02 09:30"), utc("2024-01-02 09:35")]
    assert source.timeframe == "5m"


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ("symbol,open,close\nX,1,2\n", r"no time column \(looked for: date, datetime"),
        ("date,symbol,open\n2024-01-01,X,1\n", r"no close column"),
        ("date,symbol,Close,close\n2024-01-01,X,1,1\n", r"ambiguous columns 'Close' and 'close'"),
        ("date,symbol,open,close\n2024-01-01,X,1,1\n", r"no high column"),
        ("date,symbol,close\n", r"has a header but no rows"),
        ("", r"the file is empty"),
        (
            "created_time,updated_time,symbol,close\n2024-01-01,2024-01-01,X,1\n",
            r"ambiguous time columns 'created_time', 'updated_time'",
        ),
    ],
)
def test_files_that_cannot_be_understood_raise_a_clear_error(
    tmp_path: Path, body: str, message: str
) -> None:
    path = write(tmp_path / "bad.csv", body)

    with pytest.raises(DataFileError, match=message) as caught:
        read_market_file(path)

    assert caught.value.path == path
    assert str(caught.value).startswith(str(path))


def test_a_file_that_is_not_csv_or_parquet_is_refused(tmp_path: Path) -> None:
    path = write(tmp_path / "notes.txt", "date,close\n2024-01-01,1\n")

    with pytest.raises(DataFileError, match=r"not a CSV, CSV\.gz or Parquet file"):
        read_market_file(path)


def test_a_gzip_name_with_plain_content_is_a_clear_error(tmp_path: Path) -> None:
    path = tmp_path / "fake.csv.gz"
    path.write_text("date,close\n2024-01-01,1\n")

    with pytest.raises(DataFileError, match=r"fake\.csv\.gz"):
        read_market_file(path)


def test_raw_frame_keeps_every_row_in_file_order_with_nan_for_garbage(tmp_path: Path) -> None:
    path = write(
        tmp_path / "bars.csv",
        "date,symbol,open,high,low,close,volume\n"
        "2024-01-03,B,1,2,0.5,1.5,10\n"
        "not a date,A,1,2,0.5,1.5,10\n"
        "2024-01-02,A,,2,0.5,n/a,\n"
        "2024-01-02,,1,2,0.5,1.5,10\n",
    )

    frame = read_market_file(path).frame

    assert frame["symbol"].tolist()[:3] == ["B", "A", "A"]
    assert pd.isna(frame["symbol"].iloc[3])
    assert pd.isna(frame["timestamp"].iloc[1])
    assert np.isnan(frame["open"].iloc[2])
    assert np.isnan(frame["close"].iloc[2])
    assert np.isnan(frame["volume"].iloc[2])
    assert len(frame) == 4


def test_parquet_files_with_aware_datetimes_are_read(tmp_path: Path) -> None:
    stamps = pd.date_range("2024-01-01 09:00", periods=3, freq="h", tz="Asia/Seoul")
    table = pd.DataFrame({"Timestamp": stamps, "Ticker": ["005930"] * 3, "Close": [1.0, 2.0, 3.0]})
    path = tmp_path / "p.parquet"
    table.to_parquet(path)

    source = read_market_file(path)

    assert source.frame["timestamp"].iloc[0] == utc("2024-01-01 00:00")
    assert source.frame["open"].tolist() == [1.0, 2.0, 3.0]  # close-only file
    assert source.timeframe == "1h"
    assert source.markets == {"005930": Market.KRX}


def test_order_book_files_are_detected_and_normalized(tmp_path: Path) -> None:
    path = write(
        tmp_path / "book.csv.gz",
        "timestamp,local_timestamp,exchange,symbol,msg_id,update_type,side,level,price,size\n"
        "2024-12-01T00:00:00.589Z,2024-12-01T00:00:00.691Z,bybit-linear,XRPUSDT,0,snapshot,"
        "bid,0,1.9531,6203\n"
        "2024-12-01T00:00:00.691Z,2024-12-01T00:00:00.693Z,bybit-linear,XRPUSDT,1,delta,ask,,"
        "1.9538,0\n",
    )

    source = read_market_file(path)

    assert source.kind == "book"
    assert source.timeframe is None
    assert list(source.frame.columns) == list(BOOK_COLUMNS)
    assert source.frame["timestamp"].iloc[0] == utc("2024-12-01 00:00:00.589")
    assert source.frame["level"].tolist()[0] == 0
    assert source.frame["level"].isna().tolist() == [False, True]
    assert str(source.frame["msg_id"].dtype) == "Int64"
    assert source.instruments["XRPUSDT"].market is Market.CRYPTO


def test_folders_are_searched_recursively_for_data_files_only(tmp_path: Path) -> None:
    body = "date,close\n2024-01-01,1\n"
    write(tmp_path / "a" / "b" / "x.csv.gz", body)
    write(tmp_path / "a" / "y.parquet", "")
    write(tmp_path / "a" / "README.md", "hello")
    write(tmp_path / "z.csv", body)

    found = discover_files([tmp_path])

    assert [p.relative_to(tmp_path).as_posix() for p in found] == [
        "a/b/x.csv.gz",
        "a/y.parquet",
        "z.csv",
    ]


@pytest.mark.parametrize(
    ("values", "expected"),
    [
        (
            ["2024-10-01T03:00:00Z", "2024-10-01T03:01:00+09:00"],
            ["2024-10-01 03:00", "2024-09-30 18:01"],
        ),
        (
            ["2024-02-20 09:00", "2024-02-20T09:00:00-05:00"],
            ["2024-02-20 09:00", "2024-02-20 14:00"],
        ),
        (["2013-02-08", None, "garbage"], ["2013-02-08", None, None]),
        ([20240102, 19900911], ["2024-01-02", "1990-09-11"]),
        ([1_700_000_000, 1_700_000_060_000], ["2023-11-14 22:13:20", "2023-11-14 22:14:20"]),
        (
            [1_700_000_000_000_000, 1_700_000_000_000_000_123],
            ["2023-11-14 22:13:20", "2023-11-14 22:13:20.000000123"],
        ),
        (["1700000000", "1700003600"], ["2023-11-14 22:13:20", "2023-11-14 23:13:20"]),
        (["2024.01.02"], ["2024-01-02"]),
    ],
)
def test_time_values_parse_to_utc(values: list[object], expected: list[str | None]) -> None:
    parsed = parse_timestamps(pd.Series(values))

    assert str(parsed.dtype) == "datetime64[ns, UTC]"
    assert [None if pd.isna(v) else v for v in parsed] == [
        None if e is None else utc(e) for e in expected
    ]


def test_epoch_milliseconds_keep_full_precision() -> None:
    ms = 1_727_751_600_123

    parsed = parse_timestamps(pd.Series([ms], dtype="int64"))

    assert parsed.iloc[0].value == ms * 1_000_000


@pytest.mark.parametrize(
    ("symbol", "market"),
    [
        ("005930", Market.KRX),
        ("Q520057", Market.KRX),
        ("A005930", Market.KRX),
        ("BTCUSDT", Market.CRYPTO),
        ("BTCUSD", Market.CRYPTO),
        ("ETHBTC", Market.CRYPTO),
        ("eth-usdc", Market.CRYPTO),
        ("AAPL", Market.US),
        ("SPY", Market.US),
        ("BRK.B", Market.US),
        ("SETH", Market.US),  # base of one letter is not a pair
    ],
)
def test_market_is_inferred_from_the_shape_of_the_symbol(symbol: str, market: Market) -> None:
    assert infer_market(symbol) is market


def test_an_explicit_market_overrides_inference(tmp_path: Path) -> None:
    path = write(tmp_path / "x.csv", "date,symbol,close\n2024-01-01,123456,1\n")

    assert read_market_file(path, market=Market.US).markets == {"123456": Market.US}


def _frame(symbols: list[str], stamps: list[str]) -> tuple[pd.Series, pd.Series]:
    return pd.Series(symbols, dtype="object"), pd.Series(pd.to_datetime(stamps, utc=True))


@pytest.mark.parametrize(
    ("stamps", "timeframe"),
    [
        (["2024-01-01 00:00", "2024-01-01 00:01", "2024-01-01 00:02"], "1m"),
        # sparse minutes: median gap 3 minutes, yet not multiples of 5
        (["2024-01-01 00:00", "2024-01-01 00:03", "2024-01-01 00:07", "2024-01-01 00:09"], "1m"),
        (["2024-01-01 00:00", "2024-01-01 00:15", "2024-01-01 01:00"], "15m"),
        (["2024-01-01 00:00", "2024-01-01 04:00", "2024-01-01 08:00"], "4h"),
        (["2024-01-05", "2024-01-08", "2024-01-09", "2024-01-10"], "1d"),
        (["2024-01-01", "2024-01-08", "2024-01-15"], "1w"),
        (["2024-01-01"], "1d"),
    ],
)
def test_timeframe_is_inferred_from_the_spacing(stamps: list[str], timeframe: str) -> None:
    assert infer_timeframe(*_frame(["X"] * len(stamps), stamps)) == timeframe


def test_timeframe_spacing_is_measured_per_symbol() -> None:
    stamps = ["2024-01-01 00:00", "2024-01-01 00:00", "2024-01-01 01:00", "2024-01-01 01:00"]

    assert infer_timeframe(*_frame(["A", "B", "A", "B"], stamps)) == "1h"


@pytest.mark.parametrize(
    ("stamps", "message"),
    [
        (["2024-01-01", "2024-02-01", "2024-03-01"], "coarser than weekly"),
        (["2024-01-01 00:00:00", "2024-01-01 00:00:01"], "finer than 1m"),
        (["2024-01-01 10:00"], "one intraday bar per symbol"),
    ],
)
def test_timeframes_that_cannot_be_inferred_are_errors(stamps: list[str], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        infer_timeframe(*_frame(["X"] * len(stamps), stamps))


# Real files: every file of the shared data folder reads without any mapping.
EXPECTED = {
    "us_daily/sp500_5yr.csv.gz": ("bars", "1d", 619_040, 505, Market.US),
    "intraday/binance_spot_1m_2024-10.csv.gz": ("bars", "1m", 200_000, 4, Market.CRYPTO),
    "intraday/binance_spot_1m_2025-01.csv.gz": ("bars", "1m", 200_000, 4, Market.CRYPTO),
    "intraday/binance_spot_1m_2025-03.csv.gz": ("bars", "1m", 178_560, 4, Market.CRYPTO),
    "intraday/binance_spot_btcusdt_1m_segments_2021_2024.csv.gz": (
        "bars",
        "1m",
        200_000,
        1,
        Market.CRYPTO,
    ),
    "intraday/us_spy_1m_2024-02_2024-05.csv.gz": ("bars", "1m", 49_720, 1, Market.US),
    "intraday/us_stocks_sparse_1m_2024.csv.gz": ("bars", "1m", 243_798, 6, Market.US),
    "crypto/binance_spot_1h_2017_2021.csv.gz": ("bars", "1h", 81_782, 4, Market.CRYPTO),
    "crypto/btcusd_1d_2011_2025.csv.gz": ("bars", "1d", 5_152, 1, Market.CRYPTO),
    "orderbook/binance_futures_btcusdt_book25_2020-09-01.csv.gz": (
        "book",
        None,
        500,
        1,
        Market.CRYPTO,
    ),
    "orderbook/bybit_linear_xrpusdt_ob500_2024-12-01.csv.gz": (
        "book",
        None,
        3_966,
        1,
        Market.CRYPTO,
    ),
}


@pytest.mark.shared_data
@pytest.mark.parametrize(
    "name",
    [
        pytest.param(name, marks=pytest.mark.slow) if name.startswith("us_daily") else name
        for name in EXPECTED
    ],
)
def test_every_shared_file_reads_as_its_readme_describes(shared_data: Path, name: str) -> None:
    kind, timeframe, rows, symbols, market = EXPECTED[name]

    source = read_market_file(shared_data / name)

    assert (source.kind, source.timeframe, len(source.frame)) == (kind, timeframe, rows)
    assert len(source.symbols) == symbols
    assert set(source.markets.values()) == {market}
    assert source.frame["timestamp"].notna().all()


@pytest.mark.shared_data
def test_every_krx_file_reads_with_its_code_and_korean_name(shared_data: Path) -> None:
    files = sorted((shared_data / "krx").glob("*.csv.gz"))

    sources = [read_market_file(path) for path in files]

    assert len(sources) == 32
    for path, source in zip(files, sources, strict=True):
        code = path.name.removesuffix(".csv.gz")
        assert source.symbols == (code,)
        assert source.markets == {code: Market.KRX}
        assert source.timeframe == "1d"
        assert source.instruments[code].name
    assert (
        sources[files.index(shared_data / "krx" / "005930.csv.gz")].instruments["005930"].name
        == "삼성전자"
    )


@pytest.mark.shared_data
def test_the_whole_shared_folder_is_discovered(shared_data: Path) -> None:
    found = discover_files([shared_data])

    assert len(found) == len(EXPECTED) + 32
    assert all(p.name.endswith(".csv.gz") for p in found)


@pytest.mark.parametrize(
    ("symbol", "market", "name", "kind"),
    [
        ("005930", Market.KRX, "삼성전자", InstrumentKind.STOCK),
        ("069500", Market.KRX, "KODEX 200", InstrumentKind.ETF),
        ("360750", Market.KRX, "TIGER 미국S&P500", InstrumentKind.ETF),
        ("Q520057", Market.KRX, "미래에셋 인버스 2X 코스닥150 선물 ETN", InstrumentKind.ETN),
        ("005930", Market.KRX, None, InstrumentKind.STOCK),
        ("BTCUSDT", Market.CRYPTO, None, InstrumentKind.CRYPTO_SPOT),
        ("SPY", Market.US, "SPDR S&P 500", InstrumentKind.STOCK),
    ],
)
def test_instrument_kind_is_inferred_from_code_and_name(
    symbol: str, market: Market, name: str | None, kind: InstrumentKind
) -> None:
    assert infer_instrument_kind(symbol, market, name) is kind
