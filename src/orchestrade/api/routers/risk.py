"""The risk limits in force: everyone reads them, admins change them live."""

from __future__ import annotations

from fastapi import APIRouter

from orchestrade.api.deps import Control
from orchestrade.api.errors import ApiError
from orchestrade.api.routers import API_PREFIX
from orchestrade.api.schemas.errors import error_responses
from orchestrade.api.schemas.rules import RiskLimitsOut, RiskLimitsPatch
from orchestrade.api.security import AdminUser, ViewerUser

router = APIRouter(prefix=f"{API_PREFIX}/risk", tags=["risk"], responses=error_responses(401, 503))


@router.get("")
async def risk_limits(user: ViewerUser, control: Control) -> RiskLimitsOut:
    """The pre-trade limits every bot's risk engine applies now."""
    return RiskLimitsOut.model_validate(dict(control.risk_limits()))


@router.patch("", responses=error_responses(403, 422))
async def update_risk_limits(
    body: RiskLimitsPatch, admin: AdminUser, control: Control
) -> RiskLimitsOut:
    """Change some limits for every bot at once; returns all the limits in force."""
    changes = body.changes()
    if not changes:
        raise ApiError(422, "invalid_request", "body: name at least one limit to change")
    return RiskLimitsOut.model_validate(dict(await control.update_risk_limits(changes)))
