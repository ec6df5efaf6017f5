"""AccountService and Authenticator over the in-memory user store."""

from __future__ import annotations

import pytest

from fakes.auth import JWT_SECRET, T0, FakeClock, FakeMonotonic, cheap_hasher
from fakes.users import InMemoryUserStore
from orchestrade.auth import (
    AccountError,
    AccountService,
    AuthenticationError,
    Authenticator,
    LoginRateLimitedError,
    LoginRateLimiter,
    Role,
    SelfLockoutError,
    TokenIssuer,
    UnknownApiKeyError,
    UnknownUserError,
    User,
    UserExistsError,
    hash_api_key,
)

PASSWORD = "correct horse battery staple"


class Desk:
    """An account service and an authenticator sharing one store and clock."""

    def __init__(self) -> None:
        self.store = InMemoryUserStore()
        self.clock = FakeClock()
        self.monotonic = FakeMonotonic()
        hasher = cheap_hasher()
        self.accounts = AccountService(self.store, hasher, clock=self.clock)
        tokens = TokenIssuer(JWT_SECRET.encode(), lifetime_s=900, clock=self.clock)
        limiter = LoginRateLimiter(attempts=5, clock=self.monotonic)
        self.auth = Authenticator(self.store, hasher, tokens, limiter)


@pytest.fixture
def desk() -> Desk:
    return Desk()


def test_a_new_user_is_stored_with_a_hash_and_can_log_in(desk: Desk) -> None:
    user = desk.accounts.add_user("alice", Role.TRADER, PASSWORD)

    logged_in, issued = desk.auth.login("alice", PASSWORD, client="c")

    assert user == User(1, "alice", Role.TRADER, T0)
    assert logged_in == user
    assert desk.auth.user_for_token(issued.token) == user
    stored = desk.store.credentials("alice")
    assert stored is not None
    assert PASSWORD not in stored.password_hash
    assert stored.password_hash not in repr(stored)


def test_wrong_password_unknown_and_disabled_users_get_the_same_answer(desk: Desk) -> None:
    alice = desk.accounts.add_user("alice", Role.TRADER, PASSWORD)
    desk.accounts.add_user("bob", Role.VIEWER, PASSWORD)
    desk.accounts.update_user(2, by=alice, disabled=True)

    messages = set()
    for name, password in (("alice", "wrong password!"), ("nobody", PASSWORD), ("bob", PASSWORD)):
        with pytest.raises(AuthenticationError) as raised:
            desk.auth.login(name, password, client="c")
        messages.add(str(raised.value))

    assert messages == {"wrong user name or password"}


def test_logins_are_rate_limited_even_with_the_right_password(desk: Desk) -> None:
    desk.accounts.add_user("alice", Role.TRADER, PASSWORD)
    for _ in range(5):
        with pytest.raises(AuthenticationError):
            desk.auth.login("alice", "wrong password!", client="c")

    with pytest.raises(LoginRateLimitedError):
        desk.auth.login("alice", PASSWORD, client="c")
    desk.monotonic.advance(12)
    assert desk.auth.login("alice", PASSWORD, client="c")[0].name == "alice"


def test_a_disabled_user_s_tokens_and_keys_stop_working_at_once(desk: Desk) -> None:
    admin = desk.accounts.add_user("root", Role.ADMIN, PASSWORD)
    alice = desk.accounts.add_user("alice", Role.TRADER, PASSWORD)
    token = desk.auth.login("alice", PASSWORD, client="c")[1].token
    key = desk.accounts.create_api_key(alice.user_id, "script").key

    desk.accounts.update_user(alice.user_id, by=admin, disabled=True)

    with pytest.raises(AuthenticationError, match="invalid token"):
        desk.auth.user_for_token(token)
    with pytest.raises(AuthenticationError, match="invalid API key"):
        desk.auth.user_for_api_key(key)


def test_a_role_change_applies_to_existing_tokens(desk: Desk) -> None:
    admin = desk.accounts.add_user("root", Role.ADMIN, PASSWORD)
    alice = desk.accounts.add_user("alice", Role.TRADER, PASSWORD)
    token = desk.auth.login("alice", PASSWORD, client="c")[1].token

    desk.accounts.update_user(alice.user_id, by=admin, role=Role.VIEWER)

    assert desk.auth.user_for_token(token).role is Role.VIEWER


def test_api_keys_are_stored_by_hash_shown_once_and_revocable(desk: Desk) -> None:
    alice = desk.accounts.add_user("alice", Role.TRADER, PASSWORD)

    created = desk.accounts.create_api_key(alice.user_id, "nightly report")

    assert desk.auth.user_for_api_key(created.key) == alice
    assert created.key not in repr(created)
    assert desk.store.keys[created.info.key_id][1] == hash_api_key(created.key)
    assert desk.accounts.api_keys(alice.user_id) == [created.info]
    revoked = desk.accounts.revoke_api_key(alice.user_id, created.info.key_id)
    assert revoked.revoked_at == T0
    assert desk.accounts.revoke_api_key(alice.user_id, created.info.key_id) == revoked
    with pytest.raises(AuthenticationError, match="invalid API key"):
        desk.auth.user_for_api_key(created.key)


def test_keys_of_others_unknown_users_and_blank_labels_are_refused(desk: Desk) -> None:
    alice = desk.accounts.add_user("alice", Role.TRADER, PASSWORD)
    bob = desk.accounts.add_user("bob", Role.TRADER, PASSWORD)
    created = desk.accounts.create_api_key(alice.user_id, "x")

    with pytest.raises(UnknownApiKeyError):
        desk.accounts.revoke_api_key(bob.user_id, created.info.key_id)
    with pytest.raises(UnknownUserError):
        desk.accounts.create_api_key(99, "x")
    with pytest.raises(AccountError, match="API key name"):
        desk.accounts.create_api_key(alice.user_id, "  ")
    with pytest.raises(AuthenticationError):
        desk.auth.user_for_api_key("ot_not-a-key")


def test_names_roles_and_duplicates_are_checked(desk: Desk) -> None:
    desk.accounts.add_user("alice", Role.TRADER, PASSWORD)

    with pytest.raises(UserExistsError, match="alice"):
        desk.accounts.add_user("alice", Role.VIEWER, PASSWORD)
    with pytest.raises(AccountError, match="user name must be"):
        desk.accounts.add_user("bad name", Role.VIEWER, PASSWORD)
    with pytest.raises(AccountError, match="role must be one of"):
        desk.accounts.add_user("carol", "owner", PASSWORD)  # type: ignore[arg-type]
    with pytest.raises(AccountError, match="at least 12"):
        desk.accounts.add_user("carol", Role.VIEWER, "short")
    assert [user.name for user in desk.accounts.users()] == ["alice"]


def test_an_admin_cannot_disable_or_demote_themselves(desk: Desk) -> None:
    admin = desk.accounts.add_user("root", Role.ADMIN, PASSWORD)

    with pytest.raises(SelfLockoutError):
        desk.accounts.update_user(admin.user_id, by=admin, disabled=True)
    with pytest.raises(SelfLockoutError):
        desk.accounts.update_user(admin.user_id, by=admin, role=Role.TRADER)
    assert desk.accounts.update_user(admin.user_id, by=admin, role=Role.ADMIN) == admin


def test_unknown_users_are_reported(desk: Desk) -> None:
    admin = desk.accounts.add_user("root", Role.ADMIN, PASSWORD)

    with pytest.raises(UnknownUserError):
        desk.accounts.user(42)
    with pytest.raises(UnknownUserError):
        desk.accounts.update_user(42, by=admin, disabled=True)
