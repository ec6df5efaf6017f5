"""Trading sessions per market: which dates trade, and when each regular session opens and closes.

KRX follows the exchange_calendars ``XKRX`` calendar (regular session 09:00-15:30 KST, with the
special hours it knows about, e.g. the 10:00 open on the first session of the year and the
Saturday sessions and lunch breaks of the 1990s), US stocks follow ``XNYS`` (09:30-16:00 ET,
early closes, daylight saving time), and crypto trades 24/7: every UTC day is a session that
opens at 00:00 UTC and closes at the next midnight.

Conventions shared with the bar frame contract:

* A *session label* (trading date) is a ``pd.Timestamp`` at 00:00 UTC of the exchange trading
  date, the same stamp daily bars carry. Functions taking a date accept a ``datetime.date``,
  an ISO string, or a timestamp whose UTC date is used.
* A minute ``t`` is *in session* when ``open <= t < close`` and it is not inside the session's
  break (bar-start convention: the 15:59 ET bar is the last regular US bar).
"""

from __future__ import annotations

import datetime as dt
from functools import cache
from typing import Any, TypeAlias, overload

import exchange_calendars as xc
import numpy as np
import numpy.typing as npt
import pandas as pd

from orchestrade.data.errors import DataError
from orchestrade.domain import Market

DateLike: TypeAlias = dt.date | str | pd.Timestamp
"""A calendar date; a timestamp stands for its UTC date (daily bars are stamped 00:00 UTC)."""

# exchange_calendars builds 20 years back by default; KRX data in use starts in 1990.
_CALENDAR_START = {"XKRX": "1990-01-01", "XNYS": "1970-01-01"}


class CalendarError(DataError):
    """A date outside the calendar's range, a non-session date, or a market without one."""


@cache
def exchange_calendar(market: Market) -> xc.ExchangeCalendar:
    """The exchange_calendars calendar of a market, built once per process (building is slow).

    Raises:
        CalendarError: for markets that trade 24/7 and have no exchange calendar.
    """
    name = market.calendar_name
    if name is None:
        raise CalendarError(f"market {market.value!r} trades 24/7 and has no exchange calendar")
    return xc.get_calendar(name, start=_CALENDAR_START[name])


def market_timezone(market: Market) -> str:
    """IANA time zone of the market's trading dates (UTC for crypto)."""
    if market.calendar_name is None:
        return "UTC"
    return str(exchange_calendar(market).tz)


def sessions(market: Market, start: DateLike, end: DateLike) -> pd.DatetimeIndex:
    """Trading dates from `start` to `end` inclusive, stamped 00:00 UTC.

    Raises:
        CalendarError: when `end` is before `start` or the range leaves the calendar's bounds.
    """
    first, last = to_session_label(start), to_session_label(end)
    if last < first:
        raise CalendarError(f"end {last.date()} is before start {first.date()}")
    if market.calendar_name is None:
        return pd.date_range(first, last, freq="D", name="session")
    low, high = _naive_bounds(market, first, last)
    labels = exchange_calendar(market).sessions_in_range(low, high)
    return pd.DatetimeIndex(labels.tz_localize("UTC").as_unit("ns"), name="session")


def is_session(market: Market, date: DateLike) -> bool:
    """Whether the market trades on `date` (always True for crypto)."""
    label = to_session_label(date)
    if market.calendar_name is None:
        return True
    low, high = _naive_bounds(market, label, label)
    return low == high and bool(exchange_calendar(market).is_session(low))


def session_open_close(market: Market, date: DateLike) -> tuple[pd.Timestamp, pd.Timestamp]:
    """Regular session open and close of a trading date, as aware UTC timestamps.

    Raises:
        CalendarError: when `date` is not a session of the market.
    """
    label = to_session_label(date)
    if market.calendar_name is None:
        return label, label + pd.Timedelta(days=1)
    if not is_session(market, label):
        raise CalendarError(f"{label.date()} is not a {market.value} session")
    calendar = exchange_calendar(market)
    session = label.tz_localize(None)
    return (
        pd.Timestamp(calendar.session_open(session)).tz_convert("UTC"),
        pd.Timestamp(calendar.session_close(session)).tz_convert("UTC"),
    )


def session_bounds(market: Market, start: DateLike, end: DateLike) -> pd.DataFrame:
    """Open, close, break start and break end (UTC, NaT without a break) per session.

    The index is the session label (00:00 UTC of the trading date), as from `sessions`.
    """
    labels = sessions(market, start, end)
    if market.calendar_name is None:
        no_break = pd.DatetimeIndex([pd.NaT] * len(labels), dtype="datetime64[ns, UTC]")
        return pd.DataFrame(
            {
                "open": labels,
                "close": labels + pd.Timedelta(days=1),
                "break_start": no_break,
                "break_end": no_break,
            },
            index=labels,
        )
    schedule = exchange_calendar(market).schedule
    frame = schedule.loc[labels.tz_localize(None), ["open", "close", "break_start", "break_end"]]
    frame = frame.set_axis(labels, axis="index")
    return pd.DataFrame(frame.astype("datetime64[ns, UTC]"))


