"""Users and their API keys as values: what storage returns and the API shows.

A password hash or an API key's hash never leaves storage inside these values, except in
`UserCredentials`, which only the login path asks for (and whose repr hides the hash).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import datetime

from orchestrade.auth.errors import AccountError
from orchestrade.auth.roles import Role
from orchestrade.domain import ValidationError
from orchestrade.domain.validation import assign, require_enum, require_int, require_utc

MAX_NAME_LENGTH = 64
_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.@-]*")


def require_user_name(name: object) -> str:
    """A user name: 1 to 64 letters, digits, `_ . @ -`, starting with a letter or digit.

    Raises:
        AccountError: the name is not such a string.
    """
    if not isinstance(name, str):
        raise AccountError(f"user name must be a string, got {type(name).__name__}")
    if not 1 <= len(name) <= MAX_NAME_LENGTH or _NAME.fullmatch(name) is None:
        raise AccountError(
            f"user name must be 1-{MAX_NAME_LENGTH} letters, digits or _ . @ - "
            f"(starting with a letter or digit), got {name!r}"
        )
    return name


@dataclass(frozen=True, slots=True)
class User:
    """A person or script allowed to use the API, with the role that bounds what it may do."""

    user_id: int
    name: str
    role: Role
    created_at: datetime
    disabled: bool = False

    def __post_init__(self) -> None:
        require_int("User.user_id", self.user_id, minimum=1)
        try:
            require_user_name(self.name)
        except AccountError as error:
            raise ValidationError(f"User.name: {error}") from None
        assign(self, "role", require_enum("User.role", Role, self.role))
        assign(self, "created_at", require_utc("User.created_at", self.created_at))
        if not isinstance(self.disabled, bool):
            raise ValidationError(f"User.disabled must be a bool, got {self.disabled!r}")

    @property
    def active(self) -> bool:
        """False once an admin disabled the user: no login, token or API key works then."""
        return not self.disabled


@dataclass(frozen=True, slots=True)
class UserCredentials:
    """A user and the hash of their password, for verifying a login (nothing else)."""

    user: User
    password_hash: str = field(repr=False)


@dataclass(frozen=True, slots=True)
class ApiKeyInfo:
    """What is kept about an API key besides its hash: a label, the first characters of the
    key (to recognize it) and when it was created and revoked."""

    key_id: int
    user_id: int
    name: str
    prefix: str
    created_at: datetime
    revoked_at: datetime | None = None

    def __post_init__(self) -> None:
        require_int("ApiKeyInfo.key_id", self.key_id, minimum=1)
        require_int("ApiKeyInfo.user_id", self.user_id, minimum=1)
        assign(self, "created_at", require_utc("ApiKeyInfo.created_at", self.created_at))
        if self.revoked_at is not None:
            assign(self, "revoked_at", require_utc("ApiKeyInfo.revoked_at", self.revoked_at))

    @property
    def active(self) -> bool:
        """True until the key is revoked."""
        return self.revoked_at is None
