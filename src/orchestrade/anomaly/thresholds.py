"""Every threshold and window of the anomaly detectors, with the desk's defaults, in one value.

The defaults (issue 5): more than 20 trades in 10 minutes; 7 or more losses among the last 10
closed trades; slippage above 0.5% on a fill; a broker API error rate above 30% over a
sliding window; no heartbeat or activity from a running bot for 15 minutes; a price move
above 5% within 1 minute; volume above 10x its rolling average; a funding rate beyond
±0.1%; an order-book imbalance above 70% on the top levels; a daily portfolio loss above
10% trips the circuit breaker.

Fractions are plain numbers (0.05 = 5%), like `RiskSettings`; windows are seconds (`_s`) or
bar counts (`_bars`). A YAML or JSON section overrides any of them by field name, e.g.

```yaml
anomaly:
  max_trades: 30
  price_move_window_s: 300
  severities: {loss_streak: high}
```

Each detector reports with one severity, chosen so that the default rules (HIGH or worse
stops the bot) stop a bot only when it is broken, not when it merely has a bad day:

| detector | default | why |
| --- | --- | --- |
| trade_rate | HIGH | a runaway loop burns fees and capital within minutes |
| loss_streak | MEDIUM | strategies lose in streaks; a human looks before stopping |
| slippage | MEDIUM | one bad fill is a liquidity fact, not a broken bot |
| api_error_rate | HIGH | orders in doubt; the rules stop the bot (their own rule too) |
| inactivity | HIGH | a silent bot holds unmanaged positions |
| price_move | HIGH | a crash or spike within a minute; names a symbol, stops no bot |
| volume_spike | MEDIUM | unusual activity, often news |
| funding_rate | MEDIUM | carry cost of a perpetual turned extreme |
| book_imbalance | LOW | common and short-lived; context for the other findings |

Market findings (price, volume, funding, book) name a symbol and no bot, so the stop rules,
which act on the event's bot, leave every bot running: they inform the desk.
"""

from __future__ import annotations

import difflib
import math
from collections.abc import Mapping
from dataclasses import dataclass, field, fields
from enum import StrEnum
from pathlib import Path
from types import MappingProxyType
from typing import Any

import yaml

from orchestrade.anomaly.errors import AnomalyConfigurationError
from orchestrade.domain import Severity


class Detector(StrEnum):
    """The name each detector reports as `AnomalyDetected.detector` (rules match on it)."""

    TRADE_RATE = "trade_rate"
    LOSS_STREAK = "loss_streak"
    SLIPPAGE = "slippage"
    API_ERROR_RATE = "api_error_rate"
    INACTIVITY = "inactivity"
    PRICE_MOVE = "price_move"
    VOLUME_SPIKE = "volume_spike"
    FUNDING_RATE = "funding_rate"
    BOOK_IMBALANCE = "book_imbalance"


DAILY_LOSS_BREAKER = "daily_loss"
"""`CircuitBreakerTripped.breaker` of the daily-loss breaker (the default rules match on it)."""

DEFAULT_SEVERITIES: Mapping[Detector, Severity] = MappingProxyType(
    {
        Detector.TRADE_RATE: Severity.HIGH,
        Detector.LOSS_STREAK: Severity.MEDIUM,
        Detector.SLIPPAGE: Severity.MEDIUM,
        Detector.API_ERROR_RATE: Severity.HIGH,
        Detector.INACTIVITY: Severity.HIGH,
        Detector.PRICE_MOVE: Severity.HIGH,
        Detector.VOLUME_SPIKE: Severity.MEDIUM,
        Detector.FUNDING_RATE: Severity.MEDIUM,
        Detector.BOOK_IMBALANCE: Severity.LOW,
    }
)
"""The severity each detector reports with (see the module docstring for why)."""


