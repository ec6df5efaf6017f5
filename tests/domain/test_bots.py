"""Bots: JSON-able frozen documents, a unique universe, an allocation in [0, 1]."""

from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest

from orchestrade.domain import Bot, BotId, BotState, Symbol, ValidationError
from orchestrade.domain.bots import thaw

T0 = datetime(2024, 3, 4, tzinfo=UTC)


def bot(**changes: Any) -> Bot:
    fields: dict[str, Any] = {
        "bot_id": BotId("b-1"),
        "name": "SMA cross",
        "strategy": {"name": "sma_cross", "entry": {"all": [{"cross_above": ["a", "b"]}]}},
        "params": {"fast": 5, "slow": 20.5, "long_only": True, "note": None},
        "symbols": [Symbol("005930"), Symbol("000660")],
        "allocation": Decimal("0.25"),
        "state": "running",
        "created_at": T0,
    }
    return Bot(**{**fields, **changes})


def test_documents_are_frozen_and_lists_become_tuples() -> None:
    built = bot()

    assert built.symbols == ("005930", "000660")
    assert built.strategy["entry"]["all"][0]["cross_above"] == ("a", "b")
    assert built.state is BotState.RUNNING
    assert built.updated_at == T0
    with pytest.raises(TypeError):
        built.params["fast"] = 6  # type: ignore[index]


def test_thaw_gives_back_plain_json_values() -> None:
    built = bot()

    assert thaw(built.strategy) == {
        "name": "sma_cross",
        "entry": {"all": [{"cross_above": ["a", "b"]}]},
    }
    assert type(thaw(built.params)) is dict


@pytest.mark.parametrize("allocation", [Decimal(0), Decimal(1), Decimal("0.5"), 1])
def test_allocation_bounds_are_inclusive(allocation: Decimal) -> None:
    assert bot(allocation=allocation).allocation == Decimal(allocation)


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"allocation": Decimal("1.01")}, r"Bot.allocation must be within \[0, 1\], got 1.01"),
        ({"allocation": Decimal("-0.1")}, r"within \[0, 1\], got -0.1"),
        ({"allocation": 0.5}, "must be a Decimal"),
        ({"bot_id": " "}, "Bot.bot_id must not be blank"),
        ({"symbols": ["005930", "005930"]}, "Bot.symbols lists 005930 more than once"),
        ({"symbols": "005930"}, "Bot.symbols must be a tuple"),
        ({"params": {"fast": Decimal(5)}}, r"Bot.params.fast must be JSON-able"),
        ({"params": {"x": float("nan")}}, "Bot.params.x must be a finite number"),
        ({"strategy": {1: "a"}}, "Bot.strategy has a non-text key 1"),
        ({"strategy": ["a"]}, "Bot.strategy must be a mapping"),
        ({"state": "sleeping"}, "Bot.state must be one of"),
        ({"created_at": datetime(2024, 3, 4)}, "Bot.created_at must be timezone-aware"),  # noqa: DTZ001
        ({"updated_at": T0 - timedelta(seconds=1)}, "updated_at .* is before created_at"),
    ],
)
def test_bad_bots_are_refused_with_the_field_and_value(
    changes: dict[str, Any], message: str
) -> None:
    with pytest.raises(ValidationError, match=message):
        bot(**changes)


def test_state_and_allocation_changes_return_new_bots() -> None:
    built = bot()
    later = T0 + timedelta(hours=1)

    paused = built.with_state(BotState.PAUSED, at=later)
    resized = built.with_allocation(Decimal("0.5"), at=later)

    assert (paused.state, paused.updated_at, paused.is_running) == (BotState.PAUSED, later, False)
    assert (resized.allocation, resized.updated_at) == (Decimal("0.5"), later)
    assert built.is_running
    with pytest.raises(ValidationError, match="within"):
        built.with_allocation(Decimal(2), at=later)
