"""Errors of the portfolio context."""

from __future__ import annotations

from orchestrade.domain.errors import OrchestradeError


class LedgerError(OrchestradeError):
    """A ledger operation named an unknown account or broke an accounting rule."""
