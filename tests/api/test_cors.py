"""CORS is closed unless origins are configured, and then open to those origins only."""

from __future__ import annotations

from pathlib import Path

from fastapi.testclient import TestClient
from pydantic import SecretStr

from fakes.auth import JWT_SECRET
from orchestrade.settings import ApiSettings

from .conftest import Api, build_api

PREFLIGHT = {
    "Origin": "https://evil.example",
    "Access-Control-Request-Method": "GET",
    "Access-Control-Request-Headers": "Authorization",
}


def test_no_origin_is_allowed_by_default(api: Api) -> None:
    preflight = api.client.options("/api/v1/orders", headers=PREFLIGHT)
    simple = api.client.get("/api/v1/health", headers={"Origin": "https://evil.example"})

    assert preflight.status_code == 405
    assert "access-control-allow-origin" not in preflight.headers
    assert simple.status_code == 200
    assert "access-control-allow-origin" not in simple.headers


def test_configured_origins_and_only_they_are_allowed(tmp_path: Path) -> None:
    settings = ApiSettings(jwt_secret=SecretStr(JWT_SECRET), cors_origins=("https://desk.example",))
    app, store = build_api(tmp_path, settings)
    with store, TestClient(app) as client:
        allowed = client.options(
            "/api/v1/orders", headers={**PREFLIGHT, "Origin": "https://desk.example"}
        )
        refused = client.options("/api/v1/orders", headers=PREFLIGHT)
        simple = client.get("/api/v1/health", headers={"Origin": "https://desk.example"})
        other = client.get("/api/v1/health", headers={"Origin": "https://evil.example"})

    assert allowed.status_code == 200
    assert allowed.headers["access-control-allow-origin"] == "https://desk.example"
    assert "Authorization" in allowed.headers["access-control-allow-headers"]
    assert refused.status_code == 400
    assert "access-control-allow-origin" not in refused.headers
    assert simple.headers["access-control-allow-origin"] == "https://desk.example"
    assert "access-control-allow-origin" not in other.headers
