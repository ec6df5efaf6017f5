"""CredentialCache under an Authenticator and an AccountService that share it: a credential
accepted a moment ago is not looked up again, and no change to its user slips through."""

from __future__ import annotations

import pytest

from fakes.auth import JWT_SECRET, FakeClock, FakeMonotonic, cheap_hasher
from fakes.users import InMemoryUserStore
from orchestrade.auth import (
    AccountService,
    AuthenticationError,
    Authenticator,
    CredentialCache,
    LoginRateLimiter,
    Role,
    TokenIssuer,
    User,
)

PASSWORD = "correct horse battery staple"
LIFETIME_S = 900
TTL_S = 1.0


class CountingUserStore(InMemoryUserStore):
    """The in-memory store, counting the lookups of users (a key's lookup makes one too)."""

    def __init__(self) -> None:
        super().__init__()
        self.lookups = 0

    def get(self, user_id: int) -> User | None:
        self.lookups += 1
        return super().get(user_id)


class Desk:
    """Accounts and an authenticator sharing one store, one cache and fake clocks."""

    def __init__(self) -> None:
        self.store = CountingUserStore()
        self.clock = FakeClock()
        self.monotonic = FakeMonotonic()
        hasher = cheap_hasher()
        self.cache = CredentialCache(clock=self.clock, monotonic=self.monotonic, ttl_s=TTL_S)
        self.accounts = AccountService(self.store, hasher, clock=self.clock, credentials=self.cache)
        tokens = TokenIssuer(JWT_SECRET.encode(), lifetime_s=LIFETIME_S, clock=self.clock)
        limiter = LoginRateLimiter(attempts=5, clock=self.monotonic)
        self.auth = Authenticator(self.store, hasher, tokens, limiter, cache=self.cache)
        self.admin = self.accounts.add_user("root", Role.ADMIN, PASSWORD)
        self.alice = self.accounts.add_user("alice", Role.TRADER, PASSWORD)

    def token(self) -> str:
        return self.auth.login("alice", PASSWORD, client="c")[1].token

    def key(self) -> tuple[int, str]:
        created = self.accounts.create_api_key(self.alice.user_id, "script")
        self.store.lookups = 0  # creating the key looked its user up
        return created.info.key_id, created.key


@pytest.fixture
def desk() -> Desk:
    return Desk()


def test_a_token_seen_a_moment_ago_is_not_looked_up_again(desk: Desk) -> None:
    token = desk.token()

    first = desk.auth.user_for_token(token)
    desk.monotonic.advance(TTL_S / 2)
    second = desk.auth.user_for_token(token)

    assert first == second == desk.alice
    assert desk.store.lookups == 1


def test_a_key_seen_a_moment_ago_is_not_looked_up_again(desk: Desk) -> None:
    _, key = desk.key()

    assert desk.auth.user_for_api_key(key) == desk.auth.user_for_api_key(key) == desk.alice
    assert desk.store.lookups == 1


def test_an_entry_is_looked_up_again_once_its_lifetime_has_passed(desk: Desk) -> None:
    token = desk.token()
    desk.auth.user_for_token(token)

    desk.monotonic.advance(TTL_S)
    desk.auth.user_for_token(token)

    assert desk.store.lookups == 2


def test_a_cached_token_is_refused_the_instant_it_expires(desk: Desk) -> None:
    token = desk.token()
    desk.clock.advance(LIFETIME_S - 1)
    desk.auth.user_for_token(token)

    desk.clock.advance(1)

    with pytest.raises(AuthenticationError, match="token expired: log in again"):
        desk.auth.user_for_token(token)


def test_disabling_a_user_refuses_their_cached_token_and_key_at_once(desk: Desk) -> None:
    token = desk.token()
    _, key = desk.key()
    desk.auth.user_for_token(token)
    desk.auth.user_for_api_key(key)

    desk.accounts.update_user(desk.alice.user_id, by=desk.admin, disabled=True)

    with pytest.raises(AuthenticationError, match="invalid token"):
        desk.auth.user_for_token(token)
    with pytest.raises(AuthenticationError, match="invalid API key"):
        desk.auth.user_for_api_key(key)


def test_a_role_change_applies_at_once_to_a_cached_token(desk: Desk) -> None:
    token = desk.token()
    desk.auth.user_for_token(token)

    desk.accounts.update_user(desk.alice.user_id, by=desk.admin, role=Role.VIEWER)

    assert desk.auth.user_for_token(token).role is Role.VIEWER


def test_revoking_a_cached_key_refuses_it_at_once(desk: Desk) -> None:
    key_id, key = desk.key()
    desk.auth.user_for_api_key(key)

    desk.accounts.revoke_api_key(desk.alice.user_id, key_id)

    with pytest.raises(AuthenticationError, match="invalid API key"):
        desk.auth.user_for_api_key(key)


def test_a_change_made_elsewhere_applies_once_the_entry_s_lifetime_has_passed(desk: Desk) -> None:
    token = desk.token()
    desk.auth.user_for_token(token)
    # Another process (the CLI) disables the user in the database: this one is not told.
    desk.store.update(desk.alice.user_id, at=desk.clock(), disabled=True)

    desk.monotonic.advance(TTL_S)

    with pytest.raises(AuthenticationError, match="invalid token"):
        desk.auth.user_for_token(token)


def test_other_users_entries_survive_a_change(desk: Desk) -> None:
    admin_token = desk.auth.login("root", PASSWORD, client="c")[1].token
    desk.auth.user_for_token(admin_token)

    desk.accounts.update_user(desk.alice.user_id, by=desk.admin, disabled=True)
    desk.auth.user_for_token(admin_token)

    assert desk.store.lookups == 1


def test_a_lookup_that_raced_a_change_is_not_kept(desk: Desk) -> None:
    key = CredentialCache.key("a credential")
    generation = desk.cache.generation  # read before the lookup...
    desk.cache.forget_user(desk.alice.user_id)  # ...a change lands meanwhile...

    desk.cache.put(key, desk.alice, generation=generation, expires_at=None)  # ...stale answer

    assert desk.cache.user(key) is None
    assert len(desk.cache) == 0


def test_bad_credentials_are_never_kept(desk: Desk) -> None:
    for _ in range(2):
        with pytest.raises(AuthenticationError):
            desk.auth.user_for_token("not.a.token")
        with pytest.raises(AuthenticationError):
            desk.auth.user_for_api_key("ot_not-a-key")

    assert len(desk.cache) == 0


def test_the_cache_holds_no_credential_and_keeps_at_most_its_bound() -> None:
    clock, monotonic = FakeClock(), FakeMonotonic()
    cache = CredentialCache(clock=clock, monotonic=monotonic, max_entries=2)
    users = [User(number, f"user{number}", Role.VIEWER, clock()) for number in (1, 2, 3)]
    credentials = ["first-secret", "second-secret", "third-secret"]

    for user, credential in zip(users, credentials, strict=True):
        cache.put(
            CredentialCache.key(credential), user, generation=cache.generation, expires_at=None
        )

    assert len(cache) == 2
    assert cache.user(CredentialCache.key("first-secret")) is None  # the oldest went
    assert cache.user(CredentialCache.key("third-secret")) == users[2]
    assert not any(
        credential.encode() in key for key in cache._entries for credential in credentials
    )


@pytest.mark.parametrize(("ttl_s", "max_entries"), [(0.0, 10), (1.0, 0)])
def test_unusable_settings_are_refused(ttl_s: float, max_entries: int) -> None:
    with pytest.raises(ValueError, match="must be"):
        CredentialCache(clock=FakeClock(), ttl_s=ttl_s, max_entries=max_entries)
