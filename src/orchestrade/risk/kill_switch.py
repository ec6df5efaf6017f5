"""The kill switch: once engaged, only orders that reduce a position get through."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import ClassVar

from orchestrade.domain import Order
from orchestrade.risk.checks import is_reducing
from orchestrade.risk.decisions import APPROVED, Decision, Denied
from orchestrade.risk.errors import RiskConfigurationError
from orchestrade.risk.ports import PositionBook


@dataclass(frozen=True, slots=True)
class KillSwitchState:
    """Who engaged the switch, why, and when (aware UTC)."""

    engaged_by: str
    reason: str
    engaged_at: datetime


class KillSwitch:
    """A shared, mutable switch; the engine consults it even when risk limits are disabled."""

    name: ClassVar[str] = "kill_switch"

    def __init__(self) -> None:
        self._state: KillSwitchState | None = None

    @property
    def state(self) -> KillSwitchState | None:
        """Who engaged it and why, None when released."""
        return self._state

    @property
    def is_engaged(self) -> bool:
        """True between `engage` and `release`."""
        return self._state is not None

    def engage(self, *, by: str, reason: str, at: datetime) -> None:
        """Stop all new exposure; engaging again keeps the first record.

        Raises:
            RiskConfigurationError: `by` or `reason` is empty, or `at` is not aware UTC.
        """
        if not by.strip() or not reason.strip():
            raise RiskConfigurationError("kill switch: who engaged it and why must be given")
        offset = at.utcoffset()
        if offset is None or offset != timedelta(0):
            raise RiskConfigurationError(f"kill switch: engaged_at must be aware UTC, got {at}")
        if self._state is None:
            self._state = KillSwitchState(engaged_by=by, reason=reason, engaged_at=at)

    def release(self) -> None:
        """Allow trading again."""
        self._state = None

    def evaluate(self, order: Order, book: PositionBook) -> Decision:
        state = self._state
        if state is None or is_reducing(order, book.quantity(order.symbol)):
            return APPROVED
        return Denied(
            self.name,
            f"{self.name}: engaged by {state.engaged_by} at {state.engaged_at.isoformat()} "
            f"({state.reason}); only position-reducing orders allowed",
        )
