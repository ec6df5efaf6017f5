"""UserRepository: users with their password hashes and API keys by hash, on both backends."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from orchestrade.auth import (
    ApiKeyInfo,
    Role,
    UnknownUserError,
    User,
    UserExistsError,
    UserStore,
)
from orchestrade.storage import Store
from orchestrade.storage.users import UserRepository

T0 = datetime(2025, 1, 2, 9, 0, 0, 123456, tzinfo=UTC)
HASH = "$argon2id$v=19$m=8,t=1,p=1$c2FsdHNhbHQ$aGFzaGhhc2hoYXNo"


def later(seconds: float) -> datetime:
    return T0 + timedelta(seconds=seconds)


@pytest.fixture
def users(store: Store) -> UserRepository:
    return UserRepository(store)


def test_it_satisfies_the_auth_port(users: UserRepository) -> None:
    port: UserStore = users

    assert port.list() == []


def test_an_added_user_reads_back_by_id_name_and_in_the_list(users: UserRepository) -> None:
    alice = users.add("alice", Role.ADMIN, HASH, at=T0)
    bob = users.add("bob", Role.VIEWER, HASH + "b", at=later(1))

    assert alice == User(alice.user_id, "alice", Role.ADMIN, T0)
    assert users.get(alice.user_id) == alice
    assert users.by_name("bob") == bob
    assert users.list() == [alice, bob]
    assert users.get(999) is None
    assert users.by_name("Alice") is None


def test_credentials_carry_the_hash_for_the_login_only(users: UserRepository) -> None:
    alice = users.add("alice", Role.TRADER, HASH, at=T0)

    credentials = users.credentials("alice")

    assert credentials is not None
    assert (credentials.user, credentials.password_hash) == (alice, HASH)
    assert users.credentials("nobody") is None


def test_a_taken_name_is_refused_and_changes_nothing(users: UserRepository) -> None:
    alice = users.add("alice", Role.TRADER, HASH, at=T0)

    with pytest.raises(UserExistsError, match="'alice' already exists"):
        users.add("alice", Role.ADMIN, "other", at=later(1))

    assert users.list() == [alice]
    credentials = users.credentials("alice")
    assert credentials is not None
    assert credentials.password_hash == HASH


def test_update_changes_role_and_disabled_flag_separately(users: UserRepository) -> None:
    alice = users.add("alice", Role.TRADER, HASH, at=T0)

    demoted = users.update(alice.user_id, at=later(1), role=Role.VIEWER)
    disabled = users.update(alice.user_id, at=later(2), disabled=True)
    enabled = users.update(alice.user_id, at=later(3), disabled=False)

    assert (demoted.role, demoted.disabled) == (Role.VIEWER, False)
    assert (disabled.role, disabled.disabled) == (Role.VIEWER, True)
    assert (enabled.role, enabled.disabled) == (Role.VIEWER, False)
    assert users.get(alice.user_id) == enabled
    with pytest.raises(UnknownUserError, match="no user has id 999"):
        users.update(999, at=later(4), disabled=True)


def test_api_keys_are_found_by_hash_until_revoked(users: UserRepository) -> None:
    alice = users.add("alice", Role.TRADER, HASH, at=T0)
    key_hash = "a" * 64

    info = users.add_api_key(
        alice.user_id, name="nightly", prefix="ot_abcdefgh", key_hash=key_hash, at=later(1)
    )

    assert info == ApiKeyInfo(info.key_id, alice.user_id, "nightly", "ot_abcdefgh", later(1))
    assert users.user_for_api_key(key_hash) == alice
    assert users.user_for_api_key("b" * 64) is None
    revoked = users.revoke_api_key(alice.user_id, info.key_id, at=later(2))
    assert revoked is not None
    assert revoked.revoked_at == later(2)
    assert users.user_for_api_key(key_hash) is None
    again = users.revoke_api_key(alice.user_id, info.key_id, at=later(3))
    assert again == revoked
    assert users.api_keys(alice.user_id) == [revoked]


def test_a_key_is_revoked_only_by_its_owner(users: UserRepository) -> None:
    alice = users.add("alice", Role.TRADER, HASH, at=T0)
    bob = users.add("bob", Role.TRADER, HASH, at=T0)
    info = users.add_api_key(alice.user_id, name="k", prefix="ot_x", key_hash="c" * 64, at=T0)

    assert users.revoke_api_key(bob.user_id, info.key_id, at=later(1)) is None
    assert users.revoke_api_key(alice.user_id, 999, at=later(1)) is None
    assert users.user_for_api_key("c" * 64) == alice


def test_keys_list_per_user_oldest_first(users: UserRepository) -> None:
    alice = users.add("alice", Role.TRADER, HASH, at=T0)
    bob = users.add("bob", Role.TRADER, HASH, at=T0)
    first = users.add_api_key(alice.user_id, name="1", prefix="ot_1", key_hash="1" * 64, at=T0)
    users.add_api_key(bob.user_id, name="2", prefix="ot_2", key_hash="2" * 64, at=T0)
    third = users.add_api_key(alice.user_id, name="3", prefix="ot_3", key_hash="3" * 64, at=T0)

    assert users.api_keys(alice.user_id) == [first, third]


def test_a_disabled_user_is_still_found_by_key_for_the_caller_to_refuse(
    users: UserRepository,
) -> None:
    alice = users.add("alice", Role.TRADER, HASH, at=T0)
    users.add_api_key(alice.user_id, name="k", prefix="ot_k", key_hash="d" * 64, at=T0)
    users.update(alice.user_id, at=later(1), disabled=True)

    found = users.user_for_api_key("d" * 64)

    assert found is not None
    assert found.disabled


def test_a_key_for_an_unknown_user_is_refused(users: UserRepository) -> None:
    with pytest.raises(UnknownUserError):
        users.add_api_key(42, name="k", prefix="ot_k", key_hash="e" * 64, at=T0)


def test_unknown_roles_are_refused_by_the_database_too(store: Store) -> None:
    from sqlalchemy import insert

    from orchestrade.data.errors import StoreError
    from orchestrade.storage.users import USERS

    row = {
        "name": "mallory",
        "role": "owner",
        "password_hash": HASH,
        "disabled": False,
        "created_at": T0,
        "updated_at": T0,
    }
    with pytest.raises(StoreError), store.transaction() as transaction:
        transaction.connection.execute(insert(USERS).values(row))
