"""The one shape of every error the API returns."""

from __future__ import annotations

from pydantic import BaseModel, Field


class ErrorDetail(BaseModel):
    """A stable machine-readable `code` and a sentence for people."""

    code: str = Field(examples=["not_found"])
    message: str = Field(examples=["no order o-17"])


class ErrorOut(BaseModel):
    """`{"error": {"code": ..., "message": ...}}`: never a stack trace."""

    error: ErrorDetail


def error_responses(*statuses: int) -> dict[int | str, dict[str, object]]:
    """OpenAPI entries documenting that these statuses answer with an `ErrorOut`."""
    return {status: {"model": ErrorOut} for status in statuses}
