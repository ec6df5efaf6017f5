"""The collector's replay policy: fewer young collections and a frozen heap inside, the
process's own policy restored after, even when the run fails."""

import gc

import pytest

from orchestrade.orchestration.gc_policy import replay_collection


def test_inside_a_replay_the_heap_is_frozen_and_young_collections_are_rarer() -> None:
    before = gc.get_threshold()
    alive = [object() for _ in range(10)]

    with replay_collection(young_threshold=12_345):
        assert gc.get_threshold() == (12_345, *before[1:])
        assert gc.get_freeze_count() > 0

    assert gc.get_threshold() == before
    assert gc.get_freeze_count() == 0
    assert len(alive) == 10


def test_the_policy_is_restored_when_the_run_fails() -> None:
    before = gc.get_threshold()

    with pytest.raises(RuntimeError, match="boom"), replay_collection():
        raise RuntimeError("boom")

    assert gc.get_threshold() == before
    assert gc.get_freeze_count() == 0
