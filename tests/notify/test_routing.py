"""Routes (event types and a minimum severity to a channel) and the settings file: secrets
come from the environment or a file, and every mistake names the file and the field."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from notify.builders import TOKEN, T, anomaly, filled
from orchestrade.domain import Severity
from orchestrade.notify import (
    NOTIFIABLE,
    RULE,
    NotifyConfigError,
    Overflow,
    Route,
    Routing,
    SlackChannel,
    TelegramChannel,
    WebhookChannel,
    load_notify_settings,
    notification_of,
    parse_notify_settings,
)
from orchestrade.notify.messages import rule_notification

ROUTING = Routing(
    (
        Route("ops", frozenset({"AnomalyDetected", "rule"}), Severity.HIGH),
        Route("desk", frozenset({"OrderFilled", "AnomalyDetected"})),
        Route("audit", frozenset({"*"})),
        Route("ops", frozenset({"*"}), Severity.CRITICAL),
    )
)


def channels_for(event: object) -> tuple[str, ...]:
    notification = notification_of(event, T)  # type: ignore[arg-type]
    assert notification is not None
    return ROUTING.channels_for(notification)


def test_a_notification_goes_to_each_matching_channel_once_in_route_order() -> None:
    assert channels_for(anomaly(Severity.HIGH)) == ("ops", "desk", "audit")
    assert channels_for(anomaly(Severity.CRITICAL)) == ("ops", "desk", "audit")
    assert channels_for(anomaly(Severity.MEDIUM)) == ("desk", "audit")
    assert channels_for(filled()) == ("desk", "audit")
    assert ROUTING.channels_for(rule_notification("r", "x", T)) == ("ops", "audit")


def test_a_star_means_every_notifiable_type_and_rules() -> None:
    assert Route("audit", frozenset({"*"})).events == NOTIFIABLE | {RULE}
    assert ROUTING.event_types == NOTIFIABLE | {RULE}


@pytest.mark.parametrize(
    ("events", "severity", "message"),
    [
        (
            {"OrderFiled"},
            "low",
            "events: unknown event type 'OrderFiled' (did you mean 'OrderFilled'?)",
        ),
        ({"BarClosed"}, "low", "events: BarClosed is not notifiable"),
        (set(), "low", "events: list at least one event type"),
        ({"*"}, "urgent", "min_severity: must be one of low, medium, high, critical"),
    ],
)
def test_bad_routes_name_the_field(events: set[str], severity: str, message: str) -> None:
    with pytest.raises(NotifyConfigError, match="^" + re.escape(message)):
        Route("ops", frozenset(events), severity)  # type: ignore[arg-type]


# -- the settings file ---------------------------------------------------------------------

GOOD = """
notify:
  channels:
    ops:
      type: telegram
      token: {env: TG_TOKEN}
      chat_id: -1001234567890
    desk:
      type: slack
      webhook_url: {file: %(secret_file)s}
    audit:
      type: webhook
      url: https://example.com/hooks/orchestrade
      secret: {env: HOOK_SECRET}
  routes:
    - {channel: ops, events: [AnomalyDetected, rule], min_severity: high}
    - {channel: desk, events: [OrderFilled]}
    - {channel: audit}
  delivery: {queue_size: 10, overflow: drop_newest, max_attempts: 3}
