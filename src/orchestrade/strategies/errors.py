"""Errors raised by the strategies package: bad specs, bad parameters, bad signal arrays."""

from __future__ import annotations

from orchestrade.domain.errors import OrchestradeError


class StrategyError(OrchestradeError, ValueError):
    """Base class of every error raised by `orchestrade.strategies`.

    The message names what is wrong and, for a misspelt name, the closest valid one.
    """


class SpecError(StrategyError):
    """A strategy spec is invalid; the message starts with the JSON path of the bad field
    (``$.entry.all[1].gt[0]``) and says what was expected.

    Attributes:
        path: the JSON path of the bad field, ``$`` for the whole document.
    """

    def __init__(self, path: str, message: str) -> None:
        super().__init__(f"{path}: {message}")
        self.path = path


class ParameterError(StrategyError):
    """A strategy parameter is unknown, of the wrong type, or outside its range."""


class SignalArraysError(StrategyError):
    """Signal arrays have the wrong shape, dtype or values."""
