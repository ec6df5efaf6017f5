"""The compiled simulation loop: every symbol and bar in one numba function, no Python objects.

`orchestrade.backtest.kernel` packs the configuration into the flat arrays described by
the index constants below and unpacks the results; the execution semantics are documented
on `orchestrade.backtest.kernel.simulate`.

Two drivers share one per-symbol function, `_bar`, which runs a range of the steps of a
bar (`STEP_*`) on local scalars and stores the state back. Isolated mode walks symbol by
symbol (contiguous memory; no interaction between symbols) and runs all steps of a bar
at once; portfolio mode walks time by time and runs each step over all symbols before the
next, because the cash is shared. Both skip `_bar` on bars where nothing can happen (flat
or without stops, no order pending, no signal), which is most bars. Entry confidences come
packed (`scores`: one per entry signal, in row-major order) and are read through a running
index per symbol, so the inputs hold no (n_symbols, n_times) confidence array.

Compile time matters (a cold first call must stay within seconds). What it costs, measured
with numba 0.68: every separately compiled function (~0.3 s each, so small helpers are
written inline and the state arrays are allocated by the caller), every distinct
signature of a callee (`round_to_tick` is always called with the same argument types),
and the amount of code typed. Hence: every order goes through one execution block of
`_bar`; the caller computes the END trades in numpy; `_bar` has no Python wrapper; and a
*basic* run (no stops, no limit/stop entries, no tick grid, no price band, no
participation cap) passes `None` as the tick bounds `up`, so numba prunes those branches
and compiles a smaller specialisation. Chained `==` tests stand for `in (...)`, which
would compile a tuple-contains overload; for the same reason `min`, `max` and `int` of
floats are written out (`b if b < a else a` is `min(a, b)`, NaN included, and
`np.int64(x)` is `int(x)`): the builtins compile one overload each (five of them cost
about 0.2 s of a cold start). Inlining `_bar` into the drivers
(`inline="always"`) was tried: it triples the compile time; inlining `entry_quantity`
into `_bar` gains nothing.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar, cast

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
P_HAS_STOPS = 26  # any of stop_loss, take_profit, trailing_stop
N_PARAMS = 27

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

# Rows of the fills[field, i] and trades[field, i] buffers (one column per record, so that
# each field is contiguous when the records are built).
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

# Compile options: "numpy" error model (no ZeroDivisionError branches: every divisor is
# positive here), cached on disk, the GIL released. `_bar` is only called from compiled
# code, so it gets no Python wrapper (less to compile on a cold start).
_NO_WRAPPERS: dict[str, Any] = {"no_cpython_wrapper": True, "no_cfunc_wrapper": True}
_F = TypeVar("_F", bound=Callable[..., object])


def _compiled_callee(function: _F) -> _F:
    """`numba.njit` with the kernel's options, without the Python and C entry wrappers (the
    function is only called from compiled code)."""
    compiled = numba.njit(function, cache=True, nogil=True, error_model="numpy", **_NO_WRAPPERS)
    return cast(_F, compiled)


@numba.njit(cache=True, nogil=True, error_model="numpy")
def run_isolated(
    opens: np.ndarray,
    highs: np.ndarray,
    lows: np.ndarray,
    closes: np.ndarray,
    volumes: np.ndarray,
    entries: np.ndarray,
    exits: np.ndarray,
    scores: np.ndarray,
    first_score: np.ndarray,
    limits: np.ndarray,
    stops: np.ndarray,
    volatility: np.ndarray,
    days: np.ndarray,
    params: np.ndarray,
    sp: np.ndarray,
    up: np.ndarray | None,
    tk: np.ndarray,
    st: np.ndarray,
    acc: np.ndarray,
    cash_out: np.ndarray,
    position_out: np.ndarray,
    equity_out: np.ndarray,
    fills: np.ndarray,
    trades: np.ndarray,
    counts: np.ndarray,
) -> None:
    """Isolated accounts: symbol by symbol, each symbol with its own cash.

    `scores` holds the confidence of every entry signal, in the row-major order of
    `entries`, and `first_score[s]` the index of symbol s's first one: a confidence is
    only read where an entry fires, so no (n_symbols, n_times) confidence array is needed.
    Outputs go to `equity_out` (n_symbols, n_times), `cash_out`/`position_out` (same shape,
    or (0, 0) when not recorded), `fills` (FILL_FIELDS, capacity), `trades` (TRADE_FIELDS,
    capacity) and `counts`; records beyond the capacity are counted but not written, so
    the caller can run again with enough room. `st` and `acc` hold the state at the end
    (the positions still open).
    """
    n_symbols, n_times = opens.shape
    has_stops = params[P_HAS_STOPS] > 0.0
    has_limit = params[P_HAS_LIMIT] > 0.0
    has_stop = params[P_HAS_STOP] > 0.0
    use_vol = params[P_USE_VOL] > 0.0
    track_days = params[P_MAX_DAILY_LOSS] == params[P_MAX_DAILY_LOSS]
    books = position_out.shape[1] == n_times
    for s in range(n_symbols):
        o_row, h_row, lo_row, c_row = opens[s], highs[s], lows[s], closes[s]
        entry_row, exit_row, equity_row = entries[s], exits[s], equity_out[s]
        cash = params[P_CASH]
        position = 0.0
        equity = cash
        busy = False
        last_close = np.nan
        last_bar = -1
        k = first_score[s]  # the next entry's index in `scores`
        for t in range(n_times):
            entry = entry_row[t]
            score = np.nan
            if entry:
                score = scores[k]
                k += 1
            o = o_row[t]
            h = h_row[t]
            lo = lo_row[t]
            c = c_row[t]
            if o > 0.0 and h > 0.0 and lo > 0.0 and c > 0.0:
                if track_days and acc[s, A_DAY] != days[t]:
                    acc[s, A_DAY] = days[t]
                    acc[s, A_DAY_START] = equity
                    acc[s, A_HALTED] = 0.0
                if entry or exit_row[t] or busy or (has_stops and position > 0.0):
                    acc[s, A_EQ_LAST] = equity
                    st[s, S_LAST_CLOSE] = last_close
                    _bar(
                        s, s, t, STEP_BEGIN, STEP_CLOSE_ENTRY, o, h, lo, c, volumes[s, t],
                        entry, exit_row[t], score,
                        limits[s, t] if has_limit else np.nan,
                        stops[s, t] if has_stop else np.nan,
                        volatility[s, t] if use_vol else np.nan,
                        params, sp, up, tk, st, acc, fills, trades, counts,
                    )  # fmt: skip
                    cash = acc[s, A_CASH]
                    position = st[s, S_POS]
                    busy = st[s, S_PE_REMAIN] >= 0.0 or st[s, S_PX_REMAIN] >= 0.0
                last_close = c
                last_bar = t
                equity = cash + position * c
                # The daily loss is checked at every close, not only on bars with a signal
                # (the live orchestrator marks every close the same way).
                start = acc[s, A_DAY_START]
                if track_days and start > 0.0 and start - equity > params[P_MAX_DAILY_LOSS] * start:
                    acc[s, A_HALTED] = 1.0
            elif o <= 0.0 or h <= 0.0 or lo <= 0.0 or c <= 0.0:
                counts[C_ERROR] = 1
                counts[C_ERROR_SYMBOL] = s
                counts[C_ERROR_BAR] = t
                return
            equity_row[t] = equity
            if books:
                cash_out[s, t] = cash
                position_out[s, t] = position
        st[s, S_LAST_CLOSE] = last_close
        st[s, S_LAST_BAR] = last_bar
        acc[s, A_EQ_LAST] = equity


@numba.njit(cache=True, nogil=True, error_model="numpy")
def run_portfolio(
    opens: np.ndarray,
    highs: np.ndarray,
    lows: np.ndarray,
    closes: np.ndarray,
    volumes: np.ndarray,
    entries: np.ndarray,
    exits: np.ndarray,
    scores: np.ndarray,
    first_score: np.ndarray,
    limits: np.ndarray,
    stops: np.ndarray,
    volatility: np.ndarray,
    days: np.ndarray,
    params: np.ndarray,
    sp: np.ndarray,
    up: np.ndarray | None,
    tk: np.ndarray,
    st: np.ndarray,
    acc: np.ndarray,
    cash_out: np.ndarray,
    position_out: np.ndarray,
    equity_out: np.ndarray,
    fills: np.ndarray,
    trades: np.ndarray,
    counts: np.ndarray,
) -> None:
    """One shared account: bar by bar, each step of a bar over all symbols.

    Like `run_isolated` except that `cash_out` and `equity_out` are shaped (1, n_times)
    (`cash_out` (0, 0) when not recorded). Entries due at the same step are queued by
    confidence (high first), then symbol index.
    """
    n_symbols, n_times = opens.shape
    has_stops = params[P_HAS_STOPS] > 0.0
    has_limit = params[P_HAS_LIMIT] > 0.0
    has_stop = params[P_HAS_STOP] > 0.0
    use_vol = params[P_USE_VOL] > 0.0
    fill_close = params[P_FILL_CLOSE] > 0.0
    books = position_out.shape[1] == n_times
    active = np.zeros(n_symbols, dtype=np.bool_)
    valid = np.zeros(n_symbols, dtype=np.bool_)
    queue = np.empty(n_symbols, dtype=np.int64)
    next_score = first_score.copy()  # per symbol: the next entry's index in `scores`
    bar_score = np.empty(n_symbols)
    limit = params[P_MAX_DAILY_LOSS]
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
            bar_score[s] = np.nan
            if entries[s, t]:
                bar_score[s] = scores[next_score[s]]
                next_score[s] += 1
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
            if step == STEP_OPEN_ENTRY or step == STEP_RESTING or step == STEP_CLOSE_ENTRY:  # noqa: SIM109
                if (step == STEP_OPEN_ENTRY and fill_close) or (
                    step == STEP_CLOSE_ENTRY and not fill_close
                ):
                    continue
                # Due entries by confidence (high first), then symbol (stable insertion).
                market = step != STEP_RESTING
                n = 0
                for s in range(n_symbols):
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
                start = acc[0, A_DAY_START]
                if limit == limit and start > 0.0 and start - equity > limit * start:
                    acc[0, A_HALTED] = 1.0
            for i in range(n):
                s = queue[i]
                _bar(
                    s, 0, t, step, step, opens[s, t], highs[s, t], lows[s, t], closes[s, t],
                    volumes[s, t], entries[s, t], exits[s, t], bar_score[s],
                    limits[s, t] if has_limit else np.nan,
                    stops[s, t] if has_stop else np.nan,
                    volatility[s, t] if use_vol else np.nan,
                    params, sp, up, tk, st, acc, fills, trades, counts,
                )  # fmt: skip
        equity = acc[0, A_CASH]
        for s in range(n_symbols):
            if valid[s]:
                st[s, S_LAST_CLOSE] = closes[s, t]
                st[s, S_LAST_BAR] = t
            if st[s, S_POS] != 0.0:
                equity += st[s, S_POS] * st[s, S_LAST_CLOSE]
            if books:
                position_out[s, t] = st[s, S_POS]
        acc[0, A_EQ_LAST] = equity
        if books:
            cash_out[0, t] = acc[0, A_CASH]
        equity_out[0, t] = equity


@_compiled_callee
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
    entry_signal: bool,
    exit_signal: bool,
    entry_confidence: float,
    entry_limit: float,
    entry_stop: float,
    entry_volatility: float,
    params: np.ndarray,
    sp: np.ndarray,
    up: np.ndarray | None,
    tk: np.ndarray,
    st: np.ndarray,
    acc: np.ndarray,
    fills: np.ndarray,
    trades: np.ndarray,
    counts: np.ndarray,
) -> None:
    """Run steps `first`..`last` of bar t for symbol s (account a).

    `up` (the tick table's band bounds) is None for a *basic* run: no stops, no limit/stop
    entries, no tick grid, no price band and no participation cap. numba then prunes
    those branches before typing them, so the basic specialisation (the common research
    case) compiles in less time; the result is the same as the full one.

    The bar's prices and signal cells come as scalars (`entry_limit`, `entry_stop` and
    `entry_volatility` NaN when there are none) and the state is read and written with
    2-D indexing: no array views, few array arguments, a cheap call.
    """
    pos = st[s, S_POS]
    pe_remain = st[s, S_PE_REMAIN]
    px_remain = st[s, S_PX_REMAIN]
    highest = st[s, S_HIGHEST]
    cash = acc[a, A_CASH]
    fill_close = params[P_FILL_CLOSE] > 0.0
    # np.int64(x), not int(x): `int` of a float compiles a separate overload (cold start).
    tick_kind: int = np.int64(sp[s, SP_TICK_KIND])  # type: ignore[assignment]
    tick_size = sp[s, SP_TICK_SIZE]
    lot = sp[s, SP_LOT]
    # `round_to_tick` gets a runtime bool, never a literal True/False: a literal would
    # compile another specialisation of it (about half a second of cold start).
    upward = t >= 0
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
        elif step == STEP_OPEN_EXIT or step == STEP_CLOSE_EXIT:  # noqa: SIM109
            if (step == STEP_CLOSE_EXIT) == fill_close and px_remain == 0.0:
                if pos > 0.0:
                    action = -1
                    raw = c if fill_close else o
                    reason = F_EXIT_SIGNAL
                else:
                    px_remain = -1.0
        elif step == STEP_OPEN_ENTRY or step == STEP_CLOSE_ENTRY:  # noqa: SIM109
            due = pe_remain == 0.0 and st[s, S_PE_KIND] == KIND_MARKET
            if (step == STEP_CLOSE_ENTRY) == fill_close and due:
                pe_remain = -1.0
                if pos <= 0.0:
                    action = 1
                    raw = c if fill_close else o
                    reason = F_ENTRY_MARKET
                    stops_from = t + 1 if fill_close else t
                    # Fat finger, as the live risk engine checks a market order: its expected
                    # price (this open) against the last close.
                    base = st[s, S_LAST_CLOSE]
                    if abs(raw - base) > params[P_MAX_DEVIATION] * base:
                        action = 0
                        counts[C_REFUSALS + R_PRICE_DEVIATION] += 1
        elif step == STEP_STOPS:
            if up is not None and pos > 0.0 and t >= st[s, S_STOPS_FROM]:
                entry = st[s, S_ENTRY_PRICE]
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
                        entry * (1.0 + take_profit), upward, tick_kind, tick_size, up, tk
                    )
                if o <= stop_level or (lo <= stop_level and o < target):
                    action = -1
                    raw = stop_level if stop_level < o else o
                    reason = stop_reason
                elif o >= target or h >= target:
                    action = -1
                    raw = round_to_tick(o, not upward, tick_kind, tick_size, up, tk)
                    raw = target if target > raw else raw
                    raw = target if o < target else raw
                    slip = False
                    reason = F_TAKE_PROFIT
                exit_reason = reason - F_EXIT_SIGNAL
        elif step == STEP_RESTING:
            if up is not None and pe_remain == 0.0 and st[s, S_PE_KIND] != KIND_MARKET:
                pe_remain = -1.0
                if pos <= 0.0:
                    is_limit = st[s, S_PE_KIND] == KIND_LIMIT
                    level = round_to_tick(
                        st[s, S_PE_PRICE], not is_limit, tick_kind, tick_size, up, tk
                    )
                    if is_limit and lo <= level:
                        action = 1
                        raw = round_to_tick(o, is_limit, tick_kind, tick_size, up, tk)
                        raw = level if level < raw else raw
                        slip = False
                        reason = F_ENTRY_LIMIT
                    elif not is_limit and h >= level:
                        action = 1
                        raw = level if level > o else o
                        reason = F_ENTRY_STOP
                    else:
                        counts[C_REFUSALS + R_NOT_TRIGGERED] += 1
                    stops_from = t + 1
        elif step == STEP_DECIDE:
            limit = params[P_MAX_DAILY_LOSS]
            start = acc[a, A_DAY_START]
            if (
                params[P_PORTFOLIO] == 0.0
                and limit == limit
                and start > 0.0
                and start - (cash + pos * c) > limit * start
            ):
                acc[a, A_HALTED] = 1.0
            if exit_signal:
                if px_remain < 0.0 and (pos > 0.0 or pe_remain >= 0.0):
                    px_remain = params[P_LATENCY] + (0.0 if fill_close else 1.0)
            elif entry_signal and pos <= 0.0 and pe_remain < 0.0:
                level = 0.0 if entry_confidence != entry_confidence else entry_confidence
                kind = KIND_MARKET
                price = np.nan
                if entry_limit == entry_limit:
                    kind = KIND_LIMIT
                    price = entry_limit
                elif entry_stop == entry_stop:
                    kind = KIND_STOP
                    price = entry_stop
                deviation = params[P_MAX_DEVIATION]
                if level < params[P_MIN_CONFIDENCE]:
                    counts[C_REFUSALS + R_MIN_CONFIDENCE] += 1
                elif acc[a, A_HALTED] > 0.0:
                    counts[C_REFUSALS + R_DAILY_LOSS] += 1
                elif kind != KIND_MARKET and abs(price - c) > deviation * c:
                    counts[C_REFUSALS + R_PRICE_DEVIATION] += 1
                else:
                    market_close = fill_close and kind == KIND_MARKET
                    pe_remain = params[P_LATENCY] + (0.0 if market_close else 1.0)
                    st[s, S_PE_KIND] = kind
                    st[s, S_PE_PRICE] = price
                    st[s, S_PE_CONF] = level
                    st[s, S_PE_VOL] = entry_volatility
        if action != 0:
            buy = action > 0
            price = raw
            if slip:
                move = raw * params[P_SLIP_BPS] * 1e-4 + params[P_SLIP_RANGE] * (h - lo)
                price = raw + action * move
                price = 0.0 if price < 0.0 else price
                if up is not None:
                    price = round_to_tick(price, buy, tick_kind, tick_size, up, tk)
            quantity = 0.0
            band = sp[s, SP_PRICE_LIMIT]
            base = st[s, S_LAST_CLOSE]
            participation = np.inf
            if up is not None and params[P_PARTICIPATION] > 0.0:
                participation = 0.0
                if v > 0.0:
                    participation = np.floor(params[P_PARTICIPATION] * v / lot + 1e-9) * lot
            outside = False
            if up is not None and band > 0.0 and base > 0.0:
                floor = round_to_tick(base * (1.0 - band), upward, tick_kind, tick_size, up, tk)
                ceiling = round_to_tick(
                    base * (1.0 + band), not upward, tick_kind, tick_size, up, tk
                )
                outside = (
                    price < floor - _BAND_TOLERANCE * price
                    or price > ceiling + _BAND_TOLERANCE * price
                )
            if outside:
                counts[C_REFUSALS + R_PRICE_LIMIT] += 1
            elif action < 0:
                quantity = participation if participation < pos else pos
                if quantity <= 0.0:
                    counts[C_REFUSALS + R_PARTICIPATION] += 1
            elif params[P_PORTFOLIO] > 0.0 and acc[a, A_OPEN] >= params[P_MAX_OPEN]:
                counts[C_REFUSALS + R_MAX_OPEN] += 1
            else:
                equity = acc[a, A_EQ_LAST]
                budget = params[P_ALLOCATION] * equity
                budget = budget if budget < cash else cash
                method: int = np.int64(params[P_SIZING])  # type: ignore[assignment]
                quantity = entry_quantity(
                    method, price, budget,
                    equity, params[P_COMMISSION], params[P_COMMISSION_MIN], lot,
                    params[P_QUANTITY], params[P_FRACTION], params[P_ANNUAL_VOL], st[s, S_PE_VOL],
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
                fee = 0.0
                if value > 0.0:
                    fee = value * params[P_COMMISSION]
                    fee = params[P_COMMISSION_MIN] if params[P_COMMISSION_MIN] > fee else fee
                tax = value * sp[s, SP_SELL_TAX] if action < 0 else 0.0
                i = counts[C_FILLS]
                if i < fills.shape[1]:
                    fills[0, i] = s
                    fills[1, i] = t
                    fills[2, i] = action
                    fills[3, i] = quantity
                    fills[4, i] = price
                    fills[5, i] = fee
                    fills[6, i] = tax
                    fills[7, i] = reason
                counts[C_FILLS] = i + 1
                if buy:
                    cash -= value + fee
                    pos = quantity
                    acc[a, A_OPEN] += 1.0
                    highest = price
                    st[s, S_ENTRY_PRICE] = price
                    st[s, S_ENTRY_BAR] = t
                    st[s, S_ENTRY_QTY] = quantity
                    st[s, S_ENTRY_VALUE] = value
                    st[s, S_EXIT_VALUE] = 0.0
                    st[s, S_EXIT_QTY] = 0.0
                    st[s, S_COSTS] = fee
                    st[s, S_STOPS_FROM] = stops_from
                else:
                    cash += value - fee - tax
                    pos -= quantity
                    st[s, S_EXIT_VALUE] += value
                    st[s, S_EXIT_QTY] += quantity
                    st[s, S_COSTS] += fee + tax
                    if pos <= 0.0:
                        pos = 0.0
                        acc[a, A_OPEN] -= 1.0
                        i = counts[C_TRADES]
                        if i < trades.shape[1]:
                            trades[0, i] = s
                            trades[1, i] = st[s, S_ENTRY_BAR]
                            trades[2, i] = st[s, S_ENTRY_PRICE]
                            trades[3, i] = t
                            # One exit fill: its own price, not value / quantity, which
                            # can land one float step away (30.210000000000004).
                            trades[4, i] = (
                                price
                                if st[s, S_EXIT_QTY] == quantity
                                else st[s, S_EXIT_VALUE] / st[s, S_EXIT_QTY]
                            )
                            trades[5, i] = st[s, S_ENTRY_QTY]
                            trades[6, i] = (
                                st[s, S_EXIT_VALUE] - st[s, S_ENTRY_VALUE] - st[s, S_COSTS]
                            )
                            trades[7, i] = st[s, S_COSTS]
                            trades[8, i] = exit_reason
                        counts[C_TRADES] = i + 1
                        if reason == F_EXIT_SIGNAL:
                            px_remain = -1.0
        if step == STEP_STOPS and pos > 0.0 and t >= st[s, S_STOPS_FROM] and h > highest:
            highest = h
    st[s, S_POS] = pos
    st[s, S_PE_REMAIN] = pe_remain
    st[s, S_PX_REMAIN] = px_remain
    st[s, S_HIGHEST] = highest
    acc[a, A_CASH] = cash
