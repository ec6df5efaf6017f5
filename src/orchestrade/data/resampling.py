"""Aggregate bars (or trades) into coarser bars without ever mixing two sessions in one bar.

Bucket convention (a bar is labelled by the start of its bucket):

* **Crypto, intraday:** buckets are aligned to the UTC epoch: 1h bars start on the hour, 4h
  bars at 00:00, 04:00, ... UTC, 5m bars at :00, :05, ...
* **KRX / US, intraday:** buckets are aligned to the latest *session boundary* at or before
  the bar: the regular session open, the end of a lunch break, the session close, or local
  midnight. A bucket is cut short at the next boundary, so one bar never spans two sessions,
  the open or the close. US hourly bars are therefore 09:30-10:30, ..., 14:30-15:30 and a
  short 15:30-16:00 ET bar; post-market hours start at 16:00 ET; pre-market hours are aligned
  to local midnight (04:00, 05:00, ..., a short 09:00-09:30 bar). KRX hourly bars start at
  09:00 KST (10:00 on the late-opening first session of the year).
* **Daily:** one bar per exchange trading date (the local date of the exchange, UTC for
  crypto), stamped 00:00 UTC of that date; pass ``regular_hours_only=True`` to build daily
  bars from the regular session only (pre/post-market bars dropped).
* **Weekly:** one bar per ISO week of trading dates, stamped 00:00 UTC of its Monday.

Because 5m buckets nest inside 1h buckets under this convention, 1m -> 5m -> 1h gives the same
bars as 1m -> 1h directly (any finer timeframe that divides the coarser one nests).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any, Literal

import numpy as np
import pandas as pd

from orchestrade.data.calendars import (
    market_timezone,
    minute_in_session,
    session_bounds,
    trading_dates,
    utc_nanos,
)
from orchestrade.data.errors import DataError, FrameError
from orchestrade.domain import Market

BAR_COLUMNS = ("symbol", "timestamp", "open", "high", "low", "close", "volume")
"""The normalized bar frame contract, in column order."""
PRICE_COLUMNS = ("open", "high", "low", "close")
TICK_COLUMNS = ("timestamp", "symbol", "price", "size")

_TIMEFRAME = re.compile(r"^([1-9][0-9]*)([mhdw])$")
_UNIT_NANOS = {"m": 60 * 10**9, "h": 3_600 * 10**9, "d": 86_400 * 10**9, "w": 7 * 86_400 * 10**9}


class TimeframeError(DataError):
    """A timeframe string that is not one of the supported forms."""


@dataclass(frozen=True, slots=True)
class Timeframe:
    """A bar length: `count` minutes, hours, days or weeks (days and weeks: count 1 only)."""

    count: int
    unit: Literal["m", "h", "d", "w"]

    def __str__(self) -> str:
        return f"{self.count}{self.unit}"

    @property
    def is_intraday(self) -> bool:
        """Minutes or hours: bars inside a trading date."""
        return self.unit in ("m", "h")

    @property
    def nanos(self) -> int:
        """Nominal length in nanoseconds (a trading date counts as 24 hours)."""
        return self.count * _UNIT_NANOS[self.unit]

    @property
    def step(self) -> pd.Timedelta:
        """Nominal length as a Timedelta."""
        return pd.Timedelta(self.nanos, unit="ns")


def parse_timeframe(text: str) -> Timeframe:
    """Parse "1m", "5m", "15m", "1h", "4h", "1d", "1w" (any positive minute or hour count).

    Raises:
        TimeframeError: for other strings, and for multi-day or multi-week bars (their
            alignment across holidays is ambiguous).
    """
    match = _TIMEFRAME.match(text) if isinstance(text, str) else None
    if match is None:
        raise TimeframeError(
            f"timeframe {text!r} is not <count><unit> with unit m, h, d or w (e.g. '5m', '1h')"
        )
    count, unit = int(match.group(1)), match.group(2)
    if unit in ("d", "w") and count != 1:
        raise TimeframeError(f"timeframe {text!r}: only '1d' and '1w' are supported for days/weeks")
    if unit == "m":
        return Timeframe(count, "m")
    if unit == "h":
        return Timeframe(count, "h")
    return Timeframe(1, "d") if unit == "d" else Timeframe(1, "w")


def bar_starts(
    timestamps: pd.DatetimeIndex | pd.Series[Any], timeframe: Timeframe, *, market: Market
) -> pd.DatetimeIndex:
    """Start of the bucket of `timeframe` that contains each aware UTC timestamp.

    This is the bucketing used by `resample_bars` (see the module docstring).

    Raises:
        FrameError: for naive or missing timestamps.
    """
    index = pd.DatetimeIndex(timestamps)
    if index.tz is None:
        raise FrameError("timestamps must be aware UTC datetimes, got naive ones")
    if index.hasnans:
        raise FrameError("timestamps contain NaT")
    index = index.tz_convert("UTC").as_unit("ns")
    if len(index) == 0:
        return index
    if timeframe.unit == "d":
        return trading_dates(market, index)
    if timeframe.unit == "w":
        dates = trading_dates(market, index)
        return dates - pd.to_timedelta(dates.dayofweek, unit="D")
    nanos = utc_nanos(index)
    step = timeframe.nanos
    if market.calendar_name is None:
        starts = nanos - np.mod(nanos, step)
    else:
        boundaries = _session_boundaries(market, index)
        anchors = boundaries[np.searchsorted(boundaries, nanos, side="right") - 1]
        starts = anchors + (nanos - anchors) // step * step
    return pd.DatetimeIndex(pd.to_datetime(starts, unit="ns", utc=True))


def session_grid(
    market: Market, timeframe: Timeframe, start: pd.Timestamp, end: pd.Timestamp
) -> pd.DatetimeIndex:
    """Every regular-session bar start of an intraday `timeframe` from `start` to `end`.

    Crypto: the epoch-aligned grid. KRX/US: from each session open (and break end) in steps of
    the timeframe up to the close, skipping the break; these are the bars a complete feed has.
    """
    if not timeframe.is_intraday:
        raise TimeframeError(f"session_grid needs an intraday timeframe, got {timeframe}")
    step = timeframe.nanos
    low, high = int(start.value), int(end.value)
    if market.calendar_name is None:
        first = low + (-low) % step
        return pd.DatetimeIndex(pd.to_datetime(np.arange(first, high + 1, step), utc=True))
    bounds = session_bounds(market, start - pd.Timedelta(days=1), end)
    segment_starts, segment_ends = _regular_segments(bounds)
    counts = -(-(segment_ends - segment_starts) // step)  # ceiling division
    offsets = np.arange(int(counts.sum())) - np.repeat(np.cumsum(counts) - counts, counts)
    grid = np.repeat(segment_starts, counts) + offsets * step
    grid = grid[(grid >= low) & (grid <= high)]
    return pd.DatetimeIndex(pd.to_datetime(grid, unit="ns", utc=True))


def resample_bars(
    frame: pd.DataFrame, to: str, *, market: Market, regular_hours_only: bool = False
) -> pd.DataFrame:
    """Aggregate a clean bar frame of one market into `to` bars.

    Open is the first open, high the max, low the min, close the last close and volume the
    sum of the bars in each bucket; buckets follow the module's convention. The input must be
    finer than `to` and aligned to it (e.g. 1m or 5m bars for "15m").

    Args:
        frame: clean normalized bars (sorted by symbol and timestamp, unique, no NaN).
        to: target timeframe, e.g. "5m", "1h", "1d", "1w".
        market: the market of every symbol in the frame; decides sessions and time zone.
        regular_hours_only: drop bars outside the regular session first (KRX/US only).

    Raises:
        FrameError: when the frame breaks the contract or is not clean.
        TimeframeError: when `to` is not a supported timeframe.
    """
    timeframe = parse_timeframe(to)
    _require_clean_bars(frame)
    if regular_hours_only and market.calendar_name is not None:
        frame = frame.loc[minute_in_session(market, frame["timestamp"])]
    starts = bar_starts(frame["timestamp"], timeframe, market=market)
    grouped = frame.groupby([frame["symbol"].to_numpy(), starts], sort=False)
    bars = grouped.agg(
        open=("open", "first"),
        high=("high", "max"),
        low=("low", "min"),
        close=("close", "last"),
        volume=("volume", "sum"),
    )
    return _to_bar_frame(bars)


def ticks_to_bars(ticks: pd.DataFrame, timeframe: str, *, market: Market) -> pd.DataFrame:
    """Build bars from trades (columns timestamp, symbol, price, size) of one market.

    Trades are ordered by symbol and time; trades with the same timestamp keep their input
    order (the later one sets the close). Buckets follow the module's convention.

    Raises:
        FrameError: for missing columns, naive or missing timestamps, missing or
            non-positive prices, or negative sizes.
        TimeframeError: when `timeframe` is not supported.
    """
    parsed = parse_timeframe(timeframe)
    missing = [column for column in TICK_COLUMNS if column not in ticks.columns]
    if missing:
        raise FrameError(f"tick frame lacks columns {missing}; expected {TICK_COLUMNS}")
    price = pd.to_numeric(ticks["price"], errors="coerce").astype("float64")
    size = pd.to_numeric(ticks["size"], errors="coerce").astype("float64")
    if not np.isfinite(price).all() or (price <= 0).any():
        raise FrameError("tick prices must be finite and positive")
    if not np.isfinite(size).all() or (size < 0).any():
        raise FrameError("tick sizes must be finite and non-negative")
    if ticks["symbol"].isna().any():
        raise FrameError("tick symbols contain missing values")
    if not isinstance(ticks["timestamp"].dtype, pd.DatetimeTZDtype):
        raise FrameError(
            f"tick timestamps must be aware UTC datetimes, got {ticks['timestamp'].dtype}"
        )
    trades = pd.DataFrame(
        {
            "symbol": ticks["symbol"].astype(str).to_numpy(),
            "timestamp": pd.DatetimeIndex(ticks["timestamp"]).tz_convert("UTC"),
            "price": price.to_numpy(),
            "size": size.to_numpy(),
        }
    ).sort_values(["symbol", "timestamp"], kind="stable", ignore_index=True)
    starts = bar_starts(trades["timestamp"], parsed, market=market)
    grouped = trades.groupby([trades["symbol"].to_numpy(), starts], sort=False)
    bars = grouped.agg(
        open=("price", "first"),
        high=("price", "max"),
        low=("price", "min"),
        close=("price", "last"),
        volume=("size", "sum"),
    )
    return _to_bar_frame(bars)


def _to_bar_frame(bars: pd.DataFrame) -> pd.DataFrame:
    bars.index = bars.index.set_names(["symbol", "timestamp"])
    result = bars.reset_index()
    result["symbol"] = result["symbol"].astype(object)
    result["timestamp"] = pd.DatetimeIndex(result["timestamp"]).as_unit("ns")
    for column in (*PRICE_COLUMNS, "volume"):
        result[column] = result[column].astype("float64")
    result = result.sort_values(["symbol", "timestamp"], kind="stable", ignore_index=True)
    return result.loc[:, list(BAR_COLUMNS)]


def _require_clean_bars(frame: pd.DataFrame) -> None:
    if list(frame.columns) != list(BAR_COLUMNS):
        raise FrameError(f"bar frame columns {list(frame.columns)}, expected {BAR_COLUMNS}")
    timestamps = frame["timestamp"]
    if not isinstance(timestamps.dtype, pd.DatetimeTZDtype) or str(timestamps.dtype.tz) != "UTC":
        raise FrameError(f"timestamp must be datetime64[ns, UTC], got {timestamps.dtype}")
    if timestamps.isna().any() or frame["symbol"].isna().any():
        raise FrameError("bar frame has missing symbols or timestamps; clean it first")
    values = frame.loc[:, [*PRICE_COLUMNS, "volume"]].to_numpy(dtype="float64")
    if not np.isfinite(values).all():
        raise FrameError("bar frame has missing or infinite prices/volumes; clean it first")
    if (values[:, :4] <= 0).any() or (values[:, 4] < 0).any():
        raise FrameError("bar frame has non-positive prices or negative volume")
    symbols = frame["symbol"].to_numpy()
    nanos = utc_nanos(timestamps)
    same_symbol = symbols[1:] == symbols[:-1]
    out_of_order = (symbols[1:] < symbols[:-1]) | (same_symbol & (nanos[1:] <= nanos[:-1]))
    if out_of_order.any():
        row = int(np.argmax(out_of_order)) + 1
        raise FrameError(
            f"bar frame is not sorted by (symbol, timestamp) with unique rows (row {row}: "
            f"{symbols[row]} {timestamps.iloc[row]}); clean it first"
        )


def _session_boundaries(market: Market, index: pd.DatetimeIndex) -> np.ndarray[Any, Any]:
    """Sorted UTC nanos of every open, close, break edge and local midnight around `index`."""
    local_zone = market_timezone(market)
    dates = trading_dates(market, index)
    first_date = dates.min() - pd.Timedelta(days=2)
    last_date = dates.max() + pd.Timedelta(days=2)
    days = pd.date_range(first_date.tz_localize(None), last_date.tz_localize(None), freq="D")
    midnights = days.tz_localize(local_zone, nonexistent="shift_forward", ambiguous="NaT")
    bounds = session_bounds(market, first_date, last_date)
    edges = [utc_nanos(midnights.dropna())]
    for column in ("open", "close", "break_start", "break_end"):
        edges.append(utc_nanos(pd.DatetimeIndex(bounds[column]).dropna()))
    return np.unique(np.concatenate(edges))


def _regular_segments(bounds: pd.DataFrame) -> tuple[np.ndarray[Any, Any], np.ndarray[Any, Any]]:
    """Start and end nanos of the trading segments of each session (two when it has a break)."""
    opens = utc_nanos(bounds["open"])
    closes = utc_nanos(bounds["close"])
    break_starts = utc_nanos(bounds["break_start"])
    break_ends = utc_nanos(bounds["break_end"])
    has_break = np.asarray(bounds["break_start"].notna(), dtype=np.bool_)
    starts = np.concatenate([opens, break_ends[has_break]])
    ends = np.concatenate([np.where(has_break, break_starts, closes), closes[has_break]])
    order = np.argsort(starts, kind="stable")
    return starts[order], ends[order]
