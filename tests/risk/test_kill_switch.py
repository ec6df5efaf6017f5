from datetime import datetime, timedelta, timezone
from decimal import Decimal

import pytest

from orchestrade.risk import Approved, Denied, KillSwitch, KillSwitchState
from orchestrade.risk.errors import RiskConfigurationError
from risk.fakes import T0, FakePositionBook, buy, sell

BOOK = FakePositionBook(held={"A": Decimal(10)})


def engaged() -> KillSwitch:
    switch = KillSwitch()
    switch.engage(by="ops:kim", reason="broker outage", at=T0)
    return switch


def test_engaged_switch_denies_new_exposure_naming_who_and_why() -> None:
    decision = engaged().evaluate(buy("A", 1), BOOK)

    assert decision == Denied(
        "kill_switch",
        "kill_switch: engaged by ops:kim at 2024-01-02T00:00:00+00:00 (broker outage); "
        "only position-reducing orders allowed",
    )


def test_engaged_switch_lets_an_exit_through() -> None:
    decision = engaged().evaluate(sell("A", 10), BOOK)

    assert decision == Approved()


def test_engaged_switch_denies_a_sell_that_would_flip_to_short() -> None:
    decision = engaged().evaluate(sell("A", 11), BOOK)

    assert isinstance(decision, Denied)


def test_engage_records_who_why_and_when() -> None:
    assert engaged().state == KillSwitchState("ops:kim", "broker outage", T0)


def test_released_switch_approves() -> None:
    switch = engaged()

    switch.release()

    assert switch.evaluate(buy("A", 1), BOOK) == Approved()


def test_engage_without_a_reason_is_refused() -> None:
    with pytest.raises(RiskConfigurationError, match="why"):
        KillSwitch().engage(by="ops", reason=" ", at=T0)


def test_engage_with_a_non_utc_time_is_refused() -> None:
    seoul = datetime(2024, 1, 2, 9, tzinfo=timezone(timedelta(hours=9)))

    with pytest.raises(RiskConfigurationError, match="aware UTC"):
        KillSwitch().engage(by="ops", reason="x", at=seoul)
