"""Login throttling: 5 attempts at once per (name, client), then one every 12 s."""

from __future__ import annotations

import pytest

from fakes.auth import FakeMonotonic
from orchestrade.auth import AuthConfigurationError, LoginRateLimitedError, LoginRateLimiter
from orchestrade.auth import login_limits as module


def limiter(clock: FakeMonotonic, attempts: int = 5) -> LoginRateLimiter:
    return LoginRateLimiter(attempts=attempts, period_s=60, clock=clock)


def test_a_burst_of_five_is_admitted_and_the_sixth_refused() -> None:
    clock = FakeMonotonic()
    limits = limiter(clock)
    for _ in range(5):
        limits.acquire("alice", "10.0.0.1")

    with pytest.raises(LoginRateLimitedError, match="retry in 12 s") as raised:
        limits.acquire("alice", "10.0.0.1")

    assert raised.value.retry_after_s == pytest.approx(12.0)


def test_one_attempt_refills_every_twelve_seconds() -> None:
    clock = FakeMonotonic()
    limits = limiter(clock)
    for _ in range(5):
        limits.acquire("alice", "10.0.0.1")

    clock.advance(11.5)
    with pytest.raises(LoginRateLimitedError) as raised:
        limits.acquire("alice", "10.0.0.1")
    assert raised.value.retry_after_s == pytest.approx(0.5)
    clock.advance(0.5)
    limits.acquire("alice", "10.0.0.1")
    with pytest.raises(LoginRateLimitedError):
        limits.acquire("alice", "10.0.0.1")


def test_a_refused_attempt_does_not_push_the_next_one_further() -> None:
    clock = FakeMonotonic()
    limits = limiter(clock, attempts=1)
    limits.acquire("alice", "a")
    for _ in range(10):
        with pytest.raises(LoginRateLimitedError):
            limits.acquire("alice", "a")

    clock.advance(60)

    limits.acquire("alice", "a")


def test_other_names_and_clients_have_their_own_buckets_and_case_does_not_matter() -> None:
    clock = FakeMonotonic()
    limits = limiter(clock, attempts=1)
    limits.acquire("alice", "10.0.0.1")

    limits.acquire("bob", "10.0.0.1")
    limits.acquire("alice", "10.0.0.2")
    with pytest.raises(LoginRateLimitedError):
        limits.acquire("ALICE", "10.0.0.1")


def test_a_long_rest_refills_only_up_to_the_burst() -> None:
    clock = FakeMonotonic()
    limits = limiter(clock, attempts=2)
    limits.acquire("alice", "a")

    clock.advance(3600)
    limits.acquire("alice", "a")
    limits.acquire("alice", "a")

    with pytest.raises(LoginRateLimitedError):
        limits.acquire("alice", "a")


def test_refilled_buckets_are_forgotten_past_the_tracking_bound(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(module, "MAX_TRACKED", 3)
    clock = FakeMonotonic()
    limits = limiter(clock, attempts=1)
    for client in ("a", "b", "c"):
        limits.acquire("alice", client)
    clock.advance(60)  # a, b and c are full again

    limits.acquire("alice", "d")
    limits.acquire("alice", "e")

    assert limits.tracked == 2


def test_the_oldest_buckets_go_when_none_has_refilled(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(module, "MAX_TRACKED", 2)
    clock = FakeMonotonic()
    limits = limiter(clock, attempts=1)

    for client in ("a", "b", "c"):
        limits.acquire("alice", client)

    assert limits.tracked == 2
    limits.acquire("alice", "a")  # forgotten, so admitted again


@pytest.mark.parametrize(("attempts", "period_s"), [(0, 60), (True, 60), (5, 0), (5, float("nan"))])
def test_bad_settings_are_refused(attempts: int, period_s: float) -> None:
    with pytest.raises(AuthConfigurationError):
        LoginRateLimiter(attempts=attempts, period_s=period_s, clock=FakeMonotonic())
