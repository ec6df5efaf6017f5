from decimal import Decimal

import pytest

from orchestrade.domain import Instrument, RiskRejected
from orchestrade.risk import (
    Approved,
    Denied,
    KrxTickSizeCheck,
    MaxOrdersPerSecondCheck,
    RiskConfigurationError,
    RiskEngine,
)
from orchestrade.settings import RiskSettings
from risk.fakes import T0, FakeClock, FakePositionBook, buy, sell

D = Decimal


def book() -> FakePositionBook:
    return FakePositionBook(
        held={"005930": D(100)},
        last={"005930": D(50_000)},
        instruments={"005930": Instrument.krx("005930")},
        close={"005930": D(50_000)},
    )


def test_engine_approves_an_order_every_check_approves() -> None:
    engine = RiskEngine(RiskSettings(max_position_pct=0.5))

    assert engine.evaluate(buy("005930", 10, limit=50_000), book()) == Approved()


def test_engine_returns_the_first_denial_in_check_order() -> None:
    engine = RiskEngine(RiskSettings(max_position_pct=0.1), checks=[KrxTickSizeCheck()])

    # off-tick AND too far from last AND too large: the fat-finger check runs first
    decision = engine.evaluate(buy("005930", 100, limit=60_050), book())

    assert isinstance(decision, Denied)
    assert decision.check == "price_deviation"


def test_engine_counts_denials_per_check() -> None:
    engine = RiskEngine(RiskSettings(max_position_pct=0.1))

    for _ in range(2):
        engine.evaluate(buy("005930", 100, limit=50_000), book())
    engine.evaluate(buy("005930", 1, limit=60_000), book())

    assert engine.denials == {"max_position": 2, "price_deviation": 1}


def test_rejection_is_a_risk_rejected_event() -> None:
    engine = RiskEngine(RiskSettings(max_position_pct=0.1))
    order = buy("005930", 100, limit=50_000)

    rejected = engine.rejection(order, book())

    # 200 x 50,000 = 10,000,000 = 50% of 20,000,000
    assert rejected == RiskRejected(
        order=order,
        check="max_position",
        reason="max_position: position would be 200 shares = 50% of equity, limit 10%",
    )


def test_update_risk_params_changes_the_limit_in_force() -> None:
    engine = RiskEngine(RiskSettings(max_position_pct=0.1))

    engine.update_risk_params(max_position_pct=0.5)

    assert engine.evaluate(buy("005930", 100, limit=50_000), book()) == Approved()


def test_invalid_update_raises_and_leaves_the_limits_unchanged() -> None:
    engine = RiskEngine(RiskSettings(max_position_pct=0.1))

    with pytest.raises(RiskConfigurationError, match="max_position_pct"):
        engine.update_risk_params(max_position_pct=-1)

    assert engine.settings.max_position_pct == 0.1
    assert isinstance(engine.evaluate(buy("005930", 100, limit=50_000), book()), Denied)


def test_update_with_an_unknown_field_is_refused() -> None:
    engine = RiskEngine(RiskSettings())

    with pytest.raises(RiskConfigurationError, match="max_shares"):
        engine.update_risk_params(max_shares=5)


def test_disabled_settings_approve_what_the_limits_would_deny() -> None:
    engine = RiskEngine(
        RiskSettings.disabled(),
        checks=[KrxTickSizeCheck()],
        rate_limit=MaxOrdersPerSecondCheck(rate_per_s=1, clock=FakeClock()),
    )

    decisions = [engine.evaluate(buy("005930", 10_000, limit=90_050), book()) for _ in range(3)]

    assert decisions == [Approved()] * 3


def test_disabled_settings_still_obey_the_kill_switch() -> None:
    engine = RiskEngine(RiskSettings.disabled())
    engine.kill_switch.engage(by="ops", reason="manual halt", at=T0)

    decision = engine.evaluate(buy("005930", 1, limit=50_000), book())

    assert isinstance(decision, Denied)
    assert decision.check == "kill_switch"


def test_kill_switch_lets_exits_through_the_engine() -> None:
    engine = RiskEngine(RiskSettings())
    engine.kill_switch.engage(by="ops", reason="manual halt", at=T0)

    assert engine.evaluate(sell("005930", 100, limit=50_000), book()) == Approved()


def test_denied_orders_do_not_spend_rate_tokens() -> None:
    engine = RiskEngine(
        RiskSettings(max_position_pct=0.5),
        rate_limit=MaxOrdersPerSecondCheck(rate_per_s=1, clock=FakeClock()),
    )
    engine.evaluate(buy("005930", 1, limit=99_000), book())  # fat finger

    decision = engine.evaluate(buy("005930", 1, limit=50_000), book())

    assert decision == Approved()
