"""The rule engine's rules: list them; admins add rules and switch them on or off."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path

from orchestrade.api.deps import Control
from orchestrade.api.errors import ApiError
from orchestrade.api.routers import API_PREFIX
from orchestrade.api.schemas.errors import error_responses
from orchestrade.api.schemas.rules import RULE_NAME_PATTERN, RuleEnabledIn, RuleIn, RuleOut
from orchestrade.api.security import AdminUser, ViewerUser

router = APIRouter(
    prefix=f"{API_PREFIX}/rules", tags=["rules"], responses=error_responses(401, 503)
)
RuleName = Annotated[str, Path(pattern=RULE_NAME_PATTERN)]


@router.get("")
async def list_rules(user: ViewerUser, control: Control) -> list[RuleOut]:
    """The rules in force, by priority (larger first)."""
    return [RuleOut.of(info) for info in control.rules()]


@router.post("", status_code=201, responses=error_responses(403, 409, 422))
async def add_rule(body: RuleIn, admin: AdminUser, control: Control) -> RuleOut:
    """Add a rule, in force at once for every bot."""
    return RuleOut.of(await control.add_rule(body.to_document()))


@router.patch("/{name}", responses=error_responses(403, 404, 422))
async def set_rule_enabled(
    name: RuleName, body: RuleEnabledIn, admin: AdminUser, control: Control
) -> RuleOut:
    """Enable or disable a rule by name."""
    if name not in {rule.name for rule in control.rules()}:
        raise ApiError(404, "not_found", f"no rule {name!r}")
    return RuleOut.of(await control.set_rule_enabled(name, body.enabled))
