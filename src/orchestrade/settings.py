"""The one typed Settings object: defaults < settings file < environment < CLI flags.

The composition root (CLI, later `orchestration`) builds one `Settings` and hands each
context the slice it needs; nothing imports a global settings instance.
"""

from __future__ import annotations

from pathlib import Path

from pydantic import BaseModel, Field
from pydantic_settings import BaseSettings, SettingsConfigDict


def default_home() -> Path:
    """Where orchestrade keeps its embedded database and files (`~/.orchestrade`)."""
    return Path.home() / ".orchestrade"


class StorageSettings(BaseModel):
    """Where persistent state lives.

    `url` is a SQLAlchemy URL; empty means the embedded SQLite file under the home folder.
    """

    url: str = ""


class Settings(BaseSettings):
    """Process-wide configuration; env vars use the `ORCHESTRADE_` prefix and `__` nesting.

    Example: `ORCHESTRADE_HOME=/srv/ot ORCHESTRADE_STORAGE__URL=postgresql+psycopg://...`.
    """

    model_config = SettingsConfigDict(
        env_prefix="ORCHESTRADE_", env_nested_delimiter="__", extra="forbid"
    )

    home: Path = Field(default_factory=default_home)
    storage: StorageSettings = StorageSettings()

    @property
    def database_url(self) -> str:
        """The storage URL, defaulting to `sqlite:///<home>/orchestrade.db`."""
        if self.storage.url:
            return self.storage.url
        return f"sqlite:///{self.home / 'orchestrade.db'}"
