"""Settings: defaults, environment overrides and the derived database URL."""

from __future__ import annotations

from pathlib import Path

import pytest
from pydantic import ValidationError

from orchestrade.settings import RiskSettings, Settings, SettingsError, load_risk_settings


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


def test_risk_file_overrides_defaults(tmp_path: Path) -> None:
    path = tmp_path / "risk.yaml"
    path.write_text("max_position_pct: 0.2\nmax_open_positions: 5\n", encoding="utf-8")

    risk = load_risk_settings(path)

    assert risk == RiskSettings(max_position_pct=0.2, max_open_positions=5)
    assert risk.max_daily_loss_pct == 0.10


def test_risk_none_disables_every_limit() -> None:
    assert load_risk_settings("none").enabled is False


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("max_position_pct: -1\n", "max_position_pct"),
        ("max_positon_pct: 0.2\n", "max_positon_pct"),
        ("- 1\n- 2\n", "mapping"),
        ("a: [\n", "not valid YAML"),
    ],
)
def test_bad_risk_file_names_file_and_field(tmp_path: Path, text: str, message: str) -> None:
    path = tmp_path / "risk.yaml"
    path.write_text(text, encoding="utf-8")

    with pytest.raises(SettingsError, match=message) as raised:
        load_risk_settings(path)

    assert "risk.yaml" in str(raised.value)


def test_missing_risk_file_is_a_settings_error(tmp_path: Path) -> None:
    with pytest.raises(SettingsError, match="cannot read"):
        load_risk_settings(tmp_path / "absent.yaml")


def test_default_rules_require_confidence_of_065() -> None:
    assert Settings().rules.min_confidence == 0.65
