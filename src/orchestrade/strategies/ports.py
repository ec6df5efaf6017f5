"""What the strategies package needs from the outside: aligned price arrays.

Services never import one another, so the strategies package does not know
`orchestrade.data.BarPanel`; any object with the same attributes works (the panel does).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol

import numpy as np

from orchestrade.domain import Bar, Signal


class PanelLike(Protocol):
    """Aligned OHLCV arrays shaped (n_symbols, n_times), NaN where a symbol has no bar.

    Attributes:
        symbols: one symbol per row.
        timestamps: datetime64[ns] bar start times (UTC), shape (n_times,), increasing.
        open, high, low, close, volume: float64 arrays shaped (n_symbols, n_times).
    """

    @property
    def symbols(self) -> Sequence[str]: ...
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


class SignalSource(Protocol):
    """Anything that turns bars into signals one bar at a time: a compiled spec's
    `StreamingSignalEngine` or a Python `Strategy` subclass instance.

    `update` is given each bar of every symbol in time order (bars of one instant in any
    order) and returns the signals decided at that bar's close (usually none or one), each
    stamped with the bar's start time and symbol.
    """

    def update(self, bar: Bar) -> Sequence[Signal]: ...
