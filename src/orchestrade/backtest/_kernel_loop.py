"""The compiled simulation loop: every symbol and bar in one numba function, no Python objects.

`orchestrade.backtest.kernel` packs the configuration into the flat arrays described by
the index constants below and unpacks the results; the execution semantics are documented
on `orchestrade.backtest.kernel.simulate`.

Two drivers share one per-symbol function, `_bar`, which runs a range of the steps of a
bar (`STEP_*`) on local scalars and stores the state back. Isolated mode walks symbol by
symbol (contiguous memory; no interaction between symbols) and runs all steps of a bar
at once; portfolio mode walks time by time and runs each step over all symbols before the
next, because the cash is shared. Both skip `_bar` on bars where nothing can happen (flat
or without stops, no order pending, no signal), which is most bars.

Compile time matters (a cold first call must stay within seconds): numba's cost grows
with the number of array-indexing expressions and call sites, so every order goes through
one execution block and the state lives in local scalars inside `_bar`.
"""

from __future__ import annotations

import numba
import numpy as np

from orchestrade.backtest.costs import round_to_tick
from orchestrade.backtest.sizing import entry_quantity

# Per-symbol state columns (st[symbol, column]).
S_POS = 0
S_ENTRY_PRICE = 1
S_ENTRY_BAR = 2
S_ENTRY_QTY = 3
S_ENTRY_VALUE = 4
S_EXIT_VALUE = 5
S_EXIT_QTY = 6
S_COSTS = 7
S_HIGHEST = 8
S_STOPS_FROM = 9
S_LAST_CLOSE = 10
S_LAST_BAR = 11
S_PE_REMAIN = 12  # bars until the pending entry executes; -1 = none
S_PE_KIND = 13
S_PE_PRICE = 14
S_PE_CONF = 15
S_PE_VOL = 16
S_PX_REMAIN = 17  # bars until the pending signal exit executes; -1 = none
N_STATE = 18

# Account state columns (acc[account, column]); one account per symbol in isolated mode.
A_CASH = 0
A_EQ_LAST = 1
A_DAY = 2
A_DAY_START = 3
A_HALTED = 4
A_OPEN = 5
N_ACCOUNT = 6

# Scalar parameters (params[index]); NaN switches an optional limit off.
P_FILL_CLOSE = 0
P_COMMISSION = 1
P_COMMISSION_MIN = 2
P_SLIP_BPS = 3
P_SLIP_RANGE = 4
P_PARTICIPATION = 5  # 0 = no cap
P_LATENCY = 6
P_SIZING = 7
P_QUANTITY = 8
P_FRACTION = 9
P_ANNUAL_VOL = 10
P_STOP_LOSS = 11
P_TAKE_PROFIT = 12
P_TRAILING = 13
P_MAX_POSITION = 14
P_MAX_OPEN = 15
P_MAX_DAILY_LOSS = 16
P_MAX_DEVIATION = 17
P_MAX_NOTIONAL = 18
P_MIN_CONFIDENCE = 19
P_ALLOCATION = 20
P_PORTFOLIO = 21
P_HAS_LIMIT = 22
P_HAS_STOP = 23
P_USE_VOL = 24
P_CASH = 25
N_PARAMS = 26

# Per-symbol parameters (sp[symbol, column]).
SP_TICK_KIND = 0
SP_TICK_SIZE = 1
SP_LOT = 2
SP_PRICE_LIMIT = 3
SP_SELL_TAX = 4
N_SYMBOL_PARAMS = 5

# counts[index]: record counters, the error report, then refusals and caps.
C_FILLS = 0
C_TRADES = 1
C_ERROR = 2  # 1 = a non-positive price
C_ERROR_SYMBOL = 3
C_ERROR_BAR = 4
C_REFUSALS = 5
R_MIN_CONFIDENCE = 0
R_DAILY_LOSS = 1
R_PRICE_DEVIATION = 2
R_MAX_OPEN = 3
R_MAX_POSITION = 4
R_MAX_NOTIONAL = 5
R_CASH = 6
R_PARTICIPATION = 7
R_PRICE_LIMIT = 8
R_VOLATILITY = 9
R_NOT_TRIGGERED = 10
N_REFUSALS = 11
C_CAPPED = C_REFUSALS + N_REFUSALS
K_MAX_POSITION = 0
K_PARTICIPATION = 1
N_CAPPED = 2
N_COUNTS = C_CAPPED + N_CAPPED

