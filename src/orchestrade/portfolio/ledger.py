"""The trading ledger: cash, positions, marks and the trading day of every account.

One `Ledger` holds the accounts of a trading node. An account is a bot's whole capital
(`portfolio` mode) or one symbol's share of it (`isolated` mode, like the backtest, where each
symbol trades its own cash). Each agent that decides (orchestrator, risk) keeps a `Ledger` fed
by the same events (fills, bar opens and closes), so they agree without calling each other.

Valuation follows the backtest kernel so that both paths decide alike: equity is cash plus
positions at the last *close*; the open of the current bar is only the reference price a
market order is expected to fill near; the day's starting equity is the equity at the last
close before the first bar of a new UTC day.

Every agent keeps a ledger and feeds it every bar of a replay, so the ledger is built for
that: each account keeps its equity until a fill or a close of a symbol it holds moves it
(a flat account's equity is its cash), what the ledger knows of a symbol is found once per
bar (`_Market`), the slice events take the bars of one time slice at once
(`on_bars_opened`, `on_bars_closed`, `equities_after`), and the ledgers of one process
share the positions they book from the same fill (`_Bookings`).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from types import MappingProxyType

from orchestrade.domain import Account, Bar, BotId, Fill, Instrument, Position, Symbol
from orchestrade.portfolio.errors import LedgerError

ZERO = Decimal(0)


class LedgerAccount:
    """The mutable state of one account: cash and positions (with P&L), and its trading day.

    `account` is that state as an `Account` value. The ledger books fills into the cash and
    the positions directly (`Position.apply`, the domain's accounting) and builds the
    `Account` only when it is read: a fill costs one position, not a whole account.
    """

    __slots__ = (
        "_account",
        "_cash",
        "_currency",
        "_equity",
        "_held",
        "_ledger",
        "_positions",
        "account_id",
        "day",
        "day_start",
        "symbols",
    )

    account_id: str
    day: date | None
    day_start: Decimal
    symbols: set[Symbol]
    _account: Account | None
    _currency: str
    _cash: Decimal
    _positions: dict[Symbol, Position]
    _held: set[Symbol]
    """The symbols of the positions that are not flat (the closes that move the equity)."""
    _equity: Decimal | None
    """The equity at the current marks, None until computed again (`Ledger.equity_of`)."""
    _ledger: Ledger | None
    """The ledger whose `changes` count this account's changes."""

    def __init__(
        self,
        account_id: str,
        account: Account,
        day: date | None = None,
        day_start: Decimal = ZERO,
        symbols: set[Symbol] | None = None,
    ) -> None:
        self.account_id = account_id
        self.day = day
        self.day_start = day_start
        self.symbols = set() if symbols is None else symbols
        self._ledger = None
        self.account = account

    __hash__ = None  # type: ignore[assignment]  # mutable: compared by value, never hashed

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, LedgerAccount):
            return NotImplemented
        return self._fields() == other._fields()

    def __repr__(self) -> str:
        account_id, account, day, day_start, symbols = self._fields()
        return (
            f"LedgerAccount(account_id={account_id!r}, account={account!r}, day={day!r}, "
            f"day_start={day_start!r}, symbols={symbols!r})"
        )

    def _fields(self) -> tuple[str, Account, date | None, Decimal, set[Symbol]]:
        return self.account_id, self.account, self.day, self.day_start, self.symbols

    @property
    def account(self) -> Account:
        """Cash and positions as an `Account` (built once per change, when read)."""
        account = self._account
        if account is None:
            account = self._account = Account(self._currency, self._cash, self._positions)
        return account

    @account.setter
    def account(self, account: Account) -> None:
        self._account = account
        self._currency = account.currency
        self._cash = account.cash
        self._positions = dict(account.positions)
        self._held = {symbol for symbol, p in self._positions.items() if p.quantity}
        self._equity = None
        if self._ledger is not None:
            self._ledger._changes += 1

    @property
    def cash(self) -> Decimal:
        """Cash, fees and taxes paid."""
        return self._cash

    @property
    def positions(self) -> Mapping[Symbol, Position]:
        """Every position by symbol, flat ones included (they keep the realized P&L)."""
        return MappingProxyType(self._positions)

    def position(self, symbol: Symbol) -> Position:
        """The position in `symbol` (flat when never traded)."""
        position = self._positions.get(symbol)
        return _BOOKINGS.flat(symbol) if position is None else position

    def _apply(self, fill: Fill) -> Position:
        """Book `fill` as `Account.apply` does: its net cash flow into cash, the position
        updated by `Position.apply`."""
        symbol = fill.symbol
        position, flow = _BOOKINGS.apply(self.position(symbol), fill)
        self._positions[symbol] = position
        self._cash = self._cash + flow
        if position.quantity:
            self._held.add(symbol)
        else:
            self._held.discard(symbol)
        self._account = None
        self._equity = None
        if self._ledger is not None:
            self._ledger._changes += 1
        return position


