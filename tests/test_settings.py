"""Settings: defaults, environment overrides and the derived database URL."""

from __future__ import annotations

from pathlib import Path

import pytest
from pydantic import ValidationError

from orchestrade.settings import Settings


def test_default_database_is_sqlite_file_under_home(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("ORCHESTRADE_HOME", str(tmp_path))

    settings = Settings()

    assert settings.home == tmp_path
    assert settings.database_url == f"sqlite:///{tmp_path / 'orchestrade.db'}"


def test_environment_sets_nested_storage_url(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ORCHESTRADE_STORAGE__URL", "postgresql+psycopg://u@h:5432/db")

    assert Settings().database_url == "postgresql+psycopg://u@h:5432/db"


def test_unknown_setting_is_refused() -> None:
    with pytest.raises(ValidationError, match="brokr"):
        Settings(brokr="paper")  # type: ignore[call-arg]
