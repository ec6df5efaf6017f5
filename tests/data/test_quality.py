"""Quality checks on small crafted frames, one wart at a time, with exact counts."""

from __future__ import annotations

import json
from collections.abc import Callable

import numpy as np
import pandas as pd
import pytest

from orchestrade.data.calendars import sessions
from orchestrade.data.quality import (
    TABLE_COLUMNS,
    Check,
    QualityInputError,
    Recommendation,
    Severity,
    check_quality,
)
from orchestrade.data.quality.report import score_symbol
from orchestrade.data.resampling import TimeframeError
from orchestrade.domain import Market

Record = tuple[str, str, float, float, float, float, float]
Bars = Callable[[list[Record]], pd.DataFrame]

# The 124 XNYS sessions of 2024-01-02 .. 2024-06-28: one bad row in 124 costs 8% of the score.
US_DAYS = [str(day.date()) for day in sessions(Market.US, "2024-01-02", "2024-06-28")]
N = len(US_DAYS)


def daily(symbol: str, days: list[str], closes: list[float] | None = None) -> list[Record]:
    """Clean daily bars: open = previous close, high/low 1% outside open and close."""
    if closes is None:
        steps = np.random.default_rng(len(days)).normal(0.0, 0.01, len(days))
        closes = list(np.round(100 * np.exp(np.cumsum(steps)), 2))
    records: list[Record] = []
    previous = closes[0]
    for day, close in zip(days, closes, strict=True):
        records.append(
            (
                symbol,
                day,
                previous,
                max(previous, close) * 1.01,
                min(previous, close) * 0.99,
                close,
                1000.0,
            )
        )
        previous = close
    return records


def test_clean_frame_has_no_findings_and_is_used(bars: Bars) -> None:
    report = check_quality(bars(daily("AAA", US_DAYS)), market_of=Market.US, timeframe="1d")

    result = report["AAA"]
    assert result.findings == ()
    assert result.score == 1.0
    assert result.recommendation is Recommendation.USE
    assert report.recommendation is Recommendation.USE
    assert (result.rows, result.expected, result.first, result.last) == (
        N,
        N,
        "2024-01-02",
        "2024-06-28",
    )


@pytest.mark.parametrize(
    ("row", "check", "detail"),
    [
        (("AAA", "2024-01-04", np.nan, 101, 99, 100, 10), Check.MISSING_PRICE, "open=NaN"),
        (("AAA", "2024-01-04", 100, 101, 99, 100, np.nan), Check.MISSING_VOLUME, "volume=nan"),
        (("AAA", "2024-01-04", 100, 101, 0, 100, 10), Check.NON_POSITIVE_PRICE, "low=0"),
        (("AAA", "2024-01-04", 100, 99, 98, 100.5, 10), Check.HIGH_BELOW_OPEN_CLOSE, "high=99"),
        (("AAA", "2024-01-04", 100, 102, 100.5, 101, 10), Check.LOW_ABOVE_OPEN_CLOSE, "low=100.5"),
        (("AAA", "2024-01-04", 100, 98, 99, 100, 10), Check.HIGH_BELOW_LOW, "high=98 < low=99"),
        (("AAA", "2024-01-04", 100, 101, 99, 100, -5), Check.NEGATIVE_VOLUME, "volume=-5"),
    ],
)
def test_each_row_error_is_counted_once(bars: Bars, row: Record, check: Check, detail: str) -> None:
    records = daily("AAA", US_DAYS)
    records[2] = row

    result = check_quality(bars(records), market_of=Market.US, timeframe="1d")["AAA"]

    found = result.finding(check)
    assert found is not None
    assert (found.count, found.severity) == (1, Severity.ERROR)
    assert found.examples[0].timestamp == "2024-01-04"
    assert found.examples[0].row == 2
    assert detail in found.examples[0].detail
    assert found.rows == (2,)
    assert result.error_rows == 1
    assert result.recommendation is Recommendation.USE_WITH_CARE


def test_high_below_low_row_counts_as_one_error_row(bars: Bars) -> None:
    records = daily("AAA", US_DAYS)
    records[2] = ("AAA", "2024-01-04", 100, 98, 99, 98.5, 10)  # also high < open, low > close

    result = check_quality(bars(records), market_of=Market.US, timeframe="1d")["AAA"]

    assert result.count(Check.HIGH_BELOW_OPEN_CLOSE) == 1
    assert result.count(Check.LOW_ABOVE_OPEN_CLOSE) == 1
    assert result.error_rows == 1
    assert result.score == round(1 - 10 * 1 / N, 4)


