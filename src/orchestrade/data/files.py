"""Read bar and order-book files (CSV, CSV.gz, Parquet) into normalized raw frames.

Nothing is dropped, sorted or repaired here: a raw frame keeps every row of the file in file
order and turns what cannot be parsed into NaN/NaT, so that cleaning can count the bad rows
and the quality checks can see the warts. Columns are found by name, case-insensitively:

* time: ``date``, ``datetime``, ``timestamp`` or ``time``. Exact names win over names that
  merely contain one of these words (``timestamp`` beats ``local_timestamp``); two exact
  columns must agree (a date-only column may be the day of a finer one, and a ``time``
  column holding only times of day is joined to ``date``), otherwise the file is ambiguous.
* symbol: ``symbol``, then ``ticker``, ``code``, ``name``: the first present wins, so ``name``
  is only a symbol when nothing else is. Without any of them the file name is the symbol
  (``krx/005930_D.csv.gz`` -> ``005930``). Symbols are always read as text (``005930``).
* prices: ``open|o``, ``high|h``, ``low|l``, ``close|c``, ``volume|v|vol``; other columns
  (``adj close``, ``interval``, ...) are ignored. A close-only file uses its close as open,
  high and low; a missing volume column gives NaN volumes.

Time values may be ISO 8601 strings (date only or with a time; ``Z`` or an offset is
converted to UTC, a naive time is taken as UTC), ``YYYYMMDD`` integers, or epoch numbers
whose unit is told by magnitude (below 1e11 seconds, 1e14 milliseconds, 1e17 microseconds,
else nanoseconds), so a column mixing seconds and milliseconds still parses.
"""

from __future__ import annotations

import gzip
import re
from collections.abc import Hashable, Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

import numpy as np
import pandas as pd

from orchestrade.data.errors import DataFileError
from orchestrade.domain import TIMEFRAME_SECONDS, InstrumentKind, Market

FileKind = Literal["bars", "book"]

BAR_COLUMNS = ("symbol", "timestamp", "open", "high", "low", "close", "volume")
BOOK_COLUMNS = (
    "timestamp",
    "local_timestamp",
    "exchange",
    "symbol",
    "msg_id",
    "update_type",
    "side",
    "level",
    "price",
    "size",
)
DATA_SUFFIXES = (".csv", ".csv.gz", ".parquet")

TIMEFRAME_NS: dict[str, int] = {
    name: seconds * 10**9 for name, seconds in TIMEFRAME_SECONDS.items()
}
"""Timeframe names and lengths in nanoseconds, shortest first."""

_TIME_NAMES = ("timestamp", "datetime", "date", "time")  # priority when exact columns agree
_SYMBOL_NAMES = ("symbol", "ticker", "code", "name")
_PRICE_NAMES: dict[str, tuple[str, ...]] = {
    "open": ("open", "o"),
    "high": ("high", "h"),
    "low": ("low", "l"),
    "close": ("close", "c"),
    "volume": ("volume", "v", "vol"),
}
_TEXT_NAMES = frozenset({*_SYMBOL_NAMES, "exchange", "update_type", "side"})
_BOOK_REQUIRED = ("timestamp", "exchange", "symbol", "msg_id", "update_type", "side", "price")
_SEPARATORS = (",", ";", "\t", "|")

_KRX_CODE = re.compile(r"[A-Z]?\d{6}|[A-Z]\d{5}")
_CRYPTO_PAIR = re.compile(r"([A-Z0-9]{2,}?)[-/_]?(USDT|USDC|BUSD|USD|BTC|ETH|KRW)")
_FILE_SUFFIX = re.compile(r"[_-](?:d|daily|data|ohlcv?|bars|\d+(?:m|min|h|d|w))$", re.IGNORECASE)
_TIME_OF_DAY = re.compile(r"\d{1,2}:\d{2}(?::\d{2}(?:\.\d+)?)?")
_HAS_OFFSET = r"(?:Z|z|[+-]\d\d:?\d\d)$"
_DAY_NS = 86_400 * 10**9
_NAT = np.iinfo(np.int64).min
_MULTIPLE_SHARE = 0.95


@dataclass(frozen=True, slots=True)
class InstrumentInfo:
    """What a file tells about one instrument besides its bars."""

    symbol: str
    market: Market
    exchange: str
    currency: str
    name: str | None = None


