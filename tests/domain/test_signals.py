"""Signals: confidence bounds and required fields."""

from datetime import UTC, datetime
from decimal import Decimal

import pytest

from orchestrade.domain import Signal, SignalSide, StrategyId, Symbol, ValidationError

T0 = datetime(2024, 1, 2, tzinfo=UTC)


def signal(**changes: object) -> Signal:
    fields: dict[str, object] = {
        "time": T0,
        "symbol": Symbol("005930"),
        "side": SignalSide.BUY,
        "confidence": 0.7,
        "strategy_id": StrategyId("sma_cross"),
    }
    return Signal(**{**fields, **changes})  # type: ignore[arg-type]


def test_signal_keeps_reasons_as_a_tuple() -> None:
    built = signal(reasons=["fast sma crossed above slow"], reference_price=Decimal(71_000))

    assert built.reasons == ("fast sma crossed above slow",)
    assert built.side is SignalSide.BUY


@pytest.mark.parametrize("confidence", [0, 1, 0.0, 1.0])
def test_confidence_bounds_are_inclusive(confidence: float) -> None:
    assert signal(confidence=confidence).confidence == confidence


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"confidence": 1.5}, r"confidence must be within \[0, 1\], got 1.5"),
        ({"confidence": -0.1}, "confidence must be within"),
        ({"confidence": float("nan")}, "confidence must be finite"),
        ({"time": datetime(2024, 1, 2)}, "Signal.time must be timezone-aware"),  # noqa: DTZ001
        ({"side": "long"}, "Signal.side must be one of 'buy', 'sell', 'flat', got 'long'"),
        ({"strategy_id": ""}, "Signal.strategy_id must not be blank"),
        ({"reference_price": Decimal(0)}, "reference_price must be > 0"),
        ({"reasons": "one reason"}, "reasons must be a tuple of str"),
    ],
)
def test_signal_rejects_bad_values(changes: dict[str, object], message: str) -> None:
    with pytest.raises(ValidationError, match=message):
        signal(**changes)
