"""Parameter grids for sweeps: ``fast=5:30:5,slow=20:100:10`` or the spec's own ranges.

A range ``start:stop:step`` includes both ends when ``stop`` lies on the grid
(``5:30:5`` is 5, 10, ..., 30); ``start:stop`` takes the parameter's ``step`` from the spec
(1 for integer parameters without one); a single number fixes the parameter;
``a|b|c`` lists values. Parameters the grid does not name keep their current value.
Combinations come in row-major order: the last named parameter varies fastest.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Mapping, Sequence

from orchestrade.strategies.errors import ParameterError
from orchestrade.strategies.spec import Parameter, ParamValue, StrategySpec, closest

GridValues = str | ParamValue | Sequence[ParamValue]


def parameter_grid(
    spec: StrategySpec, grid: str | Mapping[str, GridValues] | None = None
) -> list[dict[str, ParamValue]]:
    """Every parameter combination of a sweep, each a full ``{name: value}`` dict.

    Args:
        spec: the strategy whose parameters are swept.
        grid: ``"fast=5:30:5,slow=20:100:10"``, a mapping of names to range strings,
            numbers or lists of numbers, or None to sweep every parameter of the spec that
            has ``min``, ``max`` and (for floats) ``step``.

    Raises:
        ParameterError: unknown parameter (naming the closest valid one), unparseable
            range, a value of the wrong type or outside the parameter's min/max.
    """
    if grid is None:
        axes = {
            name: _spec_range(parameter)
            for name, parameter in spec.parameters.items()
            if parameter.minimum is not None and parameter.maximum is not None
        }
    else:
        entries = parse_grid(grid) if isinstance(grid, str) else dict(grid)
        axes = {}
        for name, values in entries.items():
            parameter = spec.parameters.get(name)
            if parameter is None:
                valid = ", ".join(spec.parameters) or "none"
                raise ParameterError(
                    f"strategy {spec.name!r} has no parameter {name!r}"
                    f"{closest(name, list(spec.parameters))} (valid: {valid})"
                )
            axes[name] = _axis(parameter, values)
    names = list(axes)
    combinations = []
    for combination in itertools.product(*(axes[name] for name in names)):
        point: dict[str, ParamValue] = dict(spec.values)
        point.update(zip(names, combination, strict=True))
        combinations.append(point)
    return combinations


def parse_grid(text: str) -> dict[str, str]:
    """``"fast=5:30:5,slow=20"`` -> ``{"fast": "5:30:5", "slow": "20"}``.

    Raises:
        ParameterError: an item without ``=``, an empty name or value, a repeated name.
    """
    entries: dict[str, str] = {}
    for item in text.split(","):
        if not item.strip():
            continue
        name, sep, value = item.partition("=")
        name, value = name.strip(), value.strip()
        if not sep or not name or not value:
            raise ParameterError(f"grid item {item.strip()!r} must look like name=start:stop:step")
        if name in entries:
            raise ParameterError(f"grid names parameter {name!r} twice")
        entries[name] = value
    if not entries:
        raise ParameterError(f"empty parameter grid {text!r}")
    return entries


def _axis(parameter: Parameter, values: GridValues) -> list[ParamValue]:
    if isinstance(values, str):
        raw = _parse_values(parameter, values)
    elif isinstance(values, int | float):
        raw = [values]
    else:
        raw = list(values)
    if not raw:
        raise ParameterError(f"grid for {parameter.name!r} has no values")
    return [parameter.check(value) for value in raw]


def _parse_values(parameter: Parameter, text: str) -> list[ParamValue]:
    if "|" in text:
        return [_number(parameter, part) for part in text.split("|")]
    parts = text.split(":")
    if len(parts) == 1:
        return [_number(parameter, parts[0])]
    if len(parts) not in (2, 3):
        raise ParameterError(f"grid for {parameter.name!r} must be start:stop[:step], got {text!r}")
    start, stop = _number(parameter, parts[0]), _number(parameter, parts[1])
    if len(parts) == 3:
        step = _number(parameter, parts[2])
    elif parameter.step is not None:
        step = parameter.step
    elif parameter.kind == "int":
        step = 1
    else:
        raise ParameterError(
            f"grid for float parameter {parameter.name!r} needs a step: start:stop:step"
        )
    return _inclusive_range(parameter, start, stop, step)


def _spec_range(parameter: Parameter) -> list[ParamValue]:
    assert parameter.minimum is not None
    assert parameter.maximum is not None
    step = parameter.step
    if step is None:
        if parameter.kind == "float":
            raise ParameterError(
                f"float parameter {parameter.name!r} has min/max but no step to sweep with"
            )
        step = 1
    return _inclusive_range(parameter, parameter.minimum, parameter.maximum, step)


def _inclusive_range(
    parameter: Parameter, start: ParamValue, stop: ParamValue, step: ParamValue
) -> list[ParamValue]:
    if step <= 0:
        raise ParameterError(f"grid step for {parameter.name!r} must be positive, got {step}")
    if stop < start:
        raise ParameterError(
            f"grid for {parameter.name!r} runs backwards: start {start} > stop {stop}"
        )
    count = math.floor((stop - start) / step + 1e-9) + 1
    if parameter.kind == "int":
        return [int(start + i * step) for i in range(count)]
    return [round(start + i * step, 12) for i in range(count)]


def _number(parameter: Parameter, text: str) -> ParamValue:
    text = text.strip()
    try:
        number = float(text)
    except ValueError:
        raise ParameterError(f"grid for {parameter.name!r}: {text!r} is not a number") from None
    if parameter.kind == "int":
        if not number.is_integer():
            raise ParameterError(f"grid for {parameter.name!r}: {text!r} is not an integer")
        return int(number)
    return number
