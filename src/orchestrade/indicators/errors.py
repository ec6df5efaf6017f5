"""The one error the indicators package raises for bad names, parameters or inputs."""

from __future__ import annotations

from orchestrade.domain.errors import OrchestradeError


class IndicatorError(OrchestradeError, ValueError):
    """An indicator was asked for something it cannot do: unknown name, bad parameter or input.

    The message names what is wrong and, for a misspelt name, the closest valid one.
    """