@dataclass(frozen=True, slots=True, eq=False)
class MarketFile:
    """One market data file read into a raw normalized frame.

    Attributes:
        path: the file read.
        kind: "bars" (frame follows BAR_COLUMNS) or "book" (frame follows BOOK_COLUMNS).
        frame: every row of the file in file order; unparseable values are NaN/NaT.
        instruments: per symbol, in order of first appearance (rows without a symbol have no
            entry).
        timeframe: the bar length ("1m" ... "1w"); None for order-book files.
    """

    path: Path
    kind: FileKind
    frame: pd.DataFrame
    instruments: Mapping[str, InstrumentInfo]
    timeframe: str | None

    @property
    def symbols(self) -> tuple[str, ...]:
        """The symbols of the file in order of first appearance."""
        return tuple(self.instruments)

    @property
    def markets(self) -> dict[str, Market]:
        """The market of each symbol."""
        return {symbol: info.market for symbol, info in self.instruments.items()}


def discover_files(paths: Iterable[Path | str]) -> list[Path]:
    """Expand folders (recursively) into their CSV, CSV.gz and Parquet files, sorted.

    Files named explicitly are kept whatever their extension, so that reading them reports a
    clear error; inside folders other files (README.md, ...) are skipped.
    """
    found: list[Path] = []
    for raw in paths:
        path = Path(raw).expanduser()
        if path.is_dir():
            found.extend(sorted(p for p in path.rglob("*") if p.is_file() and _has_data_suffix(p)))
        else:
            found.append(path)
    return found


def read_market_file(
    path: Path | str, *, market: Market | str | None = None, timeframe: str | None = None
) -> MarketFile:
    """Read one bar or order-book file into a raw normalized frame.

    Args:
        path: a .csv, .csv.gz or .parquet file.
        market: the market of every symbol in the file; None infers it per symbol
            (see `infer_market`).
        timeframe: the bar length; None infers it from the spacing of the timestamps
            (see `infer_timeframe`).

    Raises:
        DataFileError: the file is missing, empty, not CSV/Parquet, or lacks (or has
            ambiguous) time, symbol or price columns.
    """
    path = Path(path).expanduser()
    forced = Market(market) if market is not None else None
    if timeframe is not None and timeframe not in TIMEFRAME_NS:
        raise DataFileError(path, f"unknown timeframe {timeframe!r}; use one of {_known()}")
    table = _read_table(path)
    if table.empty:
        raise DataFileError(path, "the file has a header but no rows")
    columns = _column_lookup(path, table)
    if _looks_like_book(columns):
        frame = _book_frame(path, table, columns)
        exchanges = frame.groupby("symbol", sort=False)["exchange"].first()
        instruments = {
            symbol: _instrument(symbol, forced, exchange=str(exchanges[symbol]).upper())
            for symbol in _ordered_symbols(frame["symbol"])
        }
        return MarketFile(path, "book", frame, instruments, None)
    frame, names = _bar_frame(path, table, columns)
    instruments = {
        symbol: _instrument(symbol, forced, name=names.get(symbol))
        for symbol in _ordered_symbols(frame["symbol"])
    }
    if timeframe is None:
        try:
            timeframe = infer_timeframe(frame["symbol"], frame["timestamp"])
        except ValueError as error:
            raise DataFileError(path, str(error)) from error
    return MarketFile(path, "bars", frame, instruments, timeframe)


def infer_market(symbol: str) -> Market:
    """Guess the market of a symbol from its shape.

    * KRX: six digits (``005930``), optionally after one letter (``Q520057`` ETNs,
      ``A005930``), or one letter and five digits.
    * CRYPTO: a base of two or more letters/digits followed by a quote currency among USDT,
      USDC, BUSD, USD, BTC, ETH, KRW, optionally separated by ``-``, ``/`` or ``_``
      (``BTCUSDT``, ``BTCUSD``, ``ETH-BTC``).
    * US: everything else (``AAPL``, ``BRK.B``, ``SPY``).
    """
    text = symbol.strip().upper()
    if _KRX_CODE.fullmatch(text):
        return Market.KRX
    if _CRYPTO_PAIR.fullmatch(text):
        return Market.CRYPTO
    return Market.US


