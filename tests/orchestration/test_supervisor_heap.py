"""The garbage collector's policy of the serving process: `FrozenHeap` keeps full collections
short by freezing what survives them, and the supervisor tells it when nodes start and end
so that a node's cycles are still collected once it is gone."""

from __future__ import annotations

import gc
import weakref
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest

from orchestrade.cli.serve_heap import FrozenHeap
from orchestrade.domain import BotId
from orchestrade.orchestration.control import BotRequest
from orchestrade.orchestration.supervisor import BotSupervisor
from orchestrade.storage import Store, open_store

from .supervised import FAST_SLOW, store_market, until


class Cycle:
    """An object that refers to itself: only the collector can free it."""

    def __init__(self) -> None:
        self.me = self


@pytest.fixture
def heap() -> Iterator[FrozenHeap]:
    heap = FrozenHeap()
    heap.install()
    try:
        yield heap
    finally:
        heap.uninstall()


def test_installing_freezes_what_is_alive_and_uninstalling_gives_it_back(
    heap: FrozenHeap,
) -> None:
    assert heap.installed
    assert gc.get_freeze_count() > 0

    heap.uninstall()

    assert not heap.installed
    assert gc.get_freeze_count() == 0
    assert heap._after_collection not in gc.callbacks


def test_the_survivors_of_a_full_collection_are_frozen(heap: FrozenHeap) -> None:
    survivors = [Cycle() for _ in range(100)]
    before = gc.get_freeze_count()

    gc.collect()

    assert gc.get_freeze_count() >= before + len(survivors)
    assert all(not gc.is_finalized(item) for item in survivors)


def test_a_node_s_cycles_stay_frozen_while_it_runs_and_are_collected_when_it_ends(
    heap: FrozenHeap,
) -> None:
    node = Cycle()
    alive = weakref.ref(node)
    heap.node_started()
    del node

    gc.collect()
    frozen_after_collection = alive() is not None
    heap.node_ended()

    assert frozen_after_collection  # a frozen cycle is not visited...
    assert alive() is None  # ...until the node's end unfreezes and collects it


def test_once_an_interval_everything_is_unfrozen_for_one_full_collection() -> None:
    now = [0.0]
    heap = FrozenHeap(thaw_interval_s=60.0, monotonic=lambda: now[0])
    heap.install()
    try:
        old = Cycle()
        alive = weakref.ref(old)
        gc.collect()  # `old` survives and is frozen
        del old
        now[0] = 59.0
        gc.collect()
        kept_before_the_interval = alive() is not None

        now[0] = 60.0
        gc.collect()  # due: this collection's end unfreezes everything...
        thawed = gc.get_freeze_count() == 0
        gc.collect()  # ...so the next one visits the whole heap, then freezes again

        assert kept_before_the_interval
        assert thawed
        assert alive() is None
        assert gc.get_freeze_count() > 0
    finally:
        heap.uninstall()


def test_without_install_the_collector_is_left_alone() -> None:
    heap = FrozenHeap()
    before = gc.get_freeze_count()

    heap.node_started()
    heap.node_ended()
    heap.uninstall()

    assert gc.get_freeze_count() == before
    assert heap._after_collection not in gc.callbacks


# -- under the supervisor ------------------------------------------------------------------


class RecordingHeap:
    """Remembers the calls and whether the supervisor still held the node at its end."""

    def __init__(self) -> None:
        self.calls: list[str] = []
        self.supervisor: BotSupervisor | None = None
        self.bot_id: BotId | None = None
        self.node_held_at_end: bool | None = None

    def node_started(self) -> None:
        self.calls.append("started")

    def node_ended(self) -> None:
        self.calls.append("ended")
        if self.supervisor is not None and self.bot_id is not None:
            self.node_held_at_end = self.supervisor.node(self.bot_id) is not None


@pytest.fixture
def store(tmp_path: Path) -> Iterator[Store]:
    with open_store(f"sqlite:///{tmp_path / 'app.db'}") as store:
        store_market(store)
        yield store


@pytest.fixture
async def watched(
    store: Store, tmp_path: Path
) -> AsyncIterator[tuple[BotSupervisor, RecordingHeap]]:
    recording = RecordingHeap()
    supervisor = BotSupervisor(store, home=tmp_path / "home", stop_grace_s=0.2, heap=recording)
    recording.supervisor = supervisor
    yield supervisor, recording
    await supervisor.close()


@pytest.mark.anyio
async def test_the_supervisor_tells_the_heap_when_a_node_starts_and_once_it_is_gone(
    watched: tuple[BotSupervisor, RecordingHeap],
) -> None:
    supervisor, recording = watched
    bot = await supervisor.create_bot(
        BotRequest("sma_cross", params=FAST_SLOW, market="krx", mode="replay")
    )
    recording.bot_id = bot.bot_id

    await supervisor.start_bot(bot.bot_id)
    await supervisor.wait_stopped(bot.bot_id)
    await until(lambda: len(recording.calls) == 2, "the node's end reaching the heap")

    assert recording.calls == ["started", "ended"]
    assert recording.node_held_at_end is False
