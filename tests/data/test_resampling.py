"""Resampling bars and trades: bucket conventions, hand-computed bars, real SPY sessions."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from orchestrade.data.errors import FrameError
from orchestrade.data.resampling import (
    Timeframe,
    TimeframeError,
    bar_starts,
    parse_timeframe,
    resample_bars,
    session_grid,
    ticks_to_bars,
)
from orchestrade.domain import Market

Bars = Callable[[list[tuple[str, str, float, float, float, float, float]]], pd.DataFrame]


def utc(text: str) -> pd.Timestamp:
    return pd.Timestamp(text, tz="UTC")


def stamps(frame: pd.DataFrame) -> list[str]:
    return [stamp.strftime("%Y-%m-%d %H:%M") for stamp in frame["timestamp"]]


@pytest.mark.parametrize(
    ("text", "expected"),
    [("1m", Timeframe(1, "m")), ("15m", Timeframe(15, "m")), ("4h", Timeframe(4, "h"))],
)
def test_timeframes_parse(text: str, expected: Timeframe) -> None:
    assert parse_timeframe(text) == expected
    assert str(parse_timeframe(text)) == text


@pytest.mark.parametrize("text", ["", "0m", "5", "1y", "2d", "m5", "1.5h"])
def test_unsupported_timeframes_are_refused(text: str) -> None:
    with pytest.raises(TimeframeError):
        parse_timeframe(text)


def test_crypto_minutes_become_five_minute_bars(bars: Bars) -> None:
    frame = bars(
        [
            ("BTC", "2024-01-01 00:03Z", 10, 12, 9, 11, 1),
            ("BTC", "2024-01-01 00:04Z", 11, 15, 10, 14, 2),
            ("BTC", "2024-01-01 00:05Z", 14, 14, 8, 9, 3),
            ("BTC", "2024-01-01 00:09Z", 9, 10, 9, 10, 4),
            ("ETH", "2024-01-01 00:00Z", 1, 2, 1, 2, 5),
        ]
    )

    result = resample_bars(frame, "5m", market=Market.CRYPTO)

    assert list(result.columns) == ["symbol", "timestamp", "open", "high", "low", "close", "volume"]
    assert result.to_dict("list") == {
        "symbol": ["BTC", "BTC", "ETH"],
        "timestamp": [utc("2024-01-01 00:00"), utc("2024-01-01 00:05"), utc("2024-01-01 00:00")],
        "open": [10.0, 14.0, 1.0],
        "high": [15.0, 14.0, 2.0],
        "low": [9.0, 8.0, 1.0],
        "close": [14.0, 10.0, 2.0],
        "volume": [3.0, 7.0, 5.0],
    }
    assert str(result["timestamp"].dtype) == "datetime64[ns, UTC]"


def test_crypto_four_hour_bars_align_to_the_utc_epoch() -> None:
    times = pd.DatetimeIndex(["2024-01-01 03:59Z", "2024-01-01 04:00Z", "2024-01-01 23:59Z"])

    starts = bar_starts(times, parse_timeframe("4h"), market=Market.CRYPTO)

    assert list(starts) == [
        utc("2024-01-01 00:00"),
        utc("2024-01-01 04:00"),
        utc("2024-01-01 20:00"),
    ]


def test_us_hourly_buckets_start_at_the_open_and_stop_at_the_close() -> None:
    times = pd.DatetimeIndex(
        [
            "2024-03-08 14:00Z",  # 09:00 ET pre-market -> 09:00 bucket (cut at the open)
            "2024-03-08 14:29Z",  # 09:29 ET -> same pre-market bucket
            "2024-03-08 14:30Z",  # 09:30 ET open -> 09:30 bucket
            "2024-03-08 15:29Z",  # 10:29 ET -> 09:30 bucket
            "2024-03-08 15:30Z",  # 10:30 ET -> 10:30 bucket
            "2024-03-08 20:59Z",  # 15:59 ET -> 15:30 bucket (short: ends at 16:00)
            "2024-03-08 21:00Z",  # 16:00 ET close -> post-market bucket at 16:00
            "2024-03-11 13:30Z",  # Monday after the DST switch: 09:30 ET is 13:30Z
        ]
    )

    starts = bar_starts(times, parse_timeframe("1h"), market=Market.US)

    assert [stamp.strftime("%d %H:%M") for stamp in starts] == [
        "08 14:00",
        "08 14:00",
        "08 14:30",
        "08 14:30",
        "08 15:30",
        "08 20:30",
        "08 21:00",
        "11 13:30",
    ]


def test_krx_hourly_buckets_follow_the_late_open_of_the_first_session() -> None:
    times = pd.DatetimeIndex(["2023-01-02 01:00Z", "2023-01-02 01:59Z", "2023-01-03 00:59Z"])

    starts = bar_starts(times, parse_timeframe("1h"), market=Market.KRX)

    assert list(starts) == [
        utc("2023-01-02 01:00"),
        utc("2023-01-02 01:00"),
        utc("2023-01-03 00:00"),
    ]


def test_daily_bars_use_the_exchange_trading_date(bars: Bars) -> None:
    frame = bars(
        [
            ("BKNG", "2024-02-23 20:59Z", 10, 11, 9, 10, 1),
            ("BKNG", "2024-02-24 00:56Z", 10, 12, 10, 12, 2),  # Friday 19:56 ET
            ("BKNG", "2024-02-26 14:30Z", 12, 13, 12, 13, 3),
        ]
    )

    result = resample_bars(frame, "1d", market=Market.US)

    assert stamps(result) == ["2024-02-23 00:00", "2024-02-26 00:00"]
    assert result["close"].tolist() == [12.0, 13.0]
    assert result["volume"].tolist() == [3.0, 3.0]


def test_daily_bars_from_regular_hours_only_drop_extended_hours(bars: Bars) -> None:
    frame = bars(
        [
            ("SPY", "2024-02-23 14:29Z", 9, 20, 1, 9, 100),
            ("SPY", "2024-02-23 14:30Z", 10, 11, 9, 10, 1),
            ("SPY", "2024-02-23 20:59Z", 10, 12, 10, 11, 2),
            ("SPY", "2024-02-24 00:56Z", 11, 30, 11, 30, 100),
        ]
    )

    result = resample_bars(frame, "1d", market=Market.US, regular_hours_only=True)

    assert result[["open", "high", "low", "close", "volume"]].iloc[0].tolist() == [10, 12, 9, 11, 3]


def test_weekly_bars_are_stamped_on_the_iso_monday(bars: Bars) -> None:
    frame = bars(
        [
            ("X", "2024-01-01", 1, 2, 1, 2, 1),
            ("X", "2024-01-05", 2, 3, 2, 3, 1),
            ("X", "2024-01-08", 3, 4, 3, 4, 1),
            ("X", "2024-01-14", 4, 5, 4, 5, 1),
        ]
    )

    result = resample_bars(frame, "1w", market=Market.CRYPTO)

    assert stamps(result) == ["2024-01-01 00:00", "2024-01-08 00:00"]
    assert result["close"].tolist() == [3.0, 5.0]


def test_resampling_refuses_unsorted_or_duplicate_bars(bars: Bars) -> None:
    frame = bars(
        [("X", "2024-01-01 00:01Z", 1, 1, 1, 1, 1), ("X", "2024-01-01 00:00Z", 1, 1, 1, 1, 1)]
    )

    with pytest.raises(FrameError, match="not sorted"):
        resample_bars(frame, "5m", market=Market.CRYPTO)


def test_resampling_refuses_missing_prices(bars: Bars) -> None:
    frame = bars([("X", "2024-01-01 00:01Z", np.nan, 1, 1, 1, 1)])

    with pytest.raises(FrameError, match="missing or infinite"):
        resample_bars(frame, "5m", market=Market.CRYPTO)


def test_resampling_refuses_frames_outside_the_contract(bars: Bars) -> None:
    frame = bars([("X", "2024-01-01 00:01Z", 1, 1, 1, 1, 1)]).rename(columns={"volume": "qty"})

    with pytest.raises(FrameError, match="columns"):
        resample_bars(frame, "5m", market=Market.CRYPTO)


def test_trades_become_bars_keeping_arrival_order_for_equal_times() -> None:
    ticks = pd.DataFrame(
        {
            "timestamp": pd.to_datetime(
                [
                    "2024-01-01 00:00:30Z",
                    "2024-01-01 00:00:10Z",
                    "2024-01-01 00:00:30Z",
                    "2024-01-01 00:01:00Z",
                ],
                utc=True,
            ),
            "symbol": ["BTC", "BTC", "BTC", "BTC"],
            "price": [101.0, 100.0, 99.0, 102.0],
            "size": [1.0, 2.0, 0.5, 1.0],
        }
    )

    result = ticks_to_bars(ticks, "1m", market=Market.CRYPTO)

    assert stamps(result) == ["2024-01-01 00:00", "2024-01-01 00:01"]
    assert result[["open", "high", "low", "close", "volume"]].to_numpy().tolist() == [
        [100.0, 101.0, 99.0, 99.0, 3.5],
        [102.0, 102.0, 102.0, 102.0, 1.0],
    ]


def test_trades_with_bad_prices_are_refused() -> None:
    ticks = pd.DataFrame(
        {
            "timestamp": pd.to_datetime(["2024-01-01 00:00Z"], utc=True),
            "symbol": ["BTC"],
            "price": [-1.0],
            "size": [1.0],
        }
    )

    with pytest.raises(FrameError, match="positive"):
        ticks_to_bars(ticks, "1m", market=Market.CRYPTO)


def test_session_grid_has_78_five_minute_bars_per_us_session() -> None:
    grid = session_grid(
        Market.US, parse_timeframe("5m"), utc("2024-03-08"), utc("2024-03-12 23:59")
    )

    per_day = pd.Series(1, index=grid).groupby(grid.date).sum()
    assert per_day.tolist() == [78, 78, 78]
    assert grid[0] == utc("2024-03-08 14:30")
    assert grid[78] == utc("2024-03-11 13:30")


def _random_minutes(draw: st.DrawFn, start: str, span_minutes: int) -> pd.DataFrame:
    offsets = draw(
        st.lists(st.integers(0, span_minutes), min_size=1, max_size=200, unique=True).map(sorted)
    )
    rng = np.random.default_rng(draw(st.integers(0, 2**32 - 1)))
    count = len(offsets)
    close = 100 * np.exp(np.cumsum(rng.normal(0, 0.01, count)))
    open_ = close * np.exp(rng.normal(0, 0.005, count))
    return pd.DataFrame(
        {
            "symbol": np.array(["S"] * count, dtype=object),
            "timestamp": pd.DatetimeIndex(
                pd.Timestamp(start, tz="UTC") + pd.to_timedelta(offsets, unit="min")
            ).as_unit("ns"),
            "open": open_,
            "high": np.maximum(open_, close) * 1.01,
            "low": np.minimum(open_, close) * 0.99,
            "close": close,
            "volume": rng.integers(0, 1000, count).astype("float64"),
        }
    )


@st.composite
def crypto_minutes(draw: st.DrawFn) -> pd.DataFrame:
    return _random_minutes(draw, "2024-01-01 00:00", 3 * 24 * 60)


@st.composite
def us_minutes(draw: st.DrawFn) -> pd.DataFrame:
    # Friday 2024-03-08 to Tuesday 03-12: a weekend and the DST switch in between.
    return _random_minutes(draw, "2024-03-08 08:00", 4 * 24 * 60)


@settings(max_examples=40, deadline=None)
@given(crypto_minutes())
def test_crypto_resampling_in_steps_equals_resampling_at_once(frame: pd.DataFrame) -> None:
    stepwise = resample_bars(
        resample_bars(frame, "5m", market=Market.CRYPTO), "1h", market=Market.CRYPTO
    )

    pd.testing.assert_frame_equal(stepwise, resample_bars(frame, "1h", market=Market.CRYPTO))


@settings(max_examples=40, deadline=None)
@given(us_minutes())
def test_us_resampling_in_steps_equals_resampling_at_once(frame: pd.DataFrame) -> None:
    for steps in (("5m", "1h"), ("15m", "1h", "1d"), ("1h", "1w")):
        stepwise = frame
        for step in steps:
            stepwise = resample_bars(stepwise, step, market=Market.US)

        direct = resample_bars(frame, steps[-1], market=Market.US)

        pd.testing.assert_frame_equal(stepwise, direct)


@pytest.fixture(scope="module")
def spy(read_bars: Callable[[str], pd.DataFrame]) -> pd.DataFrame:
    return read_bars("intraday/us_spy_1m_2024-02_2024-05.csv.gz")


def test_spy_regular_hours_make_one_daily_bar_per_session(spy: pd.DataFrame) -> None:
    daily = resample_bars(spy, "1d", market=Market.US, regular_hours_only=True)

    assert len(daily) == 63
    first = daily.iloc[0]
    # README: 2024-02-20 has 63.5 M regular-hours shares and the 15:59 ET bar closes at 496.74.
    assert first["timestamp"] == utc("2024-02-20")
    assert first["close"] == 496.74
    assert round(first["volume"] / 1e6, 1) == 63.5


@pytest.mark.parametrize(
    ("day", "open_utc", "last_utc"),
    [
        ("2024-02-20", "14:30", "20:59"),  # before the DST switch
        ("2024-03-08", "14:30", "20:59"),
        ("2024-03-11", "13:30", "19:59"),  # after it
        ("2024-05-17", "13:30", "19:59"),
    ],
)
def test_spy_daily_bar_matches_the_regular_minutes_by_hand(
    spy: pd.DataFrame, day: str, open_utc: str, last_utc: str
) -> None:
    minutes = spy[
        (spy["timestamp"] >= utc(f"{day} {open_utc}"))
        & (spy["timestamp"] <= utc(f"{day} {last_utc}"))
    ]
    daily = resample_bars(spy, "1d", market=Market.US, regular_hours_only=True)

    bar = daily[daily["timestamp"] == utc(day)].iloc[0]

    assert len(minutes) == 390
    assert bar["open"] == minutes["open"].iloc[0]
    assert bar["high"] == minutes["high"].max()
    assert bar["low"] == minutes["low"].min()
    assert bar["close"] == minutes["close"].iloc[-1]
    assert bar["volume"] == minutes["volume"].sum()


def test_spy_regular_sessions_have_78_five_minute_bars(spy: pd.DataFrame) -> None:
    five = resample_bars(spy, "5m", market=Market.US, regular_hours_only=True)

    per_session = five.groupby(five["timestamp"].dt.tz_convert("America/New_York").dt.date).size()

    assert len(per_session) == 63
    assert set(per_session) == {78}


def test_spy_hourly_bars_start_at_half_past_in_new_york(spy: pd.DataFrame) -> None:
    hourly = resample_bars(spy, "1h", market=Market.US, regular_hours_only=True)

    local = hourly["timestamp"].dt.tz_convert("America/New_York")

    assert set(local.dt.strftime("%H:%M")) == {f"{hour:02d}:30" for hour in range(9, 16)}
    assert len(hourly) == 63 * 7


def test_binance_minutes_resample_in_steps_like_at_once(
    read_bars: Callable[[str], pd.DataFrame], shared_data: Path
) -> None:
    frame = read_bars("intraday/binance_spot_1m_2025-03.csv.gz")
    frame = frame[frame["timestamp"] < utc("2025-03-04")].reset_index(drop=True)

    stepwise = resample_bars(
        resample_bars(frame, "5m", market=Market.CRYPTO), "1h", market=Market.CRYPTO
    )

    pd.testing.assert_frame_equal(stepwise, resample_bars(frame, "1h", market=Market.CRYPTO))
    assert (stepwise.groupby("symbol").size() == 69).all()  # 03:00Z on 03-01 to 23:00Z on 03-03
