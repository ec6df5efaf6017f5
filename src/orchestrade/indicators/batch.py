"""Run any TA-Lib function by name over a whole series or bar frame, with aligned outputs.

`compute` reads the price columns a function needs from its TA-Lib input spec, checks every
parameter, and returns outputs the same length as the input: pandas in gives pandas out on
the input's index (a Series for one output, a DataFrame for several); numpy, a list or a
mapping of arrays in gives numpy out (an array for one output, a tuple of arrays in TA-Lib's
output order for several). Leading NaNs are skipped as TA-Lib does; a NaN inside the series
makes path-dependent indicators NaN from that bar on, again as TA-Lib does.

Neither pandas nor TA-Lib is imported here before it is needed: data can be a pandas
object only once pandas is loaded, and TA-Lib (which imports pandas) is loaded by the
first function it computes. A caller that passes numpy arrays and asks for the functions
`native` computes (`compiled=True`: the array backtest, which runs beside numba anyway)
loads neither.
"""

from __future__ import annotations

import sys
from collections.abc import Iterable, Mapping, Sequence
from typing import TYPE_CHECKING, Any, TypeAlias, TypeGuard, overload

import numpy as np
import numpy.typing as npt

from orchestrade.indicators import native
from orchestrade.indicators.errors import IndicatorError
from orchestrade.indicators.registry import (
    IndicatorSpec,
    ParamValue,
    column_names,
    describe,
    resolve_parameters,
)

if TYPE_CHECKING:
    import pandas as pd

FloatArray: TypeAlias = npt.NDArray[np.float64]
NumpyData: TypeAlias = npt.NDArray[Any] | Sequence[float] | Mapping[str, npt.ArrayLike]
PandasData: TypeAlias = "pd.DataFrame | pd.Series[Any]"
NumpyResult: TypeAlias = npt.NDArray[Any] | tuple[npt.NDArray[Any], ...]
PandasResult: TypeAlias = "pd.Series[Any] | pd.DataFrame"

IndicatorRequest: TypeAlias = str | tuple[str, Mapping[str, ParamValue]]
"""One entry of `add_indicators`: a TA-Lib name, or a name with its parameters."""


@overload
def compute(
    name: str,
    data: pd.DataFrame | pd.Series[Any],
    /,
    *,
    inputs: Mapping[str, str] | None = None,
    **params: ParamValue,
) -> pd.Series[Any] | pd.DataFrame: ...


@overload
def compute(
    name: str,
    data: NumpyData,
    /,
    *,
    inputs: Mapping[str, str] | None = None,
    **params: ParamValue,
) -> NumpyResult: ...


@overload
def compute(
    name: str,
    data: pd.DataFrame | pd.Series[Any] | NumpyData,
    /,
    *,
    inputs: Mapping[str, str] | None = None,
    **params: ParamValue,
) -> pd.Series[Any] | pd.DataFrame | NumpyResult: ...


def compute(
    name: str,
    data: pd.DataFrame | pd.Series[Any] | NumpyData,
    /,
    *,
    inputs: Mapping[str, str] | None = None,
    **params: ParamValue,
) -> pd.Series[Any] | pd.DataFrame | NumpyResult:
    """Compute the TA-Lib function `name` over `data`.

    Args:
        name: a TA-Lib function name in any case, e.g. ``"rsi"`` or ``"BBANDS"``.
        data: a DataFrame or mapping with open/high/low/close/volume columns (any case), or
            one series (Series, 1-D array, list) for functions that read a single input.
        inputs: use other columns than TA-Lib's defaults, keyed by the default column, e.g.
            ``{"close": "volume"}`` for an SMA of volume.
        **params: TA-Lib parameters by TA-Lib name (``timeperiod``, ``nbdevup``, ...);
            missing ones take TA-Lib's defaults.

    Returns:
        Outputs aligned with `data`, named as `registry.column_names` describes.

    Raises:
        IndicatorError: unknown name or parameter (naming the closest valid one), missing
            column, non-numeric or mismatched inputs, or a parameter TA-Lib rejects.
    """
    return evaluate(name, data, params, inputs=inputs)


