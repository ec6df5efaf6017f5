"""What the auth service needs from storage (`orchestrade.storage.UserRepository` has it)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Protocol

from orchestrade.auth.roles import Role
from orchestrade.auth.users import ApiKeyInfo, User, UserCredentials


class UserStore(Protocol):
    """Users with their password hashes, and API keys stored by hash."""

    def add(self, name: str, role: Role, password_hash: str, *, at: datetime) -> User:
        """Store a new user; raises `UserExistsError` when the name is taken."""
        ...

    def get(self, user_id: int) -> User | None: ...

    def credentials(self, name: str) -> UserCredentials | None:
        """The user of this name with their password hash, or None."""
        ...

    def list(self) -> Sequence[User]: ...

    def update(
        self, user_id: int, *, at: datetime, role: Role | None = None, disabled: bool | None = None
    ) -> User:
        """Change a user's role or disabled flag; raises `UnknownUserError`."""
        ...

    def add_api_key(
        self, user_id: int, *, name: str, prefix: str, key_hash: str, at: datetime
    ) -> ApiKeyInfo:
        """Store a key's hash for a user; raises `UnknownUserError`."""
        ...

    def api_keys(self, user_id: int) -> Sequence[ApiKeyInfo]: ...

    def revoke_api_key(self, user_id: int, key_id: int, *, at: datetime) -> ApiKeyInfo | None:
        """Revoke one of the user's keys (once; again changes nothing); None if not theirs."""
        ...

    def user_for_api_key(self, key_hash: str) -> User | None:
        """The owner of the unrevoked key with this hash, or None."""
        ...
