"""The daily-loss circuit breaker: the portfolio lost too much today, stop the losers and
open nothing new until the next session (or until a person resets it).

It is fed every bot's equity through the day (after each close, say). A session's starting
equity of a bot is its last equity of the previous session (its first equity when it has
none), the same base as the ledger's daily-loss halt and the kernel's: the close before
the first bar of the new day. The portfolio's loss is

    (sum of starting equities - sum of equities now) / sum of starting equities

over every bot reported this session, and the breaker trips when it is *beyond* the limit
(a loss of exactly 10% does not trip, like the kernel and the default rule, which compare
with >). It then publishes one `CircuitBreakerTripped` (breaker ``daily_loss``, value the
loss fraction, the losing bots named in the reason), keeps `losing_bots`, and blocks new
entries (`blocks_entries`) for the rest of the session. The rules decide whom to stop:
by default the bots losing today (``scope: losing``), or every bot (``scope: all``).

Sessions are trading days: by default the UTC date of the time fed, which is the trading
date for the markets we trade (daily bars start at 00:00 UTC of their date; KRX and US
regular hours fall inside one UTC day; crypto's day is the UTC day). Pass `session_of` for
another cut.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime
from decimal import Decimal

from orchestrade.anomaly.errors import AnomalyConfigurationError
from orchestrade.anomaly.thresholds import DAILY_LOSS_BREAKER
from orchestrade.domain import BotId, CircuitBreakerTripped

SessionOf = Callable[[datetime], date]
"""The trading session (day) an instant belongs to."""

ZERO = Decimal(0)


def utc_session(at: datetime) -> date:
    """The UTC date of `at` (the default session)."""
    return at.astimezone(UTC).date()


@dataclass(frozen=True, slots=True)
class BotDay:
    """One bot's session so far: its starting equity and its equity now."""

    bot_id: BotId
    start: Decimal
    equity: Decimal

    @property
    def pnl(self) -> Decimal:
        """Equity change since the session's start (< 0: losing)."""
        return self.equity - self.start


@dataclass(frozen=True, slots=True)
class Trip:
    """Why and when the breaker tripped."""

    event: CircuitBreakerTripped
    session: date
    losing: tuple[BotDay, ...]


class DailyLossBreaker:
    """Trips once per session when the portfolio's loss today is beyond `max_loss_pct`.

    Args:
        max_loss_pct: the loss limit as a fraction of the session's starting equity
            (0.10 = 10%), in (0, 1].
        session_of: the session of an instant (default: its UTC date).

    Raises:
        AnomalyConfigurationError: `max_loss_pct` is not in (0, 1].
    """

    def __init__(self, max_loss_pct: float = 0.10, *, session_of: SessionOf = utc_session) -> None:
        if (
            isinstance(max_loss_pct, bool)
            or not isinstance(max_loss_pct, int | float)
            or not 0 < max_loss_pct <= 1
        ):
            raise AnomalyConfigurationError(
                f"max_daily_loss_pct must be a fraction in (0, 1], got {max_loss_pct!r}"
            )
        self.max_loss_pct = float(max_loss_pct)
        self._limit = Decimal(repr(self.max_loss_pct))
        self._session_of = session_of
        self._session: date | None = None
        self._starts: dict[BotId, Decimal] = {}
        self._last: dict[BotId, Decimal] = {}
        self._trip: Trip | None = None

    @property
    def session(self) -> date | None:
        """The session of the last update (None before the first)."""
        return self._session

    @property
    def trip(self) -> Trip | None:
        """The trip of the current session, if the breaker tripped and was not reset."""
        return self._trip

    @property
    def tripped(self) -> bool:
        """True while the breaker is tripped (until the next session or `reset`)."""
        return self._trip is not None

    @property
    def losing_bots(self) -> tuple[BotId, ...]:
        """The bots that were losing when the breaker tripped, biggest loss first."""
        return tuple(day.bot_id for day in self._trip.losing) if self._trip is not None else ()

    def days(self) -> tuple[BotDay, ...]:
        """Every bot's session so far."""
        return tuple(
            BotDay(bot, start, self._last.get(bot, start)) for bot, start in self._starts.items()
        )

    def loss(self) -> Decimal | None:
        """The portfolio's loss since the session's start, as a fraction (< 0: a gain);
        None before the first update or when the starting equity is not positive."""
        start = sum(self._starts.values(), ZERO)
        if start <= 0:
            return None
        now = sum((self._last.get(bot, value) for bot, value in self._starts.items()), ZERO)
        return (start - now) / start

    def seed(self, equities: Mapping[BotId, Decimal]) -> None:
        """The equities before the first update (the bots' starting capital), so that the
        first session's start is the capital, not the equity after the first bar."""
        self._last.update(equities)

    def update(
        self, at: datetime, equities: Mapping[BotId, Decimal]
    ) -> CircuitBreakerTripped | None:
        """The bots' equities at `at`; the breaker's event if it trips now.

        A bot missing from `equities` keeps its last equity.
        """
        session = self._session_of(at)
        if session != self._session:
            # Each bot's last equity of the previous session is its start in this one.
            self._starts = {bot: self._last[bot] for bot in self._last}
            self._session = session
            self._trip = None
        for bot, equity in equities.items():
            if bot not in self._starts:
                self._starts[bot] = self._last.get(bot, equity)
            self._last[bot] = equity
        if self._trip is not None:
            return None
        loss = self.loss()
        if loss is None or loss <= self._limit:
            return None
        losing = tuple(sorted((day for day in self.days() if day.pnl < 0), key=lambda day: day.pnl))
        names = ", ".join(
            f"{day.bot_id} {day.pnl / day.start:+.2%}" if day.start > 0 else str(day.bot_id)
            for day in losing
        )
        event = CircuitBreakerTripped(
            tripped_at=at,
            breaker=DAILY_LOSS_BREAKER,
            value=loss,
            limit=self._limit,
            reason=(
                f"portfolio lost {loss:.2%} since the start of {session.isoformat()}, limit "
                f"{self._limit:.2%}; losing: {names or 'none'}; new entries blocked until "
                "the next session or a reset"
            ),
        )
        self._trip = Trip(event, session, losing)
        return event

    def blocks_entries(self, at: datetime) -> bool:
        """True when a new position must not be opened at `at`: the breaker tripped in the
        session of `at` and was not reset."""
        return self._trip is not None and self._trip.session == self._session_of(at)

    def reset(self) -> None:
        """A person's reset: entries are allowed again, and today's loss is measured anew
        from the equities now (else the next update would trip again at once)."""
        self._trip = None
        for bot in self._starts:
            self._starts[bot] = self._last.get(bot, self._starts[bot])
