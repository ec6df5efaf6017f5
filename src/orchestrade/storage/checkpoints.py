"""WAL checkpoints of a SQLite file on a thread of their own, off the trading path.

In WAL mode with synchronous=NORMAL a commit writes its pages to the WAL and syncs nothing;
the syncs happen at checkpoints, which copy the WAL back into the database file. SQLite runs
a checkpoint inside the commit that takes the WAL past `wal_autocheckpoint` pages, so every
few thousand orders one order waited for two `fdatasync` calls and the copy: 30 to 110 ms
measured on this project's machines, in the middle of a bar's open.

`WalCheckpointer` runs a passive checkpoint (it never waits for the writers, and they never
wait for it) every `interval_s` on its own connection and thread; the sqlite3 module lets
other threads run meanwhile, so the trading loop goes on. The WAL then stays a fraction of
the writers' `wal_autocheckpoint` threshold, which remains as the safety net: if the thread
stops (its file was removed, say), the writers checkpoint by themselves as before.

What stays on the writer: after a checkpoint has copied the whole WAL, the next commit
starts the WAL over and syncs its 32-byte header. Measured over one replay of the reference
workload (`strace --seccomp-bpf -e fdatasync`): the event loop's thread spent 0.29 s in 42
syncs, the longest 32 ms, with SQLite's own checkpoints; 0.10 s in 43, the longest 8.5 ms,
with this thread doing them (0.27 s in 46 syncs, off the loop).
"""

from __future__ import annotations

import logging
import sqlite3
import threading
from pathlib import Path
from types import TracebackType

log = logging.getLogger(__name__)

CHECKPOINT_INTERVAL_S = 0.5
"""Between two checkpoints: a replay writes a few thousand WAL pages a second, so the WAL
stays far below the writers' threshold (10,000 pages)."""


class WalCheckpointer:
    """Passive WAL checkpoints of the SQLite file `path`, every `interval_s`, on a daemon
    thread (`start` / `stop`, or a `with` block).

    `checkpoints` counts the checkpoints that copied pages; `failure` holds the error that
    ended the thread, if one did (it is logged too).
    """

    def __init__(self, path: Path | str, *, interval_s: float = CHECKPOINT_INTERVAL_S) -> None:
        if not interval_s > 0:
            raise ValueError(f"interval_s must be > 0, got {interval_s!r}")
        self.path = Path(path)
        self.interval_s = interval_s
        self.checkpoints = 0
        self._last: tuple[int, int] | None = None
        self.failure: BaseException | None = None
        self._stopping = threading.Event()
        self._thread: threading.Thread | None = None

    @property
    def running(self) -> bool:
        """Whether the thread is alive."""
        return self._thread is not None and self._thread.is_alive()

    def start(self) -> WalCheckpointer:
        """Start the thread (once)."""
        if self._thread is None:
            self._thread = threading.Thread(
                target=self._run, name=f"wal-checkpoint-{self.path.name}", daemon=True
            )
            self._thread.start()
        return self

    def stop(self) -> None:
        """Stop the thread and wait for it (a checkpoint in progress finishes first)."""
        self._stopping.set()
        if self._thread is not None:
            self._thread.join()

    def __enter__(self) -> WalCheckpointer:
        return self.start()

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        trace: TracebackType | None,
    ) -> None:
        self.stop()

    def _run(self) -> None:
        try:
            # mode=rw: never create the file (nor its WAL) if it is gone.
            connection = sqlite3.connect(
                f"{self.path.resolve().as_uri()}?mode=rw", uri=True, isolation_level=None, timeout=0
            )
        except sqlite3.Error as error:
            self._failed(error)
            return
        try:
            connection.execute("PRAGMA synchronous=NORMAL")
            while not self._stopping.wait(self.interval_s):
                self._checkpoint(connection)
        except sqlite3.Error as error:
            self._failed(error)
        finally:
            connection.close()

    def _checkpoint(self, connection: sqlite3.Connection) -> None:
        row = connection.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchone()
        # (busy, frames in the WAL, frames of it now in the file); -1s when not in WAL mode.
        if row is None or row[1] <= 0:
            return
        state = (row[1], row[2])
        if state != self._last:
            self._last = state
            self.checkpoints += 1

    def _failed(self, error: BaseException) -> None:
        self.failure = error
        log.warning(
            "WAL checkpoints of %s stopped (%s); its writers checkpoint by themselves",
            self.path,
            error,
        )