# Order kinds of a pending entry, and fill / exit reason codes (records.FillReason,
# records.ExitReason).
KIND_MARKET = 0
KIND_LIMIT = 1
KIND_STOP = 2
F_ENTRY_MARKET = 0
F_ENTRY_LIMIT = 1
F_ENTRY_STOP = 2
F_EXIT_SIGNAL = 3
F_STOP_LOSS = 4
F_TAKE_PROFIT = 5
F_TRAILING = 6
X_SIGNAL = 0
X_STOP_LOSS = 1
X_TAKE_PROFIT = 2
X_TRAILING = 3
X_END = 4

FILL_FIELDS = 8  # symbol, bar, side, quantity, price, fee, tax, reason
TRADE_FIELDS = 9  # symbol, entry bar, entry price, exit bar, exit price, qty, pnl, costs, reason

# Steps of a bar, in execution order.
STEP_BEGIN = 0  # count pending orders down
STEP_OPEN_EXIT = 1  # next_open: a due signal exit sells at the open
STEP_OPEN_ENTRY = 2  # next_open: a due market entry buys at the open
STEP_STOPS = 3  # stop loss / trailing stop / take profit against the bar's range
STEP_RESTING = 4  # a due limit/stop entry works during the bar
STEP_DECIDE = 5  # the bar's signals become pending orders
STEP_CLOSE_EXIT = 6  # close: a due signal exit sells at the close
STEP_CLOSE_ENTRY = 7  # close: a due market entry buys at the close

_BAND_TOLERANCE = 1e-12


@numba.njit(cache=True)
def run_isolated(
    opens: np.ndarray,
    highs: np.ndarray,
    lows: np.ndarray,
    closes: np.ndarray,
    volumes: np.ndarray,
    entries: np.ndarray,
    exits: np.ndarray,
    confidence: np.ndarray,
    limits: np.ndarray,
    stops: np.ndarray,
    volatility: np.ndarray,
    days: np.ndarray,
    params: tuple[float, ...],
    sp: np.ndarray,
    up: np.ndarray,
    tk: np.ndarray,
    cash_out: np.ndarray,
    position_out: np.ndarray,
    equity_out: np.ndarray,
    fills: np.ndarray,
    trades: np.ndarray,
    counts: np.ndarray,
) -> None:
    """Isolated accounts: symbol by symbol, each symbol with its own cash.

    Outputs go to `cash_out`/`position_out`/`equity_out` (n_symbols, n_times), `fills`,
    `trades` and `counts`; records beyond the capacity of `fills`/`trades` are counted but
    not written, so the caller can run again with enough room.
    """
    n_symbols, n_times = opens.shape
    st, acc = _new_state(n_symbols, n_symbols, params[P_CASH])
    has_stops = _has_stops(params)
    track_days = not np.isnan(params[P_MAX_DAILY_LOSS])
    for s in range(n_symbols):
        o_row, h_row, lo_row, c_row = opens[s], highs[s], lows[s], closes[s]
        entry_row, exit_row = entries[s], exits[s]
        cash_row, position_row, equity_row = cash_out[s], position_out[s], equity_out[s]
        cash = params[P_CASH]
        position = 0.0
        equity = cash
        busy = False
        last_close = np.nan
        last_bar = -1
        for t in range(n_times):
            o = o_row[t]
            h = h_row[t]
            lo = lo_row[t]
            c = c_row[t]
            if not (o > 0.0 and h > 0.0 and lo > 0.0 and c > 0.0):
                if o <= 0.0 or h <= 0.0 or lo <= 0.0 or c <= 0.0:
                    counts[C_ERROR] = 1
                    counts[C_ERROR_SYMBOL] = s
                    counts[C_ERROR_BAR] = t
                    return
                cash_row[t] = cash
                position_row[t] = position
                equity_row[t] = equity
                continue
            if track_days and acc[s, A_DAY] != days[t]:
                acc[s, A_DAY] = days[t]
                acc[s, A_DAY_START] = equity
                acc[s, A_HALTED] = 0.0
            if entry_row[t] or exit_row[t] or busy or (has_stops and position > 0.0):
                acc[s, A_EQ_LAST] = equity
                st[s, S_LAST_CLOSE] = last_close
                _bar(
                    s, s, t, STEP_BEGIN, STEP_CLOSE_ENTRY, o, h, lo, c, volumes[s, t], entries,
                    exits, confidence, limits, stops, volatility, params, sp, up, tk, st, acc,
                    fills, trades, counts,
                )  # fmt: skip
                cash = acc[s, A_CASH]
                position = st[s, S_POS]
                busy = st[s, S_PE_REMAIN] >= 0.0 or st[s, S_PX_REMAIN] >= 0.0
            last_close = c
            last_bar = t
            equity = cash + position * c
            cash_row[t] = cash
            position_row[t] = position
            equity_row[t] = equity
        st[s, S_LAST_CLOSE] = last_close
        st[s, S_LAST_BAR] = last_bar
        acc[s, A_EQ_LAST] = equity
    _close_books(st, trades, counts)


