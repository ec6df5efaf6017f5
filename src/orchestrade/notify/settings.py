"""The notification settings: channels, routes and delivery, from a YAML file.

The file (``ORCHESTRADE_HOME/notify.yaml`` by default) is either the notification settings
themselves or a larger settings file with a ``notify:`` section::

    notify:
      channels:
        ops:
          type: telegram
          token: {env: ORCHESTRADE_TELEGRAM_TOKEN}     # or {file: ~/.orchestrade/tg_token}
          chat_id: "-1001234567890"
        desk:
          type: slack
          webhook_url: {env: ORCHESTRADE_SLACK_WEBHOOK_URL}
        audit:
          type: webhook
          url: https://example.com/hooks/orchestrade    # or {env: NAME} when it is secret
          secret: {env: ORCHESTRADE_WEBHOOK_SECRET}       # optional, sent as a header
      routes:
        - {channel: ops, events: [AnomalyDetected, CircuitBreakerTripped, rule], min_severity: high}
        - {channel: desk, events: [OrderFilled, RiskRejected, BotStateChanged]}
        - {channel: audit, events: ["*"]}
      delivery: {queue_size: 100, overflow: drop_oldest, max_attempts: 5}

Secrets (the Telegram token, the Slack webhook URL, the webhook's shared secret) are never
written in the file: it says where to read them, ``{env: NAME}`` or ``{file: PATH}``, and
they are read when the channels are opened (`NotifySettings.open_channels`). Errors name the
file and the field: ``notify.yaml: routes[1].events: unknown event type 'OrderFiled'``.
"""

from __future__ import annotations

from collections.abc import Mapping
from enum import StrEnum
from pathlib import Path
from typing import Annotated, Any, Literal

import yaml
from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    SecretStr,
    ValidationError,
    field_validator,
)
from pydantic import model_validator as model_check

from orchestrade.domain import Severity
from orchestrade.notify.channels import Channel
from orchestrade.notify.errors import NotifyConfigError
from orchestrade.notify.routing import ALL, Route, Routing
from orchestrade.notify.secrets import SecretSource
from orchestrade.notify.slack import SlackChannel
from orchestrade.notify.telegram import TELEGRAM_API, TelegramChannel
from orchestrade.notify.webhook import DEFAULT_SECRET_HEADER, WebhookChannel

SECTION = "notify"
"""The key of the notification section in a larger settings file."""

_STRICT = ConfigDict(extra="forbid", frozen=True)


class SecretReference(BaseModel):
    """Where a secret is read: ``{env: NAME}`` or ``{file: PATH}``."""

    model_config = _STRICT

    env: str | None = None
    file: Path | None = None

    @model_check(mode="before")
    @classmethod
    def _not_the_secret_itself(cls, value: Any) -> Any:
        if isinstance(value, str):
            raise ValueError(
                "secrets are not written in settings files: write {env: VARIABLE} or "
                "{file: PATH} and put the secret there"
            )
        return value

    @model_check(mode="after")
    def _one_source(self) -> SecretReference:
        if (self.env is None) == (self.file is None):
            raise ValueError("name exactly one of env or file")
        if self.env is not None and not self.env.strip():
            raise ValueError("env must name an environment variable")
        return self

    def read(self, field: str, environ: Mapping[str, str] | None) -> SecretStr:
        """The secret (see `SecretSource.read`)."""
        return SecretSource(env=self.env, file=self.file).read(field, environ)


class TelegramSettings(BaseModel):
    """A Telegram chat (see `orchestrade.notify.telegram`)."""

    model_config = _STRICT

    type: Literal["telegram"]
    token: SecretReference
    chat_id: str
    base_url: str = TELEGRAM_API

    @field_validator("chat_id", mode="before")
    @classmethod
    def _chat_id_as_text(cls, value: Any) -> Any:
        # Group ids are negative numbers that YAML reads as ints.
        return str(value) if isinstance(value, int) and not isinstance(value, bool) else value

    def open(self, name: str, environ: Mapping[str, str] | None) -> TelegramChannel:
        token = self.token.read(f"channels.{name}.token", environ)
        return TelegramChannel(name, token, self.chat_id, self.base_url)


class SlackSettings(BaseModel):
    """A Slack incoming webhook (see `orchestrade.notify.slack`)."""

    model_config = _STRICT

    type: Literal["slack"]
    webhook_url: SecretReference

    def open(self, name: str, environ: Mapping[str, str] | None) -> SlackChannel:
        return SlackChannel(name, self.webhook_url.read(f"channels.{name}.webhook_url", environ))


class WebhookSettings(BaseModel):
    """A generic JSON webhook (see `orchestrade.notify.webhook`)."""

    model_config = _STRICT

    type: Literal["webhook"]
    url: str | SecretReference
    secret: SecretReference | None = None
    secret_header: str = DEFAULT_SECRET_HEADER

    def open(self, name: str, environ: Mapping[str, str] | None) -> WebhookChannel:
        url = (
            SecretStr(self.url)
            if isinstance(self.url, str)
            else self.url.read(f"channels.{name}.url", environ)
        )
        secret = (
            None if self.secret is None else self.secret.read(f"channels.{name}.secret", environ)
        )
        return WebhookChannel(name, url, secret, self.secret_header)


ChannelSettings = Annotated[
    TelegramSettings | SlackSettings | WebhookSettings, Field(discriminator="type")
]

_CHANNEL_TYPES = ("telegram", "slack", "webhook")


class RouteSettings(BaseModel):
    """One route (see `orchestrade.notify.routing`)."""

    model_config = _STRICT

    channel: str
    events: tuple[str, ...] = (ALL,)
    min_severity: Severity = Severity.LOW

    @field_validator("events", mode="after")
    @classmethod
    def _known_events(cls, events: tuple[str, ...]) -> tuple[str, ...]:
        try:
            Route("-", frozenset(events))
        except NotifyConfigError as error:
            raise ValueError(str(error).removeprefix("events: ")) from None
        return events

    def route(self) -> Route:
        return Route(self.channel, frozenset(self.events), self.min_severity)