def infer_instrument_kind(symbol: str, market: Market, name: str | None = None) -> InstrumentKind:
    """Guess the product type, which decides taxes and quantity rules.

    * CRYPTO: spot (perpetuals are named explicitly by their feeds).
    * KRX: an ETN when the code starts with a letter ``Q`` or the name says ETN; an ETF when
      the name starts with a Korean ETF brand (KODEX, TIGER, ARIRANG, KBSTAR, RISE, ACE, SOL,
      HANARO, KOSEF, PLUS, ...); else a stock. Without a name a KRX code is a stock.
    * US: a stock (ETFs are taxed and traded alike there).
    """
    if market is Market.CRYPTO:
        return InstrumentKind.CRYPTO_SPOT
    if market is Market.KRX:
        label = (name or "").strip().upper()
        if symbol.upper().startswith("Q") or "ETN" in label:
            return InstrumentKind.ETN
        if label.split(" ", 1)[0] in _KRX_ETF_BRANDS:
            return InstrumentKind.ETF
    return InstrumentKind.STOCK


_KRX_ETF_BRANDS = frozenset(
    {
        "KODEX",
        "TIGER",
        "ARIRANG",
        "KBSTAR",
        "RISE",
        "ACE",
        "SOL",
        "HANARO",
        "KOSEF",
        "PLUS",
        "KINDEX",
        "TIMEFOLIO",
        "KIWOOM",
        "WOORI",
        "WON",
        "BNK",
        "FOCUS",
        "TREX",
        "MASTER",
        "HK",
        "UNICORN",
        "DAISHIN343",
        "1Q",
        "HEROES",
        "ITF",
        "TRUSTON",
        "MIGHTY",
    }
)


def infer_timeframe(symbols: pd.Series, timestamps: pd.Series) -> str:
    """Infer the bar length from the spacing of each symbol's timestamps.

    The spacing is the median, over symbols, of each symbol's median gap between
    consecutive distinct timestamps. The timeframe is the longest one not above that spacing
    of which at least 95% of the gaps are whole multiples, so sparse 1-minute bars stay
    "1m" even when their median gap is 3 minutes, and daily bars across a DST change stay
    "1d". When every symbol has a single bar, midnight stamps mean "1d".

    Raises:
        ValueError: the spacing is below one minute or above two weeks, or a single
            intraday bar per symbol leaves nothing to measure.
    """
    valid = symbols.notna().to_numpy() & timestamps.notna().to_numpy()
    codes = pd.factorize(symbols[valid])[0]
    ns = timestamps[valid].to_numpy(dtype="datetime64[ns]").view("int64")
    if ns.size == 0:
        raise ValueError("no row has both a symbol and a parseable timestamp")
    order = np.lexsort((ns, codes))
    codes, ns = codes[order], ns[order]
    gaps = np.diff(ns)
    keep = (codes[1:] == codes[:-1]) & (gaps > 0)
    gaps, gap_codes = gaps[keep], codes[1:][keep]
    if gaps.size == 0:
        if np.all(ns % _DAY_NS == 0):
            return "1d"
        raise ValueError("one intraday bar per symbol: cannot infer the timeframe, pass it")
    per_symbol = pd.Series(gaps).groupby(gap_codes).median()
    spacing = float(per_symbol.median())
    names = list(TIMEFRAME_NS)
    if spacing < TIMEFRAME_NS[names[0]]:
        raise ValueError(f"bars are {spacing / 1e9:g} s apart: finer than 1m (tick data?)")
    if spacing > 2 * TIMEFRAME_NS[names[-1]]:
        days = spacing / _DAY_NS
        raise ValueError(f"bars are {days:g} days apart: coarser than weekly, not supported")
    for name in reversed(names):
        length = TIMEFRAME_NS[name]
        if length <= spacing and np.mean(gaps % length == 0) >= _MULTIPLE_SHARE:
            return name
    return names[0]


def parse_timestamps(values: pd.Series) -> pd.Series:
    """Parse a column of times into datetime64[ns, UTC]; what cannot be parsed becomes NaT.

    Accepts datetimes (naive ones are UTC), ISO 8601 strings, ``YYYYMMDD`` integers and
    epoch numbers (unit by magnitude), as described in the module docstring.
    """
    if isinstance(values.dtype, pd.DatetimeTZDtype):
        converted: pd.Series = values.dt.tz_convert("UTC").astype("datetime64[ns, UTC]")
        return converted
    if pd.api.types.is_datetime64_dtype(values.dtype):
        return values.astype("datetime64[ns]").dt.tz_localize("UTC")
    if pd.api.types.is_bool_dtype(values.dtype):
        return pd.Series(pd.NaT, index=values.index, dtype="datetime64[ns, UTC]")
    if pd.api.types.is_numeric_dtype(values.dtype):
        return _parse_numbers(values)
    text = _text(values)
    present = text.notna()
    if present.any() and text[present].str.fullmatch(r"[+-]?\d+(?:\.\d*)?").all():
        return _parse_numbers(pd.to_numeric(text.where(present), errors="coerce"))
    return _parse_text(text.where(present))


