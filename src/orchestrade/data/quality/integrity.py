"""Row-level integrity checks: timestamps, prices, OHLC consistency, volume, duplicates, order."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from orchestrade.data.quality.frame import NAT, BarArrays, BoolArray, Flagged, IntArray
from orchestrade.data.quality.report import Check


def integrity_flags(arrays: BarArrays) -> tuple[list[Flagged], IntArray]:
    """Flag bad rows and return, too, the usable rows in (symbol, time) order.

    Usable rows have a symbol and a timestamp and are the first row of their timestamp;
    the sequence checks (calendar, returns) run on them.
    """
    a = arrays
    has_symbol = a.codes >= 0
    prices = np.vstack([a.open, a.high, a.low, a.close])
    finite = np.isfinite(prices)
    all_finite = finite.all(axis=0)
    with np.errstate(invalid="ignore"):
        top = np.fmax(a.open, a.close)
        bottom = np.fmin(a.open, a.close)
        flags = [
            (Check.UNPARSEABLE_TIMESTAMP, has_symbol & (a.nanos == NAT), _no_time),
            (Check.MISSING_PRICE, has_symbol & ~all_finite, a.ohlc_text),
            (Check.MISSING_VOLUME, has_symbol & ~np.isfinite(a.volume), _volume_text(a)),
            (
                Check.NON_POSITIVE_PRICE,
                has_symbol & (finite & (prices <= 0)).any(axis=0),
                a.ohlc_text,
            ),
            (
                Check.HIGH_BELOW_OPEN_CLOSE,
                has_symbol & (a.high < top),
                lambda row: f"high={a.high[row]:.10g} < max(open, close)={top[row]:.10g}",
            ),
            (
                Check.LOW_ABOVE_OPEN_CLOSE,
                has_symbol & (a.low > bottom),
                lambda row: f"low={a.low[row]:.10g} > min(open, close)={bottom[row]:.10g}",
            ),
            (
                Check.HIGH_BELOW_LOW,
                has_symbol & (a.high < a.low),
                lambda row: f"high={a.high[row]:.10g} < low={a.low[row]:.10g}",
            ),
            (Check.NEGATIVE_VOLUME, has_symbol & (a.volume < 0), _volume_text(a)),
            (Check.ZERO_VOLUME, has_symbol & (a.volume == 0), _volume_text(a)),
        ]
    found = [
        Flagged.of_rows(check, a, np.flatnonzero(mask), describe)
        for check, mask, describe in flags
        if mask.any()
    ]

    timed = np.flatnonzero(has_symbol & (a.nanos != NAT))
    in_file_order = timed[np.argsort(a.codes[timed], kind="stable")]
    found.extend(_unsorted(a, in_file_order))
    by_time = timed[np.lexsort((timed, a.nanos[timed], a.codes[timed]))]
    repeat = np.zeros(len(by_time), dtype=np.bool_)
    repeat[1:] = (a.codes[by_time[1:]] == a.codes[by_time[:-1]]) & (
        a.nanos[by_time[1:]] == a.nanos[by_time[:-1]]
    )
    if repeat.any():
        duplicates = by_time[repeat]
        first_of = _first_of_run(by_time, repeat)
        found.append(
            Flagged.of_rows(
                Check.DUPLICATE_TIMESTAMP,
                a,
                duplicates,
                lambda row: f"repeats row {first_of[row]} ({a.ohlc_text(row)})",
            )
        )
    return found, by_time[~repeat]


def _unsorted(a: BarArrays, in_file_order: IntArray) -> list[Flagged]:
    """Rows whose time is before the previous row of the same symbol, in file order."""
    if len(in_file_order) < 2:
        return []
    previous, current = in_file_order[:-1], in_file_order[1:]
    backwards = (a.codes[previous] == a.codes[current]) & (a.nanos[current] < a.nanos[previous])
    if not backwards.any():
        return []
    before = dict(zip(current[backwards].tolist(), previous[backwards].tolist(), strict=True))
    return [
        Flagged.of_rows(
            Check.UNSORTED,
            a,
            current[backwards],
            lambda row: f"after row {before[row]} at {a.time_text(int(a.nanos[before[row]]))}",
        )
    ]


def _first_of_run(by_time: IntArray, repeat: BoolArray) -> dict[int, int]:
    """For each repeated row, the input row that first carried its (symbol, timestamp)."""
    run_start = np.maximum.accumulate(np.where(~repeat, np.arange(len(by_time)), 0))
    return dict(zip(by_time[repeat].tolist(), by_time[run_start[repeat]].tolist(), strict=True))


def _no_time(row: int) -> str:
    return f"row {row} has no usable timestamp"


def _volume_text(a: BarArrays) -> Callable[[int], str]:
    return lambda row: f"volume={a.volume[row]:.10g} ({a.ohlc_text(row)})"
