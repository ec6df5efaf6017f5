"""Users, roles and credentials: argon2 passwords, short-lived JWTs, hashed API keys.

The API and the CLI use `AccountService` (manage users and keys) and `Authenticator` (who
is calling); storage implements the `UserStore` port.
"""

from orchestrade.auth.accounts import AccountService, CreatedApiKey
from orchestrade.auth.api_keys import NewApiKey, generate_api_key, hash_api_key
from orchestrade.auth.authenticator import Authenticator
from orchestrade.auth.credential_cache import CredentialCache
from orchestrade.auth.errors import (
    AccountError,
    AuthConfigurationError,
    AuthenticationError,
    AuthError,
    LoginRateLimitedError,
    SelfLockoutError,
    UnknownApiKeyError,
    UnknownUserError,
    UserExistsError,
)
from orchestrade.auth.login_limits import LoginRateLimiter, MonotonicClock
from orchestrade.auth.passwords import PasswordHasher, check_password_policy, generate_password
from orchestrade.auth.ports import UserStore
from orchestrade.auth.roles import Role
from orchestrade.auth.tokens import Clock, IssuedToken, TokenClaims, TokenIssuer, load_jwt_secret
from orchestrade.auth.users import ApiKeyInfo, User, UserCredentials, require_user_name

__all__ = [
    "AccountError",
    "AccountService",
    "ApiKeyInfo",
    "AuthConfigurationError",
    "AuthError",
    "AuthenticationError",
    "Authenticator",
    "Clock",
    "CreatedApiKey",
    "CredentialCache",
    "IssuedToken",
    "LoginRateLimitedError",
    "LoginRateLimiter",
    "MonotonicClock",
    "NewApiKey",
    "PasswordHasher",
    "Role",
    "SelfLockoutError",
    "TokenClaims",
    "TokenIssuer",
    "UnknownApiKeyError",
    "UnknownUserError",
    "User",
    "UserCredentials",
    "UserExistsError",
    "UserStore",
    "check_password_policy",
    "generate_api_key",
    "generate_password",
    "hash_api_key",
    "load_jwt_secret",
    "require_user_name",
]
