"""Options shared by several commands, and opening the store they name."""

from __future__ import annotations

from typing import Annotated

import typer

from orchestrade.domain import Market
from orchestrade.settings import Settings
from orchestrade.storage import Store, open_store

DatabaseOption = Annotated[
    str | None,
    typer.Option(
        "--db",
        help="SQLAlchemy URL of the store (default: SQLite under ORCHESTRADE_HOME).",
        show_default=False,
    ),
]
MarketOption = Annotated[
    Market | None,
    typer.Option("--market", case_sensitive=False, help="krx, us or crypto (default: inferred)."),
]
JsonOption = Annotated[bool, typer.Option("--json", help="Print JSON instead of tables.")]


def open_database(url: str | None) -> Store:
    """Open the store at `url`, or the one the settings name (created and migrated if new)."""
    return open_store(url or Settings().database_url)
