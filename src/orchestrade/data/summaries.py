"""BarSummary: what a store holds per instrument and timeframe (for listings)."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any


@dataclass(frozen=True, slots=True)
class BarSummary:
    """Bar count and first/last bar start of one instrument and timeframe.

    `first` and `last` are ISO 8601 UTC strings: a date for daily and weekly bars
    ("2013-02-08"), a time with a Z otherwise ("2024-10-01T03:00:00Z").
    """

    symbol: str
    market: str
    exchange: str
    name: str | None
    timeframe: str
    bars: int
    first: str
    last: str

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready dict."""
        return asdict(self)
