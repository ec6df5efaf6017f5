import pytest
from hypothesis import given
from hypothesis import strategies as st

from orchestrade.risk import Approved, Denied, MaxOrdersPerSecondCheck, TokenBucket
from orchestrade.risk.errors import RiskConfigurationError
from risk.fakes import FakeClock, FakePositionBook, buy

BOOK = FakePositionBook()


def test_orders_beyond_the_burst_are_denied() -> None:
    check = MaxOrdersPerSecondCheck(rate_per_s=2, clock=FakeClock())

    decisions = [check.evaluate(buy("A", 1, bot="b1"), BOOK) for _ in range(3)]

    assert decisions[:2] == [Approved(), Approved()]
    assert decisions[2] == Denied(
        "max_orders_per_second", "max_orders_per_second: bot b1 is over 2 orders/s (burst 2)"
    )


def test_tokens_refill_with_the_clock() -> None:
    clock = FakeClock()
    check = MaxOrdersPerSecondCheck(rate_per_s=2, clock=clock)
    for _ in range(2):
        check.evaluate(buy("A", 1, bot="b1"), BOOK)

    clock.now = 0.5
    decision = check.evaluate(buy("A", 1, bot="b1"), BOOK)

    assert decision == Approved()


def test_each_bot_has_its_own_bucket() -> None:
    check = MaxOrdersPerSecondCheck(rate_per_s=1, clock=FakeClock())
    check.evaluate(buy("A", 1, bot="b1"), BOOK)

    decision = check.evaluate(buy("A", 1, bot="b2"), BOOK)

    assert decision == Approved()


def test_a_clock_going_backwards_adds_no_tokens() -> None:
    bucket = TokenBucket(rate_per_s=1, burst=1, now=10.0)
    bucket.try_acquire(10.0)

    assert bucket.try_acquire(5.0) is False


@pytest.mark.parametrize("rate", [0, -1, float("nan"), float("inf")])
def test_a_non_positive_rate_is_refused(rate: float) -> None:
    with pytest.raises(RiskConfigurationError, match="rate_per_s"):
        MaxOrdersPerSecondCheck(rate_per_s=rate, clock=FakeClock())


@given(
    rate=st.floats(0.5, 50),
    burst=st.integers(1, 10),
    gaps=st.lists(st.floats(0, 2), min_size=1, max_size=200),
)
def test_no_window_admits_more_than_burst_plus_rate_times_its_length(
    rate: float, burst: int, gaps: list[float]
) -> None:
    bucket = TokenBucket(rate_per_s=rate, burst=burst, now=0.0)
    times: list[float] = []
    now = 0.0
    for gap in gaps:
        now += gap
        if bucket.try_acquire(now):
            times.append(now)

    for i, start in enumerate(times):
        for j in range(i, len(times)):
            admitted = j - i + 1
            assert admitted <= burst + rate * (times[j] - start) + 1e-9


@given(rate=st.floats(0.5, 50), count=st.integers(1, 100))
def test_orders_spaced_at_the_rate_are_all_admitted(rate: float, count: int) -> None:
    bucket = TokenBucket(rate_per_s=rate, burst=1, now=0.0)

    admitted = [bucket.try_acquire(k * (1 / rate) * (1 + 1e-9)) for k in range(count)]

    assert all(admitted)