def _known() -> str:
    return ", ".join(TIMEFRAME_NS)


def _has_data_suffix(path: Path) -> bool:
    name = path.name.lower()
    return any(name.endswith(suffix) for suffix in DATA_SUFFIXES)


def _read_table(path: Path) -> pd.DataFrame:
    if not path.is_file():
        raise DataFileError(path, "no such file")
    name = path.name.lower()
    try:
        if name.endswith(".parquet"):
            return pd.read_parquet(path)
        if name.endswith((".csv", ".csv.gz")):
            return _read_csv(path)
    except pd.errors.EmptyDataError as error:
        raise DataFileError(path, "the file is empty") from error
    except pd.errors.ParserError as error:
        raise DataFileError(path, f"not a readable CSV file ({error})") from error
    except UnicodeDecodeError as error:
        raise DataFileError(path, f"not UTF-8 text ({error.reason})") from error
    except (ValueError, OSError) as error:
        raise DataFileError(path, f"cannot read the file ({error})") from error
    raise DataFileError(path, "not a CSV, CSV.gz or Parquet file (by its extension)")


def _read_csv(path: Path) -> pd.DataFrame:
    opener = gzip.open if path.name.lower().endswith(".gz") else open
    with opener(path, "rt", encoding="utf-8", newline="") as handle:
        first = handle.readline()
    if not first.strip():
        raise DataFileError(path, "the file is empty")
    counts = {sep: first.count(sep) for sep in _SEPARATORS}
    separator = max(counts, key=lambda sep: counts[sep])
    header = pd.read_csv(path, nrows=0, sep=separator).columns
    text_columns: dict[Hashable, type[str]] = {
        c: str for c in header if str(c).strip().lower() in _TEXT_NAMES
    }
    return pd.read_csv(
        path, sep=separator, dtype=text_columns, keep_default_na=False, na_values=[""]
    )


def _column_lookup(path: Path, table: pd.DataFrame) -> dict[str, str]:
    """Map lower-case stripped names to the file's column names; duplicates are ambiguous."""
    lookup: dict[str, str] = {}
    for column in table.columns:
        key = str(column).strip().lower()
        if key in lookup:
            raise DataFileError(
                path, f"ambiguous columns {lookup[key]!r} and {column!r} (same name ignoring case)"
            )
        lookup[key] = str(column)
    return lookup


def _looks_like_book(columns: Mapping[str, str]) -> bool:
    return {"side", "price", "size"} <= columns.keys() or {"msg_id", "update_type"} <= (
        columns.keys()
    )


def _bar_frame(
    path: Path, table: pd.DataFrame, columns: Mapping[str, str]
) -> tuple[pd.DataFrame, dict[str, str]]:
    timestamps = _timestamps(path, table, columns)
    symbol_key = next((name for name in _SYMBOL_NAMES if name in columns), None)
    if symbol_key is None:
        symbol = pd.Series(_symbol_from_path(path), index=table.index, dtype="object")
    else:
        symbol = _text(table[columns[symbol_key]])
    prices = {field: _price_column(path, table, columns, field) for field in _PRICE_NAMES}
    if prices["close"] is None:
        raise DataFileError(path, f"no close column (looked for: close, c; found {_names(table)})")
    close = prices["close"]
    missing = [field for field in ("open", "high", "low") if prices[field] is None]
    if len(missing) == 3:
        prices.update(open=close, high=close, low=close)
    elif missing:
        raise DataFileError(path, f"no {missing[0]} column (found {_names(table)})")
    volume = prices["volume"]
    frame = pd.DataFrame(
        {
            "symbol": symbol,
            "timestamp": timestamps,
            "open": prices["open"],
            "high": prices["high"],
            "low": prices["low"],
            "close": close,
            "volume": volume if volume is not None else np.nan,
        }
    )
    frame = frame.astype({field: "float64" for field in _PRICE_NAMES}).reset_index(drop=True)
    names: dict[str, str] = {}
    if symbol_key is not None and symbol_key != "name" and "name" in columns:
        labels = _text(table[columns["name"]]).to_numpy()
        named = pd.DataFrame({"symbol": symbol.to_numpy(), "name": labels}).dropna()
        names = dict(named.groupby("symbol", sort=False)["name"].first())
    return frame, names


