"""A generic webhook: the event as a JSON document, for programs rather than people."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, ClassVar

import msgspec
from pydantic import SecretStr

from orchestrade.notify.channels import HttpRequest
from orchestrade.notify.errors import NotifyConfigError
from orchestrade.notify.messages import Notification

DEFAULT_SECRET_HEADER = "X-Orchestrade-Secret"


@dataclass(frozen=True, slots=True)
class WebhookChannel:
    """Posts a JSON document of each notification to `url`.

    The document::

        {"type": "AnomalyDetected", "severity": "high", "time": "2024-01-02T09:00:00Z",
         "bot_id": "bot-1", "symbol": null, "text": "[HIGH] anomaly ...",
         "event": {"detected_at": "2024-01-02T09:00:00Z", "detector": "price_jump", ...}}

    ``event`` holds the event's fields as the bus's JSON codec writes them (decimals as
    strings, times as RFC 3339 UTC); it is ``{}`` for rule and test notifications.

    Attributes:
        name: the channel's name in the settings.
        url: where to post (a secret: webhook URLs often embed a token).
        secret: sent in the `secret_header` header so the receiver can tell it is us.
        secret_header: the header's name.
    """

    kind: ClassVar[str] = "webhook"

    name: str
    url: SecretStr
    secret: SecretStr | None = None
    secret_header: str = DEFAULT_SECRET_HEADER

    def __post_init__(self) -> None:
        if not self.url.get_secret_value().startswith(("http://", "https://")):
            raise NotifyConfigError(
                f"channel {self.name}: the webhook URL must start with http:// or https://"
            )
        if self.secret is not None and not self.secret_header.strip():
            raise NotifyConfigError(f"channel {self.name}: secret_header is empty")

    @property
    def secrets(self) -> tuple[str, ...]:
        values = [self.url.get_secret_value()]
        if self.secret is not None:
            values.append(self.secret.get_secret_value())
        return tuple(values)

    def request(self, notification: Notification) -> HttpRequest:
        headers = {}
        if self.secret is not None:
            headers[self.secret_header] = self.secret.get_secret_value()
        return HttpRequest(
            method="POST",
            url=self.url.get_secret_value(),
            json=document(notification),
            headers=headers,
        )


def document(notification: Notification) -> dict[str, Any]:
    """The JSON document the webhook receives for `notification` (see `WebhookChannel`)."""
    event = notification.event
    fields: dict[str, Any] = {} if event is None else msgspec.to_builtins(event)
    return {
        "type": notification.kind,
        "severity": notification.severity.value,
        "time": msgspec.to_builtins(notification.at),
        "bot_id": notification.bot_id,
        "symbol": notification.symbol,
        "text": notification.text,
        "event": fields,
    }
