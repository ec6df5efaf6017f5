"""Liveness and readiness answers (no authentication needed)."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel


class HealthOut(BaseModel):
    """The process answers."""

    status: Literal["ok"] = "ok"
    version: str


class ReadyOut(BaseModel):
    """The process answers and its database does too."""

    status: Literal["ready"] = "ready"
    database: Literal["ok"] = "ok"
