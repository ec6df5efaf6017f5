"""The garbage collector's policy for a run that has the process to itself (a replay).

A replay allocates a few tracked objects per message (envelopes, events, orders) and frees
almost all of them by reference counting, at once. CPython's default policy still runs a
young collection every 700 net allocations and a full one every 100 young ones, and a full
collection visits every tracked object of the process, most of them the code and data of
the imports (numba, pandas, SQLAlchemy) and of the loaded bars: pauses of several
milliseconds in the middle of a bar's open, the worst latencies of a replay.

`replay_collection` freezes what is in the heap when the run starts (`gc.freeze`: the permanent
generation, which collections do not visit) and lets a young collection wait for 50,000
allocations. Measured with ``bench/bench_replay.py --quick`` (same machine, back to back):
4-5% more bars/s and a shorter tail of the bar-open-to-order latency. What the run leaves
frozen is unfrozen at the end, so that its cycles are collected then.

`orchestrade serve` keeps its own policy (`orchestrade.cli.serve_heap`): its process lives
for days and runs several bots.
"""

from __future__ import annotations

import gc
from collections.abc import Iterator
from contextlib import contextmanager

YOUNG_THRESHOLD = 50_000
"""Net allocations of tracked objects between two young collections during a replay."""


@contextmanager
def replay_collection(young_threshold: int = YOUNG_THRESHOLD) -> Iterator[None]:
    """Freeze the heap, collect the young generation less often inside the block; the
    previous thresholds are restored and the heap unfrozen after it.

    No collection runs first (it would cost a full pass over a big heap at each call, as in
    a test suite of many short replays): cycles that are garbage already stay frozen until
    the block ends, and are collected after it like the run's own.
    """
    thresholds = gc.get_threshold()
    gc.freeze()
    gc.set_threshold(young_threshold, *thresholds[1:])
    try:
        yield
    finally:
        gc.set_threshold(*thresholds)
        gc.unfreeze()
