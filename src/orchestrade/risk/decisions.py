"""What a pre-trade check answers: approve the order, or deny it naming the check and numbers."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal


@dataclass(frozen=True, slots=True)
class Approved:
    """The order passed the check."""


@dataclass(frozen=True, slots=True)
class Denied:
    """The order failed `check`; `reason` starts with the check name and quotes the numbers.

    Example: ``Denied("max_position", "max_position: position would be 110 shares = 32.5%
    of equity, limit 25%")``.
    """

    check: str
    reason: str


Decision = Approved | Denied
"""The answer of every check and of the engine."""

APPROVED = Approved()
"""The one Approved value (it carries no data), reused to avoid an allocation per order."""


def format_percent(fraction: Decimal) -> str:
    """`fraction` as a percentage with at most two decimals and no trailing zeros.

    >>> format_percent(Decimal("0.325"))
    '32.5%'
    """
    text = f"{fraction * 100:.2f}".rstrip("0").rstrip(".")
    return f"{text}%"


def format_amount(value: Decimal) -> str:
    """`value` with thousands separators, integral values without decimals (1,250,000)."""
    if value == value.to_integral_value():
        return f"{int(value):,}"
    return f"{value.normalize():,f}"
