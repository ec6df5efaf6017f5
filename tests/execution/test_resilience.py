"""Retry policies per error class, the circuit breaker, and the ResilientBroker wrapper."""

from __future__ import annotations

import asyncio
import re
from collections.abc import Awaitable, Callable, Mapping, Sequence
from datetime import datetime
from decimal import Decimal
from typing import TypeVar

import pytest

from fakes import ScriptedBroker, buy
from orchestrade.domain import Account, Fill, Order, OrderId, OrderStatus, Symbol
from orchestrade.execution import (
    Broker,
    BrokerDataError,
    BrokerError,
    BrokerNetworkError,
    BrokerRateLimitedError,
    BrokerRejectedError,
    BrokerTimeoutError,
    ErrorClass,
    UpdateListener,
)
from orchestrade.execution.resilience import (
    DEFAULT_RETRY_POLICIES,
    Backoff,
    BreakerState,
    CircuitBreaker,
    CircuitOpenError,
    ResilienceConfigurationError,
    ResilientBroker,
    RetryPolicy,
    counts_as_failure,
)

pytestmark = pytest.mark.anyio

T = TypeVar("T")


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


class FakeTime:
    """A monotonic clock that moves only when something sleeps on it."""

    def __init__(self) -> None:
        self.now = 1000.0
        self.sleeps: list[float] = []

    def clock(self) -> float:
        return self.now

    async def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += seconds


class FlakyBroker:
    """A ScriptedBroker whose next calls fail as `script` says (None: succeed).

    With `fail_after_call`, a scripted failure is raised after the broker did the work, like
    a timeout on the answer of a submit the broker did receive.
    """

    def __init__(self, *script: Exception | None, fail_after_call: bool = False) -> None:
        self.inner = ScriptedBroker()
        self.script = list(script)
        self.fail_after_call = fail_after_call
        self.calls: list[str] = []

    @property
    def name(self) -> str:
        return "flaky"

    async def _run(self, operation: str, call: Callable[[], Awaitable[T]]) -> T:
        self.calls.append(operation)
        error = self.script.pop(0) if self.script else None
        if error is None:
            return await call()
        if self.fail_after_call:
            await call()
        raise error

    async def submit(self, order: Order) -> Order:
        return await self._run("submit", lambda: self.inner.submit(order))

    async def cancel(self, order_id: OrderId) -> Order:
        return await self._run("cancel", lambda: self.inner.cancel(order_id))

    async def order(self, order_id: OrderId) -> Order | None:
        return await self._run("order", lambda: self.inner.order(order_id))

    async def open_orders(self) -> Sequence[Order]:
        return await self._run("open_orders", self.inner.open_orders)

    async def fills(self, *, since: datetime | None = None) -> Sequence[Fill]:
        return await self._run("fills", lambda: self.inner.fills(since=since))

    async def positions(self) -> Mapping[Symbol, Decimal]:
        return await self._run("positions", self.inner.positions)

    async def account(self) -> Account:
        return await self._run("account", self.inner.account)

    def subscribe(self, listener: UpdateListener) -> None:
        self.inner.subscribe(listener)


def wrap(broker: FlakyBroker, time: FakeTime, **breaker: float) -> ResilientBroker:
    return ResilientBroker(
        broker,
        breaker=CircuitBreaker(name="flaky", clock=time.clock, **breaker),  # type: ignore[arg-type]
        sleep=time.sleep,
    )


def submitted(order_id: str, quantity: int = 10) -> Order:
    """An order as the OMS sends it: recorded as submitted before the broker sees it."""
    return buy(order_id, quantity).with_status(OrderStatus.SUBMITTED)


def network() -> BrokerNetworkError:
    return BrokerNetworkError("connection reset")


# -- retry policies -------------------------------------------------------------------------------


