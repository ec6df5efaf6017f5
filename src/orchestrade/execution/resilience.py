"""Retries per error class and a circuit breaker around every broker call.

A broker call fails in one of three ways (`ErrorClass`), and each has its own `RetryPolicy`:

- network (unreachable, timed out, rate-limited): retried with exponential backoff, 3 tries
  in all by default (waits 0.5 s, then 1 s);
- data (an answer we could not read): retried with linear backoff, 2 tries (one wait of 1 s);
- calculation (the broker understood and refused, or our request is wrong): never retried.

A `CircuitBreaker` watches the calls: after 5 consecutive failures it *opens* and refuses
every call at once for 60 s (`CircuitOpenError`), so that a dead broker is not hammered and
callers learn quickly that it is down; then it is *half-open* and lets one trial call
through: success closes it, failure opens it for another 60 s. Only failures that say the
broker is unwell count (network and data errors, and unexpected exceptions from an
adapter); a refusal (calculation class) is an answer, and counts as a success.

`ResilientBroker` runs every call of a `Broker` through both: each try passes the breaker,
so retries count as failures, and a breaker that opens ends the retries at once (the
failure that opened it is raised). A call stops when its tries reach the policy of the
error it just got: a network failure then a data failure is 2 tries, the data limit.
"""

from __future__ import annotations

import asyncio
import logging
import math
import time
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from enum import StrEnum
from types import MappingProxyType
from typing import TypeVar

from orchestrade.domain import Account, Fill, Order, OrderId, Symbol
from orchestrade.domain.errors import OrchestradeError
from orchestrade.execution.broker_errors import BrokerError, BrokerNetworkError, ErrorClass
from orchestrade.execution.ports import BatchSubmitter, Broker, UpdateListener

log = logging.getLogger(__name__)

T = TypeVar("T")

MonotonicClock = Callable[[], float]
"""Seconds on a clock that never goes back (`time.monotonic`; a fake in tests)."""

Sleep = Callable[[float], Awaitable[None]]
"""Wait this many seconds (`asyncio.sleep`; a fake in tests)."""


class ResilienceConfigurationError(OrchestradeError, ValueError):
    """A retry policy or breaker setting is out of range (the message names it)."""


class CircuitOpenError(BrokerNetworkError):
    """The breaker is open (or half-open with its trial call in flight): the call was not made.

    It is a network-class error, so callers treat it as "broker unavailable", but
    `ResilientBroker` never retries it. `retry_after_s` says when the breaker will let a
    trial call through (0 while a trial is in flight).
    """

    def __init__(self, message: str, *, retry_after_s: float) -> None:
        super().__init__(message)
        self.retry_after_s = retry_after_s


class Backoff(StrEnum):
    """How the wait grows between tries."""

    EXPONENTIAL = "exponential"
    LINEAR = "linear"
    NONE = "none"


@dataclass(frozen=True, slots=True)
class RetryPolicy:
    """How often and how patiently one class of failure is retried.

    Attributes:
        backoff: exponential (``base * factor ** (n - 1)``), linear (``base * n``) or none.
        tries: calls in all, the first included (1: no retry).
        base_delay_s: the first wait.
        factor: growth of exponential waits.
        max_delay_s: the longest wait.
    """

    backoff: Backoff
    tries: int
    base_delay_s: float = 0.0
    factor: float = 2.0
    max_delay_s: float = 30.0

    def __post_init__(self) -> None:
        object.__setattr__(self, "backoff", Backoff(self.backoff))
        if isinstance(self.tries, bool) or not isinstance(self.tries, int) or self.tries < 1:
            raise ResilienceConfigurationError(
                f"tries must be an integer >= 1 (the first call counts), got {self.tries!r}"
            )
        if self.backoff is Backoff.NONE and self.tries != 1:
            raise ResilienceConfigurationError(
                f"a policy without backoff makes exactly 1 try, got tries={self.tries}"
            )
        for name in ("base_delay_s", "factor", "max_delay_s"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int | float):
                raise ResilienceConfigurationError(f"{name} must be a number, got {value!r}")
            if not math.isfinite(value) or value < 0:
                raise ResilienceConfigurationError(f"{name} must be finite and >= 0, got {value!r}")
        if self.factor < 1:
            raise ResilienceConfigurationError(f"factor must be >= 1, got {self.factor}")

    @classmethod
    def never(cls) -> RetryPolicy:
        """One try, no retry."""
        return cls(Backoff.NONE, tries=1)

    def delay_s(self, retry: int) -> float:
        """Seconds to wait before retry number `retry` (1 for the first retry)."""
        if retry < 1:
            raise ResilienceConfigurationError(f"retries count from 1, got {retry}")
        if self.backoff is Backoff.LINEAR:
            delay = self.base_delay_s * retry
        elif self.backoff is Backoff.EXPONENTIAL:
            try:
                delay = self.base_delay_s * self.factor ** min(retry - 1, 1024)
            except OverflowError:
                delay = math.inf
        else:
            delay = 0.0
        return min(delay, self.max_delay_s)