def _book_frame(path: Path, table: pd.DataFrame, columns: Mapping[str, str]) -> pd.DataFrame:
    for key in _BOOK_REQUIRED:
        if key not in columns:
            raise DataFileError(
                path, f"order-book file without a {key!r} column (found {_names(table)})"
            )
    if "size" not in columns and "amount" not in columns:
        raise DataFileError(path, f"order-book file without a 'size' column ({_names(table)})")

    def column(key: str) -> pd.Series:
        return table[columns[key]]

    def number(key: str) -> pd.Series:
        return pd.to_numeric(column(key), errors="coerce")

    side = _text(column("side")).str.lower().replace({"buy": "bid", "sell": "ask"})
    frame = pd.DataFrame(
        {
            "timestamp": parse_timestamps(column("timestamp")),
            "local_timestamp": (
                parse_timestamps(column("local_timestamp"))
                if "local_timestamp" in columns
                else pd.Series(pd.NaT, index=table.index, dtype="datetime64[ns, UTC]")
            ),
            "exchange": _text(column("exchange")),
            "symbol": _text(column("symbol")),
            "msg_id": _nullable_int(number("msg_id")),
            "update_type": _text(column("update_type")).str.lower(),
            "side": side,
            "level": (
                _nullable_int(number("level"))
                if "level" in columns
                else pd.Series(pd.NA, index=table.index, dtype="Int64")
            ),
            "price": number("price").astype("float64"),
            "size": number("size" if "size" in columns else "amount").astype("float64"),
        }
    )
    return frame.reset_index(drop=True)


def _timestamps(path: Path, table: pd.DataFrame, columns: Mapping[str, str]) -> pd.Series:
    exact = [name for name in _TIME_NAMES if name in columns]
    if not exact:
        partial = [key for key in columns if set(re.split(r"[^a-z0-9]+", key)) & set(_TIME_NAMES)]
        if not partial:
            raise DataFileError(
                path,
                f"no time column (looked for: date, datetime, timestamp, time; "
                f"found {_names(table)})",
            )
        if len(partial) > 1:
            found = ", ".join(repr(columns[key]) for key in partial)
            raise DataFileError(path, f"ambiguous time columns {found}: rename one")
        return parse_timestamps(table[columns[partial[0]]])
    if set(exact) == {"date", "time"} and _is_time_of_day(table[columns["time"]]):
        joined = _text(table[columns["date"]]) + " " + _text(table[columns["time"]])
        return parse_timestamps(joined)
    parsed = {name: parse_timestamps(table[columns[name]]) for name in exact}
    chosen = exact[0]
    for other in exact[1:]:
        chosen = _agreeing(path, columns, chosen, other, parsed)
    return parsed[chosen]


def _agreeing(
    path: Path, columns: Mapping[str, str], first: str, second: str, parsed: dict[str, pd.Series]
) -> str:
    """Pick the finer of two time columns that agree; raise when they disagree."""
    a, b = parsed[first], parsed[second]
    both = a.notna() & b.notna()
    if (a[both] == b[both]).all():
        return first
    a_days, b_days = _all_midnight(a), _all_midnight(b)
    if a_days and (b[both].dt.floor("D") == a[both]).all():
        return second
    if b_days and (a[both].dt.floor("D") == b[both]).all():
        return first
    raise DataFileError(
        path,
        f"ambiguous time columns {columns[first]!r} and {columns[second]!r}: they disagree "
        f"(e.g. {a[both & (a != b)].iloc[0]} vs {b[both & (a != b)].iloc[0]}); keep one",
    )


def _all_midnight(values: pd.Series) -> bool:
    ns = values.dropna().to_numpy(dtype="datetime64[ns]").view("int64")
    return bool(np.all(ns % _DAY_NS == 0))


def _is_time_of_day(values: pd.Series) -> bool:
    sample = _text(values).dropna()
    return not sample.empty and bool(sample.head(100).str.fullmatch(_TIME_OF_DAY.pattern).all())


def _price_column(
    path: Path, table: pd.DataFrame, columns: Mapping[str, str], field: str
) -> pd.Series | None:
    for name in _PRICE_NAMES[field]:
        if name in columns:
            return pd.to_numeric(table[columns[name]], errors="coerce")
    return None


