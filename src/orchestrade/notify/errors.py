"""Errors of the notification senders: a bad notification file, a delivery that failed."""

from __future__ import annotations

from orchestrade.domain import OrchestradeError


class NotifyError(OrchestradeError):
    """Base class of every error raised by `orchestrade.notify`."""


class NotifyConfigError(NotifyError, ValueError):
    """The notification settings are wrong (a human must fix them).

    The message names the file (when there is one) and the field at fault, e.g.
    ``notify.yaml: routes[1].events: unknown event type 'OrderFiled'``.
    """


class DeliveryError(NotifyError):
    """A notification could not be delivered (only raised where a caller waits for the
    outcome, as `orchestrade notify test` does; background delivery counts and logs)."""
