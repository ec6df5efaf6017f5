"""Who is calling and what they may do: the dependencies every protected route declares.

A caller shows a login token (`Authorization: Bearer <jwt>`) or an API key (`X-API-Key:
<key>`, or as the Bearer credential, which is what Prometheus can send). Each route takes
one of `ViewerUser`, `TraderUser` or `AdminUser`; a test walks the route table and checks
that every route but the few public ones demands one, and that mutating ones demand at
least a trader.

No `from __future__ import annotations` here: FastAPI reads the signature of
`RoleRequirement.__call__` at runtime, and an instance has no globals to resolve strings in.
"""

from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends
from fastapi.security import APIKeyHeader, HTTPAuthorizationCredentials, HTTPBearer

from orchestrade.api.deps import Context
from orchestrade.api.errors import BEARER_CHALLENGE, ApiError
from orchestrade.auth import Role, User
from orchestrade.auth.api_keys import looks_like_api_key

_bearer = HTTPBearer(
    auto_error=False,
    description="A login token from POST /api/v1/auth/login, or an API key.",
)
_api_key = APIKeyHeader(
    name="X-API-Key", auto_error=False, description="An API key (`ot_...`) of a script."
)


async def current_user(
    context: Context,
    bearer: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
    api_key: Annotated[str | None, Depends(_api_key)],
) -> User:
    """The active user behind the request's credentials.

    A coroutine on purpose: the lookup is one short query, and a sync dependency would cost
    every request a round trip through the worker threads (measured by bench/bench_api.py).

    Raises:
        ApiError: 401 when there are none (a bad token or key raises `AuthenticationError`,
            which the error handlers answer with 401 too).
    """
    if api_key:
        return context.authenticator.user_for_api_key(api_key)
    if bearer is not None and bearer.credentials:
        credential = bearer.credentials
        if looks_like_api_key(credential):
            return context.authenticator.user_for_api_key(credential)
        return context.authenticator.user_for_token(credential)
    raise ApiError(401, "unauthorized", "authentication required", headers=BEARER_CHALLENGE)


@dataclass(frozen=True, slots=True)
class RoleRequirement:
    """A dependency admitting users whose role is `role` or higher (403 otherwise)."""

    role: Role

    async def __call__(self, user: Annotated[User, Depends(current_user)]) -> User:
        if not user.role.allows(self.role):
            raise ApiError(
                403, "forbidden", f"this needs the {self.role} role; {user.name} is a {user.role}"
            )
        return user


def require_role(role: Role) -> RoleRequirement:
    """The dependency of routes that need at least `role`."""
    return RoleRequirement(role)


ViewerUser = Annotated[User, Depends(require_role(Role.VIEWER))]
TraderUser = Annotated[User, Depends(require_role(Role.TRADER))]
AdminUser = Annotated[User, Depends(require_role(Role.ADMIN))]
