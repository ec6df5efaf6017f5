"""The front door of the package stays small and deliberate."""

from __future__ import annotations

import orchestrade


def test_top_level_names_are_pinned() -> None:
    assert orchestrade.__all__ == ["Bar", "BarPanel", "Instrument", "Market", "Signal", "load_bars"]


def test_every_exported_name_exists() -> None:
    missing = [name for name in orchestrade.__all__ if not hasattr(orchestrade, name)]

    assert missing == []
