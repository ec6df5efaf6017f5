"""Bot detectors on crafted streams, with thresholds exactly at and just past each boundary."""

from __future__ import annotations

from decimal import Decimal

import pytest

from anomaly.builders import BOT, T0, at, fill, order
from orchestrade.anomaly import (
    AnomalyError,
    AnomalyThresholds,
    ApiErrorRateDetector,
    ClosedTrade,
    InactivityDetector,
    LossStreakDetector,
    SlippageDetector,
    TradeRateDetector,
)
from orchestrade.domain import BotId, OrderType, Severity, Side, Symbol

# -- trade rate ---------------------------------------------------------------------------------


def test_twenty_trades_in_ten_minutes_pass_and_the_twenty_first_is_reported() -> None:
    detector = TradeRateDetector()

    quiet = [detector.update(BOT, fill(f"f{i}", 25 * i)) for i in range(20)]  # 0 .. 475 s
    finding = detector.update(BOT, fill("f20", 500))

    assert quiet == [None] * 20
    assert finding is not None
    assert (finding.detector, finding.severity) == ("trade_rate", Severity.HIGH)
    assert (finding.value, finding.threshold) == (21.0, 20.0)
    assert (finding.subject, finding.bot_id, finding.detected_at) == (BOT, BOT, at(500))
    assert finding.reason == "21 trades within 10 min, more than 20"


def test_a_fill_exactly_ten_minutes_older_no_longer_counts() -> None:
    detector = TradeRateDetector()
    for i in range(20):
        detector.update(BOT, fill(f"f{i}", 30 * i))  # 0 .. 570 s

    at_boundary = detector.update(BOT, fill("f20", 600))  # the fill at 0 s leaves: 20 remain
    assert at_boundary is None
    assert detector.count(BOT) == 20

    just_inside = detector.update(BOT, fill("f21", 629.999))  # the fill at 30 s still counts
    assert just_inside is not None
    assert just_inside.value == 21.0


def test_overtrading_is_reported_once_until_the_rate_falls_back() -> None:
    detector = TradeRateDetector(AnomalyThresholds(max_trades=2, trade_window_s=60))

    results = [detector.update(BOT, fill(f"f{i}", i)) for i in range(5)]
    rearmed = detector.update(BOT, fill("late", 200))  # alone in its window
    again = [detector.update(BOT, fill(f"g{i}", 201 + i)) for i in range(2)]

    assert [result is not None for result in results] == [False, False, True, False, False]
    assert rearmed is None
    assert [result is not None for result in again] == [False, True]


def test_a_fill_republished_after_a_restart_is_not_counted_twice() -> None:
    detector = TradeRateDetector(AnomalyThresholds(max_trades=2))

    for _ in range(3):
        assert detector.update(BOT, fill("same", 10)) is None

    assert detector.count(BOT) == 1


def test_bots_are_counted_apart() -> None:
    detector = TradeRateDetector(AnomalyThresholds(max_trades=1))
    other = BotId("bot-2")

    first = detector.update(BOT, fill("a", 1))
    second = detector.update(other, fill("b", 2))

    assert (first, second) == (None, None)


# -- loss streak -----------------------------------------------------------------------------


def trade(pnl: str, seconds: float = 0) -> ClosedTrade:
    return ClosedTrade(Symbol("005930"), at(seconds), Decimal(pnl))


def test_six_losses_of_ten_pass_and_the_seventh_is_reported() -> None:
    detector = LossStreakDetector()
    pnls = ["10", "-1", "-2", "5", "-3", "-4", "0", "-5", "-6"]  # 6 losses; 0 is no loss

    quiet = [detector.update(BOT, trade(pnl, i)) for i, pnl in enumerate(pnls)]
    finding = detector.update(BOT, trade("-7.5", 9))

    assert quiet == [None] * 9
    assert detector.losses(BOT) == 7
    assert finding is not None
    assert (finding.detector, finding.severity) == ("loss_streak", Severity.MEDIUM)
    assert (finding.value, finding.threshold, finding.detected_at) == (7.0, 7.0, at(9))
    assert finding.reason == (
        "7 of the last 10 closed trades lost money (limit 7 of 10); the last one -7.50 on 005930"
    )


def test_only_the_last_ten_trades_count() -> None:
    detector = LossStreakDetector()
    for i, pnl in enumerate(["-1"] + ["1"] * 4 + ["-1"] * 5):  # 6 losses in the window
        detector.update(BOT, trade(pnl, i))

    # The oldest trade, a loss, leaves as a new loss enters: still 6.
    assert detector.update(BOT, trade("-1", 10)) is None
    assert detector.losses(BOT) == 6
    # Now a win leaves as a loss enters: 7.
    finding = detector.update(BOT, trade("-1", 11))
    assert finding is not None
    assert finding.value == 7.0


def test_a_streak_is_reported_once_until_the_losses_fall_below_the_limit() -> None:
    detector = LossStreakDetector(AnomalyThresholds(loss_streak_losses=2, loss_streak_trades=3))

    results = [
        detector.update(BOT, trade(pnl, i)) is not None
        for i, pnl in enumerate(["-1", "-1", "-1", "1", "1", "-1", "-1"])
    ]

    # losses in the last 3: 1, 2 (report), 3, 2, 1 (re-armed), 1, 2 (report)
    assert results == [False, True, False, False, False, False, True]


# -- slippage -----------------------------------------------------------------------------------


