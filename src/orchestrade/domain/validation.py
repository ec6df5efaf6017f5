"""Checks shared by the domain constructors: exact decimals, aware UTC times, non-blank text.

Each check names the offending field and value, and returns the normalized value (an `int`
becomes a `Decimal`, an aware datetime in any zone becomes the same instant in UTC).
"""

from __future__ import annotations

import math
from datetime import UTC, datetime
from decimal import Decimal
from enum import Enum
from typing import TypeVar

from orchestrade.domain.errors import ValidationError

E = TypeVar("E", bound=Enum)


def assign(instance: object, name: str, value: object) -> None:
    """Store a normalized value on a frozen dataclass from its `__post_init__`."""
    object.__setattr__(instance, name, value)


def require_utc(name: str, value: object) -> datetime:
    """An aware datetime, converted to UTC; naive datetimes are rejected."""
    if not isinstance(value, datetime):
        raise ValidationError(f"{name} must be a datetime, got {type(value).__name__} {value!r}")
    if value.tzinfo is None or value.utcoffset() is None:
        raise ValidationError(
            f"{name} must be timezone-aware (UTC), got naive datetime {value.isoformat()}"
        )
    try:
        return value.astimezone(UTC)
    except OverflowError:  # e.g. 0001-01-01T00:00+01:00 is before the first UTC datetime
        raise ValidationError(
            f"{name} {value.isoformat()} is out of range: in UTC it is before year 1 or "
            "after year 9999"
        ) from None


def require_decimal(name: str, value: object) -> Decimal:
    """A finite Decimal; ints are converted exactly, floats are refused (binary drift)."""
    if isinstance(value, bool) or not isinstance(value, Decimal | int):
        hint = (
            " (use Decimal(str(x)) to avoid binary float drift)" if isinstance(value, float) else ""
        )
        raise ValidationError(
            f"{name} must be a Decimal, got {type(value).__name__} {value!r}{hint}"
        )
    result = Decimal(value)
    if not result.is_finite():
        raise ValidationError(f"{name} must be finite, got {result}")
    return result


def require_positive(name: str, value: object) -> Decimal:
    """A finite Decimal strictly greater than zero."""
    result = require_decimal(name, value)
    if result <= 0:
        raise ValidationError(f"{name} must be > 0, got {result}")
    return result


def require_non_negative(name: str, value: object) -> Decimal:
    """A finite Decimal greater than or equal to zero."""
    result = require_decimal(name, value)
    if result < 0:
        raise ValidationError(f"{name} must be >= 0, got {result}")
    return result


def optional_positive(name: str, value: object) -> Decimal | None:
    """None, or a Decimal strictly greater than zero."""
    return None if value is None else require_positive(name, value)


def require_float(name: str, value: object) -> float:
    """A finite real number as float (NaN and infinities cannot cross JSON)."""
    if isinstance(value, bool) or not isinstance(value, float | int):
        raise ValidationError(f"{name} must be a number, got {type(value).__name__} {value!r}")
    result = float(value)
    if not math.isfinite(result):
        raise ValidationError(f"{name} must be finite, got {result}")
    return result


def require_int(name: str, value: object, *, minimum: int | None = None) -> int:
    """An int (bools refused), optionally at least `minimum`."""
    if isinstance(value, bool) or not isinstance(value, int):
        raise ValidationError(f"{name} must be an int, got {type(value).__name__} {value!r}")
    if minimum is not None and value < minimum:
        raise ValidationError(f"{name} must be >= {minimum}, got {value}")
    return value


def require_text(name: str, value: object) -> str:
    """A string that is not empty or only whitespace (ids, symbols, names of things)."""
    if not isinstance(value, str):
        raise ValidationError(f"{name} must be a str, got {type(value).__name__} {value!r}")
    if not value.strip():
        raise ValidationError(f"{name} must not be blank, got {value!r}")
    return value


def optional_text(name: str, value: object) -> str | None:
    """None, or a non-blank string."""
    return None if value is None else require_text(name, value)


def require_str(name: str, value: object) -> str:
    """Any string, empty allowed (free-text reasons and descriptions)."""
    if not isinstance(value, str):
        raise ValidationError(f"{name} must be a str, got {type(value).__name__} {value!r}")
    return value


def require_enum(name: str, enum_type: type[E], value: object) -> E:
    """A member of `enum_type`; its value (e.g. "buy") is accepted and converted."""
    if isinstance(value, enum_type):
        return value
    try:
        return enum_type(value)
    except ValueError:
        allowed = ", ".join(repr(member.value) for member in enum_type)
        raise ValidationError(f"{name} must be one of {allowed}, got {value!r}") from None


def require_texts(name: str, value: object) -> tuple[str, ...]:
    """A tuple (or list) of strings, returned as a tuple."""
    if not isinstance(value, tuple | list):
        raise ValidationError(f"{name} must be a tuple of str, got {type(value).__name__}")
    return tuple(require_str(f"{name}[{index}]", item) for index, item in enumerate(value))
