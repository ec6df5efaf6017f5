"""Constructor argument checks shared by the streaming indicators."""

from __future__ import annotations

import math

from orchestrade.indicators.errors import IndicatorError


def require_period(indicator: str, name: str, value: object, minimum: int) -> int:
    """`value` as an int, or an IndicatorError when it is not an integer >= `minimum`."""
    if isinstance(value, bool) or not isinstance(value, int):
        raise IndicatorError(f"{indicator} {name} must be an integer, got {value!r}")
    if value < minimum:
        raise IndicatorError(f"{indicator} {name} must be at least {minimum}, got {value}")
    return value


def require_finite(indicator: str, name: str, value: object) -> float:
    """`value` as a float, or an IndicatorError when it is not a finite real number."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise IndicatorError(f"{indicator} {name} must be a number, got {value!r}")
    if not math.isfinite(value):
        raise IndicatorError(f"{indicator} {name} must be finite, got {value!r}")
    return float(value)


def reject_bad_input(indicator: str, *values: float) -> None:
    """Raise for the NaN or infinite input that made an update's finiteness test fail."""
    raise IndicatorError(f"{indicator} update needs finite numbers, got {values!r}")
