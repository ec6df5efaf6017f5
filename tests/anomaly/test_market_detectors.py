"""Market detectors on crafted streams, with thresholds exactly at and just past each boundary."""

from __future__ import annotations

import random
from datetime import timedelta
from decimal import Decimal

from anomaly.builders import T0, at, bar
from orchestrade.anomaly import (
    AnomalyThresholds,
    BookImbalanceDetector,
    FundingRateDetector,
    PriceMoveDetector,
    VolumeSpikeDetector,
)
from orchestrade.domain import BookLevel, OrderBook, Severity, Symbol

BTC = Symbol("BTCUSDT")


def minute(index: int) -> object:
    return T0 + timedelta(minutes=index)


# -- price move ----------------------------------------------------------------------------------


def test_a_five_percent_minute_passes_and_a_bit_more_is_reported() -> None:
    detector = PriceMoveDetector()

    first = detector.on_bar(bar(at(0), "100"))
    exactly = detector.on_bar(bar(at(60), "105"))  # 100 (previous close) -> 105 = 5%
    detector.on_bar(bar(at(120), "100"))  # 105 -> 100 = 4.76%
    beyond = detector.on_bar(bar(at(180), "105.01"))  # 100 -> 105.01 = 5.01%

    assert (first, exactly) == (None, None)
    assert beyond is not None
    assert (beyond.detector, beyond.severity) == ("price_move", Severity.HIGH)
    assert beyond.value == (105.01 - 100) / 100
    assert beyond.threshold == 0.05
    assert (beyond.subject, beyond.bot_id) == ("BTCUSDT", None)
    assert beyond.detected_at == at(180)  # stamped with the bar's start
    assert beyond.reason == "BTCUSDT rose 5.01% from 100 to 105.01 within 1 min, limit 5.00%"


def test_a_fall_is_measured_from_the_highest_price_of_the_window() -> None:
    detector = PriceMoveDetector()
    detector.on_bar(bar(at(0), "200"))

    fall = detector.on_bar(bar(at(60), "189.98", open_="200"))  # (200 - 189.98) / 200

    assert fall is not None
    assert fall.value == (200 - 189.98) / 200
    assert "fell 5.01% from 200 to 189.98" in fall.reason


def test_prices_older_than_the_window_are_forgotten() -> None:
    detector = PriceMoveDetector()
    detector.on_bar(bar(at(0), "100"))
    detector.on_bar(bar(at(60), "103"))

    # The close at 60 s (100) is older than 1 minute at the close at 180 s: 103 -> 106 is 2.9%.
    slow = detector.on_bar(bar(at(120), "106", open_="103"))

    assert slow is None


def test_a_gap_in_the_data_is_not_a_move() -> None:
    detector = PriceMoveDetector()
    detector.on_bar(bar(at(0), "100"))

    after_outage = detector.on_bar(bar(at(3600), "120"))  # an hour later, open = close

    assert after_outage is None


def test_a_flash_crash_inside_one_bar_is_seen_through_its_range() -> None:
    detector = PriceMoveDetector()
    detector.on_bar(bar(at(0), "100"))

    exactly = detector.on_bar(bar(at(60), "100", high="100", low="95"))  # (100 - 95) / 100
    detector.on_bar(bar(at(120), "100"))
    beyond = detector.on_bar(bar(at(180), "100", high="100", low="94.99"))

    assert exactly is None
    assert beyond is not None
    assert beyond.value == (100 - 94.99) / 100
    assert "moved 5.01% inside one bar (low 94.99, high 100)" in beyond.reason


def test_hourly_and_daily_bars_never_report_a_one_minute_move() -> None:
    detector = PriceMoveDetector()

    results = [
        detector.on_bar(bar(at(3600 * i), close, open_="100", high="150", low="50", timeframe="1h"))
        for i, close in enumerate(["100", "140", "60"])
    ]

    assert results == [None, None, None]


def test_a_crash_over_consecutive_minutes_is_reported_once_then_re_armed() -> None:
    detector = PriceMoveDetector()
    closes = ["100", "90", "80", "80", "80", "90"]

    reported = [
        detector.on_bar(bar(at(60 * i), close)) is not None for i, close in enumerate(closes)
    ]

    assert reported == [False, True, False, False, False, True]


def test_symbols_have_their_own_windows() -> None:
    detector = PriceMoveDetector()
    detector.on_bar(bar(at(0), "100", symbol="AAA"))

    other = detector.on_bar(bar(at(60), "200", symbol="BBB"))

    assert other is None


