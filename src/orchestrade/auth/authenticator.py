"""Authenticator: who is calling, from a password (login), a token or an API key."""

from __future__ import annotations

from collections.abc import Callable

from orchestrade.auth.api_keys import hash_api_key
from orchestrade.auth.credential_cache import CredentialCache
from orchestrade.auth.errors import AuthenticationError
from orchestrade.auth.login_limits import LoginRateLimiter
from orchestrade.auth.passwords import PasswordHasher
from orchestrade.auth.ports import UserStore
from orchestrade.auth.tokens import IssuedToken, TokenIssuer
from orchestrade.auth.users import User

WRONG_CREDENTIALS = "wrong user name or password"


class Authenticator:
    """Log users in and identify the callers of every other request.

    Unknown names, wrong passwords and disabled users get the same answer after the same
    work, so a caller cannot learn which names exist.

    With a `cache`, a token or key that was accepted within the cache's lifetime is not
    decoded or looked up again (see `CredentialCache`: the `AccountService` of the same
    process must share it, so that its changes apply at once).
    """

    def __init__(
        self,
        users: UserStore,
        passwords: PasswordHasher,
        tokens: TokenIssuer,
        limiter: LoginRateLimiter,
        *,
        cache: CredentialCache | None = None,
    ) -> None:
        self._users = users
        self._passwords = passwords
        self._tokens = tokens
        self._limiter = limiter
        self._cache = cache

    def login(self, name: str, password: str, *, client: str) -> tuple[User, IssuedToken]:
        """A token for the user whose password this is.

        Raises:
            LoginRateLimitedError: too many attempts for this name from this client.
            AuthenticationError: unknown name, wrong password or disabled user.
        """
        self._limiter.acquire(name, client)
        credentials = self._users.credentials(name)
        if credentials is None:
            self._passwords.verify_nobody(password)
            raise AuthenticationError(WRONG_CREDENTIALS)
        if not self._passwords.verify(credentials.password_hash, password):
            raise AuthenticationError(WRONG_CREDENTIALS)
        if not credentials.user.active:
            raise AuthenticationError(WRONG_CREDENTIALS)
        return credentials.user, self._tokens.issue(credentials.user)

    def user_for_token(self, token: str) -> User:
        """The active user a valid, unexpired login token belongs to.

        Raises:
            AuthenticationError: the token is invalid or expired, or its user is gone or
                disabled.
        """

        def lookup() -> tuple[User, float | None]:
            claims = self._tokens.verify(token)
            user = self._users.get(claims.user_id)
            if user is None or not user.active:
                raise AuthenticationError("invalid token")
            return user, claims.expires_at.timestamp()

        return self._cached(token, lookup)

    def user_for_api_key(self, key: str) -> User:
        """The active user an unrevoked API key belongs to.

        Raises:
            AuthenticationError: the key is unknown or revoked, or its user disabled.
        """

        def lookup() -> tuple[User, float | None]:
            user = self._users.user_for_api_key(hash_api_key(key))
            if user is None or not user.active:
                raise AuthenticationError("invalid API key")
            return user, None

        return self._cached(key, lookup)

    def _cached(self, credential: str, lookup: Callable[[], tuple[User, float | None]]) -> User:
        """The user `credential` authenticates: from the cache when it holds it, else from
        `lookup` (the user and when the credential expires, None: never), kept on success."""
        cache = self._cache
        if cache is None:
            return lookup()[0]
        key = cache.key(credential)
        cached = cache.user(key)
        if cached is not None:
            return cached
        generation = cache.generation
        user, expires_at = lookup()
        cache.put(key, user, generation=generation, expires_at=expires_at)
        return user
