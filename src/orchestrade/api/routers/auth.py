"""Log in, see who you are, and manage your own API keys."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Request

from orchestrade.api.deps import Context
from orchestrade.api.routers import API_PREFIX, MAX_ROW_ID
from orchestrade.api.schemas.auth import (
    ApiKeyCreatedOut,
    ApiKeyIn,
    ApiKeyOut,
    LoginIn,
    TokenOut,
    UserOut,
)
from orchestrade.api.schemas.errors import error_responses
from orchestrade.api.security import TraderUser, ViewerUser
from orchestrade.auth import AuthenticationError, LoginRateLimitedError

router = APIRouter(prefix=f"{API_PREFIX}/auth", tags=["auth"])
KeyId = Annotated[int, Path(ge=1, le=MAX_ROW_ID)]


@router.post("/login", responses=error_responses(401, 422, 429))
def login(body: LoginIn, request: Request, context: Context) -> TokenOut:
    """Exchange a user name and password for a short-lived bearer token.

    Attempts are limited per user name and client address (429 with `Retry-After`).
    """
    client = request.client.host if request.client is not None else "unknown"
    try:
        user, issued = context.authenticator.login(
            body.username, body.password.get_secret_value(), client=client
        )
    except LoginRateLimitedError:
        context.metrics.logins.labels("rate_limited").inc()
        raise
    except AuthenticationError:
        context.metrics.logins.labels("denied").inc()
        raise
    context.metrics.logins.labels("ok").inc()
    return TokenOut(
        access_token=issued.token,
        expires_at=issued.expires_at,
        expires_in=issued.lifetime_s,
        user=UserOut.of(user),
    )


@router.get("/me", responses=error_responses(401))
def me(user: ViewerUser) -> UserOut:
    """The user the credentials belong to."""
    return UserOut.of(user)


@router.get("/api-keys", responses=error_responses(401))
def my_api_keys(user: ViewerUser, context: Context) -> list[ApiKeyOut]:
    """Your API keys (revoked ones too), oldest first; never the keys themselves."""
    return [ApiKeyOut.of(info) for info in context.accounts.api_keys(user.user_id)]


@router.post("/api-keys", status_code=201, responses=error_responses(401, 403, 422))
def create_my_api_key(body: ApiKeyIn, user: TraderUser, context: Context) -> ApiKeyCreatedOut:
    """Create an API key for yourself. The key is in this response only: keep it safe."""
    created = context.accounts.create_api_key(user.user_id, body.name)
    return ApiKeyCreatedOut(**ApiKeyOut.of(created.info).model_dump(), key=created.key)


@router.delete("/api-keys/{key_id}", responses=error_responses(401, 403, 404))
def revoke_my_api_key(key_id: KeyId, user: TraderUser, context: Context) -> ApiKeyOut:
    """Revoke one of your API keys; it stops working at once."""
    return ApiKeyOut.of(context.accounts.revoke_api_key(user.user_id, key_id))
