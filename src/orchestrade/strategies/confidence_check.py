"""One pass over a confidence array and its signal mask, compiled with numba.

`SignalArrays` checks that every confidence is NaN or within [0, 1], and that no signal
bar has a NaN confidence. On a large panel the arrays do not fit the CPU cache, so
separate numpy passes (min, max, masked gather) each read them from memory again; this
loop reads each array once. It is branch-free so that the compiler can vectorise it.
"""

from __future__ import annotations

import numba
import numpy as np


@numba.njit(cache=True, nogil=True)
def confidence_faults(confidence: np.ndarray, signals: np.ndarray) -> tuple[bool, bool]:
    """Whether some value of `confidence` is outside [0, 1] (NaN is not), and whether some
    signal bar's confidence is NaN.

    Args:
        confidence: float64, 1-D, C-contiguous.
        signals: bool, the same shape.
    """
    outside = False
    missing = False
    for i in range(confidence.size):
        value = confidence[i]
        outside |= (value < 0.0) | (value > 1.0)
        missing |= signals[i] & (value != value)
    return outside, missing