def test_the_default_policies_are_those_of_the_issue() -> None:
    network_policy = DEFAULT_RETRY_POLICIES[ErrorClass.NETWORK]
    data_policy = DEFAULT_RETRY_POLICIES[ErrorClass.DATA]
    calculation_policy = DEFAULT_RETRY_POLICIES[ErrorClass.CALCULATION]

    assert (network_policy.backoff, network_policy.tries) == (Backoff.EXPONENTIAL, 3)
    assert [network_policy.delay_s(n) for n in (1, 2)] == [0.5, 1.0]
    assert (data_policy.backoff, data_policy.tries) == (Backoff.LINEAR, 2)
    assert data_policy.delay_s(1) == 1.0
    assert (calculation_policy.backoff, calculation_policy.tries) == (Backoff.NONE, 1)


def test_linear_waits_grow_by_the_base_and_exponential_by_the_factor_up_to_the_cap() -> None:
    linear = RetryPolicy(Backoff.LINEAR, tries=6, base_delay_s=1.5, max_delay_s=5.0)
    exponential = RetryPolicy(Backoff.EXPONENTIAL, tries=6, base_delay_s=0.25, factor=3.0)

    assert [linear.delay_s(n) for n in range(1, 6)] == [1.5, 3.0, 4.5, 5.0, 5.0]
    assert [exponential.delay_s(n) for n in range(1, 6)] == [0.25, 0.75, 2.25, 6.75, 20.25]
    assert exponential.delay_s(10_000) == 30.0


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"backoff": Backoff.LINEAR, "tries": 0}, "tries must be an integer >= 1"),
        ({"backoff": Backoff.NONE, "tries": 2}, "a policy without backoff makes exactly 1 try"),
        ({"backoff": Backoff.LINEAR, "tries": 2, "base_delay_s": -1}, "base_delay_s must be"),
        ({"backoff": Backoff.LINEAR, "tries": 2, "factor": 0.5}, "factor must be >= 1"),
        ({"backoff": "fibonacci", "tries": 2}, "'fibonacci' is not a valid Backoff"),
    ],
)
def test_a_bad_retry_policy_is_refused(options: dict[str, object], message: str) -> None:
    with pytest.raises((ResilienceConfigurationError, ValueError), match=re.escape(message)):
        RetryPolicy(**options)  # type: ignore[arg-type]


# -- retries through the wrapper ------------------------------------------------------------------


async def test_network_errors_are_retried_exponentially_until_a_try_succeeds() -> None:
    time = FakeTime()
    broker = FlakyBroker(network(), BrokerTimeoutError("no answer"))
    resilient = wrap(broker, time)

    positions = await resilient.positions()

    assert positions == {}
    assert broker.calls == ["positions"] * 3
    assert time.sleeps == [0.5, 1.0]
    assert (resilient.stats.calls, resilient.stats.tries, resilient.stats.retries) == (1, 3, 2)
    assert resilient.breaker.consecutive_failures == 0


async def test_a_network_error_on_every_try_is_raised_after_3_tries() -> None:
    time = FakeTime()
    last = BrokerRateLimitedError("slow down")
    broker = FlakyBroker(network(), network(), last, None)
    resilient = wrap(broker, time)

    with pytest.raises(BrokerRateLimitedError) as caught:
        await resilient.account()

    assert caught.value is last
    assert len(broker.calls) == 3
    assert time.sleeps == [0.5, 1.0]


async def test_data_errors_are_retried_once_after_a_linear_wait() -> None:
    time = FakeTime()
    broker = FlakyBroker(BrokerDataError("bad json"), BrokerDataError("bad json"), None)
    resilient = wrap(broker, time)

    with pytest.raises(BrokerDataError):
        await resilient.open_orders()

    assert len(broker.calls) == 2
    assert time.sleeps == [1.0]


async def test_a_data_error_then_success_returns_the_answer() -> None:
    time = FakeTime()
    broker = FlakyBroker(BrokerDataError("missing field"))
    resilient = wrap(broker, time)

    assert await resilient.fills() == []
    assert time.sleeps == [1.0]


async def test_a_refusal_is_never_retried_and_does_not_count_against_the_broker() -> None:
    time = FakeTime()
    broker = FlakyBroker(network(), BrokerRejectedError("insufficient cash"))
    resilient = wrap(broker, time)

    with pytest.raises(BrokerRejectedError):
        await resilient.submit(submitted("o1"))

    assert len(broker.calls) == 2
    assert time.sleeps == [0.5]
    assert resilient.breaker.consecutive_failures == 0


