"""What the kernel needs from its inputs, as Protocols: any panel or signal object fits.

`PanelLike` is the strategies package's (one definition of aligned price arrays).

`orchestrade.data.BarPanel` satisfies `PanelLike`, and both
`orchestrade.strategies.arrays.SignalArrays` and its lean form `TradingSignals` satisfy
`SignalsLike`; the kernel reads the attributes only, so tests and callers may pass their
own light objects.
"""

from __future__ import annotations

from typing import Protocol

import numpy as np

from orchestrade.strategies.ports import PanelLike

__all__ = ["PanelLike", "SignalsLike"]


class SignalsLike(Protocol):
    """Long-only decisions taken at each bar's close (Contract 1, `SignalArrays`).

    An object that also has `entry_scores` (the confidence of each entry, in the row-major
    order of `entries`, as `TradingSignals` has) is read through it, and its
    `entry_confidence` is never touched: the kernel only needs the entries' confidences.
    """

    @property
    def symbols(self) -> tuple[str, ...]: ...
    @property
    def timestamps(self) -> np.ndarray: ...
    @property
    def entries(self) -> np.ndarray: ...
    @property
    def exits(self) -> np.ndarray: ...
    @property
    def entry_confidence(self) -> np.ndarray: ...
    @property
    def entry_limit(self) -> np.ndarray | None: ...
    @property
    def entry_stop(self) -> np.ndarray | None: ...
