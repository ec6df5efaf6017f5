"""Calendar checks: bars off the timeframe grid or outside sessions; missing sessions/intervals.

Missing bars are counted between a symbol's first and last bar only (listing and delisting are
not gaps). Daily bars are compared with the market's sessions (every UTC day for crypto);
intraday bars with the regular-session grid of the timeframe (see `resampling.session_grid`:
bars start at the session open in steps of the timeframe), crypto with the UTC-epoch grid.
Bars outside regular hours on a trading date are extended-hours bars (info), bars on a date
that is not a session are flagged as outside any session.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import pandas as pd

from orchestrade.data.calendars import (
    market_timezone,
    minute_in_session,
    sessions,
    trading_dates,
    utc_nanos,
)
from orchestrade.data.quality.frame import BarArrays, BoolArray, Flagged, IntArray
from orchestrade.data.quality.report import Check, Example
from orchestrade.data.resampling import Timeframe, bar_starts, session_grid
from orchestrade.domain import Market

DAY = 86_400 * 10**9
WEEK = 7 * DAY
_MONDAY_SHIFT = 3 * DAY  # the epoch (1970-01-01) is a Thursday


@dataclass(frozen=True, slots=True)
class Continuity:
    """Calendar findings of one market's symbols.

    `expected` maps a symbol code to the number of grid bars between its first and last bar;
    `session_positions` holds, per checked row, its session's position in the calendar (-1
    when not on a session; daily bars only, else None) so moves can tell consecutive sessions.
    """

    flags: list[Flagged]
    expected: dict[int, int]
    session_positions: IntArray | None


def continuity_flags(
    arrays: BarArrays, rows: IntArray, *, market: Market, timeframe: Timeframe
) -> Continuity:
    """Run the calendar checks on usable `rows` (sorted by symbol then time) of one market."""
    if len(rows) == 0:
        return Continuity([], {}, None)
    if timeframe.unit == "d":
        return _daily(arrays, rows, market)
    if timeframe.unit == "w":
        return _weekly(arrays, rows)
    return _intraday(arrays, rows, market, timeframe)


def _daily(a: BarArrays, rows: IntArray, market: Market) -> Continuity:
    nanos = a.nanos[rows]
    labels = nanos - np.mod(nanos, DAY)
    flags = _off_grid(a, rows, labels, "daily bars are stamped 00:00 UTC of the trading date")
    if market.calendar_name is None:
        origin = int(labels.min())
        positions = (labels - origin) // DAY
        on_session = np.ones(len(rows), dtype=np.bool_)

        def label_time(position: int) -> int:
            return origin + position * DAY

    else:
        grid = utc_nanos(sessions(market, _stamp(labels.min()), _stamp(labels.max())))
        positions, on_session = _locate(grid, labels)

        def label_time(position: int) -> int:
            return int(grid[position])

        outside = np.flatnonzero(~on_session)
        if len(outside):
            flags.append(
                Flagged.of_rows(
                    Check.OUTSIDE_SESSION,
                    a,
                    rows[outside],
                    lambda row: f"{_weekday(int(a.nanos[row]))} is not a {market.value} session",
                )
            )
    gaps, expected = _gaps(
        a, rows, positions, on_session, label_time, Check.MISSING_SESSIONS, "sessions"
    )
    flags.extend(gaps)
    return Continuity(flags, expected, np.where(on_session, positions, -1))


def _weekly(a: BarArrays, rows: IntArray) -> Continuity:
    nanos = a.nanos[rows]
    mondays = nanos - np.mod(nanos + _MONDAY_SHIFT, WEEK)
    flags = _off_grid(
        a, rows, mondays, "weekly bars are stamped 00:00 UTC of the ISO week's Monday"
    )
    positions = (mondays + _MONDAY_SHIFT) // WEEK
    present = np.ones(len(rows), dtype=np.bool_)

    def week_time(position: int) -> int:
        return position * WEEK - _MONDAY_SHIFT

    gaps, expected = _gaps(a, rows, positions, present, week_time, Check.MISSING_INTERVALS, "weeks")
    flags.extend(gaps)
    return Continuity(flags, expected, None)


def _intraday(a: BarArrays, rows: IntArray, market: Market, timeframe: Timeframe) -> Continuity:
    nanos = a.nanos[rows]
    step = timeframe.nanos
    times = pd.DatetimeIndex(pd.to_datetime(nanos, unit="ns", utc=True))
    if market.calendar_name is None:
        starts = nanos - np.mod(nanos, step)
        flags = _off_grid(a, rows, starts, f"{timeframe} bars start on the UTC-epoch grid")
        on_grid = starts == nanos
        positions = nanos // step

        def grid_time(position: int) -> int:
            return position * step

        gaps, expected = _gaps(
            a, rows, positions, on_grid, grid_time, Check.MISSING_INTERVALS, "bars"
        )
        return Continuity([*flags, *gaps], expected, None)

    starts = utc_nanos(bar_starts(times, timeframe, market=market))
    flags = _off_grid(a, rows, starts, f"{timeframe} bars start at session boundaries")
    regular = minute_in_session(market, times)
    dates = utc_nanos(trading_dates(market, times))
    calendar = utc_nanos(sessions(market, _stamp(dates.min()), _stamp(dates.max())))
    _, trading_day = _locate(calendar, dates)
    zone = market_timezone(market)

    def local(row: int) -> str:
        stamp = pd.Timestamp(int(a.nanos[row]), unit="ns", tz="UTC").tz_convert(zone)
        return stamp.strftime("%a %Y-%m-%d %H:%M %Z")

    extended = np.flatnonzero(~regular & trading_day)
    if len(extended):
        flags.append(
            Flagged.of_rows(
                Check.EXTENDED_HOURS,
                a,
                rows[extended],
                lambda row: f"{local(row)}, outside regular hours",
            )
        )
    off_day = np.flatnonzero(~trading_day)
    if len(off_day):
        flags.append(
            Flagged.of_rows(
                Check.OUTSIDE_SESSION,
                a,
                rows[off_day],
                lambda row: f"{local(row)}: not a {market.value} trading date",
            )
        )
    grid = utc_nanos(session_grid(market, timeframe, times.min(), times.max()))
    positions, on_grid = _locate(grid, nanos)
    present = on_grid & regular

    def session_time(position: int) -> int:
        return int(grid[position])

    gaps, expected = _gaps(
        a, rows, positions, present, session_time, Check.MISSING_INTERVALS, "bars"
    )
    return Continuity([*flags, *gaps], expected, None)


def _off_grid(a: BarArrays, rows: IntArray, starts: IntArray, rule: str) -> list[Flagged]:
    off = np.flatnonzero(a.nanos[rows] != starts)
    if not len(off):
        return []
    start_of = dict(zip(rows[off].tolist(), starts[off].tolist(), strict=True))
    return [
        Flagged.of_rows(
            Check.OFF_GRID,
            a,
            rows[off],
            lambda row: f"expected start {a.time_text(start_of[row])}: {rule}",
        )
    ]


def _locate(grid: IntArray, values: IntArray) -> tuple[IntArray, BoolArray]:
    """Position of each value in the sorted grid, and whether the value is on the grid."""
    positions = np.searchsorted(grid, values).astype(np.int64)
    inside = positions < len(grid)
    found = np.zeros(len(values), dtype=np.bool_)
    found[inside] = grid[positions[inside]] == values[inside]
    return positions, found


def _gaps(
    a: BarArrays,
    rows: IntArray,
    positions: IntArray,
    present: BoolArray,
    time_of: Callable[[int], int],
    check: Check,
    unit: str,
) -> tuple[list[Flagged], dict[int, int]]:
    """Runs of grid positions without a bar between each symbol's first and last bar."""
    codes = a.codes[rows][present]
    points = positions[present]
    if not len(points):
        return [], {}
    keep = np.ones(len(points), dtype=np.bool_)
    keep[1:] = (codes[1:] != codes[:-1]) | (points[1:] != points[:-1])
    codes, points = codes[keep], points[keep]
    firsts = np.flatnonzero(np.r_[True, codes[1:] != codes[:-1]])
    lasts = np.r_[firsts[1:] - 1, len(codes) - 1]
    expected = dict(
        zip(codes[firsts].tolist(), (points[lasts] - points[firsts] + 1).tolist(), strict=True)
    )
    step = points[1:] - points[:-1]
    is_gap = (codes[1:] == codes[:-1]) & (step > 1)
    if not is_gap.any():
        return [], expected
    begin = points[:-1][is_gap] + 1
    end = points[1:][is_gap] - 1
    sizes = (end - begin + 1).astype(np.int64)

    def describe(item: int) -> Example:
        first, last = a.time_text(time_of(int(begin[item]))), a.time_text(time_of(int(end[item])))
        size = int(sizes[item])
        span = first if size == 1 else f"{first} .. {last}"
        return Example(first, f"{span} ({size} {unit if size > 1 else unit[:-1]})")

    flagged = Flagged(
        check,
        codes[1:][is_gap],
        np.full(len(sizes), -1, dtype=np.int64),
        describe,
        weights=sizes,
        priority=sizes.astype(np.float64),
    )
    return [flagged], expected


def _stamp(nanos: int | np.integer) -> pd.Timestamp:
    return pd.Timestamp(int(nanos), unit="ns", tz="UTC")


def _weekday(nanos: int) -> str:
    return _stamp(nanos).strftime("%a %Y-%m-%d")
