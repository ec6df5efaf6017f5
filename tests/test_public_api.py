"""The front door of the package stays small and deliberate, and cheap to import."""

from __future__ import annotations

import subprocess
import sys

import pytest

import orchestrade


def test_top_level_names_are_pinned() -> None:
    assert orchestrade.__all__ == [
        "Backtest",
        "Bar",
        "BarPanel",
        "Instrument",
        "Market",
        "Signal",
        "Strategy",
        "load_bars",
    ]


def test_every_exported_name_exists() -> None:
    missing = [name for name in orchestrade.__all__ if getattr(orchestrade, name, None) is None]

    assert missing == []


def test_unknown_name_is_an_attribute_error() -> None:
    with pytest.raises(AttributeError, match="Backtset"):
        orchestrade.Backtset  # type: ignore[attr-defined]  # noqa: B018


def test_kernel_import_does_not_load_the_store_or_calendars() -> None:
    code = (
        "import sys, orchestrade.backtest.kernel; "
        "print(sorted(m for m in ('sqlalchemy', 'exchange_calendars') if m in sys.modules))"
    )

    loaded = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    ).stdout.strip()

    assert loaded == "[]"
