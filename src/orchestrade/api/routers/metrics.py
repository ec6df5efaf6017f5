"""`/metrics` in the Prometheus text format (a viewer's API key is enough to scrape it)."""

from __future__ import annotations

from fastapi import APIRouter, Response

from orchestrade.api.deps import Context
from orchestrade.api.schemas.errors import error_responses
from orchestrade.api.security import ViewerUser

router = APIRouter(tags=["metrics"])


@router.get(
    "/metrics",
    response_class=Response,
    responses={
        200: {"content": {"text/plain": {"schema": {"type": "string"}}}},
        **error_responses(401),
    },
)
def metrics(user: ViewerUser, context: Context) -> Response:
    """Requests, latencies and logins (more collectors join as the system grows)."""
    body, content_type = context.metrics.exposition()
    return Response(body, media_type=content_type)
