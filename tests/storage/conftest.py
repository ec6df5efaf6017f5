"""Storage fixtures: a migrated store on each backend."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from orchestrade.storage import Store, open_store


@pytest.fixture
def store(database_url: str) -> Iterator[Store]:
    """A freshly migrated store on SQLite and on PostgreSQL."""
    with open_store(database_url) as opened:
        yield opened
