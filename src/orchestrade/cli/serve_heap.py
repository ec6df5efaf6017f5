"""The garbage collector of `orchestrade serve`: keep full collections short.

A full collection visits every object the collector tracks and stops every thread while it
does. A server running bots tracks a few hundred thousand objects, most of them the code of
the modules a node imports (numba, pandas, the exchange calendars, pydantic models), and
visiting them takes 0.1 to 0.5 s on a slow core: each such pause was the worst latency of
the API under a replay (``bench/bench_api.py``).

`FrozenHeap` moves what is alive into the collector's permanent generation (`gc.freeze`),
which collections do not visit, so that they visit only what was allocated since:

* once the server has started (after a full collection);
* when a bot's node has started (its imports and its loaded state);
* after every full collection (its survivors: nothing among them was garbage then).

Frozen objects are still freed when nothing refers to them any more; only garbage *cycles*
among them would stay. A node that ends leaves such cycles (its agents, bus and OMS refer to
one another), so then everything is unfrozen and collected at once (one full collection,
a long pause, when a bot stops), and frozen again. So that cycles left by anything else
(a connection that lived long, then closed) do not pile up while bots run for days,
everything is also unfrozen once every `thaw_interval_s`: the next full collection visits
the whole heap once (another long pause, once an hour by default).
"""

from __future__ import annotations

import gc
import time
from collections.abc import Callable
from typing import Any

OLDEST_GENERATION = 2
"""The generation a full collection collects (CPython has three)."""
THAW_INTERVAL_S = 3600.0
"""How often everything is unfrozen, so that the next full collection frees old cycles."""


class FrozenHeap:
    """The collection policy of the serving process (module docstring); `install` it once
    the server has started, `uninstall` it when it stops.

    Args:
        thaw_interval_s: how often everything is unfrozen for one full collection.
        monotonic: seconds, for that interval.
    """

    def __init__(
        self,
        *,
        thaw_interval_s: float = THAW_INTERVAL_S,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        self.installed = False
        self.thaw_interval_s = thaw_interval_s
        self._monotonic = monotonic
        self._thawed_at = 0.0

    def install(self) -> None:
        """Collect everything once, freeze the survivors, and freeze after every full
        collection from now on."""
        if self.installed:
            return
        gc.collect()
        gc.freeze()
        self._thawed_at = self._monotonic()
        gc.callbacks.append(self._after_collection)
        self.installed = True

    def uninstall(self) -> None:
        """Stop freezing and give every frozen object back to the collector."""
        if not self.installed:
            return
        gc.callbacks.remove(self._after_collection)
        gc.unfreeze()
        self.installed = False

    def node_started(self) -> None:
        """A bot's node runs: freeze what its start allocated (its cycles go when it ends)."""
        if self.installed:
            gc.freeze()

    def node_ended(self) -> None:
        """A bot's node ended: collect its cycles now, then freeze the survivors again."""
        if self.installed:
            gc.unfreeze()
            self._thawed_at = self._monotonic()
            gc.collect()  # the callback freezes the survivors

    def _after_collection(self, phase: str, info: dict[str, Any]) -> None:
        # Called by the collector, in whichever thread collected, once it is done with its
        # lists: moving them to or from the permanent generation is safe here (a collection
        # started from here would not run: the collector is still marked busy).
        if phase != "stop" or info.get("generation") != OLDEST_GENERATION:
            return
        now = self._monotonic()
        if now - self._thawed_at >= self.thaw_interval_s:
            self._thawed_at = now
            gc.unfreeze()  # the next full collection visits everything, then freezes
        else:
            gc.freeze()
