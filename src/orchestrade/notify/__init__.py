"""Notifications: Telegram, Slack and generic-webhook senders, routed by event and severity.

Build a `NotificationService` from the settings file (`load_notify_settings`), start it, and
hand it events (`notify`): it never blocks and never raises, and delivers in the background
with retries (`orchestrade.notify.delivery`). The notification agent
(`orchestrade.agents.notifier`) connects it to the bus.
"""

from orchestrade.notify.channels import Channel, HttpRequest
from orchestrade.notify.delivery import ChannelCounters, DeliveryResult, Dispatcher
from orchestrade.notify.errors import DeliveryError, NotifyConfigError, NotifyError
from orchestrade.notify.messages import NOTIFIABLE, RULE, Notification, notification_of
from orchestrade.notify.routing import Route, Routing
from orchestrade.notify.secrets import SecretMaskingFilter, SecretSource, mask
from orchestrade.notify.service import NotificationService, probe_channel
from orchestrade.notify.settings import (
    DeliverySettings,
    NotifySettings,
    Overflow,
    load_notify_settings,
    parse_notify_settings,
)
from orchestrade.notify.slack import SlackChannel
from orchestrade.notify.telegram import TelegramChannel
from orchestrade.notify.webhook import WebhookChannel

__all__ = [
    "NOTIFIABLE",
    "RULE",
    "Channel",
    "ChannelCounters",
    "DeliveryError",
    "DeliveryResult",
    "DeliverySettings",
    "Dispatcher",
    "HttpRequest",
    "Notification",
    "NotificationService",
    "NotifyConfigError",
    "NotifyError",
    "NotifySettings",
    "Overflow",
    "Route",
    "Routing",
    "SecretMaskingFilter",
    "SecretSource",
    "SlackChannel",
    "TelegramChannel",
    "WebhookChannel",
    "load_notify_settings",
    "mask",
    "notification_of",
    "parse_notify_settings",
    "probe_channel",
]
