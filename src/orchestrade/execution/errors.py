"""Errors of the OMS itself (the broker's own failures are in `broker_errors`)."""

from __future__ import annotations

from orchestrade.domain.errors import OrchestradeError


class ExecutionError(OrchestradeError):
    """Base class of the OMS's errors."""


class UnknownOrderError(ExecutionError, LookupError):
    """An operation named a client order id the OMS has never recorded."""


class InvalidOrderError(ExecutionError, ValueError):
    """An order cannot be submitted as given (e.g. it is not NEW)."""


class NotStartedError(ExecutionError):
    """The OMS was used before `start()` loaded its journal and subscribed to the broker."""
