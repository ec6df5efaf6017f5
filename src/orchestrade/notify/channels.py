"""The one contract every channel (Telegram, Slack, a generic webhook) honours.

A channel only knows its service's wire format: it turns a `Notification` into the HTTP
request that delivers it. Sending, retrying and counting are the dispatcher's job
(`orchestrade.notify.delivery`), the same for every channel, so that a new service is one
small module and tests can check the exact request without a network.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Protocol

from orchestrade.notify.messages import Notification


@dataclass(frozen=True, slots=True)
class HttpRequest:
    """A request to send: method, URL, JSON body and extra headers.

    The URL and headers may hold secrets (a bot token, a webhook URL, a shared secret):
    they are left out of the repr so that logging a request never leaks them.
    """

    method: str
    url: str = field(repr=False)
    json: Mapping[str, Any]
    headers: Mapping[str, str] = field(default_factory=dict, repr=False)


class Channel(Protocol):
    """A place notifications go: a Telegram chat, a Slack channel, a webhook."""

    @property
    def name(self) -> str:
        """The channel's name in the settings (``ops``, ``desk``)."""
        ...

    @property
    def kind(self) -> str:
        """The service: ``telegram``, ``slack`` or ``webhook``."""
        ...

    @property
    def secrets(self) -> tuple[str, ...]:
        """Every secret value in the channel's requests; never to appear in a log line."""
        ...

    def request(self, notification: Notification) -> HttpRequest:
        """The HTTP request that delivers `notification`."""
        ...
