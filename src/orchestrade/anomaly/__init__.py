"""Anomaly detection: streaming detectors over fills, bars, books, broker calls and P&L.

Bot detectors (`bot_detectors`) watch each bot's trade rate, losing streak, slippage,
broker error rate and silence; market detectors (`market_detectors`) watch fast price
moves, volume spikes, funding rates and order-book imbalance; the daily-loss circuit
breaker (`circuit_breaker`) trips on the portfolio's loss of the day. Each finding is an
`AnomalyDetected` (a `CircuitBreakerTripped` for the breaker) that the anomaly agent
publishes; `scan` runs the market detectors over a stored history.
"""

from orchestrade.anomaly.bot_detectors import (
    ApiErrorRateDetector,
    InactivityDetector,
    LossStreakDetector,
    SlippageDetector,
    TradeRateDetector,
    adverse_slippage,
    reference_price,
)
from orchestrade.anomaly.circuit_breaker import (
    BotDay,
    DailyLossBreaker,
    SessionOf,
    Trip,
    utc_session,
)
from orchestrade.anomaly.crossing import Crossings
from orchestrade.anomaly.errors import AnomalyConfigurationError, AnomalyError
from orchestrade.anomaly.market_detectors import (
    BookImbalanceDetector,
    FundingRateDetector,
    PriceMoveDetector,
    VolumeSpikeDetector,
)
from orchestrade.anomaly.ports import AnomalyLog, BrokerCallCounts
from orchestrade.anomaly.round_trips import ClosedTrade, RoundTrips
from orchestrade.anomaly.scan import ScanFinding, ScanReport, scan_bars, scan_book
from orchestrade.anomaly.thresholds import (
    DAILY_LOSS_BREAKER,
    DEFAULT_SEVERITIES,
    AnomalyThresholds,
    Detector,
    load_thresholds,
)

__all__ = [
    "DAILY_LOSS_BREAKER",
    "DEFAULT_SEVERITIES",
    "AnomalyConfigurationError",
    "AnomalyError",
    "AnomalyLog",
    "AnomalyThresholds",
    "ApiErrorRateDetector",
    "BookImbalanceDetector",
    "BotDay",
    "BrokerCallCounts",
    "ClosedTrade",
    "Crossings",
    "DailyLossBreaker",
    "Detector",
    "FundingRateDetector",
    "InactivityDetector",
    "LossStreakDetector",
    "PriceMoveDetector",
    "RoundTrips",
    "ScanFinding",
    "ScanReport",
    "SessionOf",
    "SlippageDetector",
    "TradeRateDetector",
    "Trip",
    "VolumeSpikeDetector",
    "adverse_slippage",
    "load_thresholds",
    "reference_price",
    "scan_bars",
    "scan_book",
    "utc_session",
]
