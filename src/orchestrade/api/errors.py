"""Every error as JSON `{"error": {"code": ..., "message": ...}}`, never a stack trace.

Our own errors map to statuses here; an exception nothing expected becomes a 500 with a
generic message in `UnhandledErrors` (its traceback goes to the log, not to the caller).
"""

from __future__ import annotations

import logging
import math
from collections.abc import Mapping
from http import HTTPStatus
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from orchestrade.auth import (
    AccountError,
    AuthenticationError,
    AuthError,
    LoginRateLimitedError,
    SelfLockoutError,
    UnknownApiKeyError,
    UnknownUserError,
    UserExistsError,
)
from orchestrade.data.errors import QueryError, StoreError

log = logging.getLogger(__name__)

BEARER_CHALLENGE = {"WWW-Authenticate": "Bearer"}
MAX_VALIDATION_PROBLEMS = 5
_SCHEMAS = "#/components/schemas/"
_CODES = {
    400: "bad_request",
    401: "unauthorized",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
    409: "conflict",
    413: "payload_too_large",
    415: "unsupported_media_type",
    422: "invalid_request",
    429: "rate_limited",
    500: "internal_error",
    503: "unavailable",
}


class ApiError(HTTPException):
    """An HTTP error with our machine-readable `code`."""

    def __init__(
        self, status: int, code: str, message: str, *, headers: dict[str, str] | None = None
    ) -> None:
        super().__init__(status, message, headers)
        self.code = code


def error_response(
    status: int, code: str, message: str, headers: Mapping[str, str] | None = None
) -> JSONResponse:
    """The JSON error body every failure uses."""
    return JSONResponse(
        {"error": {"code": code, "message": message}}, status_code=status, headers=headers
    )


def install_error_handlers(app: FastAPI) -> None:
    """Route HTTP, validation, auth and storage errors to `error_response`, and make the
    OpenAPI document say so (FastAPI documents its own 422 body, which we replace, and not
    the 400 it answers a body it cannot read with, which we add)."""
    app.add_exception_handler(HTTPException, _http_error)
    app.add_exception_handler(RequestValidationError, _validation_error)
    app.add_exception_handler(AuthError, _auth_error)
    app.add_exception_handler(QueryError, _query_error)
    app.add_exception_handler(StoreError, _store_error)
    generate = app.openapi

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            app.openapi_schema = _unreadable_bodies(_our_validation_errors(generate()))
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]


class UnhandledErrors:
    """ASGI middleware: an exception that escaped every handler becomes a JSON 500.

    Starlette's own last resort answers in plain text (or with the traceback in debug
    mode) and raises again; this one answers in our shape and logs the traceback once.
    """

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = False

        async def watched_send(message: Message) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
            await send(message)

        try:
            await self.app(scope, receive, watched_send)
        except Exception:
            # Boundary: whatever failed, the caller gets JSON and the log the traceback.
            log.exception("unhandled error answering %s %s", scope["method"], scope["path"])
            if started:
                raise  # the status line is out: nothing can be answered any more
            response = error_response(500, "internal_error", "internal server error")
            await response(scope, receive, send)


async def _http_error(request: Request, error: Exception) -> JSONResponse:
    assert isinstance(error, HTTPException)
    status = error.status_code
    code = getattr(error, "code", None) or _CODES.get(status, f"http_{status}")
    detail = error.detail if isinstance(error.detail, str) else None
    return error_response(status, code, detail or _phrase(status), error.headers)


async def _validation_error(request: Request, error: Exception) -> JSONResponse:
    assert isinstance(error, RequestValidationError)
    problems = [_problem(item) for item in error.errors()]
    message = "; ".join(problems[:MAX_VALIDATION_PROBLEMS])
    if len(problems) > MAX_VALIDATION_PROBLEMS:
        message += f"; and {len(problems) - MAX_VALIDATION_PROBLEMS} more"
    return error_response(422, "invalid_request", message or "invalid request")


async def _auth_error(request: Request, error: Exception) -> JSONResponse:
    match error:
        case LoginRateLimitedError(retry_after_s=retry_after_s):
            headers = {"Retry-After": str(max(1, math.ceil(retry_after_s)))}
            return error_response(429, "rate_limited", str(error), headers)
        case AuthenticationError():
            return error_response(401, "unauthorized", str(error), BEARER_CHALLENGE)
        case UserExistsError():
            return error_response(409, "user_exists", str(error))
        case SelfLockoutError():
            return error_response(409, "self_lockout", str(error))
        case AccountError():
            return error_response(422, "invalid_request", str(error))
        case UnknownUserError() | UnknownApiKeyError():
            return error_response(404, "not_found", str(error))
    log.error("auth error answering %s %s: %s", request.method, request.url.path, error)
    return error_response(500, "internal_error", "internal server error")


async def _query_error(request: Request, error: Exception) -> JSONResponse:
    return error_response(422, "invalid_request", str(error))


async def _store_error(request: Request, error: Exception) -> JSONResponse:
    # The driver's message may name hosts and tables: the log gets it, the caller does not.
    log.error("database error answering %s %s: %s", request.method, request.url.path, error)
    return error_response(503, "database_unavailable", "the database is unavailable")


def _problem(item: dict[str, Any]) -> str:
    """`query.limit: Input should be ...`: where and what, never the rejected input."""
    where = ".".join(str(part) for part in item.get("loc", ()))
    what = str(item.get("msg", "invalid"))
    return f"{where}: {what}" if where else what


def _our_validation_errors(document: dict[str, Any]) -> dict[str, Any]:
    """The document with every `HTTPValidationError` body replaced by `ErrorOut`."""
    theirs, ours = f"{_SCHEMAS}HTTPValidationError", f"{_SCHEMAS}ErrorOut"
    for item in document.get("paths", {}).values():
        for operation in item.values():
            for response in operation.get("responses", {}).values():
                for media in response.get("content", {}).values():
                    if media.get("schema") == {"$ref": theirs}:
                        media["schema"] = {"$ref": ours}
    schemas = document.get("components", {}).get("schemas", {})
    for name in ("HTTPValidationError", "ValidationError"):
        schemas.pop(name, None)
    return document


def _unreadable_bodies(document: dict[str, Any]) -> dict[str, Any]:
    """The document with a 400 `ErrorOut` on every operation that takes a body.

    FastAPI answers a body it cannot decode (bytes that are not UTF-8) with a 400 before
    any validation runs, whatever the route declares.
    """
    for item in document.get("paths", {}).values():
        for operation in item.values():
            if "requestBody" in operation:
                operation.setdefault("responses", {}).setdefault(
                    "400",
                    {
                        "description": HTTPStatus.BAD_REQUEST.phrase,
                        "content": {
                            "application/json": {"schema": {"$ref": f"{_SCHEMAS}ErrorOut"}}
                        },
                    },
                )
    return document


def _phrase(status: int) -> str:
    try:
        return HTTPStatus(status).phrase
    except ValueError:
        return "error"
