"""Which notifications go where: routes of event types and a minimum severity to a channel.

A route is configuration (the ``routes`` of the notification settings)::

    - channel: ops                       # a channel's name
      events: [AnomalyDetected, CircuitBreakerTripped, AgentFailed, rule]
      min_severity: high                 # low (default), medium, high or critical
    - channel: audit
      events: ["*"]                      # every notifiable event type, and rule

A notification goes to every channel with a matching route, once per channel however many
routes match. Event types are the classes of `orchestrade.domain` that make a notification
(`orchestrade.notify.messages.NOTIFIABLE`), plus ``rule`` for the orchestrator rules'
``notify`` action.
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable
from dataclasses import dataclass

from orchestrade.domain import EVENT_TYPES, Severity
from orchestrade.notify.errors import NotifyConfigError
from orchestrade.notify.messages import NOTIFIABLE, RULE, Notification

ALL = "*"
"""In a route's events: every notifiable event type and `RULE`."""

ROUTABLE: frozenset[str] = NOTIFIABLE | {RULE}
"""The event type names a route may list."""

_RANK = {severity: rank for rank, severity in enumerate(Severity)}


def at_least(severity: Severity, minimum: Severity) -> bool:
    """True when `severity` is `minimum` or worse (LOW < MEDIUM < HIGH < CRITICAL)."""
    return _RANK[severity] >= _RANK[minimum]


@dataclass(frozen=True, slots=True)
class Route:
    """Send notifications of `events` at `min_severity` or worse to `channel`.

    Raises:
        NotifyConfigError: an unknown or non-notifiable event type, or a bad severity; the
            message names the field (``events``, ``min_severity``).
    """

    channel: str
    events: frozenset[str]
    min_severity: Severity = Severity.LOW

    def __post_init__(self) -> None:
        if not isinstance(self.channel, str) or not self.channel.strip():
            raise NotifyConfigError(f"channel: must name a channel, got {self.channel!r}")
        events = frozenset(self.events)
        if not events:
            raise NotifyConfigError("events: list at least one event type (or '*')")
        names = ROUTABLE if ALL in events else events
        for name in sorted(events - {ALL}):
            if name not in ROUTABLE:
                raise NotifyConfigError(f"events: {_unknown(name)}")
        object.__setattr__(self, "events", frozenset(names))
        try:
            object.__setattr__(self, "min_severity", Severity(self.min_severity))
        except ValueError:
            raise NotifyConfigError(
                f"min_severity: must be one of {', '.join(s.value for s in Severity)}, "
                f"got {self.min_severity!r}"
            ) from None

    def matches(self, notification: Notification) -> bool:
        """True when the route takes `notification`."""
        return notification.kind in self.events and at_least(
            notification.severity, self.min_severity
        )


@dataclass(frozen=True, slots=True)
class Routing:
    """The routes, in order; `channels_for` says where a notification goes."""

    routes: tuple[Route, ...] = ()

    def __post_init__(self) -> None:
        object.__setattr__(self, "routes", tuple(self.routes))

    def channels_for(self, notification: Notification) -> tuple[str, ...]:
        """The channels of the routes that take `notification`, each once, in route order."""
        found: dict[str, None] = {}
        for route in self.routes:
            if route.channel not in found and route.matches(notification):
                found[route.channel] = None
        return tuple(found)

    @property
    def event_types(self) -> frozenset[str]:
        """Every event type name some route takes (`RULE` included when routed)."""
        names: set[str] = set()
        for route in self.routes:
            names |= route.events
        return frozenset(names)

    def check_channels(self, channels: Iterable[str]) -> None:
        """Raise `NotifyConfigError` naming the first route whose channel is not in `channels`."""
        known = sorted(channels)
        for index, route in enumerate(self.routes):
            if route.channel not in known:
                close = difflib.get_close_matches(route.channel, known, n=1)
                hint = f" (did you mean {close[0]!r}?)" if close else ""
                listed = ", ".join(known) if known else "none"
                raise NotifyConfigError(
                    f"routes[{index}].channel: no channel named {route.channel!r}{hint}; "
                    f"channels: {listed}"
                )


def _unknown(name: str) -> str:
    if name in EVENT_TYPES:
        return (
            f"{name} is not notifiable (market data, heartbeats and commands come too often "
            f"or mean nothing to people); notifiable: {', '.join(sorted(ROUTABLE))}"
        )
    close = difflib.get_close_matches(name, sorted(ROUTABLE), n=1)
    hint = f" (did you mean {close[0]!r}?)" if close else ""
    return f"unknown event type {name!r}{hint}"