def test_a_market_buy_half_a_percent_above_its_reference_passes_and_beyond_is_reported() -> None:
    detector = SlippageDetector()
    buy = order("o-1")

    exactly = detector.update(buy, fill("f1", price="100.5"), market_price=Decimal(100))
    beyond = detector.update(buy, fill("f2", price="100.51"), market_price=Decimal(100))

    assert exactly is None
    assert beyond is not None
    assert (beyond.detector, beyond.severity) == ("slippage", Severity.MEDIUM)
    assert beyond.value == pytest.approx(0.0051, abs=1e-15)
    assert beyond.threshold == 0.005
    assert (beyond.subject, beyond.bot_id) == ("005930", BOT)
    assert beyond.reason == (
        "buy 005930 filled at 100.51 against 100 (market order o-1): 0.51% adverse slippage, "
        "limit 0.50%"
    )


def test_a_stop_that_gapped_through_is_slippage_against_its_stop_price() -> None:
    detector = SlippageDetector()
    stop_sell = order("s-1", Side.SELL, order_type=OrderType.STOP, stop="1000")

    gapped = detector.update(stop_sell, fill("f1", side=Side.SELL, price="990"), market_price=None)

    assert gapped is not None
    assert gapped.value == 0.01  # (1000 - 990) / 1000


def test_favourable_fills_and_limit_fills_are_never_slippage() -> None:
    detector = SlippageDetector()
    sell = order("o-2", Side.SELL)
    limit_buy = order("l-1", order_type=OrderType.LIMIT, limit="100")

    better = detector.update(
        sell, fill("f1", side=Side.SELL, price="110"), market_price=Decimal(100)
    )
    at_limit = detector.update(limit_buy, fill("f2", price="99"), market_price=Decimal(200))
    unknown = detector.update(order("o-3"), fill("f3", price="500"), market_price=None)

    assert (better, at_limit, unknown) == (None, None, None)


# -- API error rate ------------------------------------------------------------------------------


def test_an_error_rate_of_exactly_thirty_percent_passes_and_above_is_reported() -> None:
    detector = ApiErrorRateDetector()

    exactly = detector.update(BOT, at(0), calls=10, errors=3, bot_id=BOT)
    above = detector.update(BOT, at(1), calls=1, errors=1, bot_id=BOT)  # 4 of 11

    assert exactly is None
    assert detector.rate(BOT) == pytest.approx(4 / 11)
    assert above is not None
    assert (above.detector, above.severity) == ("api_error_rate", Severity.HIGH)
    assert above.value == 4 / 11
    assert above.threshold == 0.30
    assert above.bot_id == BOT
    assert above.reason == "4 of 11 broker calls failed within 5 min (36%, limit 30%)"


def test_too_few_calls_are_not_judged() -> None:
    detector = ApiErrorRateDetector()

    assert detector.update(BOT, at(0), calls=9, errors=9) is None
    assert detector.update(BOT, at(1), calls=1, errors=0) is not None  # 9 of 10


def test_calls_leave_the_window_after_five_minutes() -> None:
    detector = ApiErrorRateDetector()
    detector.update(BOT, at(0), calls=10, errors=10)  # reported
    assert detector.rate(BOT) == 1.0

    healthy = detector.update(BOT, at(300), calls=10, errors=0)  # the failures left
    assert healthy is None
    assert detector.rate(BOT) == 0.0
    relapse = detector.update(BOT, at(301), calls=10, errors=10)  # re-armed: 10 of 20
    assert relapse is not None
    assert relapse.value == 0.5


def test_the_rate_is_judged_again_when_calls_leave_the_window_without_new_ones() -> None:
    detector = ApiErrorRateDetector()
    detector.update(BOT, at(0), calls=10, errors=0)
    assert detector.update(BOT, at(100), calls=10, errors=5) is None  # 5 of 20

    after_expiry = detector.update(BOT, at(301), calls=0, errors=0)  # 5 of the last 10
    still = detector.update(BOT, at(302), calls=0, errors=0)
    emptied = detector.update(BOT, at(401), calls=0, errors=0)  # no calls left: re-armed
    again = detector.update(BOT, at(402), calls=10, errors=10)

    assert after_expiry is not None
    assert after_expiry.value == 0.5
    assert (still, emptied) == (None, None)
    assert detector.rate(BOT) == 1.0
    assert again is not None


def test_impossible_counts_are_an_error() -> None:
    with pytest.raises(AnomalyError, match="need 0 <= errors <= calls, got 3 of 2"):
        ApiErrorRateDetector().update(BOT, T0, calls=2, errors=3)


# -- inactivity ----------------------------------------------------------------------------------


def test_a_running_bot_silent_for_fifteen_minutes_is_reported_once() -> None:
    detector = InactivityDetector()
    detector.watch(BOT, at(0))
    detector.seen(BOT, at(100))

    almost = detector.check(at(100 + 899.999))
    findings = detector.check(at(1000))  # exactly 900 s of silence
    later = detector.check(at(2000))

    assert almost == []
    assert len(findings) == 1
    finding = findings[0]
    assert (finding.detector, finding.severity) == ("inactivity", Severity.HIGH)
    assert (finding.value, finding.threshold) == (900.0, 900.0)
    assert (finding.subject, finding.bot_id, finding.detected_at) == (BOT, BOT, at(1000))
    assert finding.reason.startswith("no heartbeat or activity for 15 min (since 2024-03-04")
    assert later == []


def test_activity_re_arms_and_stopped_bots_are_not_judged() -> None:
    detector = InactivityDetector(AnomalyThresholds(inactivity_s=60))
    other = BotId("bot-2")
    detector.watch(BOT, at(0))
    detector.watch(other, at(0))
    detector.seen(BotId("never-watched"), at(0))
    assert len(detector.check(at(60))) == 2

    detector.seen(BOT, at(70))
    detector.forget(other)

    assert detector.watched == frozenset({BOT})
    assert [finding.subject for finding in detector.check(at(130))] == [BOT]
