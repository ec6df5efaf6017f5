"""Errors of authentication and account management; the API maps each to one HTTP status."""

from __future__ import annotations

from orchestrade.domain.errors import OrchestradeError


class AuthError(OrchestradeError):
    """Base of every error the auth service raises on purpose.

    Messages never contain a password, a token or an API key.
    """


class AuthenticationError(AuthError):
    """The caller could not be identified: wrong credentials, a bad or expired token, an
    unknown or revoked API key, or a disabled user."""


class LoginRateLimitedError(AuthError):
    """Too many login attempts for one user name from one client; retry after a while."""

    def __init__(self, message: str, *, retry_after_s: float) -> None:
        super().__init__(message)
        self.retry_after_s = retry_after_s


class AccountError(AuthError):
    """A request to create or change an account is not acceptable (bad name, weak password)."""


class UserExistsError(AccountError):
    """A user with this name already exists."""


class SelfLockoutError(AccountError):
    """An admin tried to disable or demote their own account (they would lock themselves out)."""


class UnknownUserError(AuthError, LookupError):
    """No user has the id or name asked for."""


class UnknownApiKeyError(AuthError, LookupError):
    """The user has no API key with the id asked for."""


class AuthConfigurationError(AuthError):
    """The auth settings are unusable (e.g. a JWT secret that is too short): a human must act."""
