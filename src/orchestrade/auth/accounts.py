"""AccountService: the use cases of managing users and API keys, for the API and the CLI."""

from __future__ import annotations

import builtins
from dataclasses import dataclass, field

from orchestrade.auth.api_keys import generate_api_key
from orchestrade.auth.credential_cache import CredentialCache
from orchestrade.auth.errors import (
    AccountError,
    SelfLockoutError,
    UnknownApiKeyError,
    UnknownUserError,
)
from orchestrade.auth.passwords import PasswordHasher
from orchestrade.auth.ports import UserStore
from orchestrade.auth.roles import Role
from orchestrade.auth.tokens import Clock
from orchestrade.auth.users import ApiKeyInfo, User, require_user_name
from orchestrade.domain.validation import require_enum

MAX_KEY_NAME_LENGTH = 100


@dataclass(frozen=True, slots=True)
class CreatedApiKey:
    """A new key's stored description and the key itself, to be shown once and forgotten."""

    info: ApiKeyInfo
    key: str = field(repr=False)


class AccountService:
    """Create, list, change and disable users; create, list and revoke their API keys.

    `credentials`: the cache of the `Authenticator` that serves this process's requests;
    a change to a user drops their cached credentials at once (after it is stored).
    """

    def __init__(
        self,
        users: UserStore,
        passwords: PasswordHasher,
        *,
        clock: Clock,
        credentials: CredentialCache | None = None,
    ) -> None:
        self._users = users
        self._passwords = passwords
        self._clock = clock
        self._credentials = credentials

    def add_user(self, name: str, role: Role, password: str) -> User:
        """Create a user whose password is stored as an argon2id hash only.

        Raises:
            AccountError: the name or the password is not acceptable.
            UserExistsError: the name is taken.
        """
        name = require_user_name(name)
        role = _role(role)
        return self._users.add(name, role, self._passwords.hash(password), at=self._clock())

    def users(self) -> builtins.list[User]:
        """Every user, oldest first."""
        return list(self._users.list())

    def user(self, user_id: int) -> User:
        """The user with this id.

        Raises:
            UnknownUserError: no user has this id.
        """
        user = self._users.get(user_id)
        if user is None:
            raise UnknownUserError(f"no user has id {user_id}")
        return user

    def update_user(
        self, user_id: int, *, by: User, role: Role | None = None, disabled: bool | None = None
    ) -> User:
        """Change a user's role or enable/disable them.

        Raises:
            SelfLockoutError: `by` tried to disable or demote their own account.
            UnknownUserError: no user has this id.
        """
        if user_id == by.user_id and (disabled or (role is not None and role != by.role)):
            raise SelfLockoutError("you cannot disable your own account or change your own role")
        try:
            return self._users.update(
                user_id,
                at=self._clock(),
                role=None if role is None else _role(role),
                disabled=disabled,
            )
        finally:  # even after a failure: the change may have been stored
            self._forget(user_id)

    def create_api_key(self, user_id: int, name: str) -> CreatedApiKey:
        """Draw a new key for a user; only its hash is stored.

        Raises:
            AccountError: the label is blank or longer than 100 characters.
            UnknownUserError: no user has this id.
        """
        if not isinstance(name, str) or not name.strip() or len(name) > MAX_KEY_NAME_LENGTH:
            raise AccountError(
                f"API key name must be 1-{MAX_KEY_NAME_LENGTH} characters, not blank"
            )
        new = generate_api_key()
        info = self._users.add_api_key(
            user_id, name=name, prefix=new.prefix, key_hash=new.key_hash, at=self._clock()
        )
        return CreatedApiKey(info, new.key)

    def api_keys(self, user_id: int) -> builtins.list[ApiKeyInfo]:
        """A user's keys, revoked ones included, oldest first."""
        return list(self._users.api_keys(user_id))

    def revoke_api_key(self, user_id: int, key_id: int) -> ApiKeyInfo:
        """Revoke one of a user's keys; revoking a revoked key changes nothing.

        Raises:
            UnknownApiKeyError: the user has no key with this id.
        """
        try:
            revoked = self._users.revoke_api_key(user_id, key_id, at=self._clock())
        finally:  # even after a failure: the revocation may have been stored
            self._forget(user_id)
        if revoked is None:
            raise UnknownApiKeyError(f"user {user_id} has no API key {key_id}")
        return revoked

    def _forget(self, user_id: int) -> None:
        if self._credentials is not None:
            self._credentials.forget_user(user_id)


def _role(role: object) -> Role:
    try:
        return require_enum("role", Role, role)
    except ValueError as error:
        raise AccountError(str(error)) from None
