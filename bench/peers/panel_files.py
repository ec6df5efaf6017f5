"""The universe handed from the benchmark's parent process to its workers, as .npy files.

The parent reads the KRX files once (`peers.universe`, which needs pandas) and writes each
array of the panel with `save_panel`; a worker reads them back with `load_panel`, with
numpy only. A worker then holds the arrays and nothing its engine did not import itself:
pandas, numba and the rest are charged to the engines that load them (measured as their
import time and memory), and every engine starts from the same resident arrays. The
arrays are read whole into memory (no memory map) and only once: no copy is made.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

import numpy as np

FIELDS = ("timestamps", "open", "high", "low", "close", "volume")


class Panel(Protocol):
    """What the peers read of a universe: `orchestrade.data.BarPanel` and `ArrayPanel` fit."""

    @property
    def symbols(self) -> tuple[str, ...]: ...
    @property
    def timestamps(self) -> np.ndarray: ...
    @property
    def open(self) -> np.ndarray: ...
    @property
    def high(self) -> np.ndarray: ...
    @property
    def low(self) -> np.ndarray: ...
    @property
    def close(self) -> np.ndarray: ...
    @property
    def volume(self) -> np.ndarray: ...


@dataclass(frozen=True, eq=False)
class ArrayPanel:
    """The attributes of `orchestrade.data.BarPanel` (and of the `PanelLike` protocols),
    without importing orchestrade.data (which loads pandas and the exchange calendars)."""

    symbols: tuple[str, ...]
    timestamps: np.ndarray
    open: np.ndarray
    high: np.ndarray
    low: np.ndarray
    close: np.ndarray
    volume: np.ndarray


def save_panel(panel: Panel, folder: Path) -> None:
    """Write `panel` to `folder` (created): one ``FIELD.npy`` per array, ``symbols.json``."""
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "symbols.json").write_text(json.dumps(list(panel.symbols)))
    for name in FIELDS:
        np.save(folder / f"{name}.npy", np.ascontiguousarray(getattr(panel, name)))


def load_panel(folder: Path) -> ArrayPanel:
    """The panel `save_panel` wrote to `folder`."""
    symbols = tuple(str(symbol) for symbol in json.loads((folder / "symbols.json").read_text()))
    arrays = [np.load(folder / f"{name}.npy") for name in FIELDS]
    return ArrayPanel(symbols, *arrays)
