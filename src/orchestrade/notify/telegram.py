"""Telegram: the Bot API's sendMessage, to one chat."""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

from pydantic import SecretStr

from orchestrade.notify.channels import HttpRequest
from orchestrade.notify.errors import NotifyConfigError
from orchestrade.notify.messages import Notification

TELEGRAM_API = "https://api.telegram.org"

MAX_MESSAGE = 4096
"""Telegram refuses longer texts."""


@dataclass(frozen=True, slots=True)
class TelegramChannel:
    """Posts ``{"chat_id": ..., "text": ...}`` to ``<base_url>/bot<token>/sendMessage``.

    Attributes:
        name: the channel's name in the settings.
        token: the bot's token from @BotFather (a secret: it is in the URL).
        chat_id: the chat, group (``-100...``) or channel (``@name``) to write to.
        base_url: the Bot API's address (a local server in tests, or a self-hosted API).
    """

    kind: ClassVar[str] = "telegram"

    name: str
    token: SecretStr
    chat_id: str
    base_url: str = TELEGRAM_API

    def __post_init__(self) -> None:
        if not self.token.get_secret_value():
            raise NotifyConfigError(f"channel {self.name}: the Telegram token is empty")
        if not str(self.chat_id).strip():
            raise NotifyConfigError(f"channel {self.name}: chat_id is empty")
        if not self.base_url.startswith(("http://", "https://")):
            raise NotifyConfigError(
                f"channel {self.name}: base_url must start with http:// or https://, "
                f"got {self.base_url!r}"
            )

    @property
    def secrets(self) -> tuple[str, ...]:
        return (self.token.get_secret_value(),)

    def request(self, notification: Notification) -> HttpRequest:
        token = self.token.get_secret_value()
        return HttpRequest(
            method="POST",
            url=f"{self.base_url.rstrip('/')}/bot{token}/sendMessage",
            json={"chat_id": self.chat_id, "text": notification.text[:MAX_MESSAGE]},
        )
