"""Fixtures for the data tests: a minimal reader of the shared real files into raw bar frames.

The real file reader lives in orchestrade.data.files; these tests read the files directly with
pandas so that quality, calendar and resampling tests do not depend on it.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import cache
from pathlib import Path

import pandas as pd
import pytest

BAR_COLUMNS = ["symbol", "timestamp", "open", "high", "low", "close", "volume"]

BarReader = Callable[[str], pd.DataFrame]


@cache
def _read_bars(path: Path) -> pd.DataFrame:
    """A raw normalized bar frame (file order kept) from a shared CSV file.

    Handles the `date,symbol,...` (ISO date), `timestamp,symbol,...` (ISO UTC) and KRX
    (`date` as YYYYMMDD integer, symbol from `code`) layouts.
    """
    raw = pd.read_csv(path, dtype={"symbol": str, "code": str, "ticker": str, "date": str})
    if "code" in raw.columns:
        raw = raw.rename(columns={"code": "symbol"})
        stamps = pd.to_datetime(raw["date"], format="%Y%m%d", utc=True, errors="coerce")
    elif "date" in raw.columns:
        stamps = pd.to_datetime(raw["date"], format="%Y-%m-%d", utc=True, errors="coerce")
    else:
        stamps = pd.to_datetime(raw["timestamp"], format="ISO8601", utc=True, errors="coerce")
    frame = pd.DataFrame(
        {
            "symbol": raw["symbol"].astype(object),
            "timestamp": stamps.dt.as_unit("ns"),
            **{
                column: pd.to_numeric(raw[column], errors="coerce").astype("float64")
                for column in BAR_COLUMNS[2:]
            },
        }
    )
    return frame


@pytest.fixture(scope="session")
def read_bars(shared_data: Path) -> BarReader:
    """Read a shared file (path relative to the data folder) into a raw bar frame.

    Cached per session: treat the returned frame as read-only (copy before changing it).
    """

    def read(relative: str) -> pd.DataFrame:
        return _read_bars(shared_data / relative)

    return read


@pytest.fixture(scope="session")
def read_krx(shared_data: Path) -> Callable[[], pd.DataFrame]:
    """All KRX files concatenated into one raw bar frame (cached)."""

    def read() -> pd.DataFrame:
        files = sorted((shared_data / "krx").glob("*.csv.gz"))
        return _concat(tuple(files))

    return read


@cache
def _concat(files: tuple[Path, ...]) -> pd.DataFrame:
    return pd.concat([_read_bars(path) for path in files], ignore_index=True)


BarRecord = tuple[str, str, float, float, float, float, float]


def make_bars(records: list[BarRecord]) -> pd.DataFrame:
    """A bar frame in the contract's layout from (symbol, ISO time, o, h, l, c, v) tuples."""
    frame = pd.DataFrame(records, columns=BAR_COLUMNS)
    frame["symbol"] = frame["symbol"].astype(object)
    frame["timestamp"] = pd.to_datetime(frame["timestamp"], utc=True, format="ISO8601")
    frame["timestamp"] = frame["timestamp"].dt.as_unit("ns")
    for column in BAR_COLUMNS[2:]:
        frame[column] = frame[column].astype("float64")
    return frame


@pytest.fixture(scope="session")
def bars() -> Callable[[list[BarRecord]], pd.DataFrame]:
    """Build a small contract bar frame from tuples (see `make_bars`)."""
    return make_bars
