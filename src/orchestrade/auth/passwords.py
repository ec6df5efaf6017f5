"""Password hashing with argon2id, a policy for new passwords, and one-time passwords.

Only hashes are stored. Verifying a login for a user who does not exist still runs one
argon2 verification (`verify_nobody`), so response times do not reveal which names exist.
"""

from __future__ import annotations

import secrets

import argon2
from argon2.exceptions import InvalidHashError, VerificationError

from orchestrade.auth.errors import AccountError

MIN_PASSWORD_LENGTH = 12
MAX_PASSWORD_LENGTH = 1024
"""Longer passwords are refused: hashing megabytes would let anyone burn the server's CPU."""
_GENERATED_BYTES = 18  # 24 URL-safe characters, 144 random bits


def check_password_policy(password: object) -> str:
    """A password acceptable for a new account: 12 to 1024 characters, not all blank.

    Raises:
        AccountError: the password is too short, too long or not a string (the message
            never repeats it).
    """
    if not isinstance(password, str):
        raise AccountError(f"password must be a string, got {type(password).__name__}")
    if len(password) < MIN_PASSWORD_LENGTH:
        raise AccountError(f"password must have at least {MIN_PASSWORD_LENGTH} characters")
    if len(password) > MAX_PASSWORD_LENGTH:
        raise AccountError(f"password must have at most {MAX_PASSWORD_LENGTH} characters")
    if not password.strip():
        raise AccountError("password must not be only whitespace")
    return password


def generate_password() -> str:
    """A random password of 24 URL-safe characters, to be shown to its user once."""
    return secrets.token_urlsafe(_GENERATED_BYTES)


class PasswordHasher:
    """argon2id hashes; the defaults are argon2-cffi's (RFC 9106 low-memory profile).

    Tests pass tiny costs to stay fast; hashes of any cost verify with any instance.
    """

    def __init__(
        self,
        *,
        time_cost: int = argon2.DEFAULT_TIME_COST,
        memory_cost_kib: int = argon2.DEFAULT_MEMORY_COST,
        parallelism: int = argon2.DEFAULT_PARALLELISM,
    ) -> None:
        self._hasher = argon2.PasswordHasher(
            time_cost=time_cost, memory_cost=memory_cost_kib, parallelism=parallelism
        )
        self._nobody: str | None = None

    def hash(self, password: str) -> str:
        """The argon2id hash of a password that passes `check_password_policy`.

        Raises:
            AccountError: the password breaks the policy.
        """
        return self._hasher.hash(check_password_policy(password))

    def verify(self, password_hash: str, password: str) -> bool:
        """True when `password` is the one `password_hash` was made from."""
        if not isinstance(password, str) or len(password) > MAX_PASSWORD_LENGTH:
            return False
        try:
            return self._hasher.verify(password_hash, password)
        except (VerificationError, InvalidHashError):
            return False

    def verify_nobody(self, password: str) -> None:
        """Spend the time of one verification, for a login whose user does not exist."""
        if self._nobody is None:
            self._nobody = self._hasher.hash(generate_password())
        self.verify(self._nobody, password)
