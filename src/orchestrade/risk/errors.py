"""Errors raised by the risk engine: bad limits, bad check configuration."""

from __future__ import annotations

from orchestrade.domain.errors import OrchestradeError


class RiskError(OrchestradeError):
    """Base class of every error raised by `orchestrade.risk`."""


class RiskConfigurationError(RiskError, ValueError):
    """A limit, a check parameter or a run-time change of the limits is invalid.

    The message names the field and the value; the limits in force are left unchanged.
    """
