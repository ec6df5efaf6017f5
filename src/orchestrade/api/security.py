"""Who is calling and what they may do: the dependencies every protected route declares.

A caller shows a login token (`Authorization: Bearer <jwt>`) or an API key (`X-API-Key:
<key>`, or as the Bearer credential, which is what Prometheus can send). Each route takes
one of `ViewerUser`, `TraderUser` or `AdminUser`; a test walks the route table and checks
that every route but the few public ones demands one, and that mutating ones demand at
least a trader.

No `from __future__ import annotations` here: FastAPI reads the signature of
`RoleRequirement.__call__` at runtime, and an instance has no globals to resolve strings in.
The OpenAPI document declares the credential schemes (`document_security`).
"""

from dataclasses import dataclass
from typing import Annotated, Any, cast

from fastapi import Depends, FastAPI, Request
from fastapi.routing import APIRoute
from fastapi.security import APIKeyHeader, HTTPBearer
from fastapi.security.utils import get_authorization_scheme_param

from orchestrade.api.deps import ApiContext
from orchestrade.api.errors import BEARER_CHALLENGE, ApiError
from orchestrade.api.route_table import leaf_routes
from orchestrade.auth import Role, User
from orchestrade.auth.api_keys import looks_like_api_key

_bearer = HTTPBearer(
    auto_error=False,
    description="A login token from POST /api/v1/auth/login, or an API key.",
)
_api_key = APIKeyHeader(
    name="X-API-Key", auto_error=False, description="An API key (`ot_...`) of a script."
)
API_KEY_HEADER = "X-API-Key"


def current_user(request: Request) -> User:
    """The active user behind the request's credentials: an `X-API-Key` header, else the
    `Authorization: Bearer` credential (a login token, or an API key).

    Read here rather than through FastAPI's `HTTPBearer` and `APIKeyHeader` dependencies:
    every dependency costs each request FastAPI's resolution of it, and this one runs on
    every request (the API's share of a core is what bots leave it; bench/bench_api.py).
    The two schemes are still what the OpenAPI document declares (`document_security`).

    Raises:
        ApiError: 401 when there are none (a bad token or key raises `AuthenticationError`,
            which the error handlers answer with 401 too).
    """
    context = cast(ApiContext, request.app.state.context)
    headers = request.headers
    api_key = headers.get(API_KEY_HEADER)
    if api_key:
        return context.authenticator.user_for_api_key(api_key)
    scheme, credential = get_authorization_scheme_param(headers.get("Authorization"))
    if credential and scheme.lower() == "bearer":
        if looks_like_api_key(credential):
            return context.authenticator.user_for_api_key(credential)
        return context.authenticator.user_for_token(credential)
    raise ApiError(401, "unauthorized", "authentication required", headers=BEARER_CHALLENGE)


@dataclass(frozen=True, slots=True)
class RoleRequirement:
    """A dependency admitting users whose role is `role` or higher (403 otherwise)."""

    role: Role

    async def __call__(self, request: Request) -> User:
        # A coroutine on purpose: a sync dependency would cost every request a round trip
        # through the worker threads (measured by bench/bench_api.py).
        user = current_user(request)
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


def requires_role(route: APIRoute) -> bool:
    """Whether `route` (or a dependency of it, at any depth) demands a `RoleRequirement`."""
    pending = list(route.dependant.dependencies)
    while pending:
        dependency = pending.pop()
        if isinstance(dependency.call, RoleRequirement):
            return True
        pending.extend(dependency.dependencies)
    return False


def document_security(app: FastAPI) -> None:
    """Declare the two credential schemes in `app`'s OpenAPI document, and on every
    operation whose route demands a role (what FastAPI would do if the schemes were its
    security dependencies: see `current_user`)."""
    plain = app.openapi

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is not None:
            return app.openapi_schema
        document = plain()
        schemes = document.setdefault("components", {}).setdefault("securitySchemes", {})
        for scheme in (_bearer, _api_key):
            schemes[scheme.scheme_name] = scheme.model.model_dump(
                mode="json", by_alias=True, exclude_none=True
            )
        requirement: list[dict[str, list[str]]] = [
            {_bearer.scheme_name: []},
            {_api_key.scheme_name: []},
        ]
        paths = document.get("paths", {})
        for route in leaf_routes(app.routes):
            if isinstance(route, APIRoute) and route.include_in_schema and requires_role(route):
                for method in route.methods or ():
                    operation = paths.get(route.path_format, {}).get(method.lower())
                    if operation is not None:
                        operation["security"] = requirement
        return document

    app.openapi = openapi  # type: ignore[method-assign]
