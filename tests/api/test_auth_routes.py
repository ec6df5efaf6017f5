"""Login, tokens, API keys and user administration through the HTTP API."""

from __future__ import annotations

from datetime import timedelta

from fastapi.testclient import TestClient

from fakes.auth import T0
from orchestrade.auth import Role

from .conftest import NAMES, PASSWORDS, Api
from .test_errors import assert_error

LOGIN = "/api/v1/auth/login"


def login(client: TestClient, name: str, password: str) -> tuple[int, dict[str, object]]:
    response = client.post(LOGIN, json={"username": name, "password": password})
    return response.status_code, response.json()


def test_login_returns_a_bearer_token_that_identifies_the_user(api: Api) -> None:
    status, body = login(api.client, "tom", PASSWORDS[Role.TRADER])

    assert status == 200
    assert body["token_type"] == "bearer"
    assert body["expires_in"] == 900
    assert body["expires_at"] == (T0 + timedelta(seconds=900)).isoformat().replace("+00:00", "Z")
    assert body["user"] == {
        "id": 2,
        "name": "tom",
        "role": "trader",
        "disabled": False,
        "created_at": "2024-01-02T00:00:00Z",
    }
    me = api.client.get(
        "/api/v1/auth/me", headers={"Authorization": f"Bearer {body['access_token']}"}
    )
    assert me.json()["name"] == "tom"


def test_wrong_password_and_unknown_user_get_the_same_401(api: Api) -> None:
    wrong = login(api.client, "tom", "not the password at all")
    unknown = login(api.client, "nobody", PASSWORDS[Role.TRADER])

    expected = {"error": {"code": "unauthorized", "message": "wrong user name or password"}}
    assert wrong == (401, expected)
    assert unknown == (401, expected)


def test_logins_are_limited_to_five_a_minute_per_user_and_client(api: Api) -> None:
    for _ in range(5):
        assert login(api.client, "tom", "not the password at all")[0] == 401

    refused = api.client.post(LOGIN, json={"username": "tom", "password": PASSWORDS[Role.TRADER]})

    assert refused.status_code == 429
    assert refused.headers["Retry-After"] == "12"
    assert refused.json()["error"]["code"] == "rate_limited"
    assert login(api.client, "vera", PASSWORDS[Role.VIEWER])[0] == 200
    with TestClient(api.app, client=("10.9.8.7", 1234)) as elsewhere:
        assert login(elsewhere, "tom", PASSWORDS[Role.TRADER])[0] == 200
    api.monotonic.advance(12)
    assert login(api.client, "tom", PASSWORDS[Role.TRADER])[0] == 200
    assert login(api.client, "tom", PASSWORDS[Role.TRADER])[0] == 429


def test_a_token_stops_working_when_it_expires(api: Api) -> None:
    headers = api.headers(Role.VIEWER)

    api.clock.advance(899)
    assert api.client.get("/api/v1/auth/me", headers=headers).status_code == 200
    api.clock.advance(1)
    expired = api.client.get("/api/v1/auth/me", headers=headers)

    assert expired.status_code == 401
    assert expired.json() == {
        "error": {"code": "unauthorized", "message": "token expired: log in again"}
    }


def test_an_api_key_is_shown_once_and_works_in_either_header(api: Api) -> None:
    created = api.client.post(
        "/api/v1/auth/api-keys", json={"name": "nightly report"}, headers=api.headers(Role.TRADER)
    )

    assert created.status_code == 201
    key = created.json()["key"]
    assert key.startswith(created.json()["prefix"])
    listed = api.client.get("/api/v1/auth/api-keys", headers=api.headers(Role.TRADER)).json()
    assert [item["name"] for item in listed] == ["nightly report"]
    assert key not in str(listed)
    for headers in ({"X-API-Key": key}, {"Authorization": f"Bearer {key}"}):
        assert api.client.get("/api/v1/auth/me", headers=headers).json()["name"] == "tom"


def test_a_revoked_key_stops_working_at_once(api: Api) -> None:
    trader = api.headers(Role.TRADER)
    created = api.client.post("/api/v1/auth/api-keys", json={"name": "x"}, headers=trader).json()

    revoked = api.client.delete(f"/api/v1/auth/api-keys/{created['id']}", headers=trader)

    assert revoked.status_code == 200
    assert revoked.json()["active"] is False
    assert (
        api.client.get("/api/v1/auth/me", headers={"X-API-Key": created["key"]}).status_code == 401
    )
    other = api.client.delete(
        f"/api/v1/auth/api-keys/{created['id']}", headers=api.headers(Role.ADMIN)
    )
    assert other.status_code == 404


