"""Turn approved signals into orders at the next open, sized exactly as the backtest sizes them.

The orchestrator keeps, per account, the last approved signal of the bar that just closed
(an exit wins over an entry, as in the strategy engines). At the next open of the account's
symbol it becomes at most one market order:

* an exit (SELL) while the account holds the symbol: sell the whole position;
* an entry (BUY) while it is flat and its account's daily-loss halt has not tripped on the
  signal's day (`at_close`): buy `entry_quantity` units at the expected fill price,
  with the budget min(cash, position_allocation x equity), capped by `max_position_pct` of
  equity (the cap shrinks the order, as in the kernel) and refused above
  `max_order_notional`.

Equity is the account's equity at the last close and the expected fill price is the open
moved by the configured slippage and rounded to the tick grid against the buyer: the
numbers the backtest kernel (`orchestrade.backtest._kernel_loop._bar`) uses, with the same
float arithmetic, so that both paths buy the same quantities. Pre-trade limits that refuse
(daily loss, fat finger, price band, ...) are the risk engine's job, after this.

Only market orders and the all_cash, fixed_qty and percent_equity sizings are planned here;
`OrderPlanner` refuses other configurations when it is built, with the reason.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from decimal import ROUND_HALF_EVEN, Decimal
from types import MappingProxyType

import numpy as np

from orchestrade.backtest.config import SimulationConfig
from orchestrade.backtest.costs import TICK_KINDS, round_to_tick, tick_bands
from orchestrade.backtest.sizing import entry_quantity
from orchestrade.domain import (
    Bar,
    BotId,
    Order,
    OrderId,
    OrderType,
    Side,
    Signal,
    SignalSide,
    Symbol,
    TimeInForce,
)
from orchestrade.orchestration.errors import PlanningError
from orchestrade.portfolio import Ledger

_SIZING_CODES = {"all_cash": 0, "fixed_qty": 1, "percent_equity": 2}
_ROUND_TO_TICK = round_to_tick.py_func
_ENTRY_QUANTITY = entry_quantity.py_func


@dataclass(frozen=True, slots=True)
class SymbolRules:
    """The per-symbol trading rules the planner needs (from the simulation config)."""

    tick_kind: int
    tick_size: float
    lot: float


@dataclass(frozen=True, slots=True)
class PlannedOrder:
    """An order the orchestrator wants sent, and the account that books it."""

    account_id: str
    order: Order
    purpose: str  # "entry" or "exit"


class OrderPlanner:
    """Pending decisions per account and the orders they become at the next open.

    Args:
        bot_id: the bot whose signals this planner turns into orders.
        config: the simulation configuration of the same run (costs, sizing, limits), with
            the strategy's sizing applied (`Backtest.run_config`).
        symbols: the symbols in the order of the configuration's per-symbol tuples.
        ledger: the orchestrator's ledger (cash, positions, marks).
    """

    def __init__(
        self,
        bot_id: BotId,
        config: SimulationConfig,
        symbols: Sequence[str],
        ledger: Ledger,
    ) -> None:
        if config.sizing.method not in _SIZING_CODES:
            raise PlanningError(
                f"sizing {config.sizing.method!r} is not supported by the trading stack yet "
                f"(supported: {', '.join(_SIZING_CODES)})"
            )
        if config.mode != "isolated":
            raise PlanningError(
                "portfolio mode is not supported by the trading stack yet: run isolated "
                "accounts (--mode isolated), one per symbol, as the backtest's default"
            )
        if config.fill != "next_open":
            raise PlanningError(
                f"fill {config.fill!r} is not supported by the trading stack yet: orders are "
                "sent at the next open (next_open)"
            )
        if config.latency_bars:
            raise PlanningError("latency_bars must be 0 in the trading stack")
        self.bot_id = bot_id
        self._config = config
        self._ledger = ledger
        self._rules = {
            Symbol(symbol): _symbol_rules(config, index) for index, symbol in enumerate(symbols)
        }
        self._symbols = frozenset(self._rules)
        self._lots = {symbol: Decimal(repr(rules.lot)) for symbol, rules in self._rules.items()}
        self._upper, self._ticks = tick_bands()
        self._pending: dict[Symbol, Signal] = {}
        self._pending_view = MappingProxyType(self._pending)
        self._halted: dict[str, date] = {}
        self._stamp: tuple[datetime | None, str] = (None, "")
        """The last bar start and its text in order ids (the orders of one open share it)."""

    @property
    def symbols(self) -> frozenset[Symbol]:
        """The symbols this planner trades."""
        return self._symbols

    @property
    def ledger(self) -> Ledger:
        """The ledger the planner sizes from (the orchestrator keeps it current)."""
        return self._ledger

    def note(self, signal: Signal) -> None:
        """Remember an approved signal of the bar that just closed (an exit wins)."""
        held = self._pending.get(signal.symbol)
        if held is not None and held.time == signal.time and held.side is SignalSide.SELL:
            return
        self._pending[signal.symbol] = signal

    def pending_symbols(self) -> tuple[Symbol, ...]:
        """Symbols with a decision waiting for their next open."""
        return tuple(self._pending)

    @property
    def pending(self) -> Mapping[Symbol, Signal]:
        """The decision waiting for the next open of each symbol (a live, read-only view:
        `at_open` takes them out)."""
        return self._pending_view

    @property
    def watches_closes(self) -> bool:
        """Whether `at_close` has anything to do (a daily-loss limit is set)."""
        return self._config.max_daily_loss_pct is not None

    def discard(self, symbol: Symbol) -> None:
        """Forget what was pending for `symbol` (the bot was paused or stopped)."""
        self._pending.pop(symbol, None)

    def at_close(self, bar: Bar) -> None:
        """`bar` closed (after the ledger marked it): trip the account's daily-loss halt when
        its equity is more than `max_daily_loss_pct` below the day's start. A halted account
        opens nothing more that day (the kernel's rule: its entries decided at this close
        and later the same day are dropped; exits go on)."""
        limit = self._config.max_daily_loss_pct
        if limit is None:
            return
        account_id = self._ledger.account_id(self.bot_id, bar.symbol)
        state = self._ledger.account(account_id)
        start = float(state.day_start)
        if state.day is not None and start > 0.0:
            equity = float(self._ledger.equity(account_id))
            if start - equity > limit * start:
                self._halted[account_id] = state.day

    def at_open(self, bar: Bar) -> PlannedOrder | None:
        """The order to send at `bar`'s open for the signal pending on its symbol, if any."""
        signal = self._pending.pop(bar.symbol, None)
        if signal is None:
            return None
        account_id = self._ledger.account_id(self.bot_id, bar.symbol)
        if signal.side is SignalSide.BUY and self._halted.get(account_id) == signal.time.date():
            return None
        held = self._ledger.quantity(account_id, bar.symbol)
        if signal.side is SignalSide.SELL:
            if held <= 0:
                return None
            return PlannedOrder(account_id, self._order(bar, Side.SELL, held, "exit"), "exit")
        if signal.side is not SignalSide.BUY or held > 0:
            return None
        quantity = self.entry_quantity(account_id, bar)
        if quantity <= 0:
            return None
        # On the lot grid exactly: the float floor(x / lot) * lot of a fractional lot carries
        # binary noise (1.4197736300000001) that a broker refuses as off the lot.
        lot = self._lots[bar.symbol]
        units = (Decimal(repr(quantity)) / lot).to_integral_value(rounding=ROUND_HALF_EVEN)
        order = self._order(bar, Side.BUY, units * lot, "entry")
        return PlannedOrder(account_id, order, "entry")

    def entry_quantity(self, account_id: str, bar: Bar) -> float:
        """Units an entry buys at `bar`'s open (0 when nothing can be bought)."""
        config = self._config
        rules = self._rules[bar.symbol]
        price = self.expected_buy_price(bar)
        state = self._ledger.account(account_id)
        cash = float(state.cash)
        equity = float(self._ledger.equity(account_id))
        sizing = config.sizing
        # float(): the kernel function's Python body may hand back a numpy scalar, whose
        # repr is not a number (the order's Decimal quantity is built from the repr).
        quantity = float(
            _ENTRY_QUANTITY(
                _SIZING_CODES[sizing.method],
                price,
                min(cash, config.position_allocation * equity),
                equity,
                config.commission,
                config.commission_min,
                rules.lot,
                _or_nan(sizing.quantity),
                _or_nan(sizing.fraction),
                _or_nan(sizing.annual_vol),
                math.nan,
            )
        )
        if config.max_position_pct is not None:
            cap = float(np.floor(config.max_position_pct * equity / price / rules.lot) * rules.lot)
            quantity = min(quantity, max(cap, 0.0))
        if config.max_order_notional is not None and quantity * price > config.max_order_notional:
            return 0.0
        return max(quantity, 0.0)

    def expected_buy_price(self, bar: Bar) -> float:
        """The open moved up by the slippage and rounded up to the tick grid (kernel rule)."""
        config = self._config
        rules = self._rules[bar.symbol]
        raw = float(bar.open)
        move = raw * config.slippage_bps * 1e-4 + config.slippage_range * (
            float(bar.high) - float(bar.low)
        )
        price = max(raw + move, 0.0)
        return float(
            _ROUND_TO_TICK(price, True, rules.tick_kind, rules.tick_size, self._upper, self._ticks)
        )

    def _order(self, bar: Bar, side: Side, quantity: Decimal, purpose: str) -> Order:
        at, stamp = self._stamp
        if bar.start is not at:
            at, stamp = bar.start, _stamp(bar.start)
            self._stamp = (at, stamp)
        return Order(
            order_id=OrderId(f"{self.bot_id}-{bar.symbol}-{stamp}-{purpose}"),
            symbol=bar.symbol,
            side=side,
            order_type=OrderType.MARKET,
            quantity=quantity,
            created_at=bar.start,
            # The kernel drops an entry the open cannot fill (price band, volume cap) but
            # keeps trying an exit at the next bars: immediate-or-cancel vs good-till-cancel.
            time_in_force=TimeInForce.IOC if side is Side.BUY else TimeInForce.GTC,
            bot_id=self.bot_id,
        )