def _parse_numbers(values: pd.Series) -> pd.Series:
    """Parse YYYYMMDD integers or epoch numbers (unit told by magnitude per value)."""
    numbers = values.to_numpy(dtype="float64", na_value=np.nan)
    ns = np.full(numbers.shape, _NAT, dtype="int64")
    finite = np.isfinite(numbers)
    present = numbers[finite]
    exact: np.ndarray | None = None  # the same values as int64, when they are whole
    if pd.api.types.is_integer_dtype(values.dtype):
        exact = values.to_numpy(dtype="int64", na_value=0)[finite]  # exact, unlike floats
    elif np.all(present == np.floor(present)):
        exact = present.astype("int64")
    if exact is not None and exact.size and np.all((exact >= 19_000_101) & (exact <= 29_991_231)):
        parts = {"year": exact // 10_000, "month": exact // 100 % 100, "day": exact % 100}
        days = pd.to_datetime(pd.DataFrame(parts), errors="coerce")
        ns[finite] = days.to_numpy(dtype="datetime64[ns]").view("int64")
        return _utc_series(ns, values.index)
    magnitude = np.abs(present)
    scale = np.select(
        [magnitude < 1e11, magnitude < 1e14, magnitude < 1e17], [10**9, 10**6, 10**3], 1
    ).astype("int64")
    in_range = magnitude * scale < 9.2e18
    if exact is not None:
        # Whole numbers are scaled in integers: a float64 cannot hold every ns of today.
        stamps = np.where(in_range, exact, 0) * scale
    else:
        stamps = np.round(np.where(in_range, present, 0) * scale).astype("int64")
    ns[finite] = np.where(in_range, stamps, _NAT)
    return _utc_series(ns, values.index)


def _parse_text(text: pd.Series) -> pd.Series:
    """Parse ISO 8601 strings; aware and naive strings are parsed apart (naive means UTC)."""
    aware = text.str.contains(_HAS_OFFSET, regex=True, na=False)
    if aware.all() or not aware.any():
        parsed = _iso(text)
    else:
        parsed = _iso(text.where(aware))
        parsed = parsed.where(aware, _iso(text.where(~aware)))
    failed = parsed.isna() & text.notna()
    if failed.any():
        # Not ISO 8601 (e.g. "2024.01.02", or "01/02/2024" read month first): one slower
        # element-wise pass over just the values that failed.
        retry = pd.to_datetime(text.where(failed), utc=True, format="mixed", errors="coerce")
        parsed = parsed.where(~failed, retry.astype("datetime64[ns, UTC]"))
    return parsed


def _iso(text: pd.Series) -> pd.Series:
    parsed = pd.to_datetime(text, utc=True, format="ISO8601", errors="coerce")
    return parsed.astype("datetime64[ns, UTC]")


def _utc_series(ns: np.ndarray, index: pd.Index) -> pd.Series:
    return pd.Series(ns.view("datetime64[ns]"), index=index).dt.tz_localize("UTC")


def _text(values: pd.Series) -> pd.Series:
    """Stripped text with NaN for missing or blank cells (symbols keep leading zeros)."""
    if pd.api.types.is_float_dtype(values.dtype) and bool(
        (values.dropna() == np.floor(values.dropna())).all()
    ):
        values = values.astype("Int64")  # integer codes read as floats because of blanks
    text = values.astype(str).str.strip().astype("object")
    return text.where(values.notna() & (text != ""), np.nan)


def _nullable_int(values: pd.Series) -> pd.Series:
    integral = values.where(values == np.floor(values))
    return integral.astype("Int64")


def _ordered_symbols(symbols: pd.Series) -> list[str]:
    return [str(s) for s in pd.unique(symbols.dropna())]


def _instrument(
    symbol: str, forced: Market | None, *, name: str | None = None, exchange: str | None = None
) -> InstrumentInfo:
    market = forced if forced is not None else infer_market(symbol)
    currency = market.default_currency
    if market is Market.CRYPTO:
        pair = _CRYPTO_PAIR.fullmatch(symbol.strip().upper())
        if pair is not None:
            currency = pair.group(2)
    return InstrumentInfo(
        symbol=symbol,
        market=market,
        exchange=exchange or market.default_exchange,
        currency=currency,
        name=name,
    )


def _symbol_from_path(path: Path) -> str:
    stem = path.name
    for suffix in sorted(DATA_SUFFIXES, key=len, reverse=True):
        if stem.lower().endswith(suffix):
            stem = stem[: -len(suffix)]
            break
    previous = None
    while previous != stem:
        previous, stem = stem, _FILE_SUFFIX.sub("", stem)
    return stem.strip()


def _names(table: pd.DataFrame) -> str:
    return ", ".join(str(c) for c in table.columns)