@dataclass(frozen=True, slots=True)
class AnomalyThresholds:
    """When each detector reports, and over which window.

    Attributes:
        max_trades: a bot with more fills than this within `trade_window_s` is overtrading.
        trade_window_s: the trade-rate window (seconds).
        loss_streak_losses: this many losing trades or more ...
        loss_streak_trades: ... among a bot's last this-many closed trades.
        max_slippage_pct: adverse slippage of a fill beyond this fraction of its reference.
        max_api_error_rate: failed broker calls / calls beyond this fraction ...
        api_error_window_s: ... over the calls of this sliding window (seconds) ...
        api_error_min_calls: ... once the window holds at least this many calls.
        inactivity_s: a running bot silent (no heartbeat, signal or fill) this long.
        max_price_move_pct: a price move beyond this fraction ...
        price_move_window_s: ... within this many seconds.
        volume_spike_factor: a bar's volume beyond this multiple of ...
        volume_window_bars: ... the mean volume of the previous this-many bars.
        max_funding_rate: a perpetual's funding rate beyond ± this fraction.
        max_book_imbalance: |bid - ask| / (bid + ask) beyond this fraction ...
        book_levels: ... over the best this-many levels of each side.
        max_daily_loss_pct: the portfolio's loss since the session's start beyond which the
            circuit breaker trips (None: no breaker). Pass the risk settings' value so the
            breaker and the rule that acts on it agree.
        severities: the severity of each detector's findings.
    """

    max_trades: int = 20
    trade_window_s: float = 600.0
    loss_streak_losses: int = 7
    loss_streak_trades: int = 10
    max_slippage_pct: float = 0.005
    max_api_error_rate: float = 0.30
    api_error_window_s: float = 300.0
    api_error_min_calls: int = 10
    inactivity_s: float = 900.0
    max_price_move_pct: float = 0.05
    price_move_window_s: float = 60.0
    volume_spike_factor: float = 10.0
    volume_window_bars: int = 20
    max_funding_rate: float = 0.001
    max_book_imbalance: float = 0.70
    book_levels: int = 5
    max_daily_loss_pct: float | None = 0.10
    severities: Mapping[Detector, Severity] = field(default_factory=lambda: DEFAULT_SEVERITIES)

    def __post_init__(self) -> None:
        for name in ("max_trades", "loss_streak_losses", "loss_streak_trades"):
            _set(self, name, _count(name, getattr(self, name), minimum=1))
        for name in ("api_error_min_calls", "volume_window_bars", "book_levels"):
            _set(self, name, _count(name, getattr(self, name), minimum=1))
        if self.loss_streak_losses > self.loss_streak_trades:
            raise AnomalyConfigurationError(
                f"loss_streak_losses ({self.loss_streak_losses}) must be <= "
                f"loss_streak_trades ({self.loss_streak_trades})"
            )
        for name in (
            "trade_window_s",
            "api_error_window_s",
            "inactivity_s",
            "price_move_window_s",
            "volume_spike_factor",
        ):
            _set(self, name, _positive(name, getattr(self, name)))
        for name in (
            "max_slippage_pct",
            "max_api_error_rate",
            "max_price_move_pct",
            "max_funding_rate",
            "max_book_imbalance",
        ):
            _set(self, name, _fraction(name, getattr(self, name)))
        if self.max_daily_loss_pct is not None:
            _set(
                self,
                "max_daily_loss_pct",
                _fraction("max_daily_loss_pct", self.max_daily_loss_pct),
            )
        _set(self, "severities", _severities(self.severities))

    def severity(self, detector: Detector) -> Severity:
        """The severity `detector` reports with."""
        return self.severities[detector]

    @classmethod
    def from_mapping(cls, values: Mapping[str, Any] | None) -> AnomalyThresholds:
        """Defaults overridden by `values` (field name: value; `severities` a mapping of
        detector: level, merged over the defaults).

        Raises:
            AnomalyConfigurationError: an unknown field (with the closest valid name) or a
                value out of range.
        """
        if values is None:
            return cls()
        if not isinstance(values, Mapping):
            raise AnomalyConfigurationError(
                f"anomaly thresholds must be a mapping of field: value, got {values!r}"
            )
        known = [item.name for item in fields(cls)]
        for key in values:
            if key not in known:
                close = difflib.get_close_matches(str(key), known, n=1)
                hint = f" (did you mean {close[0]}?)" if close else ""
                raise AnomalyConfigurationError(f"unknown anomaly threshold {key!r}{hint}")
        chosen = dict(values)
        if "severities" in chosen:
            overrides = chosen["severities"]
            if not isinstance(overrides, Mapping):
                raise AnomalyConfigurationError(
                    f"severities must be a mapping of detector: level, got {overrides!r}"
                )
            chosen["severities"] = {**DEFAULT_SEVERITIES, **overrides}
        return cls(**chosen)


