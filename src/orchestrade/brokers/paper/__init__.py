"""The paper broker: a persistent simulated cash account that fills like the backtest kernel."""

from orchestrade.brokers.paper.broker import PaperBroker
from orchestrade.brokers.paper.errors import (
    PaperAccountMismatchError,
    PaperBrokerError,
    PaperSettingsError,
    PaperStoreError,
)
from orchestrade.brokers.paper.faults import Fault, FaultyBroker
from orchestrade.brokers.paper.settings import FillTiming, PaperSettings, SymbolRules
from orchestrade.brokers.paper.store import MarketPhase, MarketRecord

__all__ = [
    "Fault",
    "FaultyBroker",
    "FillTiming",
    "MarketPhase",
    "MarketRecord",
    "PaperAccountMismatchError",
    "PaperBroker",
    "PaperBrokerError",
    "PaperSettings",
    "PaperSettingsError",
    "PaperStoreError",
    "SymbolRules",
]