DEFAULT_RETRY_POLICIES: Mapping[ErrorClass, RetryPolicy] = MappingProxyType(
    {
        ErrorClass.NETWORK: RetryPolicy(Backoff.EXPONENTIAL, tries=3, base_delay_s=0.5),
        ErrorClass.DATA: RetryPolicy(Backoff.LINEAR, tries=2, base_delay_s=1.0),
        ErrorClass.CALCULATION: RetryPolicy.never(),
    }
)
"""Network: exponential, 3 tries (waits 0.5 s, 1 s); data: linear, 2 tries (wait 1 s);
calculation: no retry."""


class BreakerState(StrEnum):
    """Closed: calls go through. Open: calls are refused. Half-open: one trial call goes."""

    CLOSED = "closed"
    OPEN = "open"
    HALF_OPEN = "half_open"


BreakerListener = Callable[[BreakerState, BreakerState], None]
"""Told (previous, new) on every state change, e.g. to publish an event or an alert."""


class CircuitBreaker:
    """Opens after `failure_threshold` consecutive failures, for `open_s` seconds (module doc).

    Use `call`, or `before_call` then exactly one of `record_success`, `record_failure` or
    `release` around each call.
    """

    def __init__(
        self,
        *,
        name: str = "broker",
        failure_threshold: int = 5,
        open_s: float = 60.0,
        clock: MonotonicClock = time.monotonic,
        on_change: BreakerListener | None = None,
    ) -> None:
        if (
            isinstance(failure_threshold, bool)
            or not isinstance(failure_threshold, int)
            or failure_threshold < 1
        ):
            raise ResilienceConfigurationError(
                f"failure_threshold must be an integer >= 1, got {failure_threshold!r}"
            )
        if (
            isinstance(open_s, bool)
            or not isinstance(open_s, int | float)
            or not (math.isfinite(open_s) and open_s > 0)
        ):
            raise ResilienceConfigurationError(f"open_s must be finite and > 0, got {open_s!r}")
        self.name = name
        self.failure_threshold = failure_threshold
        self.open_s = float(open_s)
        self._clock = clock
        self._on_change = on_change
        self._state = BreakerState.CLOSED
        self._failures = 0
        self._opened_at = 0.0
        self._trial_in_flight = False

    @property
    def state(self) -> BreakerState:
        """The state now (an open breaker whose time is up reads as half-open)."""
        if self._state is BreakerState.OPEN and self._remaining_s() <= 0:
            self._change(BreakerState.HALF_OPEN)
        return self._state

    @property
    def consecutive_failures(self) -> int:
        """Failures since the last success (reset when the breaker closes)."""
        return self._failures

    def before_call(self) -> None:
        """Admit one call, or refuse it.

        Raises:
            CircuitOpenError: the breaker is open, or half-open with its trial in flight.
        """
        state = self.state
        if state is BreakerState.CLOSED:
            return
        if state is BreakerState.OPEN:
            remaining = self._remaining_s()
            raise CircuitOpenError(
                f"{self.name}: circuit open after {self._failures} consecutive failures; "
                f"next trial in {remaining:g} s",
                retry_after_s=remaining,
            )
        if self._trial_in_flight:
            raise CircuitOpenError(
                f"{self.name}: circuit half-open, its trial call is in flight", retry_after_s=0.0
            )
        self._trial_in_flight = True

    def record_success(self) -> None:
        """The admitted call succeeded (or got an answer): close the breaker."""
        self._trial_in_flight = False
        self._failures = 0
        if self._state is not BreakerState.CLOSED:
            self._change(BreakerState.CLOSED)

    def record_failure(self) -> None:
        """The admitted call failed: count it; open at the threshold or after a failed trial."""
        self._failures += 1
        trial = self._trial_in_flight
        self._trial_in_flight = False
        if trial or (
            self._state is BreakerState.CLOSED and self._failures >= self.failure_threshold
        ):
            self._opened_at = self._clock()
            self._change(BreakerState.OPEN)

    def release(self) -> None:
        """The admitted call ended without a verdict (cancelled): free the trial slot."""
        self._trial_in_flight = False

    async def call(self, operation: Callable[[], Awaitable[T]]) -> T:
        """Run `operation` through the breaker; `counts_as_failure` decides what counts."""
        self.before_call()
        try:
            result = await operation()
        except Exception as error:
            if counts_as_failure(error):
                self.record_failure()
            else:
                self.record_success()
            raise
        except BaseException:  # cancelled or interrupted: no verdict on the broker
            self.release()
            raise
        self.record_success()
        return result

    def _remaining_s(self) -> float:
        return max(0.0, self._opened_at + self.open_s - self._clock())

    def _change(self, state: BreakerState) -> None:
        previous, self._state = self._state, state
        log.warning("circuit %s: %s -> %s", self.name, previous.value, state.value)
        if self._on_change is not None:
            self._on_change(previous, state)


