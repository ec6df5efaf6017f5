"""User administration (admins only): create, list, change role, disable; their API keys."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path

from orchestrade.api.deps import Context
from orchestrade.api.routers import API_PREFIX, MAX_ROW_ID
from orchestrade.api.schemas.auth import (
    ApiKeyCreatedOut,
    ApiKeyIn,
    ApiKeyOut,
    UserIn,
    UserOut,
    UserPatch,
)
from orchestrade.api.schemas.errors import error_responses
from orchestrade.api.security import AdminUser

router = APIRouter(
    prefix=f"{API_PREFIX}/users", tags=["users"], responses=error_responses(401, 403)
)
UserId = Annotated[int, Path(ge=1, le=MAX_ROW_ID)]
KeyId = Annotated[int, Path(ge=1, le=MAX_ROW_ID)]


@router.get("")
def list_users(admin: AdminUser, context: Context) -> list[UserOut]:
    """Every user, oldest first."""
    return [UserOut.of(user) for user in context.accounts.users()]


@router.post("", status_code=201, responses=error_responses(409, 422))
def create_user(body: UserIn, admin: AdminUser, context: Context) -> UserOut:
    """Create a user with a role and an initial password (stored as an argon2id hash)."""
    user = context.accounts.add_user(body.name, body.role, body.password.get_secret_value())
    return UserOut.of(user)


@router.patch("/{user_id}", responses=error_responses(404, 409, 422))
def update_user(user_id: UserId, body: UserPatch, admin: AdminUser, context: Context) -> UserOut:
    """Change a user's role or disable them (a disabled user's tokens and keys stop
    working at once). Admins cannot disable or demote themselves."""
    user = context.accounts.update_user(user_id, by=admin, role=body.role, disabled=body.disabled)
    return UserOut.of(user)


@router.get("/{user_id}/api-keys", responses=error_responses(404))
def list_user_api_keys(user_id: UserId, admin: AdminUser, context: Context) -> list[ApiKeyOut]:
    """A user's API keys, revoked ones too; never the keys themselves."""
    context.accounts.user(user_id)  # 404 for an unknown user, not an empty list
    return [ApiKeyOut.of(info) for info in context.accounts.api_keys(user_id)]


@router.post("/{user_id}/api-keys", status_code=201, responses=error_responses(404, 422))
def create_user_api_key(
    user_id: UserId, body: ApiKeyIn, admin: AdminUser, context: Context
) -> ApiKeyCreatedOut:
    """Create an API key for a user, e.g. a read-only `viewer` for a Prometheus scraper.
    The key is in this response only."""
    created = context.accounts.create_api_key(user_id, body.name)
    return ApiKeyCreatedOut(**ApiKeyOut.of(created.info).model_dump(), key=created.key)


@router.delete("/{user_id}/api-keys/{key_id}", responses=error_responses(404))
def revoke_user_api_key(
    user_id: UserId, key_id: KeyId, admin: AdminUser, context: Context
) -> ApiKeyOut:
    """Revoke one of a user's API keys; it stops working at once."""
    return ApiKeyOut.of(context.accounts.revoke_api_key(user_id, key_id))
