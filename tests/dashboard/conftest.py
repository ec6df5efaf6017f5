"""An API app (with its dashboard) over a scratch store, and a client on it."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from pydantic import SecretStr

from fakes.auth import JWT_SECRET, cheap_hasher
from orchestrade.api import create_app
from orchestrade.settings import ApiSettings
from orchestrade.storage import open_store


@pytest.fixture
def client(tmp_path: Path) -> Iterator[TestClient]:
    """A client of `create_app` over an empty SQLite store (no trading node)."""
    with open_store(f"sqlite:///{tmp_path / 'dashboard.db'}") as store:
        app = create_app(
            store, ApiSettings(jwt_secret=SecretStr(JWT_SECRET)), passwords=cheap_hasher()
        )
        with TestClient(app, raise_server_exceptions=False) as test_client:
            yield test_client
