"""The API's cache of authenticated credentials: a credential in use keeps working without a
lookup per request, and a change to its user, key or lifetime still applies at once."""

from __future__ import annotations

from orchestrade.auth import Role
from orchestrade.auth.credential_cache import DEFAULT_TTL_S
from orchestrade.storage.users import UserRepository

from .conftest import Api

ME = "/api/v1/auth/me"
TRADER_ID = 2


def key_of(api: Api, role: Role = Role.TRADER) -> tuple[int, str]:
    created = api.client.post(
        "/api/v1/auth/api-keys", json={"name": "script"}, headers=api.headers(role)
    ).json()
    return created["id"], created["key"]


def test_a_token_in_use_stops_working_at_once_when_its_user_is_disabled(api: Api) -> None:
    headers = api.headers(Role.TRADER)
    assert api.client.get(ME, headers=headers).status_code == 200  # now cached

    api.client.patch(
        f"/api/v1/users/{TRADER_ID}", json={"disabled": True}, headers=api.headers(Role.ADMIN)
    )

    refused = api.client.get(ME, headers=headers)
    assert refused.status_code == 401
    assert refused.json()["error"]["message"] == "invalid token"


def test_a_key_in_use_stops_working_at_once_when_its_user_is_disabled(api: Api) -> None:
    _, key = key_of(api)
    assert api.client.get(ME, headers={"X-API-Key": key}).status_code == 200

    api.client.patch(
        f"/api/v1/users/{TRADER_ID}", json={"disabled": True}, headers=api.headers(Role.ADMIN)
    )

    assert api.client.get(ME, headers={"X-API-Key": key}).status_code == 401
    assert api.client.get(ME, headers={"Authorization": f"Bearer {key}"}).status_code == 401


def test_a_key_in_use_stops_working_at_once_when_revoked(api: Api) -> None:
    key_id, key = key_of(api)
    assert api.client.get(ME, headers={"X-API-Key": key}).status_code == 200

    api.client.delete(f"/api/v1/auth/api-keys/{key_id}", headers=api.headers(Role.TRADER))

    assert api.client.get(ME, headers={"X-API-Key": key}).status_code == 401


def test_a_key_in_use_stops_working_at_once_when_an_admin_revokes_it(api: Api) -> None:
    key_id, key = key_of(api)
    assert api.client.get("/metrics", headers={"X-API-Key": key}).status_code == 200

    api.client.delete(
        f"/api/v1/users/{TRADER_ID}/api-keys/{key_id}", headers=api.headers(Role.ADMIN)
    )

    assert api.client.get("/metrics", headers={"X-API-Key": key}).status_code == 401


def test_a_demotion_applies_at_once_to_a_token_in_use(api: Api) -> None:
    headers = api.headers(Role.TRADER)
    assert key_of(api)[0] > 0  # a trader's route, answered (and the token cached)

    api.client.patch(
        f"/api/v1/users/{TRADER_ID}", json={"role": "viewer"}, headers=api.headers(Role.ADMIN)
    )

    demoted = api.client.post("/api/v1/auth/api-keys", json={"name": "again"}, headers=headers)
    assert demoted.status_code == 403
    assert api.client.get(ME, headers=headers).json()["role"] == "viewer"


def test_a_token_in_use_is_refused_the_instant_it_expires(api: Api) -> None:
    headers = api.headers(Role.VIEWER)
    api.clock.advance(899)
    assert api.client.get("/api/v1/positions", headers=headers).status_code == 200

    api.clock.advance(1)

    expired = api.client.get("/api/v1/positions", headers=headers)
    assert expired.status_code == 401
    assert expired.json()["error"]["message"] == "token expired: log in again"


def test_a_change_made_by_another_process_applies_within_the_cache_s_lifetime(api: Api) -> None:
    headers = api.headers(Role.TRADER)
    _, key = key_of(api)
    assert api.client.get(ME, headers=headers).status_code == 200
    assert api.client.get(ME, headers={"X-API-Key": key}).status_code == 200
    # `orchestrade user disable` in another process writes the database directly.
    UserRepository(api.store).update(TRADER_ID, at=api.clock(), disabled=True)

    api.monotonic.advance(DEFAULT_TTL_S)

    assert api.client.get(ME, headers=headers).status_code == 401
    assert api.client.get(ME, headers={"X-API-Key": key}).status_code == 401
