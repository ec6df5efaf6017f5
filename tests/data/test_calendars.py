"""Session calendars: trading dates, regular hours in UTC, and minute membership."""

from __future__ import annotations

import datetime as dt

import exchange_calendars as xc
import numpy as np
import pandas as pd
import pytest

from orchestrade.data.calendars import (
    CalendarError,
    exchange_calendar,
    is_session,
    minute_in_session,
    session_bounds,
    session_open_close,
    sessions,
    to_session_label,
    trading_dates,
)
from orchestrade.domain import Market


def utc(text: str) -> pd.Timestamp:
    return pd.Timestamp(text, tz="UTC")


def test_us_sessions_skip_weekends_and_independence_day() -> None:
    found = sessions(Market.US, "2024-07-03", dt.date(2024, 7, 8))

    assert list(found) == [utc("2024-07-03"), utc("2024-07-05"), utc("2024-07-08")]
    assert str(found.dtype) == "datetime64[ns, UTC]"


def test_us_sessions_of_a_year_match_exchange_calendars() -> None:
    reference = xc.get_calendar("XNYS").sessions_in_range("2023-01-01", "2023-12-31")

    found = sessions(Market.US, "2023-01-01", "2023-12-31")

    assert len(found) == 250
    assert list(found.tz_localize(None)) == list(reference)


def test_krx_sessions_reach_back_to_1990_with_saturday_sessions() -> None:
    found = sessions(Market.KRX, "1990-01-01", "1990-01-10")

    assert found[0] == utc("1990-01-03")
    assert utc("1990-01-06") in found  # a Saturday: KRX traded on Saturdays until 1998
    assert not is_session(Market.KRX, "1990-01-07")


def test_krx_sessions_skip_korean_holidays() -> None:
    found = sessions(Market.KRX, "2023-09-27", "2023-10-05")

    # Chuseok 2023-09-28..30, National Foundation Day 10-03, substitute holiday 10-02.
    assert list(found) == [utc("2023-09-27"), utc("2023-10-04"), utc("2023-10-05")]


def test_crypto_trades_every_day() -> None:
    found = sessions(Market.CRYPTO, "2024-02-28", "2024-03-02")

    assert len(found) == 4
    assert is_session(Market.CRYPTO, "2024-03-02")


def test_is_session_rejects_weekends_for_stocks() -> None:
    assert is_session(Market.US, "2024-03-08")
    assert not is_session(Market.US, "2024-03-09")
    assert not is_session(Market.KRX, "2024-03-09")


def test_us_regular_hours_follow_daylight_saving_time() -> None:
    assert session_open_close(Market.US, "2024-03-08") == (
        utc("2024-03-08 14:30"),
        utc("2024-03-08 21:00"),
    )
    assert session_open_close(Market.US, "2024-03-11") == (
        utc("2024-03-11 13:30"),
        utc("2024-03-11 20:00"),
    )


def test_us_early_close_after_thanksgiving() -> None:
    _, close = session_open_close(Market.US, "2024-11-29")

    assert close == utc("2024-11-29 18:00")  # 13:00 ET


def test_krx_regular_hours_are_0900_to_1530_kst() -> None:
    assert session_open_close(Market.KRX, "2023-01-03") == (
        utc("2023-01-03 00:00"),
        utc("2023-01-03 06:30"),
    )


def test_krx_first_session_of_the_year_opens_an_hour_late() -> None:
    opened, closed = session_open_close(Market.KRX, "2023-01-02")

    assert opened == utc("2023-01-02 01:00")  # 10:00 KST
    assert closed == utc("2023-01-02 06:30")


def test_crypto_session_is_the_utc_day() -> None:
    assert session_open_close(Market.CRYPTO, "2024-03-09") == (
        utc("2024-03-09"),
        utc("2024-03-10"),
    )


def test_open_close_of_a_non_session_is_an_error() -> None:
    with pytest.raises(CalendarError, match="2024-03-09 is not a us session"):
        session_open_close(Market.US, "2024-03-09")


