"""Errors of the paper broker that are not broker answers (settings, its state file)."""

from __future__ import annotations

from orchestrade.domain.errors import OrchestradeError
from orchestrade.execution.broker_errors import BrokerNetworkError


class PaperBrokerError(OrchestradeError):
    """Base class of the paper broker's own errors."""


class PaperSettingsError(PaperBrokerError, ValueError):
    """A paper broker setting is out of range: a human must fix the configuration."""


class PaperAccountMismatchError(PaperBrokerError):
    """The state file belongs to another account (currency or starting cash differ)."""


class PaperStoreError(BrokerNetworkError):
    """The paper broker could not write its state file; nothing of the call was kept, so
    the call may be retried (every call is idempotent on the client order id)."""
