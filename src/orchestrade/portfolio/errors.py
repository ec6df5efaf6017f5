"""Errors of the portfolio context."""

from __future__ import annotations

from orchestrade.domain.errors import OrchestradeError


class LedgerError(OrchestradeError):
    """A ledger operation named an unknown account or broke an accounting rule."""


class OptimizationError(OrchestradeError):
    """No allocation could be computed: too little data, an objective the data cannot meet,
    a solver failure, or the optional optimizer missing; the message says which."""


class InfeasibleBoundsError(OptimizationError):
    """No weights within the bounds sum to 1 (lower x n > 1 or upper x n < 1)."""


class ReturnsFileError(OrchestradeError):
    """A return series file or price folder cannot be read; the message names it and why."""

    def __init__(self, path: object, reason: str) -> None:
        self.path = path
        self.reason = reason
        super().__init__(f"{path}: {reason}")


class RebalanceError(OrchestradeError):
    """A rebalance was misconfigured or asked of bots it cannot re-weight."""
