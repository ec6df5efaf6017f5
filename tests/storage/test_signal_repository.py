"""SignalRepository: decisions on signals, stored and listed newest first."""

from __future__ import annotations

from decimal import Decimal

import pytest

from orchestrade.data.errors import QueryError
from orchestrade.domain import BotId, SignalSide, Symbol, ValidationError
from orchestrade.storage import SignalDecision, SignalRepository, Store

from .trading import signal


@pytest.fixture
def signals(store: Store) -> SignalRepository:
    return SignalRepository(store)


def test_a_decision_reads_back_with_its_signal_unchanged(signals: SignalRepository) -> None:
    decision = SignalDecision(
        signal(confidence=0.1 + 0.2, reference_price=Decimal("71000.123456789")),
        approved=False,
        reason="confidence 0.30 below minimum 0.65",
    )

    signals.record(decision)

    assert signals.recent() == [decision]
    assert signals.recent()[0].signal.confidence == 0.30000000000000004


def test_recent_is_newest_first_limited_and_filtered(signals: SignalRepository) -> None:
    first = SignalDecision(signal(0), approved=True)
    second = SignalDecision(signal(60, symbol=Symbol("000660")), approved=False, reason="x")
    third = SignalDecision(signal(120, bot_id=BotId("b-2"), side=SignalSide.FLAT), approved=True)
    no_bot = SignalDecision(signal(180, bot_id=None, reasons=()), approved=True)
    for decision in (second, first, third, no_bot):
        signals.record(decision)

    assert signals.recent() == [no_bot, third, second, first]
    assert signals.recent(limit=2) == [no_bot, third]
    assert signals.recent(bot_id=BotId("b-1")) == [second, first]
    assert signals.recent(symbol=Symbol("000660")) == [second]
    assert signals.recent(approved=False) == [second]


def test_bad_limits_and_decisions_are_refused(signals: SignalRepository) -> None:
    with pytest.raises(QueryError, match=r"signal limit must be within 1\.\.10000, got 0"):
        signals.recent(limit=0)
    with pytest.raises(ValidationError, match="approved must be a bool"):
        SignalDecision(signal(), approved="yes")  # type: ignore[arg-type]
