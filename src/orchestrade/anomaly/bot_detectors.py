"""Detectors of a bot misbehaving: overtrading, losing streaks, slippage, broker errors, silence.

Each is a small streaming object: `update` takes one event and returns the finding it
caused, as an `AnomalyDetected` naming the bot, or None. Work per event is O(1) amortized
(a deque per bot and running counts); memory is one window per bot. A condition that lasts
is reported once, when it starts (`orchestrade.anomaly.crossing`); slippage is judged per
fill, so every bad fill is reported.

Comparisons follow the wording of the thresholds: "more than 20 trades" (>), "7 or more
losses" (>=), "slippage above 0.5%" (>), "error rate above 30%" (>), "silent for 15 minutes"
(>=).
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from decimal import Decimal

from orchestrade.anomaly.crossing import Crossings
from orchestrade.anomaly.errors import AnomalyError
from orchestrade.anomaly.round_trips import ClosedTrade
from orchestrade.anomaly.thresholds import AnomalyThresholds, Detector, format_duration
from orchestrade.domain import (
    AnomalyDetected,
    BotId,
    Fill,
    FillId,
    Order,
    OrderType,
    Side,
)


class TradeRateDetector:
    """More than `max_trades` fills of one bot within `trade_window_s` (HIGH by default).

    The window is the half-open span (latest fill - window, latest fill]: a fill exactly one
    window older than the latest no longer counts. A fill id seen within the window is not
    counted twice (fills republished when a run resumes). Fills are expected in time order;
    one older than the window is ignored.
    """

    detector = Detector.TRADE_RATE

    def __init__(self, thresholds: AnomalyThresholds | None = None) -> None:
        self.thresholds = thresholds or AnomalyThresholds()
        self._window = timedelta(seconds=self.thresholds.trade_window_s)
        self._fills: dict[BotId, _FillWindow] = {}
        self._crossings: Crossings[BotId] = Crossings()

    def update(self, bot_id: BotId, fill: Fill) -> AnomalyDetected | None:
        """Count `fill` for `bot_id`; the finding when the bot just started overtrading."""
        window = self._fills.get(bot_id)
        if window is None:
            window = self._fills[bot_id] = _FillWindow()
        at = fill.filled_at
        if fill.fill_id in window.ids:
            return None
        if window.latest is not None and at <= window.latest - self._window:
            return None
        window.fills.append((at, fill.fill_id))
        window.ids.add(fill.fill_id)
        if window.latest is None or at > window.latest:
            window.latest = at
        horizon = window.latest - self._window
        while window.fills[0][0] <= horizon:
            _, old = window.fills.popleft()
            window.ids.discard(old)
        count = len(window.fills)
        limit = self.thresholds.max_trades
        if not self._crossings.rising(bot_id, count > limit):
            return None
        span = format_duration(self.thresholds.trade_window_s)
        return AnomalyDetected(
            detected_at=at,
            detector=self.detector.value,
            severity=self.thresholds.severity(self.detector),
            subject=bot_id,
            value=float(count),
            threshold=float(limit),
            reason=f"{count} trades within {span}, more than {limit}",
            bot_id=bot_id,
        )

    def count(self, bot_id: BotId) -> int:
        """Fills of `bot_id` in its current window."""
        window = self._fills.get(bot_id)
        return len(window.fills) if window is not None else 0


@dataclass(slots=True)
class _FillWindow:
    fills: deque[tuple[datetime, FillId]] = field(default_factory=deque)
    ids: set[FillId] = field(default_factory=set)
    latest: datetime | None = None


class LossStreakDetector:
    """`loss_streak_losses` or more losing trades among a bot's last `loss_streak_trades`
    closed trades (MEDIUM by default); a bot with fewer closed trades is judged on those."""

    detector = Detector.LOSS_STREAK

    def __init__(self, thresholds: AnomalyThresholds | None = None) -> None:
        self.thresholds = thresholds or AnomalyThresholds()
        self._recent: dict[BotId, deque[bool]] = {}
        self._losses: dict[BotId, int] = {}
        self._crossings: Crossings[BotId] = Crossings()

    def update(self, bot_id: BotId, trade: ClosedTrade) -> AnomalyDetected | None:
        """Add `bot_id`'s closed `trade`; the finding when the streak just reached the limit."""
        size = self.thresholds.loss_streak_trades
        recent = self._recent.get(bot_id)
        if recent is None:
            recent = self._recent[bot_id] = deque(maxlen=size)
        losses = self._losses.get(bot_id, 0)
        if len(recent) == size and recent[0]:
            losses -= 1  # the oldest trade, a loss, leaves the window
        recent.append(trade.is_loss)
        losses += trade.is_loss
        self._losses[bot_id] = losses
        limit = self.thresholds.loss_streak_losses
        if not self._crossings.rising(bot_id, losses >= limit):
            return None
        return AnomalyDetected(
            detected_at=trade.closed_at,
            detector=self.detector.value,
            severity=self.thresholds.severity(self.detector),
            subject=bot_id,
            value=float(losses),
            threshold=float(limit),
            reason=(
                f"{losses} of the last {len(recent)} closed trades lost money "
                f"(limit {limit} of {size}); the last one {trade.pnl:+,.2f} on {trade.symbol}"
            ),
            bot_id=bot_id,
        )

    def losses(self, bot_id: BotId) -> int:
        """Losing trades among `bot_id`'s last closed trades."""
        return self._losses.get(bot_id, 0)