def counts_as_failure(error: Exception) -> bool:
    """Whether `error` says the broker is unwell (for the breaker).

    Network and data errors do; a calculation-class `BrokerError` (a refusal, a bad request)
    is an answer from a healthy broker and does not; any other exception from an adapter is
    unexpected and does. `CircuitOpenError` never reaches the breaker (no call was made).
    """
    if isinstance(error, BrokerError):
        return error.error_class is not ErrorClass.CALCULATION
    return True


@dataclass(slots=True)
class ResilienceStats:
    """Counters of one `ResilientBroker`.

    Attributes:
        calls: broker methods called through the wrapper.
        tries: calls actually made to the broker (first tries and retries).
        retries: tries after the first.
        failures: tries that failed (any error).
        short_circuited: calls or retries refused by an open breaker.
    """

    calls: int = 0
    tries: int = 0
    retries: int = 0
    failures: int = 0
    short_circuited: int = 0


class ResilientBroker:
    """A `Broker` that retries per error class and stops calling a broker that is down.

    Retrying `submit` is safe only because every broker is idempotent on the client order id
    (`Order.order_id`, see `orchestrade.execution.ports.Broker`): a submit that timed out
    after the broker took the order returns that same order when retried, and nothing
    reaches the market twice. An adapter that cannot guarantee this must not be wrapped.

    Args:
        broker: the broker to protect.
        policies: the retry policy of each error class (default: `DEFAULT_RETRY_POLICIES`).
        breaker: the circuit breaker (default: 5 failures, open 60 s, named after the broker).
        sleep: how to wait between tries (inject a fake in tests).
    """

    def __init__(
        self,
        broker: Broker,
        *,
        policies: Mapping[ErrorClass, RetryPolicy] | None = None,
        breaker: CircuitBreaker | None = None,
        sleep: Sleep = asyncio.sleep,
    ) -> None:
        chosen = dict(DEFAULT_RETRY_POLICIES if policies is None else policies)
        missing = [error_class.value for error_class in ErrorClass if error_class not in chosen]
        if missing:
            raise ResilienceConfigurationError(
                f"retry policies are missing for: {', '.join(missing)}"
            )
        self._broker = broker
        self._policies: Mapping[ErrorClass, RetryPolicy] = MappingProxyType(chosen)
        self._breaker = breaker if breaker is not None else CircuitBreaker(name=broker.name)
        self._sleep = sleep
        self.stats = ResilienceStats()

    @property
    def name(self) -> str:
        return self._broker.name

    @property
    def breaker(self) -> CircuitBreaker:
        return self._breaker

    @property
    def policies(self) -> Mapping[ErrorClass, RetryPolicy]:
        return self._policies

    async def submit(self, order: Order) -> Order:
        """Submit through retries and the breaker (safe to retry: see the class docstring)."""
        return await self._call("submit", lambda: self._broker.submit(order))

    async def submit_many(self, orders: Sequence[Order]) -> list[Order | BrokerError]:
        """`BatchSubmitter.submit_many`: one call through the breaker (retried whole, like
        `submit`) when the wrapped broker takes batches, else `submit` for each order. An
        order answered in a batch with a network or data error is then sent again alone,
        through `submit` and its retries."""
        inner = self._broker
        if not isinstance(inner, BatchSubmitter):
            return [await self._answer(order) for order in orders]
        answers = list(await self._call("submit_many", lambda: inner.submit_many(orders)))
        for index, (order, answer) in enumerate(zip(orders, answers, strict=True)):
            if isinstance(answer, BrokerError) and counts_as_failure(answer):
                answers[index] = await self._answer(order)
        return answers

    async def _answer(self, order: Order) -> Order | BrokerError:
        """`submit`'s result, or the `BrokerError` it raised."""
        try:
            return await self.submit(order)
        except BrokerError as error:
            return error

    async def cancel(self, order_id: OrderId) -> Order:
        return await self._call("cancel", lambda: self._broker.cancel(order_id))

    async def order(self, order_id: OrderId) -> Order | None:
        return await self._call("order", lambda: self._broker.order(order_id))

    async def open_orders(self) -> Sequence[Order]:
        return await self._call("open_orders", self._broker.open_orders)

    async def fills(self, *, since: datetime | None = None) -> Sequence[Fill]:
        return await self._call("fills", lambda: self._broker.fills(since=since))

    async def positions(self) -> Mapping[Symbol, Decimal]:
        return await self._call("positions", self._broker.positions)

    async def account(self) -> Account:
        return await self._call("account", self._broker.account)

    def subscribe(self, listener: UpdateListener) -> None:
        """Passed straight to the broker: registering a listener is not a remote call."""
        self._broker.subscribe(listener)

    async def _call(self, operation: str, call: Callable[[], Awaitable[T]]) -> T:
        self.stats.calls += 1
        tries = 0
        while True:
            try:
                self._breaker.before_call()
            except CircuitOpenError:
                self.stats.short_circuited += 1
                raise
            tries += 1
            self.stats.tries += 1
            if tries > 1:
                self.stats.retries += 1
            try:
                result = await call()
            except asyncio.CancelledError:
                self._breaker.release()
                raise
            except Exception as error:  # classified for the breaker, then retried or re-raised
                self.stats.failures += 1
                if counts_as_failure(error):
                    self._breaker.record_failure()
                else:
                    self._breaker.record_success()
                if not isinstance(error, BrokerError):
                    raise  # an adapter bug: retrying will not help
                policy = self._policies[error.error_class]
                if tries >= policy.tries or self._breaker.state is BreakerState.OPEN:
                    raise  # out of tries, or the breaker just opened and would refuse them
                delay_s = policy.delay_s(tries)
                log.warning(
                    "%s.%s failed (%s: %s); try %d of %d in %g s",
                    self.name,
                    operation,
                    type(error).__name__,
                    error,
                    tries + 1,
                    policy.tries,
                    delay_s,
                )
                await self._sleep(delay_s)
                continue
            self._breaker.record_success()
            return result