def tick_rounding(
    config: SimulationConfig, symbols: Sequence[str]
) -> dict[Symbol, Callable[[float, bool], float]]:
    """Each symbol's tick rounding `(price, upward) -> price`, the kernel's own function
    bound to the symbol's grid (for the risk agent's stop levels)."""
    upper, ticks = tick_bands()
    rounding: dict[Symbol, Callable[[float, bool], float]] = {}
    for index, symbol in enumerate(symbols):
        rules = _symbol_rules(config, index)

        def round_price(price: float, upward: bool, rules: SymbolRules = rules) -> float:
            return float(
                _ROUND_TO_TICK(price, upward, rules.tick_kind, rules.tick_size, upper, ticks)
            )

        rounding[Symbol(symbol)] = round_price
    return rounding


def order_id_for(bot_id: str, symbol: str, at: datetime, purpose: str) -> OrderId:
    """A deterministic client order id: the same decision always gets the same id, so a
    replay restarted after a crash re-asks for orders the OMS already has instead of sending
    new ones."""
    return OrderId(f"{bot_id}-{symbol}-{_stamp(at)}-{purpose}")


def _stamp(at: datetime) -> str:
    """`at` as it appears in an order id: ``strftime("%Y%m%dT%H%M%S")``, formatted from the
    fields (twice as fast; years before 1000 are left to strftime, which may not pad them)."""
    if at.year < 1000:
        return at.strftime("%Y%m%dT%H%M%S")
    # %-formatting: twice as fast as format specifiers here (one call per order).
    return "%04d%02d%02dT%02d%02d%02d" % (  # noqa: UP031
        at.year,
        at.month,
        at.day,
        at.hour,
        at.minute,
        at.second,
    )


def _symbol_rules(config: SimulationConfig, index: int) -> SymbolRules:
    def pick(value: object) -> object:
        return value[index] if isinstance(value, tuple) else value

    kind = pick(config.tick_kind)
    return SymbolRules(
        tick_kind=TICK_KINDS[str(kind)],
        tick_size=float(pick(config.tick_size)),  # type: ignore[arg-type]
        lot=float(pick(config.lot_size)),  # type: ignore[arg-type]
    )


def _or_nan(value: float | None) -> float:
    return math.nan if value is None else float(value)