other_section: {ignored: true}
"""


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "notify.yaml"
    path.write_text(text, encoding="utf-8")
    return path


def test_a_settings_file_opens_its_channels_with_secrets_from_env_and_file(
    tmp_path: Path,
) -> None:
    secret_file = tmp_path / "slack_url"
    secret_file.write_text("https://hooks.slack.com/services/T/B/xyz\n", encoding="utf-8")
    path = write(tmp_path, GOOD % {"secret_file": secret_file})

    settings = load_notify_settings(path)
    channels = settings.open_channels({"TG_TOKEN": TOKEN, "HOOK_SECRET": "s3"})

    ops, desk, audit = channels["ops"], channels["desk"], channels["audit"]
    assert isinstance(ops, TelegramChannel)
    assert ops.chat_id == "-1001234567890"
    assert ops.token.get_secret_value() == TOKEN
    assert isinstance(desk, SlackChannel)
    assert desk.webhook_url.get_secret_value() == "https://hooks.slack.com/services/T/B/xyz"
    assert isinstance(audit, WebhookChannel)
    assert audit.secret is not None
    assert audit.secret.get_secret_value() == "s3"
    assert settings.routing().channels_for(rule_notification("r", "x", T)) == ("ops", "audit")
    assert (settings.delivery.queue_size, settings.delivery.overflow) == (10, Overflow.DROP_NEWEST)
    assert settings.delivery.max_attempts == 3


def test_no_file_content_means_no_channel() -> None:
    assert parse_notify_settings(None).channels == {}
    assert parse_notify_settings({"notify": None}).routes == ()


@pytest.mark.parametrize(
    ("document", "message"),
    [
        (
            {"channels": {"ops": {"type": "telegram", "token": TOKEN, "chat_id": "1"}}},
            "channels.ops.token: secrets are not written in settings files: write "
            "{env: VARIABLE} or {file: PATH}",
        ),
        (
            {
                "channels": {
                    "ops": {"type": "telegram", "token": {"env": "A", "file": "b"}, "chat_id": "1"}
                }
            },
            "channels.ops.token: name exactly one of env or file",
        ),
        (
            {"channels": {"ops": {"type": "telegarm"}}},
            "channels.ops.type: type must be one of telegram, slack, webhook",
        ),
        ({"channels": {"ops": {"token": {"env": "A"}}}}, "channels.ops.type: say which service"),
        (
            {"channels": {"desk": {"type": "slack", "webhook_url": {"env": "A"}, "colour": 1}}},
            "channels.desk.colour: Extra inputs are not permitted",
        ),
        (
            {"routes": [{"channel": "ops", "events": ["AnomalyDetected"]}]},
            "routes[0].channel: no channel named 'ops'; channels: none",
        ),
        (
            {
                "channels": {"desk": {"type": "slack", "webhook_url": {"env": "A"}}},
                "routes": [{"channel": "desk"}, {"channel": "desk", "events": ["OrderFiled"]}],
            },
            "routes[1].events: unknown event type 'OrderFiled' (did you mean 'OrderFilled'?)",
        ),
        (
            {"routes": [{"channel": "x", "min_severity": "urgent"}]},
            "routes[0].min_severity: Input should be 'low', 'medium', 'high' or 'critical'",
        ),
        ({"delivery": {"queue_size": 0}}, "delivery.queue_size: Input should be greater than"),
        ({"delivery": {"overflow": "block"}}, "delivery.overflow: Input should be"),
        ([1, 2], "notification settings must be a mapping"),
    ],
)
def test_mistakes_in_the_settings_name_the_field(document: object, message: str) -> None:
    with pytest.raises(NotifyConfigError) as caught:
        parse_notify_settings(document)

    assert str(caught.value).startswith(message), str(caught.value)


def test_file_errors_start_with_the_file(tmp_path: Path) -> None:
    missing = tmp_path / "absent.yaml"
    broken = write(tmp_path, "notify: [unclosed")

    with pytest.raises(NotifyConfigError, match=f"^{missing}: cannot read notification"):
        load_notify_settings(missing)
    with pytest.raises(NotifyConfigError, match=f"^{broken}: not valid YAML"):
        load_notify_settings(broken)
    bad = write(tmp_path, "routes: [{channel: ops}]")
    with pytest.raises(NotifyConfigError, match=f"^{bad}: routes\\[0\\].channel: no channel"):
        load_notify_settings(bad)


def test_a_missing_secret_names_the_field_and_the_variable_never_a_value(tmp_path: Path) -> None:
    settings = parse_notify_settings(
        {
            "channels": {
                "ops": {"type": "telegram", "token": {"env": "TG_TOKEN"}, "chat_id": "1"},
                "desk": {"type": "slack", "webhook_url": {"file": str(tmp_path / "nope")}},
                "hook": {"type": "webhook", "url": {"env": "HOOK_URL"}},
            }
        }
    )

    with pytest.raises(
        NotifyConfigError, match=r"^channels\.ops\.token: environment variable TG_TOKEN is not set$"
    ):
        settings.open_channels({})
    with pytest.raises(
        NotifyConfigError, match=r"^channels\.desk\.webhook_url: cannot read secret"
    ):
        settings.open_channels({"TG_TOKEN": TOKEN})
    (tmp_path / "nope").write_text("  \n", encoding="utf-8")
    with pytest.raises(
        NotifyConfigError, match=r"^channels\.desk\.webhook_url: secret file .* empty"
    ):
        settings.open_channels({"TG_TOKEN": TOKEN})
    (tmp_path / "nope").write_text("ftp://wrong", encoding="utf-8")
    with pytest.raises(NotifyConfigError, match=r"must start with https://$") as caught:
        settings.open_channels({"TG_TOKEN": TOKEN})
    assert "ftp://wrong" not in str(caught.value)
