"""The REST API (FastAPI) under `/api/v1`, plus `/metrics` for Prometheus."""

from orchestrade.api.app import create_app
from orchestrade.api.routers import API_PREFIX

__all__ = ["API_PREFIX", "create_app"]