def load_thresholds(path: Path | str, *, section: str = "anomaly") -> AnomalyThresholds:
    """Read thresholds from a YAML or JSON file: its `section` mapping when it has one (a
    settings file with other sections), else the whole file.

    Raises:
        AnomalyConfigurationError: the file cannot be read or parsed, or a value is invalid
            (the message names the file).
    """
    path = Path(path).expanduser()
    try:
        loaded = yaml.safe_load(path.read_text(encoding="utf-8"))
    except OSError as error:
        raise AnomalyConfigurationError(
            f"{path}: cannot read anomaly thresholds: {error.strerror}"
        ) from None
    except yaml.YAMLError as error:
        raise AnomalyConfigurationError(f"{path}: not valid YAML or JSON: {error}") from None
    if loaded is None:
        loaded = {}
    if not isinstance(loaded, dict):
        raise AnomalyConfigurationError(f"{path}: expected a mapping of field: value")
    values = loaded.get(section, loaded)
    try:
        return AnomalyThresholds.from_mapping(values)
    except AnomalyConfigurationError as error:
        raise AnomalyConfigurationError(f"{path}: {error}") from None


def format_duration(seconds: float) -> str:
    """A window for people: 45 s, 10 min, 1.5 h."""
    if seconds < 60:
        return f"{seconds:g} s"
    if seconds < 3600:
        return f"{seconds / 60:g} min"
    return f"{seconds / 3600:g} h"


def _set(instance: object, name: str, value: object) -> None:
    object.__setattr__(instance, name, value)


def _count(name: str, value: object, *, minimum: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < minimum:
        raise AnomalyConfigurationError(f"{name} must be an integer >= {minimum}, got {value!r}")
    return value


def _positive(name: str, value: object) -> float:
    if (
        isinstance(value, bool)
        or not isinstance(value, int | float)
        or not math.isfinite(value)
        or value <= 0
    ):
        raise AnomalyConfigurationError(f"{name} must be a finite number > 0, got {value!r}")
    return float(value)


def _fraction(name: str, value: object) -> float:
    number = _positive(name, value)
    if number > 1:
        raise AnomalyConfigurationError(
            f"{name} is a fraction (0.05 = 5%) and must be <= 1, got {value!r}"
        )
    return number


def _severities(values: object) -> Mapping[Detector, Severity]:
    if not isinstance(values, Mapping):
        raise AnomalyConfigurationError(
            f"severities must be a mapping of detector: level, got {values!r}"
        )
    chosen: dict[Detector, Severity] = dict(DEFAULT_SEVERITIES)
    for key, level in values.items():
        try:
            detector = Detector(key)
        except ValueError:
            names = ", ".join(item.value for item in Detector)
            raise AnomalyConfigurationError(
                f"severities: unknown detector {key!r}; detectors are {names}"
            ) from None
        try:
            chosen[detector] = Severity(str(level).lower())
        except ValueError:
            levels = ", ".join(item.value for item in Severity)
            raise AnomalyConfigurationError(
                f"severities.{detector.value}: unknown level {level!r}; levels are {levels}"
            ) from None
    return MappingProxyType(chosen)
