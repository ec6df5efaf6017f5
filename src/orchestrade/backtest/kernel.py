"""simulate(): prices and signals in, positions, cash, equity, fills and trades out.

This module checks and packs the inputs for the compiled loop
(`orchestrade.backtest._kernel_loop`) and turns its flat outputs into a `Simulation`.
The execution semantics are stated once, on `simulate`.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Literal

import numpy as np

from orchestrade.backtest import _kernel_loop as loop
from orchestrade.backtest.config import SimulationConfig
from orchestrade.backtest.costs import TICK_FIXED, TICK_KINDS, TICK_NONE, tick_bands
from orchestrade.backtest.errors import ConfigError, InputError
from orchestrade.backtest.ports import PanelLike, SignalsLike
from orchestrade.backtest.records import CAPPED_CHECKS, FILL_DTYPE, REFUSAL_CHECKS, TRADE_DTYPE
from orchestrade.backtest.sizing import realised_volatility

_NS_PER_DAY = 86_400_000_000_000
_BAND_UPPER, _BAND_TICKS = tick_bands()


Record = Literal["full", "equity"]
RECORDS: tuple[str, ...] = ("full", "equity")
"""What `simulate` writes per bar: "full" = equity, cash and position; "equity" = equity
only (cash and position are then rebuilt from the fills when first read)."""


@dataclass(frozen=True, slots=True)
class _Books:
    cash: np.ndarray
    position: np.ndarray


@dataclass(frozen=True, eq=False)
class Simulation:
    """What one kernel run produced.

    Attributes:
        symbols, timestamps: the axes of the inputs.
        mode: "isolated" or "portfolio".
        initial_cash: starting cash per symbol (isolated) or in total (portfolio).
        equity: cash + position x last close after each bar, (n_symbols, n_times) isolated
            or (n_times,) portfolio. Cells where a symbol has no bar carry the previous
            values (the position is marked at its last close).
        fills: FILL_DTYPE records in execution order (`orchestrade.backtest.records`).
        trades: TRADE_DTYPE records in closing order; positions still open at the end come
            last with exit reason END, valued at the symbol's last close (no exit fill).
        refusals: orders not executed, per check (`records.REFUSAL_CHECKS`).
        capped: entries executed with a reduced quantity, per cause.
        config: the configuration of the run.
        cash, position (properties): cash after each bar, shaped like `equity`, and units
            held after each bar, (n_symbols, n_times). Recorded by the kernel with
            `record="full"`; with `record="equity"` rebuilt from the fills on first access
            (the same arithmetic in the same order, so the values are identical).
    """

    symbols: tuple[str, ...]
    timestamps: np.ndarray
    mode: str
    initial_cash: float
    equity: np.ndarray
    fills: np.ndarray
    trades: np.ndarray
    refusals: dict[str, int]
    capped: dict[str, int]
    config: SimulationConfig
    _books: _Books | None = field(default=None, repr=False)

    @property
    def cash(self) -> np.ndarray:
        """Cash after each bar: (n_symbols, n_times) isolated, (n_times,) portfolio."""
        return self._recorded_books().cash

    @property
    def position(self) -> np.ndarray:
        """Units held after each bar, (n_symbols, n_times)."""
        return self._recorded_books().position

    @property
    def final_equity(self) -> np.ndarray:
        """Equity after the last bar: per symbol (isolated) or a 0-d array (portfolio)."""
        if self.equity.shape[-1] == 0:
            return np.full(self.equity.shape[:-1], self.initial_cash)
        return np.asarray(self.equity[..., -1])

    def _recorded_books(self) -> _Books:
        if self._books is None:
            books = _replay_books(
                self.fills, self.mode == "portfolio", self.initial_cash, self.equity.shape,
                len(self.symbols),
            )  # fmt: skip
            object.__setattr__(self, "_books", books)
            return books
        return self._books


def simulate(
    prices: PanelLike,
    signals: SignalsLike,
    config: SimulationConfig | None = None,
    *,
    record: Record = "full",
) -> Simulation:
    """Simulate long-only trading of `signals` on `prices`, all symbols in one compiled loop.

    Decisions. Signals are read at each bar's close (bar t). An exit signal schedules a sale
    of the whole position; when entry and exit fire on the same bar the exit wins. An entry
    signal schedules a buy only when the symbol is flat with no entry in flight (no
    pyramiding). Entries are refused when their confidence (NaN counts as 0) is below
    `min_confidence`, when the account's daily loss limit has tripped, or (fat finger) when
    a limit/stop price deviates from the close by more than `max_price_deviation_pct`.
    A market entry of `fill="next_open"` is refused at the open when that open deviates from
    the last close by more than `max_price_deviation_pct` (the live risk engine checks a
    market order's expected price, the open, the same way); exits are never refused by it.

    Timing. Bars are counted per symbol over the bars it has (NaN cells are skipped, not
    traded). With `fill="next_open"` a market order fills at the open of the symbol's bar
    t + 1 + latency_bars; with `fill="close"` at the close of bar t + latency_bars (bar t
    itself without latency). Limit and stop entries (`entry_limit` / `entry_stop` of the
    signals; limit wins when both are set) work during bar t + 1 + latency_bars in both fill
    modes and expire after that one bar: a limit buy fills when low <= limit, at
    min(open, limit); a stop buy fills when high >= stop, at max(open, stop).

    Order of events in a bar: (1) next_open mode: due signal exits, then due market entries,
    at the open; (2) position stops; (3) due limit/stop entries; (4) the account's equity is
    marked at the close and the daily loss checked; (5) this bar's signals are decided;
    (6) close mode: due exits, then due entries, at the close. In portfolio mode each step
    runs over all symbols before the next; entries due at the same step are processed by
    higher confidence first, then by symbol order (symbols as sorted in the panel), so the
    most confident signal gets the shared cash first.

    Stops (fractions, long positions): stop_loss at entry x (1 - stop_loss), trailing stop
    at highest x (1 - trailing_stop), take_profit at entry x (1 + take_profit). `highest`
    starts at the entry price and takes each bar's high after that bar's stop check, so a
    bar's own high never triggers its trailing stop. They are checked against the bar's
    low/high from the entry bar on for an entry at the open, from the next bar for an entry
    intrabar or at the close. A gap through a stop fills at the open; otherwise a stop sells
    at its level, a take profit at its level. When the stop and the take profit are both
    inside the bar's range the stop is assumed to come first (pessimistic); the higher of
    stop loss and trailing stop applies. Stops are resting orders: latency does not delay
    them.

    Prices and costs. Market and stop fills move against the trader by
    slippage_bps / 1e4 x price + slippage_range x (high - low); limit and take-profit fills
    get no slippage (they are limit orders). Then buy prices are rounded up and sell prices
    down to the symbol's tick grid. A fill outside the daily band (previous close x
    (1 -/+ price_limit), on the grid) does not happen: an entry is dropped, an exit is tried
    again on the next bar (at its open, or its close in close mode), a stop is checked
    again. Commission is max(commission x value, commission_min) per fill; sales also pay
    sell_tax x value. Quantities are multiples of the symbol's lot size (see
    `orchestrade.backtest.sizing`). With `participation` a fill takes at most that share of
    the bar's volume: an entry's excess is dropped, an exit's rest is sold on the next bars.

    Limits at execution: `max_open_positions` (portfolio mode), `max_position_pct` caps
    the quantity at that share of equity, `max_order_notional` refuses a larger order.
    Exits are never refused by risk limits. Cash never goes negative, except when a sale's
    proceeds are smaller than `commission_min` (the fee is still charged).

    Args:
        prices: aligned OHLCV arrays (`PanelLike`, e.g. `orchestrade.data.BarPanel`).
        signals: entries/exits on the same symbols and timestamps (`SignalsLike`: e.g.
            `SignalArrays`, or its lean form `TradingSignals`, whose packed entry
            confidences are read as they are).
        config: the settings; defaults to `SimulationConfig()` (no costs, no limits).
        record: "full" (default) writes equity, cash and position at every bar; "equity"
            writes the equity only, which saves two (n_symbols, n_times) arrays of memory
            and time when only equity curves and trades are needed (sweeps); `cash` and
            `position` are then rebuilt from the fills if they are read.

    Raises:
        InputError: shapes, dtypes, symbols or timestamps of prices and signals disagree
            (or `entry_scores` does not have one value per entry), or a price is zero or
            negative.
        ConfigError: a per-symbol setting has the wrong length, or `record` is unknown.
    """
    if record not in RECORDS:
        raise ConfigError(f"record must be one of {', '.join(RECORDS)}, got {record!r}")
    config = config or SimulationConfig()
    arrays = _price_arrays(prices)
    n_symbols, n_times = arrays[0].shape
    entries, exits, scores, limits, stops = _signal_arrays(prices, signals, (n_symbols, n_times))
    per_symbol = np.count_nonzero(entries, axis=1)
    first_score = np.zeros(n_symbols, dtype=np.int64)
    np.cumsum(per_symbol[:-1], out=first_score[1:])
    symbol_params = _symbol_params(config, n_symbols)
    params = _params(config, limits is not None, stops is not None)
    dummy = np.zeros((1, 1))
    volatility = dummy
    if config.sizing.method == "volatility_target":
        volatility = realised_volatility(
            arrays[3], config.sizing.lookback, config.sizing.bars_per_year
        )
    stamps = np.asarray(prices.timestamps)
    days = stamps.view(np.int64) // _NS_PER_DAY
    portfolio = config.mode == "portfolio"
    n_accounts = 1 if portfolio else n_symbols
    equity = np.empty((n_accounts, n_times))
    books = record == "full"
    cash = np.empty((n_accounts, n_times) if books else (0, 0))
    position = np.empty((n_symbols, n_times) if books else (0, 0))
    basic = _is_basic(config, symbol_params, limits is None and stops is None)
    bands = (None if basic else _BAND_UPPER, _BAND_TICKS)
    n_entries = scores.size
    fill_capacity, trade_capacity = 2 * n_entries + 16, n_entries + 16
    run: Callable[..., None] = loop.run_portfolio if portfolio else loop.run_isolated
    while True:
        state, accounts = _new_state(n_symbols, n_accounts, config.cash)
        fills = np.empty((loop.FILL_FIELDS, fill_capacity))
        trades = np.empty((loop.TRADE_FIELDS, trade_capacity))
        counts = np.zeros(loop.N_COUNTS, dtype=np.int64)
        run(
            *arrays, entries, exits, scores, first_score,
            dummy if limits is None else limits, dummy if stops is None else stops,
            volatility, days, params, symbol_params, *bands,
            state, accounts, cash, position, equity, fills, trades, counts,
        )  # fmt: skip
        if counts[loop.C_ERROR]:
            symbol = prices.symbols[int(counts[loop.C_ERROR_SYMBOL])]
            when = stamps[int(counts[loop.C_ERROR_BAR])]
            raise InputError(f"prices of {symbol} at {when} are not positive")
        n_fills, n_trades = int(counts[loop.C_FILLS]), int(counts[loop.C_TRADES])
        if n_fills <= fill_capacity and n_trades <= trade_capacity:
            break
        fill_capacity, trade_capacity = max(n_fills, fill_capacity), max(n_trades, trade_capacity)
    refusals = counts[loop.C_REFUSALS : loop.C_REFUSALS + loop.N_REFUSALS]
    capped = counts[loop.C_CAPPED : loop.C_CAPPED + loop.N_CAPPED]
    trade_rows = np.concatenate([trades[:, :n_trades], _open_positions(state)], axis=1)
    return Simulation(
        symbols=tuple(prices.symbols),
        timestamps=stamps,
        mode=config.mode,
        initial_cash=config.cash,
        equity=equity[0] if portfolio else equity,
        fills=_records(fills[:, :n_fills], FILL_DTYPE),
        trades=_records(trade_rows, TRADE_DTYPE),
        refusals={name: int(n) for name, n in zip(REFUSAL_CHECKS, refusals, strict=True)},
        capped={name: int(n) for name, n in zip(CAPPED_CHECKS, capped, strict=True)},
        config=config,
        _books=_Books(cash[0] if portfolio else cash, position) if books else None,
    )


def _price_arrays(prices: PanelLike) -> tuple[np.ndarray, ...]:
    stamps = np.asarray(prices.timestamps)
    if stamps.ndim != 1 or stamps.dtype != np.dtype("datetime64[ns]"):
        raise InputError(f"prices.timestamps must be 1-D datetime64[ns], got {stamps.dtype}")
    shape = (len(prices.symbols), stamps.size)
    arrays = []
    for name in ("open", "high", "low", "close", "volume"):
        array = np.asarray(getattr(prices, name))
        if array.shape != shape:
            raise InputError(f"prices.{name} must be shaped {shape}, got {array.shape}")
        if not np.issubdtype(array.dtype, np.number) or np.issubdtype(
            array.dtype, np.complexfloating
        ):
            raise InputError(f"prices.{name} must hold real numbers, got {array.dtype}")
        arrays.append(np.ascontiguousarray(array, dtype=np.float64))
    return tuple(arrays)


def _signal_arrays(
    prices: PanelLike, signals: SignalsLike, shape: tuple[int, int]
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray | None, np.ndarray | None]:
    if tuple(signals.symbols) != tuple(prices.symbols):
        raise InputError(
            f"signals cover symbols {list(signals.symbols)[:5]}..., prices "
            f"{list(prices.symbols)[:5]}...: they must be the same, in the same order"
        )
    stamps = np.asarray(signals.timestamps)
    if stamps.shape != (shape[1],) or not np.array_equal(stamps, np.asarray(prices.timestamps)):
        raise InputError("signals.timestamps must equal prices.timestamps")
    flags = []
    for name in ("entries", "exits"):
        array = np.asarray(getattr(signals, name))
        if array.shape != shape or array.dtype != np.bool_:
            raise InputError(
                f"signals.{name} must be bool shaped {shape}, got {array.dtype} {array.shape}"
            )
        flags.append(np.ascontiguousarray(array))
    limits = signals.entry_limit
    stops = signals.entry_stop
    return (
        flags[0],
        flags[1],
        _entry_scores(signals, flags[0], shape),
        None if limits is None else _float_array("entry_limit", limits, shape),
        None if stops is None else _float_array("entry_stop", stops, shape),
    )


def _entry_scores(signals: SignalsLike, entries: np.ndarray, shape: tuple[int, int]) -> np.ndarray:
    """The confidence of every entry, in the row-major order of `entries`: the signals'
    `entry_scores` when they have them (`orchestrade.strategies.arrays.TradingSignals`),
    else gathered from the dense `entry_confidence`."""
    packed = getattr(signals, "entry_scores", None)
    if packed is None:
        gathered: np.ndarray = _float_array("entry_confidence", signals.entry_confidence, shape)[
            entries
        ]
        return gathered
    scores = np.asarray(packed)
    expected = (int(np.count_nonzero(entries)),)
    if scores.shape != expected or not np.issubdtype(scores.dtype, np.floating):
        raise InputError(
            f"signals.entry_scores must be float shaped {expected} (one per entry), "
            f"got {scores.dtype} {scores.shape}"
        )
    return np.ascontiguousarray(scores, dtype=np.float64)


def _float_array(name: str, values: np.ndarray, shape: tuple[int, int]) -> np.ndarray:
    array = np.asarray(values)
    if array.shape != shape or not np.issubdtype(array.dtype, np.floating):
        raise InputError(
            f"signals.{name} must be float shaped {shape}, got {array.dtype} {array.shape}"
        )
    return np.ascontiguousarray(array, dtype=np.float64)


def _symbol_params(config: SimulationConfig, n_symbols: int) -> np.ndarray:
    table = np.empty((n_symbols, loop.N_SYMBOL_PARAMS))
    kinds = _broadcast("tick_kind", config.tick_kind, n_symbols)
    table[:, loop.SP_TICK_KIND] = [TICK_KINDS[str(kind)] for kind in kinds]
    table[:, loop.SP_TICK_SIZE] = _broadcast("tick_size", config.tick_size, n_symbols)
    table[:, loop.SP_LOT] = _broadcast("lot_size", config.lot_size, n_symbols)
    table[:, loop.SP_PRICE_LIMIT] = _broadcast("price_limit", config.price_limit, n_symbols)
    table[:, loop.SP_SELL_TAX] = _broadcast("sell_tax", config.sell_tax, n_symbols)
    fixed = table[:, loop.SP_TICK_KIND] == TICK_FIXED
    if np.any(fixed & (table[:, loop.SP_TICK_SIZE] <= 0)):
        raise ConfigError("tick_size must be > 0 for every symbol whose tick_kind is 'fixed'")
    return table


def _broadcast(name: str, value: object, n_symbols: int) -> list[Any]:
    if isinstance(value, tuple):
        if len(value) != n_symbols:
            raise ConfigError(f"{name} has {len(value)} values for {n_symbols} symbols")
        return list(value)
    return [value] * n_symbols


def _params(config: SimulationConfig, has_limit: bool, has_stop: bool) -> np.ndarray:
    def optional(value: float | None) -> float:
        return math.nan if value is None else float(value)

    sizing = config.sizing
    params = np.full(loop.N_PARAMS, math.nan)
    params[loop.P_FILL_CLOSE] = config.fill == "close"
    params[loop.P_COMMISSION] = config.commission
    params[loop.P_COMMISSION_MIN] = config.commission_min
    params[loop.P_SLIP_BPS] = config.slippage_bps
    params[loop.P_SLIP_RANGE] = config.slippage_range
    params[loop.P_PARTICIPATION] = config.participation or 0.0
    params[loop.P_LATENCY] = config.latency_bars
    params[loop.P_SIZING] = sizing.code
    params[loop.P_QUANTITY] = optional(sizing.quantity)
    params[loop.P_FRACTION] = optional(sizing.fraction)
    params[loop.P_ANNUAL_VOL] = optional(sizing.annual_vol)
    params[loop.P_STOP_LOSS] = optional(config.stop_loss)
    params[loop.P_TAKE_PROFIT] = optional(config.take_profit)
    params[loop.P_TRAILING] = optional(config.trailing_stop)
    params[loop.P_MAX_POSITION] = optional(config.max_position_pct)
    params[loop.P_MAX_OPEN] = optional(config.max_open_positions)
    params[loop.P_MAX_DAILY_LOSS] = optional(config.max_daily_loss_pct)
    params[loop.P_MAX_DEVIATION] = optional(config.max_price_deviation_pct)
    params[loop.P_MAX_NOTIONAL] = optional(config.max_order_notional)
    params[loop.P_MIN_CONFIDENCE] = config.min_confidence
    params[loop.P_ALLOCATION] = config.position_allocation
    params[loop.P_PORTFOLIO] = config.mode == "portfolio"
    params[loop.P_HAS_LIMIT] = has_limit
    params[loop.P_HAS_STOP] = has_stop
    params[loop.P_USE_VOL] = sizing.method == "volatility_target"
    params[loop.P_CASH] = config.cash
    params[loop.P_HAS_STOPS] = not (
        config.stop_loss is None and config.take_profit is None and config.trailing_stop is None
    )
    return params


def _is_basic(config: SimulationConfig, symbol_params: np.ndarray, market_only: bool) -> bool:
    """Whether the run needs none of the features the kernel's basic specialisation
    leaves out (see `_kernel_loop._bar`)."""
    return (
        market_only
        and config.stop_loss is None
        and config.take_profit is None
        and config.trailing_stop is None
        and config.participation is None
        and bool(np.all(symbol_params[:, loop.SP_TICK_KIND] == TICK_NONE))
        and bool(np.all(symbol_params[:, loop.SP_PRICE_LIMIT] == 0.0))
    )


def _new_state(n_symbols: int, n_accounts: int, cash: float) -> tuple[np.ndarray, np.ndarray]:
    state = np.zeros((n_symbols, loop.N_STATE))
    state[:, loop.S_LAST_CLOSE] = np.nan
    state[:, [loop.S_LAST_BAR, loop.S_PE_REMAIN, loop.S_PX_REMAIN]] = -1.0
    accounts = np.zeros((n_accounts, loop.N_ACCOUNT))
    accounts[:, [loop.A_CASH, loop.A_EQ_LAST, loop.A_DAY_START]] = cash
    accounts[:, loop.A_DAY] = -1.0
    return state, accounts


def _open_positions(state: np.ndarray) -> np.ndarray:
    """Trade columns (the kernel's (TRADE_FIELDS, n) layout) of the positions still open
    after the last bar, valued at each symbol's last close, in symbol order."""
    held = np.flatnonzero(state[:, loop.S_POS] > 0.0)
    rows = state[held]
    exit_value = rows[:, loop.S_EXIT_VALUE] + rows[:, loop.S_POS] * rows[:, loop.S_LAST_CLOSE]
    exit_quantity = rows[:, loop.S_EXIT_QTY] + rows[:, loop.S_POS]
    trades = np.empty((loop.TRADE_FIELDS, held.size))
    trades[0] = held
    trades[1] = rows[:, loop.S_ENTRY_BAR]
    trades[2] = rows[:, loop.S_ENTRY_PRICE]
    trades[3] = rows[:, loop.S_LAST_BAR]
    # Nothing sold before the end: the last close itself (value / quantity can be one float
    # step away from it).
    trades[4] = np.where(
        rows[:, loop.S_EXIT_QTY] == 0.0, rows[:, loop.S_LAST_CLOSE], exit_value / exit_quantity
    )
    trades[5] = rows[:, loop.S_ENTRY_QTY]
    trades[6] = exit_value - rows[:, loop.S_ENTRY_VALUE] - rows[:, loop.S_COSTS]
    trades[7] = rows[:, loop.S_COSTS]
    trades[8] = loop.X_END
    return trades


def _records(columns: np.ndarray, dtype: np.dtype[Any]) -> np.ndarray:
    records = np.empty(columns.shape[1], dtype=dtype)
    for column, name in zip(columns, dtype.names or (), strict=True):
        records[name] = column
    return records


def _replay_books(
    fills: np.ndarray,
    portfolio: bool,
    initial_cash: float,
    account_shape: tuple[int, ...],
    n_symbols: int,
) -> _Books:
    """Cash and position after each bar, rebuilt from the fills.

    Replays the kernel's bookkeeping fill by fill, in execution order and with the same
    floating-point operations (a buy: cash -= value + fee, position = quantity; a sale:
    cash += value - fee - tax, position -= quantity, clamped at 0), then carries each
    value forward to the following bars.
    """
    n_times = account_shape[-1]
    symbols = fills["symbol"]
    n = symbols.size
    held = np.empty(n)
    balance = np.empty(n)
    positions = [0.0] * n_symbols
    cashes = [initial_cash] * (1 if portfolio else n_symbols)
    columns = zip(
        symbols.tolist(), fills["side"].tolist(), fills["quantity"].tolist(),
        fills["price"].tolist(), fills["fee"].tolist(), fills["tax"].tolist(), strict=True,
    )  # fmt: skip
    for i, (s, side, quantity, price, fee, tax) in enumerate(columns):
        a = 0 if portfolio else s
        value = quantity * price
        if side > 0:
            cashes[a] -= value + fee
            positions[s] = quantity
        else:
            cashes[a] += value - fee - tax
            positions[s] -= quantity
            if positions[s] <= 0.0:
                positions[s] = 0.0
        held[i] = positions[s]
        balance[i] = cashes[a]
    held = np.append(held, 0.0)  # index -1: before the first fill
    balance = np.append(balance, initial_cash)
    last = _last_fill_index(symbols, fills["bar"], n_symbols, n_times)
    position = held[last]
    if portfolio:
        return _Books(
            balance[np.searchsorted(fills["bar"], np.arange(n_times), "right") - 1], position
        )
    return _Books(balance[last], position)


def _last_fill_index(
    symbols: np.ndarray, bars: np.ndarray, n_symbols: int, n_times: int
) -> np.ndarray:
    """(n_symbols, n_times): index of the symbol's last fill at or before each bar, -1 if
    none. Fills are in execution order, which is chronological for every symbol."""
    last = np.full((n_symbols, n_times), -1, dtype=np.int64)
    np.maximum.at(last, (symbols, bars), np.arange(symbols.size))
    return np.maximum.accumulate(last, axis=1)