async def test_an_unexpected_adapter_error_is_raised_at_once_and_counts_as_a_failure() -> None:
    time = FakeTime()
    broker = FlakyBroker(KeyError("price"))
    resilient = wrap(broker, time)

    with pytest.raises(KeyError):
        await resilient.positions()

    assert len(broker.calls) == 1
    assert time.sleeps == []
    assert resilient.breaker.consecutive_failures == 1


async def test_the_tries_stop_at_the_limit_of_the_latest_error_class() -> None:
    time = FakeTime()
    broker = FlakyBroker(network(), BrokerDataError("garbled"), None)
    resilient = wrap(broker, time)

    with pytest.raises(BrokerDataError):
        await resilient.positions()

    assert len(broker.calls) == 2
    assert time.sleeps == [0.5]


async def test_a_retried_submit_never_reaches_the_broker_twice() -> None:
    # The broker takes the order but its answer times out; the retry, idempotent on the
    # client order id, returns the order the broker already holds.
    time = FakeTime()
    broker = FlakyBroker(BrokerTimeoutError("answer lost"), fail_after_call=True)
    resilient = wrap(broker, time)
    order = submitted("o1", 5)

    accepted = await resilient.submit(order)

    assert broker.calls == ["submit", "submit"]
    assert list(broker.inner.orders) == [OrderId("o1")]
    assert accepted.status is OrderStatus.ACCEPTED
    assert accepted == broker.inner.orders[OrderId("o1")]


async def test_every_broker_method_goes_through_the_wrapper() -> None:
    time = FakeTime()
    broker = FlakyBroker()
    resilient: Broker = wrap(broker, time)
    updates: list[object] = []

    async def listen(update: object) -> None:
        updates.append(update)

    resilient.subscribe(listen)
    await resilient.submit(submitted("o1"))
    await resilient.order(OrderId("o1"))
    await resilient.cancel(OrderId("o1"))
    await resilient.open_orders()
    await resilient.fills()
    await resilient.positions()
    await resilient.account()

    assert resilient.name == "flaky"
    assert broker.calls == [
        "submit",
        "order",
        "cancel",
        "open_orders",
        "fills",
        "positions",
        "account",
    ]
    assert len(updates) == 2  # accepted, cancelled


def test_policies_must_cover_every_error_class() -> None:
    with pytest.raises(ResilienceConfigurationError, match="missing for: data, calculation"):
        ResilientBroker(
            FlakyBroker(), policies={ErrorClass.NETWORK: DEFAULT_RETRY_POLICIES[ErrorClass.NETWORK]}
        )


# -- circuit breaker ------------------------------------------------------------------------------


def test_the_breaker_opens_at_the_fifth_consecutive_failure() -> None:
    time = FakeTime()
    breaker = CircuitBreaker(clock=time.clock)

    for _ in range(4):
        breaker.before_call()
        breaker.record_failure()
    state_after_four = breaker.state
    breaker.before_call()
    breaker.record_failure()

    assert state_after_four is BreakerState.CLOSED
    assert breaker.state is BreakerState.OPEN
    with pytest.raises(CircuitOpenError) as caught:
        breaker.before_call()
    assert caught.value.retry_after_s == 60.0
    assert (
        str(caught.value) == "broker: circuit open after 5 consecutive failures; next trial in 60 s"
    )


def test_a_success_resets_the_count_of_consecutive_failures() -> None:
    breaker = CircuitBreaker(clock=FakeTime().clock)

    for outcome in ["fail"] * 4 + ["ok"] + ["fail"] * 4:
        breaker.before_call()
        if outcome == "ok":
            breaker.record_success()
        else:
            breaker.record_failure()

    assert breaker.state is BreakerState.CLOSED
    assert breaker.consecutive_failures == 4


def open_breaker(
    time: FakeTime, changes: list[tuple[BreakerState, BreakerState]]
) -> CircuitBreaker:
    breaker = CircuitBreaker(
        clock=time.clock, on_change=lambda old, new: changes.append((old, new))
    )
    for _ in range(5):
        breaker.before_call()
        breaker.record_failure()
    return breaker


