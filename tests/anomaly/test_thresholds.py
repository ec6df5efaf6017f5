"""AnomalyThresholds: the issue's defaults, validation that names the field, YAML sections."""

from __future__ import annotations

from pathlib import Path

import pytest

from orchestrade.anomaly import (
    DEFAULT_SEVERITIES,
    AnomalyConfigurationError,
    AnomalyThresholds,
    Detector,
    load_thresholds,
)
from orchestrade.domain import Severity


def test_defaults_are_the_desks_thresholds() -> None:
    thresholds = AnomalyThresholds()

    assert (thresholds.max_trades, thresholds.trade_window_s) == (20, 600.0)
    assert (thresholds.loss_streak_losses, thresholds.loss_streak_trades) == (7, 10)
    assert thresholds.max_slippage_pct == 0.005
    assert thresholds.max_api_error_rate == 0.30
    assert thresholds.inactivity_s == 900.0
    assert (thresholds.max_price_move_pct, thresholds.price_move_window_s) == (0.05, 60.0)
    assert thresholds.volume_spike_factor == 10.0
    assert thresholds.max_funding_rate == 0.001
    assert thresholds.max_book_imbalance == 0.70
    assert thresholds.max_daily_loss_pct == 0.10


def test_every_detector_has_a_default_severity_and_the_broken_bot_ones_are_high() -> None:
    thresholds = AnomalyThresholds()

    assert set(DEFAULT_SEVERITIES) == set(Detector)
    assert thresholds.severity(Detector.API_ERROR_RATE) is Severity.HIGH
    assert thresholds.severity(Detector.TRADE_RATE) is Severity.HIGH
    assert thresholds.severity(Detector.INACTIVITY) is Severity.HIGH
    assert thresholds.severity(Detector.LOSS_STREAK) is Severity.MEDIUM
    assert thresholds.severity(Detector.BOOK_IMBALANCE) is Severity.LOW


def test_a_mapping_overrides_fields_and_merges_severities_over_the_defaults() -> None:
    thresholds = AnomalyThresholds.from_mapping(
        {"max_trades": 30, "price_move_window_s": 300, "severities": {"loss_streak": "HIGH"}}
    )

    assert thresholds.max_trades == 30
    assert thresholds.price_move_window_s == 300.0
    assert thresholds.severity(Detector.LOSS_STREAK) is Severity.HIGH
    assert thresholds.severity(Detector.SLIPPAGE) is Severity.MEDIUM


@pytest.mark.parametrize(
    ("values", "message"),
    [
        ({"max_trade": 3}, "unknown anomaly threshold 'max_trade' (did you mean max_trades?)"),
        ({"max_trades": 0}, "max_trades must be an integer >= 1, got 0"),
        ({"max_trades": True}, "max_trades must be an integer >= 1, got True"),
        ({"max_slippage_pct": 5}, "max_slippage_pct is a fraction (0.05 = 5%) and must be <= 1"),
        ({"inactivity_s": -1}, "inactivity_s must be a finite number > 0, got -1"),
        ({"trade_window_s": float("nan")}, "trade_window_s must be a finite number > 0"),
        ({"loss_streak_losses": 11}, "loss_streak_losses (11) must be <= loss_streak_trades (10)"),
        ({"severities": {"price_jump": "high"}}, "severities: unknown detector 'price_jump'"),
        ({"severities": {"slippage": "urgent"}}, "severities.slippage: unknown level 'urgent'"),
        ({"max_daily_loss_pct": 0}, "max_daily_loss_pct must be a finite number > 0, got 0"),
    ],
)
def test_bad_values_are_refused_with_the_field_named(
    values: dict[str, object], message: str
) -> None:
    with pytest.raises(AnomalyConfigurationError) as error:
        AnomalyThresholds.from_mapping(values)

    assert message in str(error.value)


def test_the_daily_loss_breaker_can_be_switched_off() -> None:
    assert AnomalyThresholds(max_daily_loss_pct=None).max_daily_loss_pct is None


def test_a_yaml_file_is_read_from_its_anomaly_section_or_as_a_whole(tmp_path: Path) -> None:
    settings = tmp_path / "settings.yaml"
    settings.write_text("risk: {max_position_pct: 0.5}\nanomaly:\n  max_trades: 12\n")
    plain = tmp_path / "anomaly.yaml"
    plain.write_text("volume_window_bars: 30\n")

    assert load_thresholds(settings).max_trades == 12
    assert load_thresholds(plain).volume_window_bars == 30


def test_a_bad_file_is_one_error_naming_the_file(tmp_path: Path) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text("anomaly: {max_trades: many}\n")

    with pytest.raises(AnomalyConfigurationError, match=r"bad\.yaml: max_trades must be"):
        load_thresholds(bad)
    with pytest.raises(AnomalyConfigurationError, match="cannot read anomaly thresholds"):
        load_thresholds(tmp_path / "missing.yaml")