def test_duplicates_and_unsorted_rows_are_found_in_file_order(bars: Bars) -> None:
    records = daily("AAA", US_DAYS)
    shuffled = [records[0], records[2], records[1], records[2], *records[3:], records[5]]

    result = check_quality(bars(shuffled), market_of=Market.US, timeframe="1d")["AAA"]

    assert result.count(Check.DUPLICATE_TIMESTAMP) == 2
    duplicate = result.finding(Check.DUPLICATE_TIMESTAMP)
    assert duplicate is not None
    assert duplicate.rows == (3, N + 1)
    assert "repeats row 1" in duplicate.examples[0].detail
    # row 2 (01-03 after 01-04) and the last row (01-09 after 06-28) go back in time
    assert result.count(Check.UNSORTED) == 2
    assert result.missing == 0


def test_unparseable_timestamps_are_counted(bars: Bars) -> None:
    frame = bars(daily("AAA", US_DAYS))
    frame.loc[[4, 7], "timestamp"] = pd.NaT

    result = check_quality(frame, market_of=Market.US, timeframe="1d")["AAA"]

    found = result.finding(Check.UNPARSEABLE_TIMESTAMP)
    assert found is not None
    assert found.count == 2
    assert found.examples[0].timestamp is None
    assert found.rows == (4, 7)
    assert result.missing == 2  # their sessions have no usable bar


def test_missing_sessions_count_trading_days_not_holidays(bars: Bars) -> None:
    days = ["2024-07-01", "2024-07-02", "2024-07-08", "2024-07-09", "2024-07-12"]

    result = check_quality(bars(daily("AAA", days)), market_of=Market.US, timeframe="1d")["AAA"]

    found = result.finding(Check.MISSING_SESSIONS)
    assert found is not None
    # 07-03 and 07-05 (07-04 is a holiday), then 07-10 and 07-11
    assert (found.count, found.spans) == (4, 2)
    assert [example.detail for example in found.examples] == [
        "2024-07-03 .. 2024-07-05 (2 sessions)",
        "2024-07-10 .. 2024-07-11 (2 sessions)",
    ]
    assert (result.missing, result.expected) == (4, 9)
    assert result.score == round(1 - 0.5 * 4 / 9, 4)
    assert result.recommendation is Recommendation.USE_WITH_CARE


def test_weekend_bars_of_stocks_are_outside_any_session(bars: Bars) -> None:
    days = ["2024-03-08", "2024-03-09", "2024-03-11"]

    result = check_quality(bars(daily("AAA", days)), market_of=Market.US, timeframe="1d")["AAA"]

    found = result.finding(Check.OUTSIDE_SESSION)
    assert found is not None
    assert found.count == 1
    assert found.examples[0].detail == "Sat 2024-03-09 is not a us session"
    assert result.missing == 0


def test_crypto_trades_on_weekends(bars: Bars) -> None:
    days = ["2024-03-08", "2024-03-09", "2024-03-11"]

    result = check_quality(bars(daily("BTC", days)), market_of=Market.CRYPTO, timeframe="1d")["BTC"]

    assert result.count(Check.OUTSIDE_SESSION) == 0
    assert result.count(Check.MISSING_SESSIONS) == 1


def test_daily_bars_not_stamped_at_midnight_are_off_grid(bars: Bars) -> None:
    records = daily("AAA", US_DAYS)
    records[3] = ("AAA", "2024-01-05 05:00Z", *records[3][2:])  # type: ignore[assignment]

    result = check_quality(bars(records), market_of=Market.US, timeframe="1d")["AAA"]

    found = result.finding(Check.OFF_GRID)
    assert found is not None
    assert found.count == 1
    assert "expected start 2024-01-05" in found.examples[0].detail
    assert result.missing == 0


def test_zero_volume_bars_are_warnings(bars: Bars) -> None:
    records = daily("AAA", US_DAYS)
    records[4] = (*records[4][:6], 0.0)  # type: ignore[assignment]
    records[5] = (*records[5][:6], 0.0)  # type: ignore[assignment]

    result = check_quality(bars(records), market_of=Market.US, timeframe="1d")["AAA"]

    assert result.count(Check.ZERO_VOLUME) == 2
    assert result.warning_rows == 2
    assert result.score == round(1 - 2 / N, 4)