class SlippageDetector:
    """A fill more than `max_slippage_pct` worse than the price its order aimed at (MEDIUM).

    The reference is the stop price for stop orders (a stop that gapped through fills far
    from it), the limit price for limit orders (which never fill worse, so never report),
    and the market price the order was sent at for market orders (the bar's open in
    replay, given by the caller). Only adverse slippage counts: paying more on a buy,
    getting less on a sell. The value is a fraction of the reference (0.006 = 0.6%).
    """

    detector = Detector.SLIPPAGE

    def __init__(self, thresholds: AnomalyThresholds | None = None) -> None:
        self.thresholds = thresholds or AnomalyThresholds()
        self._limit = Decimal(repr(self.thresholds.max_slippage_pct))

    def update(
        self, order: Order, fill: Fill, *, market_price: Decimal | None = None
    ) -> AnomalyDetected | None:
        """Judge one fill of `order`; `market_price` is the reference of a market order."""
        reference = reference_price(order, market_price)
        if reference is None or reference <= 0:
            return None
        slippage = adverse_slippage(fill.side, fill.price, reference)
        if slippage <= self._limit:
            return None
        return AnomalyDetected(
            detected_at=fill.filled_at,
            detector=self.detector.value,
            severity=self.thresholds.severity(self.detector),
            subject=fill.symbol,
            value=float(slippage),
            threshold=self.thresholds.max_slippage_pct,
            reason=(
                f"{fill.side.value} {fill.symbol} filled at {fill.price} against "
                f"{reference} ({order.order_type.value} order {order.order_id}): "
                f"{float(slippage):.2%} adverse slippage, limit "
                f"{self.thresholds.max_slippage_pct:.2%}"
            ),
            bot_id=order.bot_id,
        )


def reference_price(order: Order, market_price: Decimal | None) -> Decimal | None:
    """The price `order` aimed at: stop, limit, or (market orders) `market_price`."""
    if order.order_type in (OrderType.STOP, OrderType.STOP_LIMIT):
        return order.stop_price
    if order.order_type is OrderType.LIMIT:
        return order.limit_price
    return market_price


def adverse_slippage(side: Side, price: Decimal, reference: Decimal) -> Decimal:
    """How much worse than `reference` a fill at `price` is, as a fraction (< 0: better)."""
    difference = price - reference if side is Side.BUY else reference - price
    return difference / reference


