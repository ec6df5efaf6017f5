"""`Bar.trusted` builds the same value as the checked constructor, and the slice events
(`BarsOpened`, `BarsClosed`) refuse bars that do not belong to their instant."""

from __future__ import annotations

import dataclasses
import pickle
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest

from orchestrade.bus.codec import JsonCodec, MsgpackCodec
from orchestrade.domain import Bar, BarsClosed, BarsOpened, Symbol, ValidationError

D = Decimal
T0 = datetime(2024, 1, 2, tzinfo=UTC)
FIELDS = (
    Symbol("005930"),
    "1d",
    T0,
    D("70100"),
    D("70500.5"),
    D("69900"),
    D("70300"),
    D("123456"),
)


def bar(symbol: str = "005930", start: datetime = T0) -> Bar:
    return Bar(Symbol(symbol), "1d", start, D(100), D(110), D(95), D(105), D(1_000))


# -- Bar.trusted -----------------------------------------------------------------------------


def test_a_trusted_bar_equals_the_validated_bar_of_the_same_values() -> None:
    trusted = Bar.trusted(*FIELDS)
    checked = Bar(*FIELDS)

    assert trusted == checked
    assert hash(trusted) == hash(checked)
    assert dataclasses.astuple(trusted) == FIELDS
    assert type(trusted) is Bar


def test_a_trusted_bar_is_frozen_like_any_bar() -> None:
    trusted = Bar.trusted(*FIELDS)

    with pytest.raises(dataclasses.FrozenInstanceError):
        trusted.close = D(1)  # type: ignore[misc]


def test_a_trusted_bar_keeps_the_derived_properties() -> None:
    assert Bar.trusted(*FIELDS).is_consistent
    assert dataclasses.replace(Bar.trusted(*FIELDS), high=D(70_000)).is_consistent is False


def test_replacing_a_field_of_a_trusted_bar_runs_the_checks() -> None:
    with pytest.raises(ValidationError, match=r"Bar\.open"):
        dataclasses.replace(Bar.trusted(*FIELDS), open=D(-1))


def test_a_trusted_bar_survives_pickle_and_the_bus_codecs_unchanged() -> None:
    event = BarsClosed(T0, (Bar.trusted(*FIELDS),))

    assert pickle.loads(pickle.dumps(event)) == event
    for codec in (JsonCodec(), MsgpackCodec()):
        assert codec.decode_message(codec.encode_message(event), "BarsClosed") == event


def test_trusted_does_not_check_anything_so_only_checked_values_may_use_it() -> None:
    # The documented contract: the caller guarantees what the constructor would check.
    unchecked = Bar.trusted(Symbol("X"), "7d", T0, D(-1), D(1), D(1), D(1), D(0))

    assert unchecked.timeframe == "7d"
    with pytest.raises(ValidationError):
        Bar(Symbol("X"), "7d", T0, D(-1), D(1), D(1), D(1), D(0))


# -- slice events ------------------------------------------------------------------------------


@pytest.mark.parametrize("event_type", [BarsOpened, BarsClosed])
def test_a_slice_holds_the_bars_of_its_instant_as_a_tuple(
    event_type: type[BarsOpened] | type[BarsClosed],
) -> None:
    bars = [bar("005930"), bar("000660")]

    event = event_type(T0, bars)  # type: ignore[arg-type]

    assert event.bars == tuple(bars)
    assert event.start == T0


@pytest.mark.parametrize("event_type", [BarsOpened, BarsClosed])
def test_a_slice_may_be_empty(event_type: type[BarsOpened] | type[BarsClosed]) -> None:
    assert event_type(T0, ()).bars == ()


@pytest.mark.parametrize("event_type", [BarsOpened, BarsClosed])
def test_a_bar_of_another_start_is_refused(
    event_type: type[BarsOpened] | type[BarsClosed],
) -> None:
    late = bar("000660", T0 + timedelta(days=1))
    name = event_type.__name__

    with pytest.raises(ValidationError) as caught:
        event_type(T0, (bar(), late))

    assert str(caught.value) == (
        f"{name}: bar of 000660 starts at 2024-01-03T00:00:00+00:00, "
        "not at the slice's 2024-01-02T00:00:00+00:00"
    )


@pytest.mark.parametrize("event_type", [BarsOpened, BarsClosed])
def test_two_bars_of_one_symbol_are_refused(
    event_type: type[BarsOpened] | type[BarsClosed],
) -> None:
    with pytest.raises(ValidationError) as caught:
        event_type(T0, (bar(), bar("000660"), bar()))

    assert str(caught.value) == f"{event_type.__name__}: two bars of 005930 in one slice"


@pytest.mark.parametrize("event_type", [BarsOpened, BarsClosed])
def test_a_slice_of_something_else_than_bars_is_refused(
    event_type: type[BarsOpened] | type[BarsClosed],
) -> None:
    name = event_type.__name__

    with pytest.raises(ValidationError, match=rf"{name}\.bars must be a tuple of Bar, got Bar"):
        event_type(T0, bar())  # type: ignore[arg-type]
    with pytest.raises(ValidationError, match=rf"{name}\.bars must hold Bar values, got str"):
        event_type(T0, ("005930",))  # type: ignore[arg-type]


@pytest.mark.parametrize("event_type", [BarsOpened, BarsClosed])
def test_a_slice_needs_an_aware_start(event_type: type[BarsOpened] | type[BarsClosed]) -> None:
    with pytest.raises(ValidationError, match=rf"{event_type.__name__}\.start"):
        event_type(datetime(2024, 1, 2), ())  # noqa: DTZ001 - the point of the test


def test_the_same_instant_in_another_zone_is_the_same_start() -> None:
    seoul = T0.astimezone(ZoneInfo("Asia/Seoul"))

    event = BarsClosed(seoul, (bar(),))

    assert event.start == T0
    assert event.start.tzinfo is UTC