@overload
def minute_in_session(market: Market, minutes: pd.Timestamp) -> bool: ...
@overload
def minute_in_session(
    market: Market, minutes: pd.DatetimeIndex | pd.Series[Any]
) -> npt.NDArray[np.bool_]: ...
def minute_in_session(
    market: Market, minutes: pd.Timestamp | pd.DatetimeIndex | pd.Series[Any]
) -> bool | npt.NDArray[np.bool_]:
    """Whether each aware timestamp falls inside a regular session (outside any break).

    Vectorised: pass a DatetimeIndex or a Series to get a boolean array; NaT gives False.

    Raises:
        CalendarError: for naive timestamps, whose instant is unknown.
    """
    if isinstance(minutes, pd.Timestamp):
        return bool(minute_in_session(market, pd.DatetimeIndex([minutes]))[0])
    index = pd.DatetimeIndex(minutes)
    if index.tz is None:
        raise CalendarError("minute_in_session needs aware timestamps (UTC), got naive ones")
    nanos = utc_nanos(index)
    valid = np.asarray(index.notna(), dtype=np.bool_)
    if market.calendar_name is None:
        return np.asarray(valid, dtype=np.bool_)
    calendar = exchange_calendar(market)
    opens = calendar.opens_nanos
    closes = calendar.closes_nanos
    position = np.searchsorted(opens, nanos, side="right") - 1
    inside = valid & (position >= 0)
    safe = np.clip(position, 0, len(opens) - 1)
    inside &= nanos < closes[safe]
    break_starts = calendar.break_starts_nanos[safe]
    break_ends = calendar.break_ends_nanos[safe]
    has_break = break_starts != np.iinfo(np.int64).min  # NaT
    inside &= ~(has_break & (nanos >= break_starts) & (nanos < break_ends))
    return np.asarray(inside, dtype=np.bool_)


def trading_dates(
    market: Market, timestamps: pd.DatetimeIndex | pd.Series[Any]
) -> pd.DatetimeIndex:
    """The exchange-local date of each aware timestamp, stamped 00:00 UTC (NaT stays NaT).

    This is the trading date a bar belongs to, whether or not it is inside regular hours: a
    US post-market print at 00:56 UTC on a Saturday belongs to Friday.
    """
    index = pd.DatetimeIndex(timestamps)
    if index.tz is None:
        raise CalendarError("trading_dates needs aware timestamps (UTC), got naive ones")
    local = index.tz_convert(market_timezone(market)).normalize().tz_localize(None)
    return pd.DatetimeIndex(local.tz_localize("UTC").as_unit("ns"))


def to_session_label(date: DateLike) -> pd.Timestamp:
    """00:00 UTC of a date; a timestamp is reduced to its UTC date.

    Raises:
        CalendarError: when the value is not a date.
    """
    try:
        stamp = pd.Timestamp(date)
    except (TypeError, ValueError) as error:
        raise CalendarError(f"not a date: {date!r}") from error
    if pd.isna(stamp):
        raise CalendarError(f"not a date: {date!r}")
    stamp = stamp.tz_localize("UTC") if stamp.tzinfo is None else stamp.tz_convert("UTC")
    return stamp.normalize().as_unit("ns")


def utc_nanos(values: pd.DatetimeIndex | pd.Series[Any]) -> npt.NDArray[np.int64]:
    """Nanoseconds since the epoch of aware timestamps (NaT becomes the int64 minimum)."""
    index = pd.DatetimeIndex(values)
    if index.tz is not None:
        index = index.tz_convert("UTC").tz_localize(None)
    return index.to_numpy(dtype="datetime64[ns]").view(np.int64)


def _naive_bounds(
    market: Market, first: pd.Timestamp, last: pd.Timestamp
) -> tuple[pd.Timestamp, pd.Timestamp]:
    """`first`..`last` as naive labels, clipped to the calendar's first session.

    Raises:
        CalendarError: when the range starts before the calendar was built or ends after its
            last session (exchange_calendars knows holidays about a year ahead).
    """
    calendar = exchange_calendar(market)
    built_from = pd.Timestamp(_CALENDAR_START[calendar.name], tz="UTC")
    high = pd.Timestamp(calendar.last_session).tz_localize("UTC")
    if first < built_from or last > high:
        raise CalendarError(
            f"the {market.value} calendar covers {built_from.date()} .. {high.date()}, "
            f"asked for {first.date()} .. {last.date()}"
        )
    low = max(first, pd.Timestamp(calendar.first_session).tz_localize("UTC"))
    return low.tz_localize(None), last.tz_localize(None)