def evaluate(
    name: str,
    data: pd.DataFrame | pd.Series[Any] | NumpyData,
    params: Mapping[str, ParamValue],
    *,
    inputs: Mapping[str, str] | None = None,
    compiled: bool = False,
) -> pd.Series[Any] | pd.DataFrame | NumpyResult:
    """`compute` with the parameters as one mapping, e.g. as read from a strategy spec.

    `compiled`: compute the functions `native` has with its compiled loops (the same
    values bit for bit) instead of TA-Lib. They load numba, not TA-Lib and pandas: for
    callers that run beside numba anyway.
    """
    names, outputs, index = _run(name, data, params, inputs or {}, compiled=compiled)
    if index is None:
        return outputs[0] if len(outputs) == 1 else tuple(outputs)
    import pandas as pd  # loaded already: the data had an index

    if len(outputs) == 1:
        return pd.Series(outputs[0], index=index, name=names[0])
    return pd.DataFrame(dict(zip(names, outputs, strict=True)), index=index)


def check_parameters(name: str, params: Mapping[str, ParamValue]) -> None:
    """Raise the `IndicatorError` that `evaluate(name, ..., params)` would raise for these
    parameters on any data: unknown names, bad types, values out of TA-Lib's range.

    The functions `native` computes are checked against TA-Lib's limits without loading
    TA-Lib or numba; the others are run by TA-Lib on a tiny series.
    """
    spec = describe(name)
    resolved = resolve_parameters(spec, params)
    if native.computes(spec.name):
        problem = native.rejection(spec.name, resolved)
        if problem is not None:
            raise IndicatorError(_rejected(spec, resolved, problem))
        return
    _call(spec, [_PROBE] * len(spec.inputs), resolved, compiled=False)


_PROBE = np.linspace(1.0, 2.0, 8)


def add_indicators(frame: pd.DataFrame, specs: Iterable[IndicatorRequest]) -> pd.DataFrame:
    """A copy of `frame` with the columns of every requested indicator appended.

    Example:
        ``add_indicators(bars, ["obv", ("sma", {"timeperiod": 20}), ("macd", {})])``
        appends ``obv``, ``sma_20``, ``macd_12_26_9``, ``macd_signal_12_26_9`` and
        ``macd_hist_12_26_9``.

    Raises:
        IndicatorError: a bad request (see `compute`), or a column name that already exists.
    """
    if not _is_frame(frame):
        raise IndicatorError(f"add_indicators needs a DataFrame, got {type(frame).__name__}")
    import pandas as pd  # loaded already: frame is a DataFrame

    columns: dict[str, pd.Series[Any]] = {}
    for request in specs:
        name, params = _parse_request(request)
        names, outputs, _ = _run(name, frame, params, {})
        for column_name, values in zip(names, outputs, strict=True):
            if column_name in frame.columns or column_name in columns:
                raise IndicatorError(f"column {column_name!r} already exists")
            columns[column_name] = pd.Series(values, index=frame.index, name=column_name)
    if not columns:
        return frame.copy()
    return pd.concat([frame, pd.DataFrame(columns, index=frame.index)], axis=1)


def _run(
    name: str,
    data: pd.DataFrame | pd.Series[Any] | NumpyData,
    params: Mapping[str, ParamValue],
    inputs: Mapping[str, str],
    *,
    compiled: bool = False,
) -> tuple[tuple[str, ...], list[npt.NDArray[Any]], pd.Index[Any] | None]:
    spec = describe(name)
    resolved = resolve_parameters(spec, params)
    arrays, index = _input_arrays(spec, data, inputs)
    return column_names(spec, resolved), _call(spec, arrays, resolved, compiled=compiled), index


def _parse_request(request: IndicatorRequest) -> tuple[str, Mapping[str, ParamValue]]:
    if isinstance(request, str):
        return request, {}
    if (
        isinstance(request, tuple)
        and len(request) == 2
        and isinstance(request[0], str)
        and isinstance(request[1], Mapping)
    ):
        return request[0], request[1]
    raise IndicatorError(
        f"indicator request must be a name or a (name, parameters) pair, got {request!r}"
    )


