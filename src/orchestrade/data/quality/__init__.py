"""Data quality: check raw bars against the contract, the exchange calendar and price sanity.

`check_quality` runs every check on a raw normalized bar frame and returns a `QualityReport`
with per-symbol findings, a 0..1 score and a recommendation (formula and thresholds in
`orchestrade.data.quality.report`).
"""

from orchestrade.data.quality.check import QualityInputError, check_quality
from orchestrade.data.quality.report import (
    TABLE_COLUMNS,
    Check,
    Example,
    Finding,
    QualityReport,
    Recommendation,
    Severity,
    SymbolQuality,
)

__all__ = [
    "TABLE_COLUMNS",
    "Check",
    "Example",
    "Finding",
    "QualityInputError",
    "QualityReport",
    "Recommendation",
    "Severity",
    "SymbolQuality",
    "check_quality",
]
