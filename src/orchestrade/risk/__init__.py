"""Pre-trade risk: checks that approve or deny each order, composed into one engine; position
stops that turn held positions into exit orders."""

from orchestrade.risk.checks import Check, is_reducing, valuation_price
from orchestrade.risk.concentration import SectorConcentrationCheck, SymbolConcentrationCheck
from orchestrade.risk.decisions import Approved, Decision, Denied
from orchestrade.risk.engine import RiskEngine
from orchestrade.risk.errors import RiskConfigurationError, RiskError
from orchestrade.risk.kill_switch import KillSwitch, KillSwitchState
from orchestrade.risk.limits import (
    DailyLossCheck,
    MaxOpenPositionsCheck,
    MaxOrderNotionalCheck,
    MaxPositionCheck,
    PriceDeviationCheck,
    limit_checks,
)
from orchestrade.risk.ports import PositionBook, RiskContext
from orchestrade.risk.price_rules import KrxPriceLimitCheck, KrxTickSizeCheck
from orchestrade.risk.rate_limit import Clock, MaxOrdersPerSecondCheck, TokenBucket
from orchestrade.risk.stops import (
    PositionStops,
    ProtectiveOrders,
    ProtectivePrices,
    RoundToTick,
    StopExit,
    StopLevels,
    StopReason,
    StopSettings,
    no_rounding,
    protective_orders,
    protective_prices,
)

__all__ = [
    "Approved",
    "Check",
    "Clock",
    "DailyLossCheck",
    "Decision",
    "Denied",
    "KillSwitch",
    "KillSwitchState",
    "KrxPriceLimitCheck",
    "KrxTickSizeCheck",
    "MaxOpenPositionsCheck",
    "MaxOrderNotionalCheck",
    "MaxOrdersPerSecondCheck",
    "MaxPositionCheck",
    "PositionBook",
    "PositionStops",
    "PriceDeviationCheck",
    "ProtectiveOrders",
    "ProtectivePrices",
    "RiskConfigurationError",
    "RiskContext",
    "RiskEngine",
    "RiskError",
    "RoundToTick",
    "SectorConcentrationCheck",
    "StopExit",
    "StopLevels",
    "StopReason",
    "StopSettings",
    "SymbolConcentrationCheck",
    "TokenBucket",
    "is_reducing",
    "limit_checks",
    "no_rounding",
    "protective_orders",
    "protective_prices",
    "valuation_price",
]
