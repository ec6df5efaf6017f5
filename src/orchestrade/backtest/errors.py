"""Errors of the backtest workflow: a bad configuration or inputs that do not fit together."""

from __future__ import annotations

from orchestrade.domain.errors import OrchestradeError


class BacktestError(OrchestradeError):
    """Base of every error the backtest package raises on purpose."""


class ConfigError(BacktestError, ValueError):
    """A simulation setting is out of range or inconsistent; the message names the field."""


class InputError(BacktestError, ValueError):
    """Prices or signals handed to the kernel do not match in shape, type, symbols or times,
    or hold a value the kernel cannot price (a zero or negative price)."""
