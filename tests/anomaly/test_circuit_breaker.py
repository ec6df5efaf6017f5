"""DailyLossBreaker: trips beyond 10% of the session's starting equity, names the losers,
blocks entries until the next session or a reset; the default rules act on its event."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import pytest

from orchestrade.anomaly import AnomalyConfigurationError, DailyLossBreaker
from orchestrade.domain import BotId, CircuitBreakerTripped
from orchestrade.orchestration.rule_files import default_rules
from orchestrade.orchestration.rules import Action, RuleEngine, StopScope, rule_parameters

A, B, C = BotId("bot-a"), BotId("bot-b"), BotId("bot-c")
DAY1 = datetime(2024, 3, 4, 1, 0, tzinfo=UTC)
DAY2 = DAY1 + timedelta(days=1)


def equities(a: str, b: str) -> dict[BotId, Decimal]:
    return {A: Decimal(a), B: Decimal(b)}


def started() -> DailyLossBreaker:
    """Two bots starting the day with 1,000 each (2,000 in all)."""
    breaker = DailyLossBreaker(0.10)
    breaker.seed(equities("1000", "1000"))
    return breaker


def test_a_loss_of_exactly_ten_percent_does_not_trip_and_beyond_does() -> None:
    breaker = started()

    at_limit = breaker.update(DAY1, equities("850", "950"))  # 200 of 2,000 = 10%
    beyond = breaker.update(DAY1 + timedelta(minutes=1), equities("850", "949.99"))

    assert at_limit is None
    assert breaker.loss() == Decimal("0.100005")
    assert isinstance(beyond, CircuitBreakerTripped)
    assert (beyond.breaker, beyond.value, beyond.limit) == (
        "daily_loss",
        Decimal("0.100005"),
        Decimal("0.1"),
    )
    assert beyond.bot_id is None
    assert beyond.reason == (
        "portfolio lost 10.00% since the start of 2024-03-04, limit 10.00%; losing: "
        "bot-a -15.00%, bot-b -5.00%; new entries blocked until the next session or a reset"
    )
    assert breaker.losing_bots == (A, B)


def test_only_the_losing_bots_are_named_and_a_winner_offsets_the_losses() -> None:
    breaker = DailyLossBreaker(0.10)
    breaker.seed({A: Decimal(1000), B: Decimal(1000), C: Decimal(1000)})

    offset = breaker.update(DAY1, {A: Decimal(700), B: Decimal(1000), C: Decimal(1100)})
    tripped = breaker.update(DAY1, {C: Decimal(1000)})  # A keeps 700: 300 of 3,000 = 10%
    deeper = breaker.update(DAY1, {C: Decimal(999)})

    assert (offset, tripped) == (None, None)
    assert deeper is not None
    assert breaker.losing_bots == (A, C)


def test_it_trips_once_per_session_and_blocks_entries_until_the_next_one() -> None:
    breaker = started()
    trip = breaker.update(DAY1, equities("790", "1000"))  # 210 of 2,000 = 10.5%
    worse = breaker.update(DAY1 + timedelta(hours=1), equities("700", "1000"))

    assert trip is not None
    assert worse is None
    assert breaker.tripped
    assert breaker.blocks_entries(DAY1 + timedelta(hours=2))
    assert not breaker.blocks_entries(DAY2)  # the next session, even before its first update

    calm = breaker.update(DAY2, equities("700", "1000"))  # yesterday's close is today's start

    assert calm is None
    assert not breaker.tripped
    assert breaker.session == date(2024, 3, 5)
    assert breaker.loss() == Decimal(0)


def test_the_next_sessions_start_is_the_last_equity_of_the_previous_one() -> None:
    breaker = started()
    breaker.update(DAY1, equities("950", "950"))  # -5%

    breaker.update(DAY2, equities("900", "900"))  # from 1,900: -5.26%

    assert [(day.bot_id, day.start, day.equity) for day in breaker.days()] == [
        (A, Decimal(950), Decimal(900)),
        (B, Decimal(950), Decimal(900)),
    ]
    assert breaker.loss() == Decimal(100) / Decimal(1900)


def test_a_reset_unblocks_entries_and_measures_the_loss_anew() -> None:
    breaker = started()
    breaker.update(DAY1, equities("790", "1000"))  # 210 of 2,000 = 10.5%: tripped
    assert breaker.tripped

    breaker.reset()

    assert not breaker.tripped
    assert not breaker.blocks_entries(DAY1)
    assert breaker.update(DAY1, equities("700", "1000")) is None  # 90 of 1,790 = 5.0%
    again = breaker.update(DAY1, equities("600", "1000"))  # 190 of 1,790 = 10.6%
    assert again is not None


def test_a_session_function_cuts_days_elsewhere() -> None:
    seoul = DailyLossBreaker(0.10, session_of=lambda at: (at + timedelta(hours=9)).date())
    seoul.seed(equities("1000", "1000"))
    seoul.update(datetime(2024, 3, 4, 14, 0, tzinfo=UTC), equities("900", "1000"))

    # 16:00 UTC is already 5 March in Seoul: a new session starts from 1,900.
    seoul.update(datetime(2024, 3, 4, 16, 0, tzinfo=UTC), equities("900", "1000"))

    assert seoul.session == date(2024, 3, 5)
    assert seoul.loss() == Decimal(0)


@pytest.mark.parametrize("limit", [0, -0.1, 1.5, True])
def test_a_limit_outside_zero_to_one_is_refused(limit: float) -> None:
    with pytest.raises(AnomalyConfigurationError, match="max_daily_loss_pct must be a fraction"):
        DailyLossBreaker(limit)


def test_the_default_rules_stop_the_losing_bots_on_a_trip_beyond_the_risk_limit() -> None:
    rules = RuleEngine(default_rules(), parameters=rule_parameters())
    breaker = started()
    trip = breaker.update(DAY1, equities("790", "1000"))
    assert trip is not None

    outcome = rules.evaluate(trip)

    assert [(effect.rule, effect.action, effect.scope) for effect in outcome.effects] == [
        ("daily_loss_circuit_breaker", Action.STOP_ALL_BOTS, StopScope.LOSING)
    ]
