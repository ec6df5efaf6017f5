"""Secrets (passwords, their hashes, the JWT key, tokens, API keys) never reach the logs or a
response, except the one response that hands a token or a new key to its owner."""

from __future__ import annotations

import hashlib
import logging

import pytest
from httpx2 import Response

from fakes.auth import JWT_SECRET
from orchestrade.auth import Role
from orchestrade.storage.users import UserRepository

from .conftest import PASSWORDS, Api

CAROL_PASSWORD = "carol's own very long password"
WEAK_PASSWORD = "hunter2!"


def test_a_whole_session_leaks_no_secret(api: Api, caplog: pytest.LogCaptureFixture) -> None:
    responses: list[Response] = []

    def call(method: str, url: str, **kwargs: object) -> Response:
        response = api.client.request(method, url, **kwargs)  # type: ignore[arg-type]
        responses.append(response)
        return response

    with caplog.at_level(logging.DEBUG):
        login = call(
            "POST",
            "/api/v1/auth/login",
            json={"username": "ada", "password": PASSWORDS[Role.ADMIN]},
        )
        admin_token = login.json()["access_token"]
        admin = {"Authorization": f"Bearer {admin_token}"}
        call(
            "POST",
            "/api/v1/users",
            json={"name": "carol", "role": "viewer", "password": CAROL_PASSWORD},
            headers=admin,
        )
        call(
            "POST",
            "/api/v1/users",
            json={"name": "dave", "role": "viewer", "password": WEAK_PASSWORD},
            headers=admin,
        )
        call("POST", "/api/v1/auth/login", json={"username": "carol", "password": "wrong!"})
        call("POST", "/api/v1/auth/login", json={"password": CAROL_PASSWORD})
        call(
            "POST",
            "/api/v1/auth/login",
            json={"username": "carol", "password": CAROL_PASSWORD, "x": 1},
        )
        created = call(
            "POST", "/api/v1/users/4/api-keys", json={"name": "carol's script"}, headers=admin
        )
        key = created.json()["key"]
        call("GET", "/api/v1/auth/me", headers={"X-API-Key": key})
        call("GET", "/api/v1/auth/api-keys", headers={"X-API-Key": key})
        call("GET", "/api/v1/users/4/api-keys", headers=admin)
        call("GET", "/api/v1/users", headers=admin)
        call("GET", "/api/v1/audit", headers=admin)
        call("GET", "/metrics", headers=admin)
        call("GET", "/api/v1/openapi.json")
        call("GET", "/api/v1/auth/me", headers={"Authorization": f"Bearer {admin_token}x"})

    key_hash = hashlib.sha256(key.encode()).hexdigest()
    never_anywhere = [
        JWT_SECRET,
        PASSWORDS[Role.ADMIN],
        CAROL_PASSWORD,
        WEAK_PASSWORD,
        "$argon2",
        key_hash,
    ]
    texts = [f"{response.headers}\n{response.text}" for response in responses]
    for secret in never_anywhere:
        assert secret not in caplog.text, secret
        assert all(secret not in text for text in texts), secret
    assert admin_token not in caplog.text
    assert key not in caplog.text
    assert [text for text in texts if admin_token in text] == [texts[0]]
    assert [text for text in texts if key in text] == [f"{created.headers}\n{created.text}"]
    assert len(caplog.records) > 0  # the capture saw the app's logging at all


def test_reprs_show_neither_a_password_hash_nor_the_signing_key(api: Api) -> None:
    stored = UserRepository(api.store).credentials("ada")

    assert stored is not None
    assert stored.password_hash.startswith("$argon2id$")
    assert stored.password_hash not in repr(stored)
    assert JWT_SECRET not in repr(api.context)
    assert JWT_SECRET not in repr(api.context.authenticator.__dict__)
