"""The published OpenAPI document: every operation typed, secured and with typed errors."""

from __future__ import annotations

from typing import Any

from .conftest import Api

PUBLIC_OPERATIONS = {
    ("get", "/api/v1/health"),
    ("get", "/api/v1/ready"),
    ("post", "/api/v1/auth/login"),
}
TEXT_RESPONSES = {
    "/metrics": "text/plain",
    "/api/v1/backtests/{job_id}/report": "text/html",
}
"""The operations whose success is text, not a JSON model."""


def document(api: Api) -> dict[str, Any]:
    response = api.client.get("/api/v1/openapi.json")
    assert response.status_code == 200
    body: dict[str, Any] = response.json()
    return body


def operations(api: Api) -> list[tuple[str, str, dict[str, Any]]]:
    return [
        (method, path, operation)
        for path, item in document(api)["paths"].items()
        for method, operation in item.items()
    ]


def is_typed(schema: dict[str, Any]) -> bool:
    """A named model, or an array of named models."""
    if "$ref" in schema:
        return True
    return schema.get("type") == "array" and "$ref" in schema.get("items", {})


def test_the_document_names_the_api_and_its_schemes(api: Api) -> None:
    body = document(api)

    assert body["info"]["title"] == "orchestrade"
    assert body["info"]["version"] == "0.1.0"
    assert set(body["components"]["securitySchemes"]) == {"HTTPBearer", "APIKeyHeader"}


def test_every_json_success_response_is_a_named_model(api: Api) -> None:
    checked = 0
    for method, path, operation in operations(api):
        successes = {
            code: value for code, value in operation["responses"].items() if code[0] == "2"
        }
        assert len(successes) == 1, (method, path)
        ((_, response),) = successes.items()
        content = response["content"]
        if path in TEXT_RESPONSES:
            assert set(content) == {TEXT_RESPONSES[path]}, (method, path, content)
            continue
        assert is_typed(content["application/json"]["schema"]), (method, path, content)
        checked += 1

    assert checked >= 18


def test_every_documented_error_is_the_error_model(api: Api) -> None:
    checked = 0
    for method, path, operation in operations(api):
        for code, response in operation["responses"].items():
            if code[0] in "45":
                schema = response["content"]["application/json"]["schema"]
                assert schema == {"$ref": "#/components/schemas/ErrorOut"}, (method, path, code)
                checked += 1

    assert checked >= 40
    assert "HTTPValidationError" not in document(api)["components"]["schemas"]


def test_every_operation_but_the_public_ones_declares_its_security(api: Api) -> None:
    for method, path, operation in operations(api):
        if (method, path) in PUBLIC_OPERATIONS:
            assert "security" not in operation, (method, path)
        else:
            schemes = {name for requirement in operation["security"] for name in requirement}
            assert schemes == {"HTTPBearer", "APIKeyHeader"}, (method, path)
            assert "401" in operation["responses"], (method, path)


def test_passwords_are_write_only_secrets_in_the_document(api: Api) -> None:
    schemas = document(api)["components"]["schemas"]

    for model in ("LoginIn", "UserIn"):
        password = schemas[model]["properties"]["password"]
        assert password["format"] == "password"
        assert password["writeOnly"] is True
    assert schemas["UserIn"]["properties"]["password"]["minLength"] == 12


def test_every_operation_with_a_body_documents_the_400_of_an_unreadable_one(api: Api) -> None:
    with_body = [
        (method, path, operation)
        for method, path, operation in operations(api)
        if "requestBody" in operation
    ]

    for method, path, operation in with_body:
        assert "400" in operation["responses"], (method, path)
    assert len(with_body) >= 11
    assert all(
        "400" not in operation["responses"]
        for _, _, operation in operations(api)
        if "requestBody" not in operation
    )