def test_dates_outside_the_calendar_are_an_error() -> None:
    with pytest.raises(CalendarError, match="krx calendar covers 1990-01-01"):
        sessions(Market.KRX, "1985-01-01", "1985-12-31")


def test_end_before_start_is_an_error() -> None:
    with pytest.raises(CalendarError, match="before start"):
        sessions(Market.US, "2024-03-09", "2024-03-01")


def test_crypto_has_no_exchange_calendar() -> None:
    with pytest.raises(CalendarError, match="24/7"):
        exchange_calendar(Market.CRYPTO)


def test_calendars_are_built_once() -> None:
    assert exchange_calendar(Market.KRX) is exchange_calendar(Market.KRX)


def test_session_bounds_list_breaks_of_the_1990s_krx_sessions() -> None:
    bounds = session_bounds(Market.KRX, "1990-01-03", "1990-01-03")

    row = bounds.loc[utc("1990-01-03")]
    assert row["break_start"] == utc("1990-01-03 02:40")  # 11:40 KST lunch break
    assert row["break_end"] == utc("1990-01-03 04:20")
    assert pd.isna(session_bounds(Market.US, "2024-03-08", "2024-03-08")["break_start"].iloc[0])


def test_minute_in_session_uses_bar_start_convention() -> None:
    minutes = pd.DatetimeIndex(
        [
            "2024-03-08 14:29Z",  # 09:29 ET, pre-market
            "2024-03-08 14:30Z",  # open
            "2024-03-08 20:59Z",  # last regular bar
            "2024-03-08 21:00Z",  # close: post-market
            "2024-03-11 13:30Z",  # open after the DST switch
            "2024-03-09 15:00Z",  # Saturday
            pd.NaT,
        ]
    )

    inside = minute_in_session(Market.US, minutes)

    assert inside.tolist() == [False, True, True, False, True, False, False]


def test_minute_in_session_excludes_krx_lunch_breaks() -> None:
    minutes = pd.DatetimeIndex(["1990-01-03 02:39Z", "1990-01-03 02:40Z", "1990-01-03 04:20Z"])

    assert minute_in_session(Market.KRX, minutes).tolist() == [True, False, True]


def test_minute_in_session_takes_a_single_timestamp() -> None:
    assert minute_in_session(Market.KRX, utc("2024-03-08 06:29")) is True
    assert minute_in_session(Market.KRX, utc("2024-03-08 06:30")) is False
    assert minute_in_session(Market.CRYPTO, utc("2024-03-09 03:00")) is True


def test_minute_in_session_refuses_naive_timestamps() -> None:
    with pytest.raises(CalendarError, match="naive"):
        minute_in_session(Market.US, pd.DatetimeIndex(["2024-03-08 14:30"]))


def test_trading_date_of_a_post_market_print_is_the_local_date() -> None:
    prints = pd.DatetimeIndex(["2024-02-24 00:56Z", "2024-02-23 14:30Z"])

    dates = trading_dates(Market.US, prints)

    assert list(dates) == [utc("2024-02-23"), utc("2024-02-23")]
    assert list(trading_dates(Market.CRYPTO, prints)) == [utc("2024-02-24"), utc("2024-02-23")]


def test_session_label_of_an_aware_timestamp_is_its_utc_date() -> None:
    assert to_session_label(pd.Timestamp("2024-03-08 23:30", tz="UTC")) == utc("2024-03-08")
    assert to_session_label(dt.date(2024, 3, 8)) == utc("2024-03-08")
    with pytest.raises(CalendarError, match="not a date"):
        to_session_label("someday")


def test_minute_in_session_agrees_with_exchange_calendars_over_a_week() -> None:
    calendar = exchange_calendar(Market.KRX)
    minutes = pd.date_range("2023-12-26", "2024-01-03", freq="min", tz="UTC")

    ours = minute_in_session(Market.KRX, minutes)

    reference = np.array([calendar.is_trading_minute(minute) for minute in minutes[::37]])
    assert ours[::37].tolist() == reference.tolist()