def test_robust_outliers_flag_a_bad_close_and_its_recovery(bars: Bars) -> None:
    days = [str(day.date()) for day in pd.bdate_range("2024-01-02", periods=60)]
    days = [day for day in days if day not in ("2024-01-15", "2024-02-19")]  # US holidays
    rng = np.random.default_rng(3)
    closes = list(100 * np.exp(np.cumsum(rng.normal(0, 0.01, len(days)))))
    closes[30] = closes[29] * 0.5  # a bad print, back the next day

    result = check_quality(bars(daily("AAA", days, closes)), market_of=Market.US, timeframe="1d")[
        "AAA"
    ]

    found = result.finding(Check.OUTLIER_RETURN)
    assert found is not None
    assert found.count == 2
    assert {example.timestamp for example in found.examples} == {days[30], days[31]}
    assert result.count(Check.LARGE_MOVE) == 2  # -50%, then +100%


def test_outlier_threshold_is_configurable(bars: Bars) -> None:
    closes = [100, 101, 100, 101, 100, 101, 100, 101, 100, 104, 100, 101]
    frame = bars(daily("AAA", US_DAYS[:12], closes))

    default = check_quality(frame, market_of=Market.US, timeframe="1d")
    strict = check_quality(frame, market_of=Market.US, timeframe="1d", outlier_threshold=1.5)

    # Log returns: +0.00995 x6, -0.00995 x4, +0.0392 (100 -> 104), -0.0392 (104 -> 100).
    # Median +0.00995, MAD 0.0199 -> scale 0.0295; z(+0.0392) = 1.0, z(-0.0392) = -1.67.
    assert default["AAA"].count(Check.OUTLIER_RETURN) == 0
    found = strict["AAA"].finding(Check.OUTLIER_RETURN)
    assert found is not None
    assert found.count == 1
    assert found.examples[0].detail == "close 104 -> 100 (-3.8%), z=-1.7"
    assert strict.parameters["outlier_threshold"] == 1.5


def test_outlier_range_catches_a_bogus_bar(bars: Bars) -> None:
    hours = [str(stamp) for stamp in pd.date_range("2024-01-01", periods=50, freq="h", tz="UTC")]
    records: list[Record] = [("BTC", hour, 100, 100.5, 99.5, 100, 5) for hour in hours]
    records[0] = ("BTC", hours[0], 400, 400, 99.5, 100, 5)  # open = high far above the close

    result = check_quality(bars(records), market_of=Market.CRYPTO, timeframe="1h")["BTC"]

    found = result.finding(Check.OUTLIER_RANGE)
    assert found is not None
    assert found.count == 1
    assert found.examples[0].timestamp == "2024-01-01T00:00Z"


KRX_DAYS = ["2016-03-02", "2016-03-03", "2016-03-04", "2016-03-07", "2016-03-08"]


@pytest.mark.parametrize(
    ("closes", "breaches", "large"),
    [
        ([10000, 10500, 13500, 13400, 13300], 0, 0),  # +28.6%: within the 30% limit
        ([10000, 10500, 13900, 13400, 13300], 1, 0),  # +32.4%: a breach
        ([10000, 13020, 13030, 13000, 13000], 0, 1),  # +30.2%: within the rounding tolerance
    ],
)
def test_krx_moves_beyond_the_daily_limit_are_errors(
    bars: Bars, closes: list[float], breaches: int, large: int
) -> None:
    frame = bars(daily("005930", KRX_DAYS, closes))

    result = check_quality(frame, market_of=Market.KRX, timeframe="1d")["005930"]

    assert result.count(Check.PRICE_LIMIT_BREACH) == breaches
    assert result.count(Check.LARGE_MOVE) == large


def test_krx_limit_was_15_percent_before_june_2015(bars: Bars) -> None:
    days = ["2014-03-03", "2014-03-04", "2014-03-05"]
    closes = [10000, 11800, 11900]  # +18%

    result = check_quality(
        bars(daily("005930", days, closes)), market_of=Market.KRX, timeframe="1d"
    )["005930"]

    found = result.finding(Check.PRICE_LIMIT_BREACH)
    assert found is not None
    assert found.count == 1
    assert "±15% daily limit" in found.examples[0].detail
    assert result.recommendation is Recommendation.REJECT  # one bad row in three


def test_krx_move_across_missing_sessions_is_a_large_move_not_a_breach(bars: Bars) -> None:
    days = ["2016-03-02", "2016-03-03", "2016-03-10", "2016-03-11"]
    closes = [10000, 10100, 14000, 14100]  # +38.6% over five sessions

    result = check_quality(
        bars(daily("005930", days, closes)), market_of=Market.KRX, timeframe="1d"
    )["005930"]

    assert result.count(Check.PRICE_LIMIT_BREACH) == 0
    assert result.count(Check.LARGE_MOVE) == 1
    assert result.count(Check.MISSING_SESSIONS) == 4