class _Bookings:
    """The positions that recent fills made, kept for the other ledgers of the process.

    Each agent of a node keeps its own ledger, fed by the same `OrderFilled` events: on the
    in-process bus, the same `Fill` object, booked into equal positions. `Position.apply`
    (with the checks of the new `Position`) is most of the cost of a fill, so the first
    ledger to book a fill computes the position and the others take that same (immutable)
    object. Entries are keyed by the identity of the position and the fill, which the entry
    holds (an id cannot be reused while its object lives), so a ledger gets a kept result
    only for the very objects it was computed from: what it would compute itself. Flat
    positions are shared from the start (`flat`), so that equal books stay the same objects.
    """

    __slots__ = ("_entries", "_flat", "_size")

    def __init__(self, size: int) -> None:
        self._size = size
        self._entries: dict[tuple[int, int], tuple[Position, Fill, Position, Decimal]] = {}
        self._flat: dict[Symbol, Position] = {}

    def flat(self, symbol: Symbol) -> Position:
        """The flat position in `symbol` (one object per symbol)."""
        position = self._flat.get(symbol)
        if position is None:
            position = Position(symbol)
            if len(self._flat) < self._size:
                self._flat[symbol] = position
        return position

    def apply(self, position: Position, fill: Fill) -> tuple[Position, Decimal]:
        """`position.apply(fill)` and `fill.net_cash_flow`."""
        key = (id(position), id(fill))
        entry = self._entries.get(key)
        if entry is not None and entry[0] is position and entry[1] is fill:
            return entry[2], entry[3]
        after, flow = position.apply(fill), fill.net_cash_flow
        entries = self._entries
        if len(entries) >= self._size:
            # The other ledgers take a result right after it was made: forgetting them all
            # now and then costs nothing, and a clear cannot race with another thread.
            entries.clear()
        entries[key] = (position, fill, after, flow)
        return after, flow


_BOOKINGS = _Bookings(1024)


class _Market:
    """What the ledger knows of one symbol: its marks, its trading day, its accounts."""

    __slots__ = ("accounts", "close", "day", "open", "previous_close")

    def __init__(self) -> None:
        self.close: Decimal | None = None
        self.previous_close: Decimal | None = None
        self.open: Decimal | None = None
        self.day: date | None = None
        self.accounts: list[LedgerAccount] = []


