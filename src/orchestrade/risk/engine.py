"""The risk engine: every order passes the kill switch, then the limits, then the rate limit."""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping, Sequence

from pydantic import ValidationError

from orchestrade.domain import Order, RiskRejected
from orchestrade.risk.checks import Check
from orchestrade.risk.decisions import APPROVED, Decision, Denied
from orchestrade.risk.errors import RiskConfigurationError
from orchestrade.risk.kill_switch import KillSwitch
from orchestrade.risk.limits import limit_checks
from orchestrade.risk.ports import PositionBook
from orchestrade.risk.rate_limit import MaxOrdersPerSecondCheck
from orchestrade.settings import RiskSettings


class RiskEngine:
    """Run the pre-trade checks in order and answer with the first denial.

    Order of evaluation: the kill switch; then, when `settings.enabled`, the limits of
    `settings` (`limit_checks`), the extra `checks` in the order given, and the rate limiter
    last, so that only an order every other check approved spends a rate token.

    First denial, not all: later checks may be stateful (the rate limiter) and an order is
    refused either way; the counters therefore count the check that refused each order.
    `RiskSettings(enabled=False)` approves everything except while the kill switch is
    engaged.
    """

    def __init__(
        self,
        settings: RiskSettings,
        *,
        checks: Sequence[Check] = (),
        kill_switch: KillSwitch | None = None,
        rate_limit: MaxOrdersPerSecondCheck | None = None,
    ) -> None:
        self._settings = settings
        self._extra = tuple(checks)
        self.kill_switch = kill_switch if kill_switch is not None else KillSwitch()
        self._rate_limit = rate_limit
        self._denials: Counter[str] = Counter()
        self._checks = self._assemble(settings)

    @property
    def settings(self) -> RiskSettings:
        """The limits in force."""
        return self._settings

    @property
    def checks(self) -> tuple[Check, ...]:
        """The checks run after the kill switch, in order (empty when disabled)."""
        return self._checks

    @property
    def denials(self) -> Mapping[str, int]:
        """How many orders each check refused since the engine was built."""
        return dict(self._denials)

    def evaluate(self, order: Order, book: PositionBook) -> Decision:
        """Approve `order` or return the first check's denial (and count it)."""
        decision = self.kill_switch.evaluate(order, book)
        if isinstance(decision, Denied):
            self._denials[decision.check] += 1
            return decision
        for check in self._checks:
            decision = check.evaluate(order, book)
            if isinstance(decision, Denied):
                self._denials[decision.check] += 1
                return decision
        return APPROVED

    def rejection(self, order: Order, book: PositionBook) -> RiskRejected | None:
        """The `RiskRejected` event for a denied order, None when it is approved."""
        decision = self.evaluate(order, book)
        if isinstance(decision, Denied):
            return RiskRejected(order=order, check=decision.check, reason=decision.reason)
        return None

    def update_risk_params(self, **changes: object) -> RiskSettings:
        """Change limits at run time, validated like the settings file; returns the new limits.

        Example: ``engine.update_risk_params(max_position_pct=0.2, max_order_notional=None)``.

        Raises:
            RiskConfigurationError: a field is unknown or out of range; nothing changes.
        """
        merged = {**self._settings.model_dump(), **changes}
        try:
            settings = RiskSettings.model_validate(merged)
        except ValidationError as error:
            problems = "; ".join(
                f"{'.'.join(str(part) for part in item['loc'])}: {item['msg']}"
                for item in error.errors()
            )
            raise RiskConfigurationError(f"update_risk_params: {problems}") from error
        checks = self._assemble(settings)
        self._settings, self._checks = settings, checks
        return settings

    def _assemble(self, settings: RiskSettings) -> tuple[Check, ...]:
        if not settings.enabled:
            return ()
        rate: tuple[Check, ...] = () if self._rate_limit is None else (self._rate_limit,)
        return (*limit_checks(settings), *self._extra, *rate)
