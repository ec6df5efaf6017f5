"""Every route's required role, read from the route table: none can be left open by mistake.

The table is walked generically, so a route added later is checked without editing this
file: it must declare a role (a `ViewerUser`, `TraderUser` or `AdminUser` dependency)
unless it is one of the few public ones, and a mutating one must demand at least a trader.
Then each route is called: without credentials (401), with every role below its own (403)
and with its own role (neither).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from fastapi import FastAPI
from fastapi.dependencies.models import Dependant
from fastapi.routing import APIRoute
from starlette.routing import Mount, Route, WebSocketRoute

from orchestrade.api.route_table import leaf_routes
from orchestrade.api.security import RoleRequirement, ViewerUser
from orchestrade.auth import Role

from .conftest import Api

PUBLIC = {
    ("GET", "/api/v1/health"),
    ("GET", "/api/v1/ready"),
    ("POST", "/api/v1/auth/login"),
    ("GET", "/api/v1/openapi.json"),
    ("GET", "/api/v1/docs"),
    ("GET", "/"),  # the dashboard's page: it holds no data (tests/dashboard/)
}
MUTATING = {"POST", "PUT", "PATCH", "DELETE"}


@dataclass(frozen=True, slots=True)
class Endpoint:
    """One method of one route and the role its dependencies demand (None: no role)."""

    method: str
    path: str
    role: Role | None

    @property
    def public(self) -> bool:
        return (self.method, self.path) in PUBLIC

    @property
    def url(self) -> str:
        """The path with every parameter filled (ids are ints, so `1` fits all)."""
        return re.sub(r"\{[^}]+\}", "1", self.path)


def endpoints(app: FastAPI) -> list[Endpoint]:
    """Every (method, path) the app answers, with the highest role its dependencies demand."""
    found: list[Endpoint] = []
    for route in leaf_routes(app.routes):
        if isinstance(route, WebSocketRoute):
            continue  # authenticates inside the socket: tests/api/test_stream.py
        if isinstance(route, Mount) and route.path == "/static":
            continue  # the dashboard's public files: tests/dashboard/test_mount.py
        assert isinstance(route, Route), f"unexpected kind of route: {route!r}"
        dependant = route.dependant if isinstance(route, APIRoute) else None
        roles = _roles(dependant) if dependant is not None else set()
        role = max(roles, key=lambda role: role.rank) if roles else None
        found += [
            Endpoint(method, route.path, role)
            for method in sorted(route.methods or ())
            if method != "HEAD"
        ]
    return found


def _roles(dependant: Dependant) -> set[Role]:
    roles = set()
    for dependency in dependant.dependencies:
        if isinstance(dependency.call, RoleRequirement):
            roles.add(dependency.call.role)
        roles |= _roles(dependency)
    return roles


def test_the_walk_finds_every_documented_operation_and_the_public_ones(api: Api) -> None:
    table = {(endpoint.method, endpoint.path) for endpoint in endpoints(api.app)}
    documented = {
        (method.upper(), path)
        for path, operations in api.client.get("/api/v1/openapi.json").json()["paths"].items()
        for method in operations
    }

    assert documented <= table
    assert table - documented == {
        ("GET", "/api/v1/openapi.json"),
        ("GET", "/api/v1/docs"),
        ("GET", "/"),
    }
    assert table >= PUBLIC
    assert len(table) >= 20


def test_every_route_but_the_public_ones_demands_a_role(api: Api) -> None:
    for endpoint in endpoints(api.app):
        if endpoint.public:
            assert endpoint.role is None, endpoint
        else:
            assert endpoint.role is not None, f"{endpoint.method} {endpoint.path} is open"


def test_every_mutating_route_demands_at_least_a_trader(api: Api) -> None:
    mutating = [endpoint for endpoint in endpoints(api.app) if endpoint.method in MUTATING]

    assert mutating
    for endpoint in mutating:
        if not endpoint.public:
            assert endpoint.role is not None
            assert endpoint.role.allows(Role.TRADER), f"{endpoint} lets a viewer change things"


def test_every_protected_route_answers_401_without_or_with_bad_credentials(api: Api) -> None:
    for endpoint in endpoints(api.app):
        if endpoint.public:
            continue
        for headers in ({}, {"Authorization": "Bearer not-a-token"}, {"X-API-Key": "ot_nope"}):
            response = api.client.request(endpoint.method, endpoint.url, headers=headers)

            assert response.status_code == 401, (endpoint, headers, response.text)
            assert response.json()["error"]["code"] == "unauthorized"
            assert response.headers["WWW-Authenticate"] == "Bearer"


def test_every_route_refuses_the_roles_below_its_own_with_403(api: Api) -> None:
    checked = 0
    for endpoint in endpoints(api.app):
        if endpoint.public or endpoint.role is None:
            continue
        for role in Role:
            if role.allows(endpoint.role):
                continue
            response = api.client.request(endpoint.method, endpoint.url, headers=api.headers(role))

            assert response.status_code == 403, (endpoint, role, response.text)
            assert response.json()["error"]["code"] == "forbidden"
            checked += 1

    assert checked > 0


def test_every_route_admits_its_own_role(api: Api) -> None:
    for endpoint in endpoints(api.app):
        if endpoint.public or endpoint.role is None:
            continue
        response = api.client.request(
            endpoint.method, endpoint.url, headers=api.headers(endpoint.role)
        )

        assert response.status_code not in (401, 403), (endpoint, response.text)


def test_the_public_routes_answer_without_credentials(api: Api) -> None:
    assert api.client.get("/api/v1/health").status_code == 200
    assert api.client.get("/api/v1/ready").status_code == 200
    assert api.client.get("/api/v1/openapi.json").status_code == 200
    assert api.client.get("/api/v1/docs").status_code == 200
    assert api.client.post("/api/v1/auth/login").status_code == 422
    assert api.client.get("/").status_code == 200


def test_the_walk_sees_a_route_added_without_a_role_and_a_mutating_one_for_viewers(
    api: Api,
) -> None:
    def forgotten() -> dict[str, str]:
        return {}

    def careless(user: ViewerUser) -> dict[str, str]:
        return {}

    api.app.add_api_route("/api/v1/forgotten", forgotten, methods=["GET"])
    api.app.add_api_route("/api/v1/careless", careless, methods=["POST"])

    table = {(endpoint.method, endpoint.path): endpoint.role for endpoint in endpoints(api.app)}

    assert table[("GET", "/api/v1/forgotten")] is None
    assert table[("POST", "/api/v1/careless")] is Role.VIEWER