class Ledger:
    """Accounts keyed by id, with the market's last closes, current opens and previous closes.

    Args:
        mode: "isolated" (one account per bot and symbol) or "portfolio" (one per bot).
        instruments: the instrument of each traded symbol (risk checks read them).
        currency: the accounts' currency.
        track_days: keep each account's starting equity of the day (the daily-loss base);
            only the risk checks read it, and it costs an equity valuation per account and
            bar (a flat account's is its cash, kept from close to close).
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
        self._markets: dict[Symbol, _Market] = {}
        self._books: dict[str, AccountBook] = {}
        self._track_days = track_days
        self._changes = 0

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
        state._ledger = self
        self._accounts[account_id] = state
        for symbol in state.symbols:
            self._market(symbol).accounts.append(state)

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

    @property
    def changes(self) -> int:
        """How many times the cash and positions of an account changed (fills booked,
        accounts set by hand): a reader that keeps sums of them knows when to read again."""
        return self._changes

    def book(self, account_id: str) -> AccountBook:
        """A read-only view of one account, in the shape risk checks read (a live view:
        the same one for every call)."""
        book = self._books.get(account_id)
        if book is None:
            book = self._books[account_id] = AccountBook(self, self.account(account_id))
        return book

    # -- events -----------------------------------------------------------------------------

    def on_open(self, bar: Bar) -> None:
        """`bar` opened: roll the day of the accounts trading its symbol, note its open."""
        self.on_bars_opened((bar,))

    def on_bars_opened(self, bars: Iterable[Bar]) -> None:
        """`on_open` for each of `bars` (the bars of one time slice), in order."""
        markets, track_days = self._markets, self._track_days
        start: datetime | None = None
        day = date.min
        for bar in bars:
            if bar.start is not start:
                start = bar.start
                day = start.date()
            market = markets.get(bar.symbol)
            if market is None:
                market = self._market(bar.symbol)
            if market.day != day:
                market.day = day
                if market.close is not None:
                    market.previous_close = market.close
            if track_days:
                for state in market.accounts:
                    if state.day != day:
                        state.day = day
                        equity = state._equity
                        state.day_start = self.equity_of(state) if equity is None else equity
            market.open = bar.open

    def on_close(self, bar: Bar) -> None:
        """`bar` closed: its close becomes the mark of its symbol."""
        self._close((bar,), None)

    def on_bars_closed(self, bars: Iterable[Bar]) -> None:
        """`on_close` for each of `bars` (the bars of one time slice), in order."""
        self._close(bars, None)

    def equities_after(self, bars: Iterable[Bar]) -> dict[str, Decimal]:
        """`on_bars_closed(bars)`, then the equity of each account that trades one of their
        symbols, by account id, in the order the bars reach the accounts (what a portfolio
        records after every close)."""
        touched: dict[str, LedgerAccount] = {}
        self._close(bars, touched)
        equities: dict[str, Decimal] = {}
        for account_id, state in touched.items():
            equity = state._equity
            equities[account_id] = self.equity_of(state) if equity is None else equity
        return equities

    def _close(self, bars: Iterable[Bar], touched: dict[str, LedgerAccount] | None) -> None:
        """Mark each bar's symbol at its close; the accounts that hold only that symbol are
        valued at once (`equity_of`: read at the next open or close anyway, and cheap), the
        others that hold it when next asked. `touched` collects the accounts trading the
        symbols."""
        markets = self._markets
        for bar in bars:
            symbol = bar.symbol
            market = markets.get(symbol)
            if market is None:
                market = self._market(symbol)
            market.close = close = bar.close
            market.open = None
            for state in market.accounts:
                held = state._held
                if symbol in held:
                    state._equity = (
                        state._cash + state._positions[symbol].quantity * close
                        if len(held) == 1
                        else None
                    )
                if touched is not None:
                    touched[state.account_id] = state

    def apply_fill(self, account_id: str, fill: Fill) -> Position:
        """Book `fill` in `account_id`; returns the symbol's position after it."""
        state = self.account(account_id)
        position = state._apply(fill)
        if fill.symbol not in state.symbols:
            state.symbols.add(fill.symbol)
            self._market(fill.symbol).accounts.append(state)
        return position

    def accounts_of(self, symbol: Symbol) -> tuple[LedgerAccount, ...]:
        """The accounts that trade `symbol`."""
        market = self._markets.get(symbol)
        return () if market is None else tuple(market.accounts)

    def _market(self, symbol: Symbol) -> _Market:
        market = self._markets.get(symbol)
        if market is None:
            market = self._markets[symbol] = _Market()
        return market

    # -- valuation --------------------------------------------------------------------------

    def equity(self, account_id: str) -> Decimal:
        """Cash plus the open positions at their last close (entry price when none yet)."""
        return self.equity_of(self.account(account_id))

    def equity_of(self, state: LedgerAccount) -> Decimal:
        """`equity` of an account of this ledger, given its state rather than its id.

        The value is kept until a fill in the account or a close of a symbol it holds moves
        it: a flat account's equity is its cash, which no close changes."""
        value = state._equity
        if value is not None:
            return value
        value = state._cash
        held = state._held
        if held:
            # The open positions in the order of the account's positions (the order of the
            # sum); the one open position directly when there is one (an isolated account).
            positions = state._positions
            markets = self._markets
            for position in [positions[next(iter(held))]] if len(held) == 1 else positions.values():
                if position.quantity:
                    market = markets.get(position.symbol)
                    mark = None if market is None else market.close
                    # Before its first close a position is worth what it cost (exactly: not
                    # quantity x the rounded average price).
                    value += position.cost_basis if mark is None else position.quantity * mark
            # A position in a symbol the account does not trade (an `account` set by hand)
            # is not re-marked by the closes: never keep its value.
            if not held <= state.symbols:
                return value
        state._equity = value
        return value

    def quantity(self, account_id: str, symbol: Symbol) -> Decimal:
        """Signed quantity of `symbol` held by the account."""
        position = self.account(account_id)._positions.get(symbol)
        return ZERO if position is None else position.quantity

    def last_close(self, symbol: Symbol) -> Decimal | None:
        """The last close of `symbol`, None before its first bar closed."""
        market = self._markets.get(symbol)
        return None if market is None else market.close

    def current_open(self, symbol: Symbol) -> Decimal | None:
        """The open of `symbol`'s bar in progress, None between a close and the next open."""
        market = self._markets.get(symbol)
        return None if market is None else market.open

    def previous_close(self, symbol: Symbol) -> Decimal | None:
        """The close of the previous trading day (the KRX price-limit base)."""
        market = self._markets.get(symbol)
        return None if market is None else market.previous_close

    def instrument(self, symbol: Symbol) -> Instrument | None:
        """The instrument of `symbol`, when known."""
        return self._instruments.get(symbol)


@dataclass(frozen=True, slots=True)
class AccountBook:
    """One account seen through the `orchestrade.risk.ports.PositionBook` protocol."""

    ledger: Ledger
    state: LedgerAccount

    def quantity(self, symbol: Symbol) -> Decimal:
        position = self.state._positions.get(symbol)
        return ZERO if position is None else position.quantity

    def positions(self) -> Mapping[Symbol, Decimal]:
        return {
            symbol: position.quantity
            for symbol, position in self.state._positions.items()
            if position.quantity
        }

    def equity(self) -> Decimal:
        return self.ledger.equity_of(self.state)

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