def test_a_daily_close_still_counts_for_a_minute_bar_that_starts_at_its_end() -> None:
    detector = PriceMoveDetector()
    detector.on_bar(bar(at(0), "100", timeframe="1d"))  # its close is at T0 + 1 day

    # 100 (the daily close) -> 106 is 6%; from the minute's own open (103) only 2.9%.
    after = detector.on_bar(bar(at(86_400), "106", open_="103"))

    assert after is not None
    assert after.reason == "BTCUSDT rose 6.00% from 100 to 106 within 1 min, limit 5.00%"


def test_a_price_exactly_one_window_before_a_long_bars_close_is_inside_its_window() -> None:
    detector = PriceMoveDetector()
    detector.on_bar(bar(at(0), "100"))  # closes at 60 s

    hourly = detector.on_bar(bar(at(120 - 3600), "106", timeframe="1h"))  # closes at 120 s

    assert hourly is not None
    assert hourly.reason == "BTCUSDT rose 6.00% from 100 to 106 within 1 min, limit 5.00%"


def test_domain_bars_give_the_findings_of_plain_numbers_on_mixed_timeframes() -> None:
    thresholds = AnomalyThresholds(price_move_window_s=300)
    by_bar, by_numbers = PriceMoveDetector(thresholds), PriceMoveDetector(thresholds)
    rng = random.Random(7)
    spans = {"1m": 60, "5m": 300, "1h": 3600, "1d": 86_400}
    seconds, prices = 0, {"AAA": 100.0, "BBB": 50.0}
    from_bars, from_numbers = [], []
    for _ in range(3000):
        symbol = rng.choice(["AAA", "BBB"])
        timeframe = rng.choice(["1m", "1m", "5m", "1h", "1d"])
        seconds += rng.choice([-120, 0, 60, 60, 300, 3600, 86_400])  # some out of order
        open_ = prices[symbol]
        close = round(open_ * rng.choice([0.9, 0.97, 1.0, 1.01, 1.04, 1.08]), 2)
        prices[symbol] = close
        item = bar(at(seconds), str(close), open_=str(open_), symbol=symbol, timeframe=timeframe)
        end = item.start + timedelta(seconds=spans[timeframe])
        numbers = (float(item.open), float(item.high), float(item.low), float(item.close))

        from_bars.append(by_bar.on_bar(item))
        from_numbers.append(by_numbers.update(item.symbol, item.start, end, *numbers))

    assert from_bars == from_numbers
    assert sum(finding is not None for finding in from_bars) > 50


# -- volume spike --------------------------------------------------------------------------------


def test_ten_times_the_mean_passes_and_more_is_reported() -> None:
    detector = VolumeSpikeDetector(AnomalyThresholds(volume_window_bars=4))
    for i, volume in enumerate([100, 200, 300, 400]):  # mean 250
        assert detector.update(BTC, minute(i), volume) is None  # type: ignore[arg-type]

    exactly = detector.update(BTC, minute(4), 2500.0)  # type: ignore[arg-type]
    assert exactly is None
    # window now 200, 300, 400, 2500: mean 850
    beyond = detector.update(BTC, minute(5), 8501.0)  # type: ignore[arg-type]

    assert beyond is not None
    assert (beyond.detector, beyond.severity) == ("volume_spike", Severity.MEDIUM)
    assert beyond.value == 8501 * 4 / 3400
    assert beyond.threshold == 10.0
    assert beyond.detected_at == minute(5)
    assert beyond.reason == (
        "BTCUSDT volume 8,501 is 10.0x the mean 850 of the previous 4 bars, limit 10x"
    )


def test_no_judgement_before_the_window_is_full_or_on_zero_volume() -> None:
    detector = VolumeSpikeDetector(AnomalyThresholds(volume_window_bars=3))

    early = [detector.update(BTC, minute(i), v) for i, v in enumerate([1.0, 1000.0])]  # type: ignore[arg-type]
    detector.update(BTC, minute(2), 0.0)  # type: ignore[arg-type]
    halted = VolumeSpikeDetector(AnomalyThresholds(volume_window_bars=2))
    halted.update(BTC, minute(0), 0.0)  # type: ignore[arg-type]
    halted.update(BTC, minute(1), 0.0)  # type: ignore[arg-type]

    assert early == [None, None]
    assert halted.update(BTC, minute(2), 5.0) is None  # type: ignore[arg-type]


