"""Slack: an incoming webhook, which posts to the channel it was created for."""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

from pydantic import SecretStr

from orchestrade.notify.channels import HttpRequest
from orchestrade.notify.errors import NotifyConfigError
from orchestrade.notify.messages import Notification


@dataclass(frozen=True, slots=True)
class SlackChannel:
    """Posts ``{"text": ...}`` to the incoming-webhook URL.

    Attributes:
        name: the channel's name in the settings.
        webhook_url: ``https://hooks.slack.com/services/...``; the whole URL is the secret.
    """

    kind: ClassVar[str] = "slack"

    name: str
    webhook_url: SecretStr

    def __post_init__(self) -> None:
        if not self.webhook_url.get_secret_value().startswith(("http://", "https://")):
            # The value itself is not quoted: it is a secret.
            raise NotifyConfigError(
                f"channel {self.name}: the Slack webhook URL must start with https://"
            )

    @property
    def secrets(self) -> tuple[str, ...]:
        return (self.webhook_url.get_secret_value(),)

    def request(self, notification: Notification) -> HttpRequest:
        return HttpRequest(
            method="POST", url=self.webhook_url.get_secret_value(), json={"text": notification.text}
        )
