"""Errors of the trading repositories (database failures themselves raise `StoreError`)."""

from __future__ import annotations

from orchestrade.data.errors import StoreError
from orchestrade.domain.errors import OrchestradeError


class UnknownBotError(OrchestradeError, LookupError):
    """A bot id asked for is not stored."""


class OrderIdConflictError(StoreError):
    """A client order id is already recorded for a different order (symbol or side differ).

    Client order ids are the idempotency key at every broker: reusing one for another
    order would make the broker treat it as a retry of the first, so the write is refused.
    """
