"""`orchestrade notify test`: send a test message through one configured channel."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Annotated

import typer

from orchestrade.cli.console import console, reports_user_errors
from orchestrade.notify import DeliveryError, NotifyConfigError, load_notify_settings, probe_channel
from orchestrade.notify.service import NotificationService
from orchestrade.settings import Settings

NOTIFY_FILE = "notify.yaml"
"""The notification settings file under ORCHESTRADE_HOME, used when --config is not given."""

notify_app = typer.Typer(
    help="Notifications: Telegram, Slack and webhooks (settings in ORCHESTRADE_HOME/notify.yaml).",
    no_args_is_help=True,
)


@notify_app.command("test")
@reports_user_errors
def notify_test(
    channel: Annotated[
        str, typer.Option("--channel", help="The channel's name in the settings file.")
    ],
    config: Annotated[
        Path | None,
        typer.Option(
            "--config",
            help=f"Notification settings file (default: ORCHESTRADE_HOME/{NOTIFY_FILE}).",
            show_default=False,
        ),
    ] = None,
) -> None:
    """Send a test message through one channel and say whether it arrived."""
    path = config if config is not None else Settings().home / NOTIFY_FILE
    settings = load_notify_settings(path)
    try:
        result = asyncio.run(probe_channel(settings, channel))
    except NotifyConfigError as error:
        raise NotifyConfigError(f"{path}: {error}") from None
    kind = settings.channels[channel].type
    if not result.sent:
        raise DeliveryError(
            f"channel {channel} ({kind}): test message not delivered after "
            f"{_attempts(result.attempts)}: {result.error}"
        )
    console.print(f"sent a test message to {channel} ({kind}) in {_attempts(result.attempts)}")


def _attempts(count: int) -> str:
    return f"{count} attempt" if count == 1 else f"{count} attempts"


def notifier_from(path: Path | None, home: Path) -> NotificationService | None:
    """The notification service of `path`, or of ``home/notify.yaml`` when that exists
    (None: no settings, no notifications).

    Raises:
        NotifyConfigError: the settings are unreadable or wrong (the message names the field).
    """
    default = home / NOTIFY_FILE
    if path is None and not default.is_file():
        return None
    return NotificationService.from_settings(load_notify_settings(path or default))
