"""Errors raised by domain constructors and state changes: bad values, illegal transitions."""

from __future__ import annotations


class OrchestradeError(Exception):
    """Root of the project's own errors: each package's base error derives from it.

    It marks a problem the caller can understand and act on (bad input, bad file, refused
    message); the CLI prints it as one line instead of a traceback.
    """


class DomainError(OrchestradeError):
    """Base class of every error raised by `orchestrade.domain`."""


class ValidationError(DomainError, ValueError):
    """A domain value was built from bad input (naive time, negative quantity, ...).

    It is a `ValueError` too, so decoders (msgspec) that call constructors report it as a
    validation problem of the message rather than crashing.
    """


class InvalidTransitionError(DomainError):
    """An order was asked to move between two statuses the state machine does not connect."""


class MissingPriceError(DomainError):
    """A valuation needed the price of a symbol that was not supplied."""
