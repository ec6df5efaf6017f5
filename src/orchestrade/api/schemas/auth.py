"""Login, users and API keys.

Passwords are `SecretStr` (never echoed, never in a repr or a validation error's input);
their length is checked by the password policy, whose messages speak of characters.
"""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, SecretStr

from orchestrade.auth import ApiKeyInfo, Role, User
from orchestrade.auth.accounts import MAX_KEY_NAME_LENGTH
from orchestrade.auth.passwords import MAX_PASSWORD_LENGTH, MIN_PASSWORD_LENGTH
from orchestrade.auth.users import MAX_NAME_LENGTH

_USER_NAME = Field(
    min_length=1,
    max_length=MAX_NAME_LENGTH,
    pattern=r"^[A-Za-z0-9][A-Za-z0-9_.@-]*$",
    examples=["alice"],
)


class LoginIn(BaseModel):
    """A user name and password, exchanged for a short-lived token."""

    model_config = ConfigDict(extra="forbid")

    username: str = Field(min_length=1, max_length=MAX_NAME_LENGTH)
    password: SecretStr


class UserOut(BaseModel):
    """A user as the API shows it (no password hash, ever)."""

    id: int
    name: str
    role: Role
    disabled: bool
    created_at: datetime

    @classmethod
    def of(cls, user: User) -> UserOut:
        return cls(
            id=user.user_id,
            name=user.name,
            role=user.role,
            disabled=user.disabled,
            created_at=user.created_at,
        )


class TokenOut(BaseModel):
    """A bearer token: send it as `Authorization: Bearer <access_token>` until `expires_at`."""

    access_token: str
    token_type: Literal["bearer"] = "bearer"
    expires_at: datetime
    expires_in: int = Field(description="Seconds from now until the token expires.")
    user: UserOut


class UserIn(BaseModel):
    """A new user (admins only): name, role and initial password."""

    model_config = ConfigDict(extra="forbid")

    name: str = _USER_NAME
    role: Role
    password: SecretStr = Field(
        description="Checked against the password policy, then stored as a hash.",
        json_schema_extra={"minLength": MIN_PASSWORD_LENGTH, "maxLength": MAX_PASSWORD_LENGTH},
    )


class UserPatch(BaseModel):
    """Change a user's role, or disable (or enable) them; omitted fields stay as they are."""

    model_config = ConfigDict(extra="forbid")

    role: Role | None = None
    disabled: bool | None = None


class ApiKeyIn(BaseModel):
    """A label for a new API key (what script uses it)."""

    model_config = ConfigDict(extra="forbid")

    name: str = Field(min_length=1, max_length=MAX_KEY_NAME_LENGTH, examples=["nightly report"])


class ApiKeyOut(BaseModel):
    """An API key as listed: its label and first characters, never the key itself."""

    id: int
    user_id: int
    name: str
    prefix: str = Field(description="The first characters of the key, to recognize it.")
    created_at: datetime
    revoked_at: datetime | None
    active: bool

    @classmethod
    def of(cls, info: ApiKeyInfo) -> ApiKeyOut:
        return cls(
            id=info.key_id,
            user_id=info.user_id,
            name=info.name,
            prefix=info.prefix,
            created_at=info.created_at,
            revoked_at=info.revoked_at,
            active=info.active,
        )


class ApiKeyCreatedOut(ApiKeyOut):
    """A new API key. `key` appears in this response only: it is stored as a hash."""

    key: str = Field(description="Send as `X-API-Key: <key>` (or as a Bearer token).")