def test_us_moves_beyond_30_percent_are_info(bars: Bars) -> None:
    closes = [100, 100, 140, 140, 140, 140, 140, 140, 140, 140, 140, 140]

    result = check_quality(
        bars(daily("AAA", US_DAYS[:12], closes)), market_of=Market.US, timeframe="1d"
    )["AAA"]

    found = result.finding(Check.LARGE_MOVE)
    assert found is not None
    assert (found.count, found.severity) == (1, Severity.INFO)
    assert found.examples[0].detail == "close 100 -> 140 (+40.0%)"


def test_intraday_crypto_gaps_count_missing_intervals(bars: Bars) -> None:
    minutes = pd.date_range("2024-01-01 00:00", periods=20, freq="min", tz="UTC")
    kept = [minute for index, minute in enumerate(minutes) if index not in (3, 4, 5, 10)]
    records: list[Record] = [("BTC", str(minute), 10, 11, 9, 10, 1) for minute in kept]
    records.append(("BTC", "2024-01-01 00:21:30Z", 10, 11, 9, 10, 1))  # off the minute grid

    result = check_quality(bars(records), market_of=Market.CRYPTO, timeframe="1m")["BTC"]

    found = result.finding(Check.MISSING_INTERVALS)
    assert found is not None
    assert (found.count, found.spans) == (4, 2)
    assert [example.detail for example in found.examples] == [
        "2024-01-01T00:03Z .. 2024-01-01T00:05Z (3 bars)",
        "2024-01-01T00:10Z (1 bar)",
    ]
    assert result.count(Check.OFF_GRID) == 1
    assert result.expected == 20


def test_us_minutes_outside_regular_hours_are_extended_hours_or_off_session(bars: Bars) -> None:
    records: list[Record] = [
        ("SPY", "2024-03-08 14:29Z", 10, 11, 9, 10, 1),  # pre-market, Friday
        ("SPY", "2024-03-08 14:30Z", 10, 11, 9, 10, 1),
        ("SPY", "2024-03-08 14:31Z", 10, 11, 9, 10, 1),
        ("SPY", "2024-03-08 14:34Z", 10, 11, 9, 10, 1),
        ("SPY", "2024-03-09 00:56Z", 10, 11, 9, 10, 1),  # Friday 19:56 ET: post-market
        ("SPY", "2024-03-09 15:00Z", 10, 11, 9, 10, 1),  # Saturday
    ]

    result = check_quality(bars(records), market_of=Market.US, timeframe="1m")["SPY"]

    assert result.count(Check.EXTENDED_HOURS) == 2
    assert result.count(Check.OUTSIDE_SESSION) == 1
    assert result.count(Check.MISSING_INTERVALS) == 2  # 14:32, 14:33
    extended = result.finding(Check.EXTENDED_HOURS)
    assert extended is not None
    assert extended.severity is Severity.INFO
    assert extended.examples[1].detail == "Fri 2024-03-08 19:56 EST, outside regular hours"


def test_schema_problems_are_reported_and_text_is_parsed(bars: Bars) -> None:
    frame = bars(daily("AAA", US_DAYS))
    frame["timestamp"] = frame["timestamp"].dt.strftime("%Y-%m-%d")
    frame.loc[3, "timestamp"] = "not a date"
    frame["close"] = frame["close"].astype(str)
    frame = frame.drop(columns=["volume"])

    report = check_quality(frame, market_of=Market.US, timeframe="1d")

    messages = [found.message for found in report.frame_findings]
    assert "missing columns: volume" in messages
    assert any(message.startswith("timestamp dtype object") for message in messages)
    assert any(message.startswith("close dtype object") for message in messages)
    result = report["AAA"]
    assert result.count(Check.UNPARSEABLE_TIMESTAMP) == 1
    assert result.count(Check.MISSING_VOLUME) == N
    assert result.recommendation is Recommendation.REJECT


def test_naive_timestamps_are_a_schema_error_but_still_checked(bars: Bars) -> None:
    frame = bars(daily("AAA", US_DAYS))
    frame["timestamp"] = frame["timestamp"].dt.tz_localize(None)

    report = check_quality(frame, market_of=Market.US, timeframe="1d")

    assert [found.severity for found in report.frame_findings] == [Severity.ERROR]
    assert report["AAA"].findings == ()
    assert report["AAA"].recommendation is Recommendation.USE_WITH_CARE