def test_an_admin_gives_a_viewer_a_key_for_a_scraper_and_can_revoke_it(api: Api) -> None:
    admin = api.headers(Role.ADMIN)
    viewer_id = 3

    created = api.client.post(
        f"/api/v1/users/{viewer_id}/api-keys", json={"name": "prometheus"}, headers=admin
    ).json()
    scrape = api.client.get("/metrics", headers={"Authorization": f"Bearer {created['key']}"})
    listed = api.client.get(f"/api/v1/users/{viewer_id}/api-keys", headers=admin).json()
    revoked = api.client.delete(
        f"/api/v1/users/{viewer_id}/api-keys/{created['id']}", headers=admin
    ).json()

    assert scrape.status_code == 200
    assert scrape.headers["content-type"].startswith("text/plain")
    assert [item["name"] for item in listed] == ["prometheus"]
    assert revoked["revoked_at"] == T0.isoformat().replace("+00:00", "Z")
    assert api.client.get("/metrics", headers={"X-API-Key": created["key"]}).status_code == 401
    assert api.client.get("/api/v1/users/99/api-keys", headers=admin).status_code == 404


def test_admins_create_list_and_change_users(api: Api) -> None:
    admin = api.headers(Role.ADMIN)

    created = api.client.post(
        "/api/v1/users",
        json={"name": "carol", "role": "trader", "password": "carol's long password"},
        headers=admin,
    )
    changed = api.client.patch(
        f"/api/v1/users/{created.json()['id']}", json={"role": "viewer"}, headers=admin
    )

    assert created.status_code == 201
    assert created.json()["role"] == "trader"
    assert changed.json()["role"] == "viewer"
    assert login(api.client, "carol", "carol's long password")[0] == 200
    names = [user["name"] for user in api.client.get("/api/v1/users", headers=admin).json()]
    assert names == [NAMES[Role.ADMIN], NAMES[Role.TRADER], NAMES[Role.VIEWER], "carol"]


def test_a_disabled_user_cannot_log_in_and_their_token_stops_working(api: Api) -> None:
    token_headers = api.headers(Role.TRADER)

    disabled = api.client.patch(
        "/api/v1/users/2", json={"disabled": True}, headers=api.headers(Role.ADMIN)
    )

    assert disabled.json()["disabled"] is True
    assert api.client.get("/api/v1/auth/me", headers=token_headers).status_code == 401
    assert login(api.client, "tom", PASSWORDS[Role.TRADER])[0] == 401


def test_user_administration_errors(api: Api) -> None:
    admin = api.headers(Role.ADMIN)

    taken = api.client.post(
        "/api/v1/users",
        json={"name": "tom", "role": "viewer", "password": "another long password"},
        headers=admin,
    )
    weak = api.client.post(
        "/api/v1/users",
        json={"name": "dan", "role": "viewer", "password": "hunter2"},
        headers=admin,
    )
    bad_role = api.client.post(
        "/api/v1/users",
        json={"name": "dan", "role": "owner", "password": "another long password"},
        headers=admin,
    )
    self_lockout = api.client.patch("/api/v1/users/1", json={"disabled": True}, headers=admin)
    unknown = api.client.patch("/api/v1/users/99", json={"disabled": True}, headers=admin)

    assert (taken.status_code, taken.json()["error"]["code"]) == (409, "user_exists")
    assert (weak.status_code, weak.json()["error"]["code"]) == (422, "invalid_request")
    assert "at least 12 characters" in weak.json()["error"]["message"]
    assert "hunter2" not in weak.text
    assert bad_role.status_code == 422
    assert (self_lockout.status_code, self_lockout.json()["error"]["code"]) == (409, "self_lockout")
    assert (unknown.status_code, unknown.json()["error"]["code"]) == (404, "not_found")


def test_user_and_key_ids_past_the_database_s_integers_are_422_not_500(api: Api) -> None:
    # Found by schemathesis: SQLite's driver overflowed on the id (an unhandled 500).
    admin, too_big = api.headers(Role.ADMIN), 2**63
    calls = {
        "path.user_id": [
            api.client.patch(f"/api/v1/users/{too_big}", json={"disabled": True}, headers=admin),
            api.client.get(f"/api/v1/users/{too_big}/api-keys", headers=admin),
            api.client.post(
                f"/api/v1/users/{too_big}/api-keys", json={"name": "scraper"}, headers=admin
            ),
            api.client.delete(f"/api/v1/users/{too_big}/api-keys/1", headers=admin),
        ],
        "path.key_id": [
            api.client.delete(f"/api/v1/users/1/api-keys/{too_big}", headers=admin),
            api.client.delete(f"/api/v1/auth/api-keys/{too_big}", headers=admin),
        ],
    }

    for where, responses in calls.items():
        for response in responses:
            assert assert_error(response, 422, "invalid_request") == (
                f"{where}: Input should be less than or equal to 9223372036854775807"
            )
    largest = api.client.delete(f"/api/v1/auth/api-keys/{too_big - 1}", headers=admin)
    assert_error(largest, 404, "not_found")