class ApiErrorRateDetector:
    """Failed broker calls / calls above `max_api_error_rate` over a sliding window (HIGH).

    Calls are fed in batches (the counts since the previous report) per subject, usually
    the bot whose broker they went to. The window is (now - api_error_window_s, now]; the
    rate is judged once it holds `api_error_min_calls` calls (two failures out of three
    calls say little). The value is the rate (0.4 = 40%), which the default rule compares
    with 0.30 to stop the bot.
    """

    detector = Detector.API_ERROR_RATE

    def __init__(self, thresholds: AnomalyThresholds | None = None) -> None:
        self.thresholds = thresholds or AnomalyThresholds()
        self._window = timedelta(seconds=self.thresholds.api_error_window_s)
        self._calls: dict[str, _CallWindow] = {}
        self._crossings: Crossings[str] = Crossings()

    def update(
        self,
        subject: str,
        at: datetime,
        *,
        calls: int,
        errors: int,
        bot_id: BotId | None = None,
    ) -> AnomalyDetected | None:
        """Add `calls` broker calls made up to `at`, `errors` of them failed.

        Raises:
            AnomalyError: the counts are negative or there are more errors than calls.
        """
        if calls < 0 or errors < 0 or errors > calls:
            raise AnomalyError(
                f"broker calls of {subject}: need 0 <= errors <= calls, got {errors} of {calls}"
            )
        window = self._calls.get(subject)
        if window is None:
            window = self._calls[subject] = _CallWindow()
        batches = window.batches
        horizon = at - self._window
        if not calls and not (batches and batches[0][0] <= horizon):
            # Nothing new and nothing left the window: the rate is the one judged at the
            # previous update (reported then if it was beyond the limit).
            return None
        if calls:
            batches.append((at, calls, errors))
            window.calls += calls
            window.errors += errors
        while batches and batches[0][0] <= horizon:
            _, old_calls, old_errors = batches.popleft()
            window.calls -= old_calls
            window.errors -= old_errors
        limit = self.thresholds.max_api_error_rate
        enough = window.calls >= self.thresholds.api_error_min_calls
        rate = window.errors / window.calls if enough else 0.0
        if not self._crossings.rising(subject, enough and rate > limit):
            return None
        span = format_duration(self.thresholds.api_error_window_s)
        return AnomalyDetected(
            detected_at=at,
            detector=self.detector.value,
            severity=self.thresholds.severity(self.detector),
            subject=subject,
            value=rate,
            threshold=limit,
            reason=(
                f"{window.errors} of {window.calls} broker calls failed within {span} "
                f"({rate:.0%}, limit {limit:.0%})"
            ),
            bot_id=bot_id,
        )

    def rate(self, subject: str) -> float | None:
        """The error rate of `subject`'s current window (None before its first call)."""
        window = self._calls.get(subject)
        if window is None or not window.calls:
            return None
        return window.errors / window.calls


@dataclass(slots=True)
class _CallWindow:
    batches: deque[tuple[datetime, int, int]] = field(default_factory=deque)
    calls: int = 0
    errors: int = 0


class InactivityDetector:
    """A running bot with no heartbeat or activity for `inactivity_s` or longer (HIGH).

    Only watched bots are judged: `watch` a bot when it runs, `forget` it when it pauses or
    stops. `seen` records activity (a heartbeat of its strategy agent, a signal, an order,
    a fill); `check` is called on a timer. Times are the watcher's clock: in a replay the
    bus carries the bars' simulated times, but silence is wall-clock silence.
    """

    detector = Detector.INACTIVITY

    def __init__(self, thresholds: AnomalyThresholds | None = None) -> None:
        self.thresholds = thresholds or AnomalyThresholds()
        self._limit = timedelta(seconds=self.thresholds.inactivity_s)
        self._last_seen: dict[BotId, datetime] = {}
        self._crossings: Crossings[BotId] = Crossings()

    @property
    def watched(self) -> frozenset[BotId]:
        """The bots judged by `check`."""
        return frozenset(self._last_seen)

    def watch(self, bot_id: BotId, at: datetime) -> None:
        """Judge `bot_id` from now on (its silence counts from `at`)."""
        self._last_seen[bot_id] = at
        self._crossings.clear(bot_id)

    def forget(self, bot_id: BotId) -> None:
        """Stop judging `bot_id` (it paused or stopped)."""
        self._last_seen.pop(bot_id, None)
        self._crossings.clear(bot_id)

    def seen(self, bot_id: BotId, at: datetime) -> None:
        """`bot_id` showed life at `at` (ignored for bots not watched)."""
        last = self._last_seen.get(bot_id)
        if last is not None and at >= last:
            self._last_seen[bot_id] = at
            self._crossings.clear(bot_id)

    def check(self, now: datetime) -> list[AnomalyDetected]:
        """The watched bots that just went silent for the limit (O(bots))."""
        findings = []
        limit = self.thresholds.inactivity_s
        for bot_id, last in self._last_seen.items():
            silence = now - last
            if self._crossings.rising(bot_id, silence >= self._limit):
                seconds = silence.total_seconds()
                findings.append(
                    AnomalyDetected(
                        detected_at=now,
                        detector=self.detector.value,
                        severity=self.thresholds.severity(self.detector),
                        subject=bot_id,
                        value=seconds,
                        threshold=limit,
                        reason=(
                            f"no heartbeat or activity for {format_duration(seconds)} "
                            f"(since {last.isoformat()}), limit {format_duration(limit)}"
                        ),
                        bot_id=bot_id,
                    )
                )
        return findings