def test_frame_without_symbols_is_rejected(bars: Bars) -> None:
    frame = bars(daily("AAA", US_DAYS)).drop(columns=["symbol"])

    report = check_quality(frame, market_of=Market.US, timeframe="1d")

    assert report.symbols == ()
    assert report.recommendation is Recommendation.REJECT


def test_rows_without_symbol_are_a_frame_finding(bars: Bars) -> None:
    frame = bars(daily("AAA", US_DAYS))
    frame.loc[0, "symbol"] = None

    report = check_quality(frame, market_of=Market.US, timeframe="1d")

    assert [(found.check, found.count) for found in report.frame_findings] == [
        (Check.MISSING_SYMBOL, 1)
    ]
    assert report["AAA"].rows == N - 1


def test_each_symbol_gets_its_own_market(bars: Bars) -> None:
    frame = bars(
        daily("AAA", ["2024-03-08", "2024-03-09"]) + daily("BTC", ["2024-03-08", "2024-03-09"])
    )

    report = check_quality(
        frame, market_of={"AAA": Market.US, "BTC": Market.CRYPTO}, timeframe="1d"
    )

    assert report["AAA"].count(Check.OUTSIDE_SESSION) == 1
    assert report["BTC"].count(Check.OUTSIDE_SESSION) == 0
    assert report["BTC"].market == "crypto"


def test_symbols_without_a_market_are_an_input_error(bars: Bars) -> None:
    frame = bars(daily("AAA", US_DAYS[:2]) + daily("BBB", US_DAYS[:2]))

    with pytest.raises(QualityInputError, match="no market for 1 symbols: BBB"):
        check_quality(frame, market_of={"AAA": Market.US}, timeframe="1d")


def test_bad_arguments_are_refused(bars: Bars) -> None:
    frame = bars(daily("AAA", US_DAYS[:2]))

    with pytest.raises(TimeframeError):
        check_quality(frame, market_of=Market.US, timeframe="daily")
    with pytest.raises(QualityInputError, match="outlier_threshold must be positive"):
        check_quality(frame, market_of=Market.US, timeframe="1d", outlier_threshold=0)
    with pytest.raises(QualityInputError, match="DataFrame"):
        check_quality([1, 2], market_of=Market.US, timeframe="1d")  # type: ignore[arg-type]


def test_report_renders_to_json_and_table_rows(bars: Bars) -> None:
    records = daily("AAA", US_DAYS) + daily("BBB", US_DAYS)
    records[2] = ("AAA", "2024-01-04", np.nan, 101, 99, 100, 0)
    report = check_quality(bars(records), market_of=Market.US, timeframe="1d")

    document = json.loads(json.dumps(report.to_dict()))
    rows = report.table_rows()

    assert document["summary"]["symbols"] == 2
    assert document["summary"]["checks"] == {"missing_price": 1, "zero_volume": 1}
    assert document["summary"]["recommendations"] == {"use": 1, "use with care": 1, "reject": 0}
    assert document["symbols"][0]["findings"][0]["examples"][0]["timestamp"] == "2024-01-04"
    assert [tuple(row) for row in rows] == [TABLE_COLUMNS, TABLE_COLUMNS]
    assert rows[0]["errors"] == "missing_price 1"
    assert rows[0]["warnings"] == "zero_volume 1"
    assert report.recommendation is Recommendation.USE_WITH_CARE


def test_examples_are_capped_at_five_per_check(bars: Bars) -> None:
    records = [(*record[:6], 0.0) for record in daily("AAA", US_DAYS)]

    result = check_quality(bars(records), market_of=Market.US, timeframe="1d")["AAA"]  # type: ignore[arg-type]

    found = result.finding(Check.ZERO_VOLUME)
    assert found is not None
    assert found.count == N
    assert len(found.examples) == 5
    assert len(found.rows) == N


def test_score_formula_combines_errors_missing_and_warnings() -> None:
    score = score_symbol(rows=100, error_rows=2, warning_rows=5, missing=10, expected=110)

    assert score == round((1 - 10 * 0.02) * (1 - 0.5 * 10 / 110) * (1 - 0.05), 4)
    assert score_symbol(rows=100, error_rows=10, warning_rows=0, missing=0, expected=100) == 0.0
    assert score_symbol(rows=0, error_rows=0, warning_rows=0, missing=0, expected=0) == 0.0