@numba.njit(cache=True)
def run_portfolio(
    opens: np.ndarray,
    highs: np.ndarray,
    lows: np.ndarray,
    closes: np.ndarray,
    volumes: np.ndarray,
    entries: np.ndarray,
    exits: np.ndarray,
    confidence: np.ndarray,
    limits: np.ndarray,
    stops: np.ndarray,
    volatility: np.ndarray,
    days: np.ndarray,
    params: tuple[float, ...],
    sp: np.ndarray,
    up: np.ndarray,
    tk: np.ndarray,
    cash_out: np.ndarray,
    position_out: np.ndarray,
    equity_out: np.ndarray,
    fills: np.ndarray,
    trades: np.ndarray,
    counts: np.ndarray,
) -> None:
    """One shared account: bar by bar, each step of a bar over all symbols.

    Like `run_isolated` except that `cash_out` and `equity_out` are shaped (1, n_times).
    Entries due at the same step are queued by confidence (high first), then symbol index.
    """
    n_symbols, n_times = opens.shape
    st, acc = _new_state(n_symbols, 1, params[P_CASH])
    has_stops = _has_stops(params)
    fill_close = params[P_FILL_CLOSE] > 0.0
    active = np.zeros(n_symbols, dtype=np.bool_)
    valid = np.zeros(n_symbols, dtype=np.bool_)
    queue = np.empty(n_symbols, dtype=np.int64)
    for t in range(n_times):
        if acc[0, A_DAY] != days[t]:
            acc[0, A_DAY] = days[t]
            acc[0, A_DAY_START] = acc[0, A_EQ_LAST]
            acc[0, A_HALTED] = 0.0
        for s in range(n_symbols):
            o = opens[s, t]
            h = highs[s, t]
            lo = lows[s, t]
            c = closes[s, t]
            valid[s] = o > 0.0 and h > 0.0 and lo > 0.0 and c > 0.0
            if not valid[s] and (o <= 0.0 or h <= 0.0 or lo <= 0.0 or c <= 0.0):
                counts[C_ERROR] = 1
                counts[C_ERROR_SYMBOL] = s
                counts[C_ERROR_BAR] = t
                return
            active[s] = valid[s] and (
                entries[s, t]
                or exits[s, t]
                or st[s, S_PE_REMAIN] >= 0.0
                or st[s, S_PX_REMAIN] >= 0.0
                or (has_stops and st[s, S_POS] > 0.0)
            )
        for step in range(STEP_BEGIN, STEP_CLOSE_ENTRY + 1):
            if step in (STEP_OPEN_ENTRY, STEP_RESTING, STEP_CLOSE_ENTRY):
                if (step == STEP_OPEN_ENTRY and fill_close) or (
                    step == STEP_CLOSE_ENTRY and not fill_close
                ):
                    continue
                n = _queue_entries(active, st, step != STEP_RESTING, queue)
            else:
                n = 0
                for s in range(n_symbols):
                    if active[s]:
                        queue[n] = s
                        n += 1
            if step == STEP_DECIDE:
                equity = acc[0, A_CASH]
                for s in range(n_symbols):
                    if st[s, S_POS] != 0.0:
                        mark = closes[s, t] if valid[s] else st[s, S_LAST_CLOSE]
                        equity += st[s, S_POS] * mark
                _check_daily_loss(0, equity, acc, params)
            for i in range(n):
                s = queue[i]
                _bar(
                    s, 0, t, step, step, opens[s, t], highs[s, t], lows[s, t], closes[s, t],
                    volumes[s, t], entries, exits, confidence, limits, stops, volatility,
                    params, sp, up, tk, st, acc, fills, trades, counts,
                )  # fmt: skip
        equity = acc[0, A_CASH]
        for s in range(n_symbols):
            if valid[s]:
                st[s, S_LAST_CLOSE] = closes[s, t]
                st[s, S_LAST_BAR] = t
            if st[s, S_POS] != 0.0:
                equity += st[s, S_POS] * st[s, S_LAST_CLOSE]
            position_out[s, t] = st[s, S_POS]
        acc[0, A_EQ_LAST] = equity
        cash_out[0, t] = acc[0, A_CASH]
        equity_out[0, t] = equity
    _close_books(st, trades, counts)


