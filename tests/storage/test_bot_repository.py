"""BotRepository: bots survive a round trip through SQLite and PostgreSQL unchanged."""

from __future__ import annotations

from decimal import Decimal

import pytest

from orchestrade.domain import BotId, BotState, Symbol, ValidationError
from orchestrade.storage import BotRepository, Store, UnknownBotError

from .trading import T0, at, bot


@pytest.fixture
def bots(store: Store) -> BotRepository:
    return BotRepository(store)


def test_a_saved_bot_reads_back_equal(bots: BotRepository) -> None:
    saved = bot(allocation=Decimal("0.1234567890123456789"))

    bots.save(saved)

    loaded = bots.get(BotId("b-1"))
    assert loaded == saved
    assert loaded is not None
    assert str(loaded.allocation) == "0.1234567890123456789"
    assert loaded.params["threshold"] == 0.25
    assert loaded.strategy["entry"]["all"][0]["cross_above"] == ("sma_fast", "sma_slow")
    assert bots.get(BotId("nobody")) is None


def test_saving_again_overwrites_every_field(bots: BotRepository) -> None:
    bots.save(bot())
    changed = bot(
        name="SMA cross 10/30",
        params={"fast": 10, "slow": 30},
        symbols=(Symbol("035420"),),
        state=BotState.PAUSED,
        updated_at=at(60),
    )

    bots.save(changed)

    assert bots.get(BotId("b-1")) == changed
    assert bots.list() == [changed]


def test_list_is_oldest_first_and_filters_by_state(bots: BotRepository) -> None:
    later = bot("b-2", created_at=at(10), state=BotState.STOPPED)
    earlier = bot("b-3", created_at=at(-10))
    bots.save(later)
    bots.save(bot("b-1"))
    bots.save(earlier)

    assert [b.bot_id for b in bots.list()] == ["b-3", "b-1", "b-2"]
    assert [b.bot_id for b in bots.list(state=BotState.RUNNING)] == ["b-3", "b-1"]
    assert bots.list(state=BotState.PAUSED) == []


def test_delete_says_whether_the_bot_existed(bots: BotRepository) -> None:
    bots.save(bot())

    assert bots.delete(BotId("b-1")) is True
    assert bots.delete(BotId("b-1")) is False
    assert bots.get(BotId("b-1")) is None


def test_set_state_and_allocation_update_the_stored_bot(bots: BotRepository) -> None:
    bots.save(bot())

    paused = bots.set_state(BotId("b-1"), BotState.PAUSED, at=at(5))
    resized = bots.set_allocation(BotId("b-1"), Decimal("0.40"), at=at(9))

    assert (paused.state, paused.updated_at) == (BotState.PAUSED, at(5))
    assert resized == bot(state=BotState.PAUSED, allocation=Decimal("0.40"), updated_at=at(9))
    assert bots.get(BotId("b-1")) == resized


def test_changing_an_unknown_bot_is_an_error(bots: BotRepository) -> None:
    with pytest.raises(UnknownBotError, match="no bot 'ghost' is stored"):
        bots.set_state(BotId("ghost"), BotState.STOPPED, at=T0)
    with pytest.raises(UnknownBotError, match="ghost"):
        bots.set_allocation(BotId("ghost"), Decimal("0.1"), at=T0)


def test_invalid_changes_are_refused_and_leave_the_bot_as_it_was(bots: BotRepository) -> None:
    bots.save(bot())

    with pytest.raises(ValidationError, match=r"allocation must be within \[0, 1\], got 1.5"):
        bots.set_allocation(BotId("b-1"), Decimal("1.5"), at=at(1))
    with pytest.raises(ValidationError, match="is before created_at"):
        bots.set_state(BotId("b-1"), BotState.STOPPED, at=at(-1))

    assert bots.get(BotId("b-1")) == bot()
