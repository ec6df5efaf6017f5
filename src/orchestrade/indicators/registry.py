"""Every TA-Lib function described once, addressable by name, with validated parameters.

The registry is built from TA-Lib's own metadata (`talib.abstract`), so every function the
installed TA-Lib has is available without a hand-written wrapper. TA-Lib is imported on
first use: the functions `native` computes are described without it (`_KNOWN`, held equal
to TA-Lib's metadata by the tests), so that loading a spec that uses only those does not
load TA-Lib and the pandas it imports.

Output column names follow one scheme, ``prefix[_output][_parameters]`` joined by ``_``:

* ``prefix`` is the lower-case TA-Lib name, except ``BBANDS`` -> ``bb``;
* ``output`` appears only for functions with several outputs; it is TA-Lib's output name
  shortened by `_OUTPUT_TOKENS` (``upperband`` -> ``upper``, ``macdsignal`` -> ``signal``,
  ``slowk`` -> ``k``); the main line of MACD, MACDEXT, MACDFIX, SMI, MAMA and SUPERTREND has
  no output token;
* ``parameters`` are the parameter values in TA-Lib's order, integers as written and floats
  without a trailing ``.0`` (``2.0`` -> ``2``, ``0.02`` -> ``0.02``). A moving-average-type
  parameter appears only when it differs from TA-Lib's default, as the lower-case MA name
  (``ema``); BBANDS shows ``nbdevdn`` only when it differs from ``nbdevup``.

Examples: ``sma_20``, ``rsi_14``, ``macd_12_26_9``, ``macd_signal_12_26_9``,
``macd_hist_12_26_9``, ``bb_upper_20_2``, ``stoch_k_5_3_3``, ``atr_14``, ``obv``.
"""

from __future__ import annotations

import difflib
import math
from collections.abc import Mapping
from dataclasses import dataclass
from functools import cache
from types import MappingProxyType
from typing import Any

import numpy as np

from orchestrade.indicators.errors import IndicatorError

ParamValue = int | float | str
"""A parameter as a caller may give it: a number, or a moving-average name for ``*matype``."""

_PREFIXES: Mapping[str, str] = MappingProxyType({"BBANDS": "bb"})
_OUTPUT_TOKENS: Mapping[str, str] = MappingProxyType(
    {
        "upperband": "upper",
        "middleband": "middle",
        "lowerband": "lower",
        "macd": "",
        "macdsignal": "signal",
        "macdhist": "hist",
        "slowk": "k",
        "slowd": "d",
        "fastk": "k",
        "fastd": "d",
        "aroondown": "down",
        "aroonup": "up",
        "smi": "",
        "smisignal": "signal",
        "mama": "",
        "supertrend": "",
    }
)
# (shown parameter, reference): the first is left out of names when equal to the second.
_ELIDED_WHEN_EQUAL: Mapping[str, tuple[str, str]] = MappingProxyType(
    {"BBANDS": ("nbdevdn", "nbdevup")}
)


@dataclass(frozen=True, slots=True)
class IndicatorSpec:
    """What one TA-Lib function needs and returns.

    Attributes:
        name: TA-Lib's upper-case name, e.g. ``"MACD"``.
        group: TA-Lib's group, e.g. ``"Momentum Indicators"``.
        display_name: TA-Lib's human name.
        inputs: the price columns the function reads, in call order, e.g.
            ``("high", "low", "close")``; ``MAVP`` also reads a ``periods`` column.
        parameters: TA-Lib's defaults, in TA-Lib's order.
        outputs: TA-Lib's output names, in order.
    """

    name: str
    group: str
    display_name: str
    inputs: tuple[str, ...]
    parameters: Mapping[str, int | float]
    outputs: tuple[str, ...]


def indicator_names() -> tuple[str, ...]:
    """The upper-case names of every TA-Lib function, sorted."""
    return tuple(sorted(_specs()))


def describe(name: str) -> IndicatorSpec:
    """The spec of the TA-Lib function called `name` (any case).

    Raises:
        IndicatorError: no such function; the message names the closest valid one.
    """
    if not isinstance(name, str):
        raise IndicatorError(f"indicator name must be a string, got {type(name).__name__}")
    key = name.strip().upper()
    spec = _KNOWN.get(key)
    if spec is not None:
        return spec
    specs = _specs()
    spec = specs.get(key)
    if spec is None:
        raise IndicatorError(f"unknown indicator {name!r}{_suggestion(name.upper(), specs)}")
    return spec


def resolve_parameters(
    spec: IndicatorSpec, params: Mapping[str, ParamValue]
) -> dict[str, int | float]:
    """TA-Lib's defaults overridden by `params`, each checked for name and type.

    Integer parameters take Python or numpy integers; float parameters take any finite real
    number; ``*matype`` parameters also take a moving-average name such as ``"ema"``.

    Raises:
        IndicatorError: unknown parameter (naming the closest valid one) or bad value.
    """
    resolved: dict[str, int | float] = dict(spec.parameters)
    for key, value in params.items():
        default = spec.parameters.get(key)
        if default is None:
            valid = ", ".join(spec.parameters) or "none"
            raise IndicatorError(
                f"{spec.name} has no parameter {key!r}"
                f"{_suggestion(key, spec.parameters)} (valid: {valid})"
            )
        resolved[key] = _checked_value(spec.name, key, value, default)
    return resolved