def test_a_spike_lasting_two_bars_is_reported_once() -> None:
    detector = VolumeSpikeDetector(AnomalyThresholds(volume_window_bars=2))
    for i in range(2):
        detector.update(BTC, minute(i), 10.0)  # type: ignore[arg-type]

    first = detector.update(BTC, minute(2), 500.0)  # 50x
    second = detector.update(BTC, minute(3), 6000.0)  # 6000 / 255 = 23.5x, still a spike
    calm = detector.update(BTC, minute(4), 10.0)  # type: ignore[arg-type]

    assert first is not None
    assert (second, calm) == (None, None)


def spiky_history() -> VolumeSpikeDetector:
    """Three-bar windows after 5,000 bars of 1e12 then 5,000 bars of 0.1: a naive running
    sum keeps an error of about 1e-4 from the huge values, far more than 0.1 can hide."""
    detector = VolumeSpikeDetector(AnomalyThresholds(volume_window_bars=3))
    for i in range(10_000):
        detector.update(BTC, minute(i), 1e12 if i < 5_000 else 0.1)  # type: ignore[arg-type]
    return detector


def test_the_running_sum_does_not_drift_over_a_long_stream() -> None:
    # The window sums to 0.1 + 0.1 + 0.1 = 0.30000000000000004 in floats.
    at_limit = spiky_history().update(BTC, minute(10_000), 1.0)  # type: ignore[arg-type]
    above = spiky_history().update(BTC, minute(10_000), 1.000001)  # type: ignore[arg-type]

    assert at_limit is None
    assert above is not None
    assert above.value == 1.000001 * 3 / (0.1 + 0.1 + 0.1)


# -- funding rate --------------------------------------------------------------------------------


def test_funding_beyond_a_tenth_of_a_percent_either_way_is_reported_once_per_excursion() -> None:
    detector = FundingRateDetector()
    perp = Symbol("BTCUSDT-PERP")

    results = [
        detector.update(perp, at(8 * 3600 * i), rate)
        for i, rate in enumerate([0.0001, 0.001, 0.0011, 0.002, 0.0005, -0.001, -0.00125])
    ]

    reported = [result for result in results if result is not None]
    assert [result is not None for result in results] == [
        False, False, True, False, False, False, True,
    ]  # fmt: skip
    assert [(found.value, found.threshold) for found in reported] == [
        (0.0011, 0.001),
        (-0.00125, 0.001),
    ]
    assert reported[0].severity is Severity.MEDIUM
    assert reported[0].reason == (
        "BTCUSDT-PERP funding rate +0.1100% (longs pay shorts), limit ±0.1000%"
    )
    assert "shorts pay longs" in reported[1].reason


# -- order-book imbalance ------------------------------------------------------------------------


def book(bids: list[str], asks: list[str], seconds: float = 0) -> OrderBook:
    """Bids 100, 99, ... and asks 101, 102, ... with the given sizes."""
    return OrderBook(
        BTC,
        at(seconds),
        tuple(BookLevel(Decimal(100 - i), Decimal(size)) for i, size in enumerate(bids)),
        tuple(BookLevel(Decimal(101 + i), Decimal(size)) for i, size in enumerate(asks)),
    )


def test_seventy_percent_imbalance_passes_and_more_is_reported() -> None:
    detector = BookImbalanceDetector()

    exactly = detector.on_book(book(["50", "35"], ["10", "5"]))  # (85 - 15) / 100
    detector.on_book(book(["1"], ["1"]))
    beyond = detector.on_book(book(["10", "5"], ["50", "35.1"], 1))  # (15 - 85.1) / 100.1

    assert exactly is None
    assert beyond is not None
    assert (beyond.detector, beyond.severity) == ("book_imbalance", Severity.LOW)
    assert beyond.value == (15 - 85.1) / 100.1
    assert beyond.threshold == 0.70
    assert beyond.reason == (
        "BTCUSDT book -70% imbalanced towards the asks on the best 5 levels "
        "(bid 15, ask 85.1), limit 70%"
    )


def test_only_the_best_levels_count() -> None:
    detector = BookImbalanceDetector(AnomalyThresholds(book_levels=2))

    deep = detector.on_book(book(["1", "1", "1000"], ["1", "1", "1"]))
    top = detector.on_book(book(["1000", "1", "1"], ["1", "1", "1"]))

    assert deep is None
    assert top is not None
    assert top.value == 999 / 1003


def test_a_one_sided_book_is_fully_imbalanced_and_an_empty_one_is_not_judged() -> None:
    detector = BookImbalanceDetector()

    empty = detector.update(BTC, T0, [], [])
    one_sided = detector.update(BTC, T0, [5.0], [])

    assert empty is None
    assert one_sided is not None
    assert one_sided.value == 1.0
