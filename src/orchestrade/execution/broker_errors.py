"""Errors a broker adapter raises, classified so that retry policies know what to do.

Adapters translate their wire failures into these classes; the OMS and the resilience
wrapper (`orchestrade.execution.resilience`) never look at vendor exceptions.
"""

from __future__ import annotations

from enum import StrEnum

from orchestrade.domain.errors import OrchestradeError


class ErrorClass(StrEnum):
    """How a failure is retried: network (exponential), data (linear), calculation (never)."""

    NETWORK = "network"
    DATA = "data"
    CALCULATION = "calculation"


class BrokerError(OrchestradeError):
    """A broker call failed; `error_class` decides whether and how it is retried."""

    error_class: ErrorClass = ErrorClass.CALCULATION


class BrokerNetworkError(BrokerError):
    """The broker could not be reached or did not answer (connection, timeout)."""

    error_class = ErrorClass.NETWORK


class BrokerTimeoutError(BrokerNetworkError):
    """The broker did not answer within the call's timeout."""


class BrokerRateLimitedError(BrokerNetworkError):
    """The broker refused the call for exceeding its rate limit; retry later."""


class BrokerDataError(BrokerError):
    """The broker answered with something we could not understand (bad or missing fields)."""

    error_class = ErrorClass.DATA


class BrokerRejectedError(BrokerError):
    """The broker understood and refused the request (e.g. insufficient cash): never retried."""

    error_class = ErrorClass.CALCULATION