@numba.njit(cache=True)
def _bar(
    s: int,
    a: int,
    t: int,
    first: int,
    last: int,
    o: float,
    h: float,
    lo: float,
    c: float,
    v: float,
    entries: np.ndarray,
    exits: np.ndarray,
    confidence: np.ndarray,
    limits: np.ndarray,
    stops: np.ndarray,
    volatility: np.ndarray,
    params: tuple[float, ...],
    sp: np.ndarray,
    up: np.ndarray,
    tk: np.ndarray,
    st: np.ndarray,
    acc: np.ndarray,
    fills: np.ndarray,
    trades: np.ndarray,
    counts: np.ndarray,
) -> None:
    """Run steps `first`..`last` of bar t for symbol s (account a)."""
    symbol = sp[s]
    row = st[s]
    account = acc[a]
    pos = row[S_POS]
    pe_remain = row[S_PE_REMAIN]
    px_remain = row[S_PX_REMAIN]
    highest = row[S_HIGHEST]
    cash = account[A_CASH]
    fill_close = params[P_FILL_CLOSE] > 0.0
    tick_kind = int(symbol[SP_TICK_KIND])
    tick_size = symbol[SP_TICK_SIZE]
    lot = symbol[SP_LOT]
    for step in range(first, last + 1):
        action = 0  # +1 buy, -1 sell
        raw = 0.0
        slip = True
        reason = 0
        exit_reason = X_SIGNAL
        stops_from = t
        if step == STEP_BEGIN:
            if pe_remain > 0.0:
                pe_remain -= 1.0
            if px_remain > 0.0:
                px_remain -= 1.0
        elif step in (STEP_OPEN_EXIT, STEP_CLOSE_EXIT):
            if (step == STEP_CLOSE_EXIT) == fill_close and px_remain == 0.0:
                if pos > 0.0:
                    action = -1
                    raw = c if fill_close else o
                    reason = F_EXIT_SIGNAL
                else:
                    px_remain = -1.0
        elif step in (STEP_OPEN_ENTRY, STEP_CLOSE_ENTRY):
            due = pe_remain == 0.0 and row[S_PE_KIND] == KIND_MARKET
            if (step == STEP_CLOSE_ENTRY) == fill_close and due:
                pe_remain = -1.0
                if pos <= 0.0:
                    action = 1
                    raw = c if fill_close else o
                    reason = F_ENTRY_MARKET
                    stops_from = t + 1 if fill_close else t
        elif step == STEP_STOPS:
            if pos > 0.0 and t >= row[S_STOPS_FROM]:
                entry = row[S_ENTRY_PRICE]
                stop_loss = params[P_STOP_LOSS]
                trailing = params[P_TRAILING]
                take_profit = params[P_TAKE_PROFIT]
                stop_level = entry * (1.0 - stop_loss) if stop_loss == stop_loss else -np.inf
                stop_reason = F_STOP_LOSS
                if trailing == trailing and highest * (1.0 - trailing) > stop_level:
                    stop_level = highest * (1.0 - trailing)
                    stop_reason = F_TRAILING
                target = np.inf
                if take_profit == take_profit:
                    target = round_to_tick(
                        entry * (1.0 + take_profit), True, tick_kind, tick_size, up, tk
                    )
                if o <= stop_level or (lo <= stop_level and o < target):
                    action = -1
                    raw = min(o, stop_level)
                    reason = stop_reason
                elif o >= target or h >= target:
                    action = -1
                    raw = max(round_to_tick(o, False, tick_kind, tick_size, up, tk), target)
                    raw = target if o < target else raw
                    slip = False
                    reason = F_TAKE_PROFIT
                exit_reason = reason - F_EXIT_SIGNAL
        elif step == STEP_RESTING:
            if pe_remain == 0.0 and row[S_PE_KIND] != KIND_MARKET:
                pe_remain = -1.0
                if pos <= 0.0:
                    is_limit = row[S_PE_KIND] == KIND_LIMIT
                    level = round_to_tick(
                        row[S_PE_PRICE], not is_limit, tick_kind, tick_size, up, tk
                    )
                    if is_limit and lo <= level:
                        action = 1
                        raw = min(round_to_tick(o, True, tick_kind, tick_size, up, tk), level)
                        slip = False
                        reason = F_ENTRY_LIMIT
                    elif not is_limit and h >= level:
                        action = 1
                        raw = max(o, level)
                        reason = F_ENTRY_STOP
                    else:
                        counts[C_REFUSALS + R_NOT_TRIGGERED] += 1
                    stops_from = t + 1
        elif step == STEP_DECIDE:
            if params[P_PORTFOLIO] == 0.0:
                _check_daily_loss(a, cash + pos * c, acc, params)
            if exits[s, t]:
                if px_remain < 0.0 and (pos > 0.0 or pe_remain >= 0.0):
                    px_remain = params[P_LATENCY] + (0.0 if fill_close else 1.0)
            elif entries[s, t] and pos <= 0.0 and pe_remain < 0.0:
                level = confidence[s, t]
                level = 0.0 if level != level else level
                kind = KIND_MARKET
                price = np.nan
                if params[P_HAS_LIMIT] > 0.0 and limits[s, t] == limits[s, t]:
                    kind = KIND_LIMIT
                    price = limits[s, t]
                elif params[P_HAS_STOP] > 0.0 and stops[s, t] == stops[s, t]:
                    kind = KIND_STOP
                    price = stops[s, t]
                deviation = params[P_MAX_DEVIATION]
                if level < params[P_MIN_CONFIDENCE]:
                    counts[C_REFUSALS + R_MIN_CONFIDENCE] += 1
                elif account[A_HALTED] > 0.0:
                    counts[C_REFUSALS + R_DAILY_LOSS] += 1
                elif kind != KIND_MARKET and abs(price - c) > deviation * c:
                    counts[C_REFUSALS + R_PRICE_DEVIATION] += 1
                else:
                    market_close = fill_close and kind == KIND_MARKET
                    pe_remain = params[P_LATENCY] + (0.0 if market_close else 1.0)
                    row[S_PE_KIND] = kind
                    row[S_PE_PRICE] = price
                    row[S_PE_CONF] = level
                    row[S_PE_VOL] = volatility[s, t] if params[P_USE_VOL] > 0.0 else np.nan
        if action != 0:
            price = raw
            if slip:
                move = raw * params[P_SLIP_BPS] * 1e-4 + params[P_SLIP_RANGE] * (h - lo)
                price = max(raw + action * move, 0.0)
                price = round_to_tick(price, action > 0, tick_kind, tick_size, up, tk)
            quantity = 0.0
            band = symbol[SP_PRICE_LIMIT]
            base = row[S_LAST_CLOSE]
            participation = np.inf
            if params[P_PARTICIPATION] > 0.0:
                participation = 0.0
                if v > 0.0:
                    participation = np.floor(params[P_PARTICIPATION] * v / lot + 1e-9) * lot
            if (
                band > 0.0
                and base > 0.0
                and (
                    price
                    < round_to_tick(base * (1.0 - band), True, tick_kind, tick_size, up, tk)
                    - _BAND_TOLERANCE * price
                    or price
                    > round_to_tick(base * (1.0 + band), False, tick_kind, tick_size, up, tk)
                    + _BAND_TOLERANCE * price
                )
            ):
                counts[C_REFUSALS + R_PRICE_LIMIT] += 1
            elif action < 0:
                quantity = min(pos, participation)
                if quantity <= 0.0:
                    counts[C_REFUSALS + R_PARTICIPATION] += 1
            elif params[P_PORTFOLIO] > 0.0 and account[A_OPEN] >= params[P_MAX_OPEN]:
                counts[C_REFUSALS + R_MAX_OPEN] += 1
            else:
                equity = account[A_EQ_LAST]
                quantity = entry_quantity(
                    int(params[P_SIZING]), price, min(cash, params[P_ALLOCATION] * equity),
                    equity, params[P_COMMISSION], params[P_COMMISSION_MIN], lot,
                    params[P_QUANTITY], params[P_FRACTION], params[P_ANNUAL_VOL], row[S_PE_VOL],
                )  # fmt: skip
                cap = np.floor(params[P_MAX_POSITION] * equity / price / lot) * lot
                if quantity < 0.0:
                    counts[C_REFUSALS + R_VOLATILITY] += 1
                elif quantity <= 0.0:
                    counts[C_REFUSALS + R_CASH] += 1
                elif quantity > cap and cap <= 0.0:
                    counts[C_REFUSALS + R_MAX_POSITION] += 1
                    quantity = 0.0
                else:
                    if quantity > cap:
                        counts[C_CAPPED + K_MAX_POSITION] += 1
                        quantity = cap
                    if quantity > participation:
                        if participation <= 0.0:
                            counts[C_REFUSALS + R_PARTICIPATION] += 1
                        else:
                            counts[C_CAPPED + K_PARTICIPATION] += 1
                        quantity = participation
                    if quantity * price > params[P_MAX_NOTIONAL]:
                        counts[C_REFUSALS + R_MAX_NOTIONAL] += 1
                        quantity = 0.0
            if quantity > 0.0:
                value = quantity * price
                fee = (
                    max(value * params[P_COMMISSION], params[P_COMMISSION_MIN])
                    if value > 0.0
                    else 0.0
                )
                tax = value * symbol[SP_SELL_TAX] if action < 0 else 0.0
                i = counts[C_FILLS]
                if i < fills.shape[0]:
                    record = fills[i]
                    record[0] = s
                    record[1] = t
                    record[2] = action
                    record[3] = quantity
                    record[4] = price
                    record[5] = fee
                    record[6] = tax
                    record[7] = reason
                counts[C_FILLS] = i + 1
                if action > 0:
                    cash -= value + fee
                    pos = quantity
                    account[A_OPEN] += 1.0
                    highest = price
                    row[S_ENTRY_PRICE] = price
                    row[S_ENTRY_BAR] = t
                    row[S_ENTRY_QTY] = quantity
                    row[S_ENTRY_VALUE] = value
                    row[S_EXIT_VALUE] = 0.0
                    row[S_EXIT_QTY] = 0.0
                    row[S_COSTS] = fee
                    row[S_STOPS_FROM] = stops_from
                else:
                    cash += value - fee - tax
                    pos -= quantity
                    row[S_EXIT_VALUE] += value
                    row[S_EXIT_QTY] += quantity
                    row[S_COSTS] += fee + tax
                    if pos <= 0.0:
                        pos = 0.0
                        account[A_OPEN] -= 1.0
                        row[S_POS] = 0.0
                        _record_trade(s, t, exit_reason, st, trades, counts)
                        if reason == F_EXIT_SIGNAL:
                            px_remain = -1.0
        if step == STEP_STOPS and pos > 0.0 and t >= row[S_STOPS_FROM] and h > highest:
            highest = h
    row[S_POS] = pos
    row[S_PE_REMAIN] = pe_remain
    row[S_PX_REMAIN] = px_remain
    row[S_HIGHEST] = highest
    account[A_CASH] = cash