def test_after_60_s_one_trial_call_goes_through_and_its_success_closes_the_breaker() -> None:
    time = FakeTime()
    changes: list[tuple[BreakerState, BreakerState]] = []
    breaker = open_breaker(time, changes)

    time.now += 59.5
    with pytest.raises(CircuitOpenError, match=re.escape("next trial in 0.5 s")):
        breaker.before_call()
    time.now += 0.5
    half_open = breaker.state
    breaker.before_call()  # the trial
    with pytest.raises(CircuitOpenError, match="half-open, its trial call is in flight"):
        breaker.before_call()
    breaker.record_success()

    assert half_open is BreakerState.HALF_OPEN
    assert breaker.state is BreakerState.CLOSED
    assert breaker.consecutive_failures == 0
    assert changes == [
        (BreakerState.CLOSED, BreakerState.OPEN),
        (BreakerState.OPEN, BreakerState.HALF_OPEN),
        (BreakerState.HALF_OPEN, BreakerState.CLOSED),
    ]


def test_a_failed_trial_reopens_the_breaker_for_another_60_s() -> None:
    time = FakeTime()
    changes: list[tuple[BreakerState, BreakerState]] = []
    breaker = open_breaker(time, changes)
    time.now += 60.0

    breaker.before_call()
    breaker.record_failure()

    assert breaker.state is BreakerState.OPEN
    time.now += 59.0
    assert breaker.state is BreakerState.OPEN
    time.now += 1.0
    assert breaker.state is BreakerState.HALF_OPEN
    assert [new for _, new in changes] == [
        BreakerState.OPEN,
        BreakerState.HALF_OPEN,
        BreakerState.OPEN,
        BreakerState.HALF_OPEN,
    ]


async def test_a_cancelled_trial_frees_the_slot_for_the_next_one() -> None:
    time = FakeTime()
    breaker = open_breaker(time, [])
    time.now += 60.0
    started = asyncio.Event()

    async def hang() -> None:
        started.set()
        await asyncio.Event().wait()

    task = asyncio.create_task(breaker.call(hang))
    await started.wait()
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task

    assert breaker.state is BreakerState.HALF_OPEN
    breaker.before_call()  # admitted: the slot is free again


async def test_call_classifies_the_outcome() -> None:
    breaker = CircuitBreaker(clock=FakeTime().clock, failure_threshold=2)

    async def refuse() -> None:
        raise BrokerRejectedError("no cash")

    async def fail() -> None:
        raise BrokerDataError("garbled")

    async def answer() -> int:
        return 7

    with pytest.raises(BrokerDataError):
        await breaker.call(fail)
    with pytest.raises(BrokerRejectedError):
        await breaker.call(refuse)
    assert breaker.consecutive_failures == 0
    assert await breaker.call(answer) == 7


@pytest.mark.parametrize(
    ("error", "expected"),
    [
        (BrokerNetworkError("x"), True),
        (BrokerTimeoutError("x"), True),
        (BrokerRateLimitedError("x"), True),
        (BrokerDataError("x"), True),
        (BrokerRejectedError("x"), False),
        (RuntimeError("x"), True),
    ],
)
def test_which_errors_count_against_the_broker(error: Exception, expected: bool) -> None:
    assert counts_as_failure(error) is expected


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"failure_threshold": 0}, "failure_threshold must be an integer >= 1, got 0"),
        ({"open_s": 0}, "open_s must be finite and > 0, got 0"),
        ({"open_s": float("inf")}, "open_s must be finite and > 0, got inf"),
    ],
)
def test_a_bad_breaker_setting_is_refused(options: dict[str, float], message: str) -> None:
    with pytest.raises(ResilienceConfigurationError, match=re.escape(message)):
        CircuitBreaker(**options)  # type: ignore[arg-type]


# -- retries and breaker together -----------------------------------------------------------------