def column_names(spec: IndicatorSpec, params: Mapping[str, int | float]) -> tuple[str, ...]:
    """Output column names for `spec` called with the resolved `params` (see module doc)."""
    tokens = [_PREFIXES.get(spec.name, spec.name.lower())]
    param_tokens = _parameter_tokens(spec, params)
    if len(spec.outputs) == 1:
        return ("_".join([*tokens, *param_tokens]),)
    names = []
    for output in spec.outputs:
        output_token = _OUTPUT_TOKENS.get(output, output.lower())
        parts = [*tokens, output_token, *param_tokens] if output_token else [*tokens, *param_tokens]
        names.append("_".join(parts))
    return tuple(names)


def lookback(name: str, **params: ParamValue) -> int:
    """TA-Lib's lookback: how many leading outputs are NaN for these parameters."""
    spec = describe(name)
    function = _abstract().Function(spec.name)
    function.parameters = resolve_parameters(spec, params)
    return int(function.lookback)


def ma_type_names() -> tuple[str, ...]:
    """Moving-average names accepted by ``*matype`` parameters, in TA-Lib code order."""
    return tuple(name for name, _ in sorted(_ma_types().items(), key=lambda item: item[1]))


_KNOWN: Mapping[str, IndicatorSpec] = MappingProxyType(
    {
        "SMA": IndicatorSpec(
            name="SMA",
            group="Overlap Studies",
            display_name="Simple Moving Average",
            inputs=("close",),
            parameters=MappingProxyType({"timeperiod": 30}),
            outputs=("real",),
        ),
    }
)
"""The specs of the functions `native` computes, known without importing TA-Lib."""


def _talib() -> Any:
    """TA-Lib (an untyped C extension), imported on first use (see the module doc)."""
    import talib

    return talib


def _abstract() -> Any:
    from talib import abstract

    return abstract


@cache
def _specs() -> dict[str, IndicatorSpec]:
    specs = {}
    abstract = _abstract()
    for name in _talib().get_functions():
        if name in _KNOWN:
            specs[name] = _KNOWN[name]
            continue
        info = abstract.Function(name).info
        inputs: list[str] = []
        for columns in info["input_names"].values():
            inputs.extend([columns] if isinstance(columns, str) else columns)
        specs[name] = IndicatorSpec(
            name=name,
            group=str(info["group"]),
            display_name=str(info["display_name"]),
            inputs=tuple(inputs),
            parameters=MappingProxyType(dict(info["parameters"])),
            outputs=tuple(info["output_names"]),
        )
    return specs


@cache
def _ma_types() -> dict[str, int]:
    ma_type = _talib().MA_Type
    names = (attribute for attribute in dir(ma_type) if attribute.isupper())
    return {name.lower(): int(getattr(ma_type, name)) for name in names}


def _is_ma_type(key: str) -> bool:
    return key.endswith("matype")


def _checked_value(function: str, key: str, value: ParamValue, default: int | float) -> int | float:
    where = f"{function} parameter {key}"
    if _is_ma_type(key):
        codes = _ma_types()
        if isinstance(value, str):
            code = codes.get(value.strip().lower())
            if code is None:
                raise IndicatorError(
                    f"{where}: unknown moving-average type {value!r}"
                    f"{_suggestion(value.lower(), codes)} (valid: {', '.join(ma_type_names())})"
                )
            return code
        if _is_integer(value) and int(value) in codes.values():
            return int(value)
        raise IndicatorError(
            f"{where} must be a moving-average name or code, got {value!r} "
            f"(valid: {', '.join(ma_type_names())})"
        )
    if isinstance(default, int):
        if not _is_integer(value):
            raise IndicatorError(f"{where} must be an integer, got {value!r}")
        return int(value)
    if isinstance(value, bool) or not isinstance(value, int | float | np.integer | np.floating):
        raise IndicatorError(f"{where} must be a number, got {value!r}")
    number = float(value)
    if not math.isfinite(number):
        raise IndicatorError(f"{where} must be finite, got {value!r}")
    return number


def _is_integer(value: object) -> bool:
    return isinstance(value, int | np.integer) and not isinstance(value, bool)


def _parameter_tokens(spec: IndicatorSpec, params: Mapping[str, int | float]) -> list[str]:
    elided = _ELIDED_WHEN_EQUAL.get(spec.name)
    tokens = []
    for key, default in spec.parameters.items():
        value = params.get(key, default)
        if _is_ma_type(key):
            if value != default:
                tokens.append(_ma_name(int(value)))
            continue
        if elided is not None and key == elided[0] and value == params.get(elided[1]):
            continue
        tokens.append(_format_number(value))
    return tokens


def _ma_name(code: int) -> str:
    for name, value in _ma_types().items():
        if value == code:
            return name
    return str(code)


def _format_number(value: int | float) -> str:
    if isinstance(value, int):
        return str(value)
    text = repr(float(value))
    return text.removesuffix(".0")


def _suggestion(word: str, candidates: Mapping[str, object]) -> str:
    matches = difflib.get_close_matches(word, list(candidates), n=1, cutoff=0.5)
    return f"; did you mean {matches[0]!r}?" if matches else ""