@numba.njit(cache=True)
def _new_state(n_symbols: int, n_accounts: int, cash: float) -> tuple[np.ndarray, np.ndarray]:
    st = np.zeros((n_symbols, N_STATE))
    for s in range(n_symbols):
        st[s, S_LAST_CLOSE] = np.nan
        st[s, S_LAST_BAR] = -1.0
        st[s, S_PE_REMAIN] = -1.0
        st[s, S_PX_REMAIN] = -1.0
    acc = np.zeros((n_accounts, N_ACCOUNT))
    for a in range(n_accounts):
        acc[a, A_CASH] = cash
        acc[a, A_EQ_LAST] = cash
        acc[a, A_DAY] = -1.0
        acc[a, A_DAY_START] = cash
    return st, acc


@numba.njit(cache=True)
def _has_stops(params: tuple[float, ...]) -> bool:
    return not (
        np.isnan(params[P_STOP_LOSS])
        and np.isnan(params[P_TRAILING])
        and np.isnan(params[P_TAKE_PROFIT])
    )


@numba.njit(cache=True)
def _check_daily_loss(a: int, equity: float, acc: np.ndarray, params: tuple[float, ...]) -> None:
    limit = params[P_MAX_DAILY_LOSS]
    start = acc[a, A_DAY_START]
    if limit == limit and start > 0.0 and start - equity > limit * start:
        acc[a, A_HALTED] = 1.0


