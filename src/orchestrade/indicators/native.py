"""TA-Lib functions computed by our own compiled loops, equal to TA-Lib's bit for bit.

The array backtest compiles strategy specs beside the numba kernel, so numba is loaded
there anyway; TA-Lib is not, and loading it also loads pandas and pyarrow (TA-Lib
imports pandas to accept Series), about 110 MB and 0.2 s that an array backtest does not
otherwise need. The functions here let such a backtest compute its indicators, and check
their parameters when a spec is loaded, without TA-Lib. Only functions whose TA-Lib
results can be reproduced exactly, operation for operation, belong here (today SMA:
TA-Lib's running window sum, the order `streaming.averages.SMA` follows too); the tests
hold every one equal to TA-Lib, values and rejected parameters alike. Everything else is
computed by TA-Lib itself.

`rejection` needs neither TA-Lib nor numba, so loading a spec does not load either;
`compute` imports the compiled loops (numba) on first use.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np
import numpy.typing as npt

FloatArray = npt.NDArray[np.float64]

_INT_DEFAULT = -(2**31)
"""TA-Lib's wrapper passes this for an integer parameter left out: the C function then
uses the parameter's default."""
_INT_MAX = 2**31 - 1
_LONG_MAX = 2**63 - 1
_BAD_PARAM = "failed with error code 2: Bad Parameter (TA_BAD_PARAM)"

_PERIODS: Mapping[str, tuple[str, int, int, int]] = {"SMA": ("timeperiod", 30, 1, 100_000)}
"""Per function: its period parameter, TA-Lib's default and accepted range."""

NAMES = frozenset(_PERIODS)
"""TA-Lib's names of the functions computed here."""


def computes(name: str) -> bool:
    """Whether `name` (TA-Lib's upper-case name) is computed here."""
    return name in NAMES


def rejection(name: str, params: Mapping[str, int | float]) -> str | None:
    """TA-Lib's error message for `params` of the function `name`, None if TA-Lib accepts
    them (`params`: resolved by `registry.resolve_parameters`)."""
    key, _default, low, high = _PERIODS[name]
    value = int(params[key])
    if not -_LONG_MAX - 1 <= value <= _LONG_MAX:
        return "Python int too large to convert to C long"
    if not -_INT_MAX - 1 <= value <= _INT_MAX:
        return "value too large to convert to int"
    if value == _INT_DEFAULT or low <= value <= high:
        return None
    return f"TA_{name} function {_BAD_PARAM}"


def compute(
    name: str, inputs: Sequence[FloatArray], params: Mapping[str, int | float]
) -> list[FloatArray]:
    """The outputs of `name` over `inputs` (1-D float64 arrays, in the function's input
    order) with `params` that `rejection` accepts: TA-Lib's outputs, bit for bit."""
    from orchestrade.indicators import _native_loop  # numba: loaded by the callers only

    key, default, _low, _high = _PERIODS[name]
    period = int(params[key])
    period = default if period == _INT_DEFAULT else period
    loop = {"SMA": _native_loop.sma}[name]
    return [loop(np.ascontiguousarray(inputs[0], dtype=np.float64), period)]
