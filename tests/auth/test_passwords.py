"""Passwords: argon2id hashes that verify only the right password; the policy for new ones."""

from __future__ import annotations

import pytest

from fakes.auth import cheap_hasher
from orchestrade.auth import AccountError, check_password_policy, generate_password


def test_a_hash_verifies_its_password_and_nothing_else() -> None:
    hasher = cheap_hasher()

    stored = hasher.hash("correct horse battery staple")

    assert stored.startswith("$argon2id$")
    assert "correct horse" not in stored
    assert hasher.verify(stored, "correct horse battery staple")
    assert not hasher.verify(stored, "correct horse battery stapl")
    assert not hasher.verify(stored, "")


def test_the_same_password_hashes_differently_each_time() -> None:
    hasher = cheap_hasher()

    assert hasher.hash("correct horse battery") != hasher.hash("correct horse battery")


def test_a_hash_verifies_with_a_hasher_of_other_costs() -> None:
    stored = cheap_hasher().hash("correct horse battery")

    from orchestrade.auth import PasswordHasher

    assert PasswordHasher(time_cost=2, memory_cost_kib=16, parallelism=1).verify(
        stored, "correct horse battery"
    )


def test_garbage_hashes_and_oversized_passwords_do_not_verify() -> None:
    hasher = cheap_hasher()
    stored = hasher.hash("correct horse battery")

    assert not hasher.verify("not a hash", "correct horse battery")
    assert not hasher.verify(stored, "x" * 1025)


def test_verify_nobody_spends_a_verification_and_returns_nothing() -> None:
    hasher = cheap_hasher()

    assert hasher.verify_nobody("whatever password") is None
    assert hasher.verify_nobody("whatever password") is None


@pytest.mark.parametrize(
    ("password", "message"),
    [
        ("short pass1", "at least 12 characters"),
        (" " * 12, "not be only whitespace"),
        ("x" * 1025, "at most 1024 characters"),
        (12345678901234, "must be a string, got int"),
    ],
)
def test_the_policy_refuses_weak_passwords_without_repeating_them(
    password: object, message: str
) -> None:
    with pytest.raises(AccountError, match=message) as raised:
        check_password_policy(password)

    assert str(password) not in str(raised.value)


def test_hashing_applies_the_policy() -> None:
    with pytest.raises(AccountError, match="at least 12"):
        cheap_hasher().hash("too short")


def test_generated_passwords_are_long_random_and_pass_the_policy() -> None:
    drawn = {generate_password() for _ in range(50)}

    assert len(drawn) == 50
    assert all(len(password) == 24 and check_password_policy(password) for password in drawn)
