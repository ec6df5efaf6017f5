"""Order execution: the OMS (write-ahead routing, state machine, reconciliation) and its ports."""

from orchestrade.execution.audit import AUDIT_LOGGER, audit_line
from orchestrade.execution.broker_errors import (
    BrokerDataError,
    BrokerError,
    BrokerNetworkError,
    BrokerRateLimitedError,
    BrokerRejectedError,
    BrokerTimeoutError,
    ErrorClass,
)
from orchestrade.execution.errors import (
    ExecutionError,
    InvalidOrderError,
    NotStartedError,
    UnknownOrderError,
)
from orchestrade.execution.oms import Clock, OmsEvent, OmsListener, OrderManager
from orchestrade.execution.ports import (
    Broker,
    BrokerUpdate,
    FillUpdate,
    OrderJournal,
    OrderUpdate,
    UpdateListener,
)
from orchestrade.execution.reconciliation import (
    NEVER_SENT_REASON,
    Difference,
    DifferenceKind,
    ReconciliationReport,
    journal_positions,
    reconcile,
)

__all__ = [
    "AUDIT_LOGGER",
    "NEVER_SENT_REASON",
    "Broker",
    "BrokerDataError",
    "BrokerError",
    "BrokerNetworkError",
    "BrokerRateLimitedError",
    "BrokerRejectedError",
    "BrokerTimeoutError",
    "BrokerUpdate",
    "Clock",
    "Difference",
    "DifferenceKind",
    "ErrorClass",
    "ExecutionError",
    "FillUpdate",
    "InvalidOrderError",
    "NotStartedError",
    "OmsEvent",
    "OmsListener",
    "OrderJournal",
    "OrderManager",
    "OrderUpdate",
    "ReconciliationReport",
    "UnknownOrderError",
    "UpdateListener",
    "audit_line",
    "journal_positions",
    "reconcile",
]
