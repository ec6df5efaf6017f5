"""Daily return series for research allocations: a wide CSV of returns, or prices' closes.

Two inputs become one frame of daily simple returns (index: dates, one column per asset):

* a wide CSV: the first column is the date (ISO ``2024-01-02`` or ``20240102``), every other
  column one asset's daily simple returns (0.01 = +1%); header names are kept as text
  (``005930`` stays ``005930``). Rows where an asset has no value are dropped (the assets'
  common dates), and the file must leave at least two;
* closing prices per asset (read from price files by the caller: this service may not import
  the data service, so the CLI hands over `orchestrade.data`'s reader as `read_closes`):
  returns are computed from the closes on the dates every asset traded.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from pathlib import Path

import numpy as np
import pandas as pd

from orchestrade.portfolio.errors import ReturnsFileError

ClosesReader = Callable[[Path], Mapping[str, pd.Series]]
"""Reads the daily closes of every asset in a folder of price files (indexed by date)."""


def load_returns(path: Path | str, *, read_closes: ClosesReader | None = None) -> pd.DataFrame:
    """Daily returns from a wide returns CSV (a file) or a folder of price files.

    Raises:
        ReturnsFileError: the path is missing, a folder comes without a `read_closes`, or
            the file or closes cannot give returns (the message says why).
    """
    source = Path(path).expanduser()
    if source.is_dir():
        if read_closes is None:
            raise ReturnsFileError(source, "a folder of price files needs a closes reader")
        return returns_from_closes(read_closes(source), source=source)
    if not source.is_file():
        raise ReturnsFileError(source, "no such file or folder")
    return read_returns_csv(source)


def read_returns_csv(path: Path | str) -> pd.DataFrame:
    """The daily returns in a wide CSV (see the module docstring), on the assets' common dates.

    Raises:
        ReturnsFileError: the file is missing, empty, has no asset column, a date or value
            that is not a number, a date twice, a return at or below -100%, or fewer than two
            dates on which every asset has a value.
    """
    source = Path(path).expanduser()
    try:
        # No header parsing: pandas would rename a repeated column name ("a", "a.1").
        raw = pd.read_csv(source, header=None, dtype=str, keep_default_na=False)
    except FileNotFoundError:
        raise ReturnsFileError(source, "no such file") from None
    except (pd.errors.EmptyDataError, pd.errors.ParserError, UnicodeDecodeError) as error:
        raise ReturnsFileError(source, f"not a CSV table ({error})") from None
    if raw.shape[1] < 2:
        raise ReturnsFileError(source, "expected a date column and one column of returns per asset")
    date_column, *assets = (str(name).strip() for name in raw.iloc[0])
    table = raw.iloc[1:].reset_index(drop=True)
    if table.empty:
        raise ReturnsFileError(source, "the file has a header but no rows")
    repeated = sorted({name for name in assets if assets.count(name) > 1})
    if repeated:
        raise ReturnsFileError(source, f"asset column(s) named twice: {', '.join(repeated)}")
    dates = _dates(source, date_column, table.iloc[:, 0])
    values = {}
    for position, name in enumerate(assets, start=1):
        values[name] = _numbers(source, name, table.iloc[:, position], dates)
    frame = pd.DataFrame(values, index=dates)
    frame.index.name = "date"
    duplicated = frame.index[frame.index.duplicated()]
    if len(duplicated):
        raise ReturnsFileError(source, f"date {duplicated[0].date()} appears twice")
    frame = frame.sort_index().dropna(how="any")
    if (frame <= -1).any().any():
        name = next(str(column) for column in frame.columns if (frame[column] <= -1).any())
        day = frame.index[(frame[name] <= -1).to_numpy()][0].date()
        raise ReturnsFileError(
            source, f"{name} loses 100% or more on {day}: these are not simple daily returns"
        )
    if len(frame) < 2:
        raise ReturnsFileError(
            source, f"{len(frame)} date(s) where every asset has a return; at least 2 needed"
        )
    return frame


def returns_from_closes(
    closes: Mapping[str, pd.Series], *, source: Path | str = "closes"
) -> pd.DataFrame:
    """Daily simple returns of the closes (one series per asset, indexed by date), computed
    on the dates every asset has a close.

    Raises:
        ReturnsFileError: fewer than two assets, a close that is not positive, or fewer than
            three common dates (two returns).
    """
    if len(closes) < 2:
        raise ReturnsFileError(
            source, f"an allocation needs closes of at least 2 assets, found {len(closes)}"
        )
    series = {}
    for name, values in closes.items():
        numbers = pd.to_numeric(values, errors="coerce").astype(np.float64).dropna()
        if not (numbers > 0).all():
            raise ReturnsFileError(source, f"{name} has a close that is not positive")
        index = pd.DatetimeIndex(numbers.index)
        if index.tz is not None:
            index = index.tz_convert("UTC").tz_localize(None)
        numbers.index = index.normalize()
        series[str(name)] = numbers[~numbers.index.duplicated(keep="last")]
    frame = pd.DataFrame(series).sort_index().dropna(how="any")
    if len(frame) < 3:
        raise ReturnsFileError(
            source,
            f"the {len(series)} assets share {len(frame)} date(s) with a close; "
            "at least 3 are needed for 2 returns",
        )
    returns = frame.pct_change().iloc[1:]
    returns.index.name = "date"
    return returns


def _dates(source: Path, column: str, text: pd.Series) -> pd.DatetimeIndex:
    values = text.str.strip()
    compact = values.str.fullmatch(r"\d{8}")
    parsed = pd.Series(pd.NaT, index=values.index, dtype="datetime64[ns]")
    if compact.any():
        parsed[compact] = pd.to_datetime(values[compact], format="%Y%m%d", errors="coerce")
    if (~compact).any():
        parsed[~compact] = pd.to_datetime(values[~compact], format="ISO8601", errors="coerce")
    if parsed.isna().any():
        row = int(np.flatnonzero(parsed.isna().to_numpy())[0])
        raise ReturnsFileError(
            source,
            f"{column!r} value {values.iloc[row]!r} on line {row + 2} is not a date "
            "(YYYY-MM-DD or YYYYMMDD)",
        )
    index = pd.DatetimeIndex(parsed)
    if index.tz is not None:
        index = index.tz_convert("UTC").tz_localize(None)
    return index.normalize()


def _numbers(source: Path, name: str, text: pd.Series, dates: pd.DatetimeIndex) -> pd.Series:
    values = text.str.strip()
    blank = values == ""
    numbers = pd.to_numeric(values.mask(blank), errors="coerce")
    bad = numbers.isna() & ~blank
    bad |= ~np.isfinite(numbers.fillna(0.0))
    if bad.any():
        row = int(np.flatnonzero(bad.to_numpy())[0])
        raise ReturnsFileError(
            source,
            f"{name} on {dates[row].date()} (line {row + 2}) is {values.iloc[row]!r}, not a number",
        )
    return pd.Series(numbers.to_numpy(dtype=np.float64), index=dates)
