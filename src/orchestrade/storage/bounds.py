"""Turn user time bounds (datetimes, dates, ISO strings) into epoch-nanosecond ranges."""

from __future__ import annotations

import re
from datetime import date, datetime

import pandas as pd

from orchestrade.data.errors import QueryError
from orchestrade.data.ports import TimeBound

_DATE_ONLY = re.compile(r"\d{4}-\d{2}-\d{2}|\d{8}")
_DAY_NS = 86_400 * 10**9


def ns_range(start: TimeBound | None, end: TimeBound | None) -> tuple[int | None, int | None]:
    """The half-open range [low, high) of bar start times between two inclusive bounds.

    A date (or a date-only string) as `end` includes the whole day; naive datetimes are UTC.

    Raises:
        QueryError: a bound cannot be read as a time, or start is after end.
    """
    low = None if start is None else _to_ns(start, "start")
    high = None
    if end is not None:
        high = _to_ns(end, "end") + (_DAY_NS if _is_date_only(end) else 1)
    if low is not None and high is not None and low >= high:
        raise QueryError(f"start {start!r} is after end {end!r}")
    return low, high


def _is_date_only(value: TimeBound) -> bool:
    if isinstance(value, str):
        return bool(_DATE_ONLY.fullmatch(value.strip()))
    return not isinstance(value, datetime)


def _to_ns(value: TimeBound, which: str) -> int:
    if not isinstance(value, str | date):
        raise QueryError(f"{which} bound must be a datetime, date or ISO string, got {value!r}")
    try:
        stamp = pd.Timestamp(value.strip() if isinstance(value, str) else value)
    except ValueError as error:
        raise QueryError(f"cannot read {which} bound {value!r} as a time") from error
    if pd.isna(stamp):
        raise QueryError(f"{which} bound {value!r} is not a time")
    stamp = stamp.tz_localize("UTC") if stamp.tzinfo is None else stamp.tz_convert("UTC")
    return int(stamp.value)
