"""The trading ledger: cash, positions, marks and the trading day of every account.

One `Ledger` holds the accounts of a trading node. An account is a bot's whole capital
(`portfolio` mode) or one symbol's share of it (`isolated` mode, like the backtest, where each
symbol trades its own cash). Each agent that decides (orchestrator, risk) keeps a `Ledger` fed
by the same events (fills, bar opens and closes), so they agree without calling each other.

Valuation follows the backtest kernel so that both paths decide alike: equity is cash plus
positions at the last *close*; the open of the current bar is only the reference price a
market order is expected to fill near; the day's starting equity is the equity at the last
close before the first bar of a new UTC day.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal

from orchestrade.domain import Account, Bar, BotId, Fill, Instrument, Position, Symbol
from orchestrade.portfolio.errors import LedgerError

ZERO = Decimal(0)


@dataclass(slots=True)
class LedgerAccount:
    """The mutable state of one account; `account` holds cash and positions (with P&L)."""

    account_id: str
    account: Account
    day: date | None = None
    day_start: Decimal = ZERO
    symbols: set[Symbol] = field(default_factory=set)

    @property
    def cash(self) -> Decimal:
        """Cash, fees and taxes paid."""
        return self.account.cash


class Ledger:
    """Accounts keyed by id, with the market's last closes, current opens and previous closes.

    Args:
        mode: "isolated" (one account per bot and symbol) or "portfolio" (one per bot).
        instruments: the instrument of each traded symbol (risk checks read them).
        currency: the accounts' currency.
        track_days: keep each account's starting equity of the day (the daily-loss base);
            only the risk checks read it, and it costs an equity valuation per account and
            bar.
    """

    def __init__(
        self,
        *,
        mode: str = "isolated",
        instruments: Mapping[Symbol, Instrument] | None = None,
        currency: str = "KRW",
        track_days: bool = True,
    ) -> None:
        if mode not in ("isolated", "portfolio"):
            raise LedgerError(f"mode must be isolated or portfolio, got {mode!r}")
        self.mode = mode
        self.currency = currency
        self._instruments = dict(instruments or {})
        self._accounts: dict[str, LedgerAccount] = {}
        self._last_close: dict[Symbol, Decimal] = {}
        self._previous_close: dict[Symbol, Decimal] = {}
        self._open: dict[Symbol, Decimal] = {}
        self._bar_day: dict[Symbol, date] = {}
        self._by_symbol: dict[Symbol, list[LedgerAccount]] = {}
        self._track_days = track_days

    # -- accounts ---------------------------------------------------------------------------

    def account_id(self, bot_id: BotId | str, symbol: Symbol | str) -> str:
        """The account that books `bot_id`'s trades in `symbol`."""
        return f"{bot_id}/{symbol}" if self.mode == "isolated" else str(bot_id)

    def open_account(self, account_id: str, cash: Decimal, symbols: Iterable[Symbol]) -> None:
        """Create an account with `cash` that trades `symbols`.

        Raises:
            LedgerError: the account exists already or the cash is negative.
        """
        if account_id in self._accounts:
            raise LedgerError(f"account {account_id} exists already")
        if cash < 0:
            raise LedgerError(f"account {account_id}: cash must be >= 0, got {cash}")
        state = LedgerAccount(account_id, Account(self.currency, cash), symbols=set(symbols))
        self._accounts[account_id] = state
        for symbol in state.symbols:
            self._by_symbol.setdefault(symbol, []).append(state)

    def account(self, account_id: str) -> LedgerAccount:
        """The account `account_id`.

        Raises:
            LedgerError: no such account.
        """
        try:
            return self._accounts[account_id]
        except KeyError:
            raise LedgerError(f"no account {account_id!r}") from None

    @property
    def accounts(self) -> Mapping[str, LedgerAccount]:
        """Every account by id."""
        return self._accounts

    def book(self, account_id: str) -> AccountBook:
        """A read-only view of one account, in the shape risk checks read."""
        return AccountBook(self, self.account(account_id))

    # -- events -----------------------------------------------------------------------------

    def on_open(self, bar: Bar) -> None:
        """`bar` opened: roll the day of the accounts trading its symbol, note its open."""
        symbol = bar.symbol
        day = bar.start.date()
        if self._bar_day.get(symbol) != day:
            self._bar_day[symbol] = day
            if symbol in self._last_close:
                self._previous_close[symbol] = self._last_close[symbol]
        if not self._track_days:
            self._open[symbol] = bar.open
            return
        for state in self._by_symbol.get(symbol, ()):
            if state.day != day:
                state.day = day
                state.day_start = self.equity(state.account_id)
        self._open[symbol] = bar.open

    def on_close(self, bar: Bar) -> None:
        """`bar` closed: its close becomes the mark of its symbol."""
        self._last_close[bar.symbol] = bar.close
        self._open.pop(bar.symbol, None)

    def apply_fill(self, account_id: str, fill: Fill) -> Position:
        """Book `fill` in `account_id`; returns the symbol's position after it."""
        state = self.account(account_id)
        state.account = state.account.apply(fill)
        if fill.symbol not in state.symbols:
            state.symbols.add(fill.symbol)
            self._by_symbol.setdefault(fill.symbol, []).append(state)
        return state.account.position(fill.symbol)

    def accounts_of(self, symbol: Symbol) -> tuple[LedgerAccount, ...]:
        """The accounts that trade `symbol`."""
        return tuple(self._by_symbol.get(symbol, ()))

    # -- valuation --------------------------------------------------------------------------

    def equity(self, account_id: str) -> Decimal:
        """Cash plus the open positions at their last close (entry price when none yet)."""
        state = self.account(account_id)
        value = state.account.cash
        for symbol, position in state.account.positions.items():
            if position.quantity:
                mark = self._last_close.get(symbol)
                # Before its first close a position is worth what it cost (exactly: not
                # quantity x the rounded average price).
                value += position.cost_basis if mark is None else position.quantity * mark
        return value

    def quantity(self, account_id: str, symbol: Symbol) -> Decimal:
        """Signed quantity of `symbol` held by the account."""
        return self.account(account_id).account.position(symbol).quantity

    def last_close(self, symbol: Symbol) -> Decimal | None:
        """The last close of `symbol`, None before its first bar closed."""
        return self._last_close.get(symbol)

    def current_open(self, symbol: Symbol) -> Decimal | None:
        """The open of `symbol`'s bar in progress, None between a close and the next open."""
        return self._open.get(symbol)

    def previous_close(self, symbol: Symbol) -> Decimal | None:
        """The close of the previous trading day (the KRX price-limit base)."""
        return self._previous_close.get(symbol)

    def instrument(self, symbol: Symbol) -> Instrument | None:
        """The instrument of `symbol`, when known."""
        return self._instruments.get(symbol)


@dataclass(frozen=True, slots=True)
class AccountBook:
    """One account seen through the `orchestrade.risk.ports.PositionBook` protocol."""

    ledger: Ledger
    state: LedgerAccount

    def quantity(self, symbol: Symbol) -> Decimal:
        return self.state.account.position(symbol).quantity

    def positions(self) -> Mapping[Symbol, Decimal]:
        return {
            symbol: position.quantity
            for symbol, position in self.state.account.positions.items()
            if position.quantity
        }

    def equity(self) -> Decimal:
        return self.ledger.equity(self.state.account_id)

    def day_start_equity(self) -> Decimal:
        return self.state.day_start if self.state.day is not None else self.equity()

    def last_price(self, symbol: Symbol) -> Decimal | None:
        return self.ledger.last_close(symbol)

    def reference_price(self, symbol: Symbol) -> Decimal | None:
        return self.ledger.current_open(symbol)

    def previous_close(self, symbol: Symbol) -> Decimal | None:
        return self.ledger.previous_close(symbol)

    def instrument(self, symbol: Symbol) -> Instrument | None:
        return self.ledger.instrument(symbol)
