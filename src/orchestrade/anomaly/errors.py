"""Errors raised by the anomaly detectors: bad thresholds, unreadable threshold files."""

from __future__ import annotations

from orchestrade.domain.errors import OrchestradeError


class AnomalyError(OrchestradeError):
    """Base class of every error raised by `orchestrade.anomaly`."""


class AnomalyConfigurationError(AnomalyError, ValueError):
    """A threshold, window or severity is invalid; the message names the field and value."""