@numba.njit(cache=True)
def _queue_entries(active: np.ndarray, st: np.ndarray, market: bool, queue: np.ndarray) -> int:
    """Active symbols whose market (or limit/stop) entry is due now, by confidence (high
    first), then by symbol index (stable insertion sort)."""
    n = 0
    for s in range(active.shape[0]):
        if not active[s] or st[s, S_PE_REMAIN] != 0.0:
            continue
        if (st[s, S_PE_KIND] == KIND_MARKET) != market:
            continue
        i = n
        while i > 0 and st[queue[i - 1], S_PE_CONF] < st[s, S_PE_CONF]:
            queue[i] = queue[i - 1]
            i -= 1
        queue[i] = s
        n += 1
    return n


@numba.njit(cache=True)
def _close_books(st: np.ndarray, trades: np.ndarray, counts: np.ndarray) -> None:
    """Record the positions still open as END trades valued at their last close."""
    if counts[C_ERROR] != 0:
        return
    for s in range(st.shape[0]):
        if st[s, S_POS] > 0.0:
            st[s, S_EXIT_VALUE] += st[s, S_POS] * st[s, S_LAST_CLOSE]
            st[s, S_EXIT_QTY] += st[s, S_POS]
            _record_trade(s, int(st[s, S_LAST_BAR]), X_END, st, trades, counts)


@numba.njit(cache=True)
def _record_trade(
    s: int, t: int, exit_reason: int, st: np.ndarray, trades: np.ndarray, counts: np.ndarray
) -> None:
    i = counts[C_TRADES]
    if i < trades.shape[0]:
        trades[i, 0] = s
        trades[i, 1] = st[s, S_ENTRY_BAR]
        trades[i, 2] = st[s, S_ENTRY_PRICE]
        trades[i, 3] = t
        trades[i, 4] = st[s, S_EXIT_VALUE] / st[s, S_EXIT_QTY]
        trades[i, 5] = st[s, S_ENTRY_QTY]
        trades[i, 6] = st[s, S_EXIT_VALUE] - st[s, S_ENTRY_VALUE] - st[s, S_COSTS]
        trades[i, 7] = st[s, S_COSTS]
        trades[i, 8] = exit_reason
    counts[C_TRADES] = i + 1