class Overflow(StrEnum):
    """What happens to a notification that finds its channel's queue full.

    - ``drop_oldest`` (default): the oldest waiting one is dropped; people see the current
      state rather than a backlog of stale alerts.
    - ``drop_newest``: the new one is dropped; the first alerts of a storm, often the root
      cause, are kept.

    Either way the drop is counted (`ChannelCounters.dropped`) and logged.
    """

    DROP_OLDEST = "drop_oldest"
    DROP_NEWEST = "drop_newest"


class DeliverySettings(BaseModel):
    """How notifications are delivered: queue bound, retries with exponential backoff.

    A failed attempt (network error, timeout, HTTP 5xx or 429) is retried after
    ``backoff_initial_s * backoff_multiplier ** (retry - 1)`` seconds, at most
    ``backoff_max_s``, up to ``max_attempts`` attempts in all; a 429's Retry-After is
    honoured instead (up to ``max_retry_after_s``). Other 4xx answers are not retried.
    """

    model_config = _STRICT

    queue_size: int = Field(default=100, ge=1)
    """Notifications waiting per channel, beyond the one being sent."""
    overflow: Overflow = Overflow.DROP_OLDEST
    max_attempts: int = Field(default=5, ge=1)
    backoff_initial_s: float = Field(default=1.0, ge=0)
    backoff_multiplier: float = Field(default=2.0, ge=1)
    backoff_max_s: float = Field(default=60.0, ge=0)
    max_retry_after_s: float = Field(default=300.0, ge=0)
    timeout_s: float = Field(default=10.0, gt=0)
    """Of one HTTP request."""
    close_timeout_s: float = Field(default=5.0, ge=0)
    """How long closing waits for the queues to drain before dropping what is left."""

    def backoff_s(self, retry: int) -> float:
        """Seconds to wait before retry number `retry` (1 = the second attempt)."""
        return float(
            min(self.backoff_max_s, self.backoff_initial_s * self.backoff_multiplier ** (retry - 1))
        )


class NotifySettings(BaseModel):
    """Channels by name, the routes to them, and the delivery policy."""

    model_config = _STRICT

    channels: dict[str, ChannelSettings] = Field(default_factory=dict)
    routes: tuple[RouteSettings, ...] = ()
    delivery: DeliverySettings = DeliverySettings()

    @model_check(mode="after")
    def _routes_name_channels(self) -> NotifySettings:
        self.routing().check_channels(self.channels)
        return self

    def routing(self) -> Routing:
        """The routes as a `Routing`."""
        return Routing(tuple(route.route() for route in self.routes))

    def open_channels(self, environ: Mapping[str, str] | None = None) -> dict[str, Channel]:
        """Every channel, its secrets read from `environ` (default: `os.environ`) or files.

        Raises:
            NotifyConfigError: a secret is missing or a channel's values are invalid; the
                message names the field (``channels.ops.token: ...``).
        """
        return {name: config.open(name, environ) for name, config in self.channels.items()}


def load_notify_settings(source: str | Path) -> NotifySettings:
    """Read the notification settings from a YAML (or JSON) file (see the module docstring).

    Raises:
        NotifyConfigError: the file is missing or unreadable, or a field is wrong; the
            message names the file and the field.
    """
    path = Path(source).expanduser()
    try:
        loaded = yaml.safe_load(path.read_text(encoding="utf-8"))
    except OSError as error:
        raise NotifyConfigError(
            f"{path}: cannot read notification settings: {error.strerror or error}"
        ) from None
    except yaml.YAMLError as error:
        raise NotifyConfigError(f"{path}: not valid YAML or JSON: {error}") from None
    try:
        return parse_notify_settings(loaded)
    except NotifyConfigError as error:
        raise NotifyConfigError(f"{path}: {error}") from None


def parse_notify_settings(data: object) -> NotifySettings:
    """The notification settings from parsed YAML: the mapping itself, or its ``notify:``.

    Raises:
        NotifyConfigError: a field is wrong (the message names it).
    """
    if data is None:
        data = {}
    if isinstance(data, dict) and SECTION in data:
        data = data[SECTION] if data[SECTION] is not None else {}
    if not isinstance(data, dict):
        raise NotifyConfigError("notification settings must be a mapping of field: value")
    try:
        return NotifySettings.model_validate(data)
    except ValidationError as error:
        raise NotifyConfigError(_describe(error)) from None


def _describe(error: ValidationError) -> str:
    problems = []
    for item in error.errors():
        location = _location(item["loc"])
        message = item["msg"].removeprefix("Value error, ")
        if item["type"] == "union_tag_invalid":
            message = f"type must be one of {', '.join(_CHANNEL_TYPES)}"
            location = f"{location}.type"
        elif item["type"] == "union_tag_not_found":
            message = f"say which service it is: type: {' | '.join(_CHANNEL_TYPES)}"
            location = f"{location}.type"
        problems.append(f"{location}: {message}" if location else message)
    return "; ".join(problems)


def _location(loc: tuple[int | str, ...]) -> str:
    """``('routes', 1, 'events')`` -> ``routes[1].events``; the channel-type tag that
    pydantic inserts after a channel's name is left out."""
    parts: list[str] = []
    for index, part in enumerate(loc):
        if index == 2 and loc[0] == "channels" and part in _CHANNEL_TYPES:
            continue
        if isinstance(part, int):
            parts.append(f"[{part}]")
        else:
            parts.append(f".{part}" if parts else str(part))
    return "".join(parts)
