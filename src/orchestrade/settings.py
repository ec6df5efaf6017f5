"""The one typed Settings object: defaults < settings file < environment < CLI flags.

The composition root (CLI, later `orchestration`) builds one `Settings` and hands each
context the slice it needs; nothing imports a global settings instance.
"""

from __future__ import annotations

from pathlib import Path

import yaml
from pydantic import BaseModel, ConfigDict, Field, SecretStr, ValidationError
from pydantic_settings import BaseSettings, SettingsConfigDict

from orchestrade.domain.errors import OrchestradeError


class SettingsError(OrchestradeError):
    """A settings file or value is wrong: a human must fix it (names the file and field)."""


def default_home() -> Path:
    """Where orchestrade keeps its embedded database and files (`~/.orchestrade`)."""
    return Path.home() / ".orchestrade"


class StorageSettings(BaseModel):
    """Where persistent state lives.

    `url` is a SQLAlchemy URL; empty means the embedded SQLite file under the home folder.
    """

    url: str = ""


class RiskSettings(BaseModel):
    """Pre-trade limits; the backtest kernel and the live risk engine read the same object.

    Fractions are of equity (0.25 = 25%). `None` switches a limit off; `enabled=False`
    switches them all off (`--risk none`).
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    enabled: bool = True
    max_position_pct: float | None = Field(default=1.0, gt=0)
    """Largest position in one symbol after the order, as a fraction of equity."""
    max_open_positions: int | None = Field(default=None, ge=1)
    """Most symbols held at once (portfolio-wide)."""
    max_daily_loss_pct: float | None = Field(default=0.10, gt=0, le=1)
    """Loss since the day's first equity beyond which no new position is opened that day."""
    max_price_deviation_pct: float | None = Field(default=0.05, gt=0)
    """Fat finger: an order price further than this from the last trade is refused."""
    max_order_notional: float | None = Field(default=None, gt=0)
    """Largest value of one order in the instrument's currency."""

    @classmethod
    def disabled(cls) -> RiskSettings:
        """No limit at all (`--risk none`)."""
        return cls(enabled=False)


class RulesSettings(BaseModel):
    """The trading desk's decision policy that both backtest and live orchestrator apply."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    min_confidence: float = Field(default=0.65, ge=0, le=1)
    """Signals with a lower confidence are not traded."""


class ApiSettings(BaseModel):
    """The REST API: the key that signs login tokens, how long they last, browser origins.

    `jwt_secret` (env `ORCHESTRADE_API__JWT_SECRET`) or `jwt_secret_file` (e.g. a container
    secret) holds at least 32 bytes; with neither, each process draws a random key, so
    tokens end when it stops. No origin may call the API from a browser unless listed in
    `cors_origins` (env `ORCHESTRADE_API__CORS_ORIGINS='["https://desk.example"]'`).
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    jwt_secret: SecretStr | None = None
    jwt_secret_file: Path | None = None
    token_lifetime_s: int = Field(default=900, ge=60, le=86_400)
    """Lifetime of a login token (short: scripts use API keys)."""
    cors_origins: tuple[str, ...] = ()
    login_attempts_per_minute: int = Field(default=5, ge=1, le=1000)
    """Login attempts allowed per user name and client address (a burst of as many)."""


class Settings(BaseSettings):
    """Process-wide configuration; env vars use the `ORCHESTRADE_` prefix and `__` nesting.

    Example: `ORCHESTRADE_HOME=/srv/ot ORCHESTRADE_STORAGE__URL=postgresql+psycopg://...`.
    """

    model_config = SettingsConfigDict(
        env_prefix="ORCHESTRADE_", env_nested_delimiter="__", extra="forbid"
    )

    home: Path = Field(default_factory=default_home)
    storage: StorageSettings = StorageSettings()
    risk: RiskSettings = RiskSettings()
    rules: RulesSettings = RulesSettings()
    api: ApiSettings = ApiSettings()

    @property
    def database_url(self) -> str:
        """The storage URL, defaulting to `sqlite:///<home>/orchestrade.db`."""
        if self.storage.url:
            return self.storage.url
        return f"sqlite:///{self.home / 'orchestrade.db'}"


def load_risk_settings(source: str | Path) -> RiskSettings:
    """Read risk limits from a YAML or JSON file, or `none` for no limits.

    Raises:
        SettingsError: the file is missing, unreadable, or a field is unknown or out of range
            (the message names the file and the field).
    """
    if str(source).lower() == "none":
        return RiskSettings.disabled()
    path = Path(source).expanduser()
    try:
        loaded = yaml.safe_load(path.read_text(encoding="utf-8"))
    except OSError as error:
        raise SettingsError(f"{path}: cannot read risk settings: {error.strerror}") from error
    except yaml.YAMLError as error:
        raise SettingsError(f"{path}: not valid YAML or JSON: {error}") from error
    if loaded is None:
        loaded = {}
    if not isinstance(loaded, dict):
        raise SettingsError(f"{path}: risk settings must be a mapping of field: value")
    try:
        return RiskSettings.model_validate(loaded)
    except ValidationError as error:
        problems = "; ".join(
            f"{'.'.join(str(part) for part in item['loc'])}: {item['msg']}"
            for item in error.errors()
        )
        raise SettingsError(f"{path}: {problems}") from error