async def test_a_dead_broker_opens_the_breaker_mid_retry_and_later_calls_fail_fast() -> None:
    time = FakeTime()
    broker = FlakyBroker(*[network() for _ in range(10)])
    resilient = wrap(broker, time)

    with pytest.raises(BrokerNetworkError):
        await resilient.positions()  # tries 1-3
    with pytest.raises(BrokerNetworkError) as fifth:
        await resilient.positions()  # tries 4-5: the fifth failure opens the breaker
    with pytest.raises(CircuitOpenError):
        await resilient.positions()  # refused without calling the broker

    assert not isinstance(fifth.value, CircuitOpenError)
    assert len(broker.calls) == 5
    assert time.sleeps == [0.5, 1.0, 0.5]
    assert resilient.breaker.state is BreakerState.OPEN
    assert (resilient.stats.calls, resilient.stats.tries, resilient.stats.failures) == (3, 5, 5)
    assert resilient.stats.short_circuited == 1


async def test_after_the_open_period_a_successful_trial_closes_the_breaker() -> None:
    time = FakeTime()
    broker = FlakyBroker(*[network() for _ in range(5)])
    resilient = wrap(broker, time)
    for _ in range(2):
        with pytest.raises(BrokerNetworkError):
            await resilient.positions()

    time.now += 60.0
    positions = await resilient.positions()

    assert positions == {}
    assert resilient.breaker.state is BreakerState.CLOSED
    assert len(broker.calls) == 6


async def test_a_failed_trial_is_not_retried_and_reopens_the_breaker() -> None:
    time = FakeTime()
    broker = FlakyBroker(*[network() for _ in range(6)])
    resilient = wrap(broker, time)
    for _ in range(2):
        with pytest.raises(BrokerNetworkError):
            await resilient.positions()
    time.now += 60.0
    sleeps_before = len(time.sleeps)

    with pytest.raises(BrokerNetworkError):
        await resilient.positions()

    assert len(broker.calls) == 6
    assert len(time.sleeps) == sleeps_before
    assert resilient.breaker.state is BreakerState.OPEN


# -- orders sent together -------------------------------------------------------------------


class BatchBroker(FlakyBroker):
    """A FlakyBroker that also takes batches: each order's answer is scripted in `answers`
    (an exception, or None for the inner broker's answer); `submit` alone is flaky as usual."""

    def __init__(self, *script: Exception | None, answers: Sequence[Exception | None]) -> None:
        super().__init__(*script)
        self.answers = list(answers)

    async def submit_many(self, orders: Sequence[Order]) -> list[Order | BrokerError]:
        self.calls.append("submit_many")
        results: list[Order | BrokerError] = []
        for order, answer in zip(orders, self.answers, strict=True):
            if isinstance(answer, BrokerError):
                results.append(answer)
            else:
                results.append(await self.inner.submit(order))
        return results


async def test_a_batch_is_one_call_and_only_its_unanswered_orders_are_sent_again_alone() -> None:
    time = FakeTime()
    refused = BrokerRejectedError("price outside the band")
    broker = BatchBroker(network(), answers=[None, BrokerTimeoutError("lost"), refused])
    resilient = wrap(broker, time)

    answers = await resilient.submit_many([submitted("a"), submitted("b"), submitted("c")])

    # The timed-out order went again alone (its first try failed too, then it got through);
    # the refusal is an answer, kept as it is.
    assert broker.calls == ["submit_many", "submit", "submit"]
    assert [a.status for a in answers if isinstance(a, Order)] == [OrderStatus.ACCEPTED] * 2
    assert answers[2] is refused
    assert time.sleeps == [0.5]


async def test_a_broker_without_batches_gets_each_order_alone_with_its_retries() -> None:
    time = FakeTime()
    broker = FlakyBroker(None, BrokerRejectedError("no"), network(), network(), network())
    resilient = wrap(broker, time)

    answers = await resilient.submit_many([submitted("a"), submitted("b"), submitted("c")])

    assert broker.calls == ["submit"] * 5
    assert isinstance(answers[0], Order)
    assert isinstance(answers[1], BrokerRejectedError)
    assert isinstance(answers[2], BrokerNetworkError)  # out of tries: an answer, not raised
