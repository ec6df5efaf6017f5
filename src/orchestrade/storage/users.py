"""UserRepository: users with their password hashes, and API keys stored by their hash.

Implements `orchestrade.auth.ports.UserStore`. Nothing here ever sees a password or a key
in clear: the auth service hashes them first.
"""

from __future__ import annotations

import builtins
from datetime import datetime
from typing import Any

from sqlalchemy import Table, select, update
from sqlalchemy.engine import Row

from orchestrade.auth import (
    ApiKeyInfo,
    Role,
    UnknownUserError,
    User,
    UserCredentials,
    UserExistsError,
)
from orchestrade.domain.validation import require_enum, require_text, require_utc
from orchestrade.storage.store import Store
from orchestrade.storage.tables import ApiKeyRow, UserRow
from orchestrade.storage.times import as_utc
from orchestrade.storage.upserts import dialect_insert

USERS: Table = UserRow.__table__  # type: ignore[assignment]
API_KEYS: Table = ApiKeyRow.__table__  # type: ignore[assignment]
_USER_COLUMNS = (USERS.c.id, USERS.c.name, USERS.c.role, USERS.c.disabled, USERS.c.created_at)


class UserRepository:
    """Users keyed by id (names are unique) and their API keys; every call is one
    transaction."""

    def __init__(self, store: Store) -> None:
        self._store = store

    def add(self, name: str, role: Role, password_hash: str, *, at: datetime) -> User:
        """Store a new, enabled user.

        Raises:
            UserExistsError: a user of this name exists (nothing is changed).
        """
        at = require_utc("at", at)
        row = {
            "name": require_text("name", name),
            "role": require_enum("role", Role, role).value,
            "password_hash": require_text("password_hash", password_hash),
            "disabled": False,
            "created_at": at,
            "updated_at": at,
        }
        with self._store.transaction() as transaction:
            statement = (
                dialect_insert(transaction.connection, USERS)
                .values(row)
                .on_conflict_do_nothing(index_elements=["name"])
                .returning(*_USER_COLUMNS)
            )
            stored = transaction.connection.execute(statement).first()
        if stored is None:
            raise UserExistsError(f"a user named {name!r} already exists")
        return user_from_row(stored)

    def get(self, user_id: int) -> User | None:
        """The user with this id, or None."""
        return self._one(select(*_USER_COLUMNS).where(USERS.c.id == user_id))

    def by_name(self, name: str) -> User | None:
        """The user with this name, or None."""
        return self._one(select(*_USER_COLUMNS).where(USERS.c.name == name))

    def credentials(self, name: str) -> UserCredentials | None:
        """The user of this name with their password hash (for a login), or None."""
        query = select(*_USER_COLUMNS, USERS.c.password_hash).where(USERS.c.name == name)
        with self._store.reading() as read:
            row = read.connection.execute(query).first()
        return None if row is None else UserCredentials(user_from_row(row), row.password_hash)

    def list(self) -> builtins.list[User]:
        """Every user, oldest first."""
        query = select(*_USER_COLUMNS).order_by(USERS.c.id)
        with self._store.reading() as read:
            return [user_from_row(row) for row in read.connection.execute(query)]

    def update(
        self, user_id: int, *, at: datetime, role: Role | None = None, disabled: bool | None = None
    ) -> User:
        """Change a user's role and/or disabled flag (None leaves it); returns the user now.

        Raises:
            UnknownUserError: no user has this id.
        """
        values: dict[str, Any] = {"updated_at": require_utc("at", at)}
        if role is not None:
            values["role"] = require_enum("role", Role, role).value
        if disabled is not None:
            values["disabled"] = bool(disabled)
        statement = (
            update(USERS).where(USERS.c.id == user_id).values(values).returning(*_USER_COLUMNS)
        )
        with self._store.transaction() as transaction:
            row = transaction.connection.execute(statement).first()
        if row is None:
            raise UnknownUserError(f"no user has id {user_id}")
        return user_from_row(row)

    def add_api_key(
        self, user_id: int, *, name: str, prefix: str, key_hash: str, at: datetime
    ) -> ApiKeyInfo:
        """Store a new key of a user by its hash.

        Raises:
            UnknownUserError: no user has this id.
        """
        row = {
            "user_id": user_id,
            "name": require_text("name", name),
            "prefix": require_text("prefix", prefix),
            "key_hash": require_text("key_hash", key_hash),
            "created_at": require_utc("at", at),
            "revoked_at": None,
        }
        with self._store.transaction() as transaction:
            connection = transaction.connection
            if connection.execute(select(USERS.c.id).where(USERS.c.id == user_id)).first() is None:
                raise UnknownUserError(f"no user has id {user_id}")
            stored = connection.execute(API_KEYS.insert().values(row).returning(*API_KEYS.c)).one()
        return key_from_row(stored)

    def api_keys(self, user_id: int) -> builtins.list[ApiKeyInfo]:
        """A user's keys, revoked ones included, oldest first."""
        query = select(API_KEYS).where(API_KEYS.c.user_id == user_id).order_by(API_KEYS.c.id)
        with self._store.reading() as read:
            return [key_from_row(row) for row in read.connection.execute(query)]

    def revoke_api_key(self, user_id: int, key_id: int, *, at: datetime) -> ApiKeyInfo | None:
        """Mark one of a user's keys revoked at `at`; a revoked key keeps its first time.

        Returns:
            The key as stored now, or None when the user has no key with this id.
        """
        at = require_utc("at", at)
        mine = (API_KEYS.c.id == key_id) & (API_KEYS.c.user_id == user_id)
        with self._store.transaction() as transaction:
            connection = transaction.connection
            connection.execute(
                update(API_KEYS).where(mine & API_KEYS.c.revoked_at.is_(None)).values(revoked_at=at)
            )
            row = connection.execute(select(API_KEYS).where(mine)).first()
        return None if row is None else key_from_row(row)

    def user_for_api_key(self, key_hash: str) -> User | None:
        """The owner of the unrevoked key with this hash (disabled or not), or None."""
        query = (
            select(*_USER_COLUMNS)
            .join(API_KEYS, API_KEYS.c.user_id == USERS.c.id)
            .where(API_KEYS.c.key_hash == key_hash, API_KEYS.c.revoked_at.is_(None))
        )
        return self._one(query)

    def _one(self, query: Any) -> User | None:
        with self._store.reading() as read:
            row = read.connection.execute(query).first()
        return None if row is None else user_from_row(row)


def user_from_row(row: Row[Any]) -> User:
    """The `User` of a row with `_USER_COLUMNS`."""
    return User(
        user_id=int(row.id),
        name=row.name,
        role=Role(row.role),
        created_at=as_utc(row.created_at),
        disabled=bool(row.disabled),
    )


def key_from_row(row: Row[Any]) -> ApiKeyInfo:
    """The `ApiKeyInfo` of an `api_keys` row (its hash stays behind)."""
    return ApiKeyInfo(
        key_id=int(row.id),
        user_id=int(row.user_id),
        name=row.name,
        prefix=row.prefix,
        created_at=as_utc(row.created_at),
        revoked_at=None if row.revoked_at is None else as_utc(row.revoked_at),
    )
