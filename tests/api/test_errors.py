"""Every error is JSON `{"error": {"code", "message"}}`: 404, 405, 422, 500, 503; no traceback."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from pydantic import SecretStr
from sqlalchemy import create_engine

from fakes.auth import JWT_SECRET, cheap_hasher
from orchestrade.api import create_app
from orchestrade.api.security import ViewerUser
from orchestrade.auth import Role
from orchestrade.data.errors import StoreError
from orchestrade.settings import ApiSettings
from orchestrade.storage.store import Store

from .conftest import Api


def assert_error(response: object, status: int, code: str) -> str:
    """The message of an error response of this status and code, in our shape only."""
    assert response.status_code == status, response.text  # type: ignore[attr-defined]
    assert response.headers["content-type"] == "application/json"  # type: ignore[attr-defined]
    body = response.json()  # type: ignore[attr-defined]
    assert set(body) == {"error"}
    assert set(body["error"]) == {"code", "message"}
    assert body["error"]["code"] == code
    assert "Traceback" not in response.text  # type: ignore[attr-defined]
    return str(body["error"]["message"])


def test_unknown_paths_and_ids_are_404(api: Api) -> None:
    assert assert_error(api.client.get("/nowhere"), 404, "not_found") == "Not Found"
    message = assert_error(
        api.client.get("/api/v1/orders/o-404", headers=api.headers(Role.VIEWER)), 404, "not_found"
    )
    assert message == "no order 'o-404'"


def test_a_wrong_method_is_405(api: Api) -> None:
    assert_error(api.client.put("/api/v1/health"), 405, "method_not_allowed")


def test_validation_errors_say_where_and_what(api: Api) -> None:
    viewer = api.headers(Role.VIEWER)

    limit = assert_error(
        api.client.get("/api/v1/orders?limit=0", headers=viewer), 422, "invalid_request"
    )
    since = assert_error(
        api.client.get("/api/v1/orders?since=yesterday", headers=viewer), 422, "invalid_request"
    )
    body = assert_error(
        api.client.post("/api/v1/auth/login", json={"username": "x"}), 422, "invalid_request"
    )
    garbage = assert_error(
        api.client.post(
            "/api/v1/auth/login", content=b"{not json", headers={"Content-Type": "application/json"}
        ),
        422,
        "invalid_request",
    )
    extra = assert_error(
        api.client.post(
            "/api/v1/auth/login", json={"username": "x", "password": "y", "remember": True}
        ),
        422,
        "invalid_request",
    )

    assert limit == "query.limit: Input should be greater than or equal to 1"
    assert since.startswith("query.since: Input should be a valid datetime")
    assert body == "body.password: Field required"
    assert garbage.startswith("body.1: JSON decode error")
    assert extra == "body.remember: Extra inputs are not permitted"


def test_naive_time_bounds_are_422_not_500(api: Api) -> None:
    message = assert_error(
        api.client.get(
            "/api/v1/audit",
            params={"start": "2024-01-01T00:00:00"},
            headers=api.headers(Role.VIEWER),
        ),
        422,
        "invalid_request",
    )

    assert "start must be timezone-aware" in message


@pytest.mark.parametrize(
    ("path", "name"),
    [
        ("/api/v1/orders", "since"),
        ("/api/v1/audit", "start"),
        ("/api/v1/audit", "end"),
        ("/api/v1/anomalies", "since"),
        ("/api/v1/anomalies", "until"),
        ("/api/v1/portfolio/equity", "start"),
        ("/api/v1/portfolio/metrics", "end"),
    ],
)
def test_time_bounds_outside_utc_s_years_are_422_not_500(api: Api, path: str, name: str) -> None:
    # Found by schemathesis: converting these to UTC overflowed (an unhandled 500).
    for bound in ("0001-01-01T00:00:00+01:00", "9999-12-31T23:59:59-01:00"):
        response = api.client.get(path, params={name: bound}, headers=api.headers(Role.VIEWER))

        assert assert_error(response, 422, "invalid_request") == (
            f"{name} {bound} is out of range: in UTC it is before year 1 or after year 9999"
        )
    edge = api.client.get(
        path, params={name: "0001-01-01T00:00:00Z"}, headers=api.headers(Role.VIEWER)
    )
    assert edge.status_code == 200, edge.text


def test_a_body_that_is_not_text_is_a_400(api: Api) -> None:
    # Found by schemathesis: FastAPI answers bytes it cannot decode with a 400 before any
    # validation; the document now declares it for every operation that takes a body.
    response = api.client.post(
        "/api/v1/auth/login", content=b"\xff\xfe{", headers={"Content-Type": "application/json"}
    )

    assert assert_error(response, 400, "bad_request") == "There was an error parsing the body"


def failing_app(tmp_path: Path, error: Exception) -> TestClient:
    """An app with one extra route that raises `error` (after authentication)."""
    from orchestrade.storage import open_store

    store = open_store(f"sqlite:///{tmp_path / 'failing.db'}")
    app = create_app(store, ApiSettings(jwt_secret=SecretStr(JWT_SECRET)), passwords=cheap_hasher())
    app.state.context.accounts.add_user("vera", Role.VIEWER, "viewer password of the desk")

    def boom(user: ViewerUser) -> dict[str, str]:
        raise error

    app.add_api_route("/api/v1/boom", boom, methods=["GET"])
    return TestClient(app)  # raises if an exception escaped the app: none may


def test_an_unexpected_exception_is_a_500_without_details_and_logged(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    with failing_app(tmp_path, RuntimeError("internal detail 42 at /srv/secret/path")) as client:
        token = client.post(
            "/api/v1/auth/login",
            json={"username": "vera", "password": "viewer password of the desk"},
        ).json()["access_token"]
        with caplog.at_level(logging.ERROR, logger="orchestrade.api.errors"):
            response = client.get("/api/v1/boom", headers={"Authorization": f"Bearer {token}"})

    assert assert_error(response, 500, "internal_error") == "internal server error"
    assert "internal detail" not in response.text
    assert "RuntimeError" not in response.text
    assert "internal detail 42" in caplog.text
    assert "Traceback" in caplog.text


def test_a_database_failure_is_a_503_without_the_driver_s_words(tmp_path: Path) -> None:
    error = StoreError("database error (postgresql://ot@db.internal/prod): connection reset")
    with failing_app(tmp_path, error) as client:
        token = client.post(
            "/api/v1/auth/login",
            json={"username": "vera", "password": "viewer password of the desk"},
        ).json()["access_token"]
        response = client.get("/api/v1/boom", headers={"Authorization": f"Bearer {token}"})

    assert assert_error(response, 503, "database_unavailable") == "the database is unavailable"
    assert "db.internal" not in response.text


def test_ready_is_503_when_the_database_does_not_answer() -> None:
    store = Store(create_engine("postgresql+psycopg://nobody@127.0.0.1:1/none"))
    app = create_app(store, ApiSettings(jwt_secret=SecretStr(JWT_SECRET)), passwords=cheap_hasher())
    with TestClient(app) as client:
        health = client.get("/api/v1/health")
        ready = client.get("/api/v1/ready")

    assert health.json() == {"status": "ok", "version": "0.1.0"}
    assert assert_error(ready, 503, "not_ready") == "the database does not answer"
    store.close()