def _input_arrays(
    spec: IndicatorSpec,
    data: pd.DataFrame | pd.Series[Any] | NumpyData,
    overrides: Mapping[str, str],
) -> tuple[list[FloatArray], pd.Index[Any] | None]:
    unknown = set(overrides) - set(spec.inputs)
    if unknown:
        raise IndicatorError(
            f"{spec.name} reads {', '.join(spec.inputs)}; cannot override {sorted(unknown)}"
        )
    wanted = [overrides.get(column, column) for column in spec.inputs]
    if _is_frame(data):
        columns = _columns_by_lower_name(spec, [str(column) for column in data.columns])
        series = [data[columns[_lookup(spec, column, columns)]] for column in wanted]
        return [
            _as_float_array(spec, column, s) for column, s in zip(wanted, series, strict=True)
        ], data.index
    if isinstance(data, Mapping):
        keys = _columns_by_lower_name(spec, [str(key) for key in data])
        arrays = [_as_float_array(spec, c, data[keys[_lookup(spec, c, keys)]]) for c in wanted]
        lengths = {len(array) for array in arrays}
        if len(lengths) > 1:
            raise IndicatorError(f"{spec.name} inputs have different lengths: {sorted(lengths)}")
        return arrays, None
    if len(spec.inputs) != 1:
        raise IndicatorError(
            f"{spec.name} reads {', '.join(spec.inputs)}: pass a DataFrame or a mapping "
            "with those columns, not a single series"
        )
    if _is_series(data):
        return [_as_float_array(spec, wanted[0], data)], data.index
    return [_as_float_array(spec, wanted[0], data)], None


def _columns_by_lower_name(spec: IndicatorSpec, columns: list[str]) -> dict[str, str]:
    by_lower: dict[str, str] = {}
    for column in columns:
        lower = column.lower()
        if lower in by_lower:
            raise IndicatorError(
                f"{spec.name}: columns {by_lower[lower]!r} and {column!r} differ only by case"
            )
        by_lower[lower] = column
    return by_lower


def _lookup(spec: IndicatorSpec, column: str, columns: Mapping[str, str]) -> str:
    lower = column.lower()
    if lower not in columns:
        raise IndicatorError(
            f"{spec.name} needs a {column!r} column; got {sorted(columns.values())}"
        )
    return lower


def _as_float_array(spec: IndicatorSpec, column: str, values: object) -> FloatArray:
    try:
        if _is_series(values):
            array = values.to_numpy(dtype=np.float64, na_value=np.nan)
        else:
            array = np.asarray(values, dtype=np.float64)
    except (TypeError, ValueError) as error:
        raise IndicatorError(f"{spec.name} input {column!r} is not numeric: {error}") from error
    if array.ndim != 1:
        raise IndicatorError(
            f"{spec.name} input {column!r} must be one-dimensional, got shape {array.shape}"
        )
    return np.ascontiguousarray(array)


def _call(
    spec: IndicatorSpec,
    arrays: list[FloatArray],
    params: Mapping[str, int | float],
    *,
    compiled: bool,
) -> list[npt.NDArray[Any]]:
    if compiled and native.computes(spec.name):
        problem = native.rejection(spec.name, params)
        if problem is not None:
            raise IndicatorError(_rejected(spec, params, problem))
        return native.compute(spec.name, arrays, params)
    import talib  # here: it imports pandas (see the module doc)

    function = getattr(talib, spec.name)
    try:
        result = function(*arrays, **params)
    except Exception as error:  # TA-Lib raises bare Exception; re-raised as a typed error
        raise IndicatorError(_rejected(spec, params, str(error))) from error
    outputs = list(result) if isinstance(result, tuple | list) else [result]
    return [np.asarray(output) for output in outputs]


def _rejected(spec: IndicatorSpec, params: Mapping[str, int | float], problem: str) -> str:
    return f"TA-Lib rejected {spec.name}{dict(params)}: {problem}"


def _is_frame(data: object) -> TypeGuard[pd.DataFrame]:
    """Whether `data` is a DataFrame (never, while pandas is not loaded)."""
    pandas = sys.modules.get("pandas")
    return pandas is not None and isinstance(data, pandas.DataFrame)


def _is_series(data: object) -> TypeGuard[pd.Series[Any]]:
    """Whether `data` is a Series (never, while pandas is not loaded)."""
    pandas = sys.modules.get("pandas")
    return pandas is not None and isinstance(data, pandas.Series)
