"""InMemoryUserStore: the in-memory twin of `orchestrade.auth.ports.UserStore`."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime

from orchestrade.auth import (
    ApiKeyInfo,
    Role,
    UnknownUserError,
    User,
    UserCredentials,
    UserExistsError,
)


class InMemoryUserStore:
    """Users and keys in dicts, with the same errors as `UserRepository`."""

    def __init__(self) -> None:
        self.users: dict[int, UserCredentials] = {}
        self.keys: dict[int, tuple[ApiKeyInfo, str]] = {}

    def add(self, name: str, role: Role, password_hash: str, *, at: datetime) -> User:
        if any(stored.user.name == name for stored in self.users.values()):
            raise UserExistsError(f"a user named {name!r} already exists")
        user = User(len(self.users) + 1, name, role, at)
        self.users[user.user_id] = UserCredentials(user, password_hash)
        return user

    def get(self, user_id: int) -> User | None:
        stored = self.users.get(user_id)
        return None if stored is None else stored.user

    def credentials(self, name: str) -> UserCredentials | None:
        return next((stored for stored in self.users.values() if stored.user.name == name), None)

    def list(self) -> list[User]:
        return [stored.user for stored in self.users.values()]

    def update(
        self, user_id: int, *, at: datetime, role: Role | None = None, disabled: bool | None = None
    ) -> User:
        stored = self.users.get(user_id)
        if stored is None:
            raise UnknownUserError(f"no user has id {user_id}")
        user = replace(
            stored.user,
            role=stored.user.role if role is None else role,
            disabled=stored.user.disabled if disabled is None else disabled,
        )
        self.users[user_id] = UserCredentials(user, stored.password_hash)
        return user

    def add_api_key(
        self, user_id: int, *, name: str, prefix: str, key_hash: str, at: datetime
    ) -> ApiKeyInfo:
        if user_id not in self.users:
            raise UnknownUserError(f"no user has id {user_id}")
        info = ApiKeyInfo(len(self.keys) + 1, user_id, name, prefix, at)
        self.keys[info.key_id] = (info, key_hash)
        return info

    def api_keys(self, user_id: int) -> list[ApiKeyInfo]:
        return [info for info, _ in self.keys.values() if info.user_id == user_id]

    def revoke_api_key(self, user_id: int, key_id: int, *, at: datetime) -> ApiKeyInfo | None:
        found = self.keys.get(key_id)
        if found is None or found[0].user_id != user_id:
            return None
        info, key_hash = found
        if info.revoked_at is None:
            info = replace(info, revoked_at=at)
            self.keys[key_id] = (info, key_hash)
        return info

    def user_for_api_key(self, key_hash: str) -> User | None:
        for info, stored_hash in self.keys.values():
            if stored_hash == key_hash and info.active:
                return self.get(info.user_id)
        return None
