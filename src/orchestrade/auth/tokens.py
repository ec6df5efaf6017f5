"""Short-lived login tokens: JWTs signed with HS256, checked against an injected clock.

A token names its user by id; the API looks the user up again at least every second (its
`CredentialCache`), and at once after a change through its own `AccountService`, so
disabling a user or changing their role takes effect without waiting for tokens to expire.
The signing key comes from the settings (or a file); without one each process draws a
random key, which only means that tokens end when the process stops.
"""

from __future__ import annotations

import logging
import math
import secrets
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime

import jwt

from orchestrade.auth.errors import AuthConfigurationError, AuthenticationError
from orchestrade.auth.users import User
from orchestrade.settings import ApiSettings

log = logging.getLogger(__name__)

Clock = Callable[[], datetime]
"""Aware UTC time now (the wall clock in production, a fake in tests)."""
ALGORITHM = "HS256"
ISSUER = "orchestrade"
MIN_SECRET_BYTES = 32
"""RFC 7518 asks for an HS256 key at least as long as the hash (256 bits)."""


@dataclass(frozen=True, slots=True)
class IssuedToken:
    """A signed token, the instant it stops being accepted, and its lifetime."""

    token: str = field(repr=False)
    expires_at: datetime
    lifetime_s: int


@dataclass(frozen=True, slots=True)
class TokenClaims:
    """What a valid token says: whose it is and how long it lasts."""

    user_id: int
    name: str
    issued_at: datetime
    expires_at: datetime


class TokenIssuer:
    """Issue and verify login tokens of `lifetime_s` seconds.

    Raises:
        AuthConfigurationError: the secret is shorter than 32 bytes or the lifetime not > 0.
    """

    def __init__(self, secret: bytes, *, lifetime_s: int, clock: Clock) -> None:
        if not isinstance(secret, bytes) or len(secret) < MIN_SECRET_BYTES:
            raise AuthConfigurationError(
                f"the JWT secret must be at least {MIN_SECRET_BYTES} bytes long"
            )
        if isinstance(lifetime_s, bool) or not isinstance(lifetime_s, int) or lifetime_s <= 0:
            raise AuthConfigurationError(f"token lifetime must be > 0 s, got {lifetime_s!r}")
        self._secret = secret
        self.lifetime_s = lifetime_s
        self._clock = clock

    def issue(self, user: User) -> IssuedToken:
        """A token for `user`, valid from now for `lifetime_s` seconds."""
        issued = math.floor(self._clock().timestamp())
        expires = issued + self.lifetime_s
        claims = {
            "iss": ISSUER,
            "sub": str(user.user_id),
            "name": user.name,
            "iat": issued,
            "exp": expires,
            "jti": secrets.token_urlsafe(12),
        }
        token = jwt.encode(claims, self._secret, algorithm=ALGORITHM)
        return IssuedToken(token, datetime.fromtimestamp(expires, UTC), self.lifetime_s)

    def verify(self, token: str) -> TokenClaims:
        """The claims of a token this issuer signed and that has not expired.

        Raises:
            AuthenticationError: the token is malformed, signed with another key or
                algorithm, or expired.
        """
        try:
            claims = jwt.decode(
                token,
                self._secret,
                algorithms=[ALGORITHM],
                issuer=ISSUER,
                # Expiry is checked below against the injected clock, not PyJWT's own.
                options={
                    "require": ["exp", "iat", "sub"],
                    "verify_exp": False,
                    "verify_iat": False,
                },
            )
            expires, issued = claims["exp"], claims["iat"]
            user_id, name = int(claims["sub"]), str(claims.get("name", ""))
            if not isinstance(expires, int) or not isinstance(issued, int):
                raise ValueError("exp and iat must be integers")
        except (jwt.InvalidTokenError, ValueError, TypeError):
            raise AuthenticationError("invalid token") from None
        if self._clock().timestamp() >= expires:
            raise AuthenticationError("token expired: log in again")
        return TokenClaims(
            user_id=user_id,
            name=name,
            issued_at=datetime.fromtimestamp(issued, UTC),
            expires_at=datetime.fromtimestamp(expires, UTC),
        )


def load_jwt_secret(settings: ApiSettings) -> bytes:
    """The signing key the settings name: `jwt_secret`, else the contents of
    `jwt_secret_file` (surrounding whitespace stripped), else a random per-process key.

    Raises:
        AuthConfigurationError: the file cannot be read, or the key is shorter than 32 bytes.
    """
    if settings.jwt_secret is not None:
        secret = settings.jwt_secret.get_secret_value().encode()
        source = "api.jwt_secret"
    elif settings.jwt_secret_file is not None:
        path = settings.jwt_secret_file.expanduser()
        try:
            secret = path.read_bytes().strip()
        except OSError as error:
            raise AuthConfigurationError(
                f"{path}: cannot read the JWT secret file: {error.strerror}"
            ) from None
        source = str(path)
    else:
        log.warning(
            "no JWT secret configured (ORCHESTRADE_API__JWT_SECRET or api.jwt_secret_file): "
            "login tokens are signed with a random key of this process and end when it stops"
        )
        return secrets.token_bytes(MIN_SECRET_BYTES)
    if len(secret) < MIN_SECRET_BYTES:
        raise AuthConfigurationError(
            f"{source}: the JWT secret must be at least {MIN_SECRET_BYTES} bytes, got {len(secret)}"
        )
    return secret
