"""The kernel's output records: fills and round-trip trades as numpy structured arrays.

Codes are small integers so the compiled loop can write them; the enums below give them
names. Refusal counters are named by `REFUSAL_CHECKS` (index = position in the tuple).
"""

from __future__ import annotations

from enum import IntEnum

import numpy as np


class FillReason(IntEnum):
    """Why a fill happened."""

    ENTRY_MARKET = 0
    ENTRY_LIMIT = 1
    ENTRY_STOP = 2
    EXIT_SIGNAL = 3
    STOP_LOSS = 4
    TAKE_PROFIT = 5
    TRAILING_STOP = 6


class ExitReason(IntEnum):
    """Why a round trip ended; END means still open at the last bar, valued at its close."""

    SIGNAL = 0
    STOP_LOSS = 1
    TAKE_PROFIT = 2
    TRAILING_STOP = 3
    END = 4


FILL_DTYPE = np.dtype(
    [
        ("symbol", np.int64),
        ("bar", np.int64),
        ("side", np.int8),
        ("quantity", np.float64),
        ("price", np.float64),
        ("fee", np.float64),
        ("tax", np.float64),
        ("reason", np.int8),
    ]
)
"""One execution: `side` +1 buy / -1 sell, `bar` the time index, `reason` a FillReason."""

TRADE_DTYPE = np.dtype(
    [
        ("symbol", np.int64),
        ("entry_bar", np.int64),
        ("entry_price", np.float64),
        ("exit_bar", np.int64),
        ("exit_price", np.float64),
        ("quantity", np.float64),
        ("pnl", np.float64),
        ("costs", np.float64),
        ("exit_reason", np.int8),
    ]
)
"""One round trip. `exit_price` is the quantity-weighted mean of the exit fills (several
when volume participation split the exit), `exit_bar` the last of them; `costs` sums the
fees and taxes of every fill of the trade and `pnl` = exit value - entry value - costs."""

REFUSAL_CHECKS = (
    "min_confidence",
    "daily_loss",
    "price_deviation",
    "max_open_positions",
    "max_position",
    "max_order_notional",
    "insufficient_cash",
    "participation",
    "price_limit",
    "volatility",
    "not_triggered",
)
"""Counters of orders not executed, by cause:

- min_confidence: entry signal with confidence below `min_confidence` (NaN counts as 0).
- daily_loss: entry decided while the account's daily loss exceeds `max_daily_loss_pct`.
- price_deviation: fat finger, limit/stop price too far from the last close.
- max_open_positions: entry while the portfolio already holds the maximum.
- max_position: the `max_position_pct` cap left zero quantity.
- max_order_notional: the order's value exceeds `max_order_notional`.
- insufficient_cash: sizing gave less than one lot.
- participation: the bar's volume allowed less than one lot (entries; exits retry).
- price_limit: the fill price fell outside the daily price band (entries are dropped,
  exits retry on the next bar; each failed attempt counts).
- volatility: volatility-target sizing had no volatility estimate yet.
- not_triggered: a limit/stop entry whose price the bar did not reach (it expires).
"""

CAPPED_CHECKS = ("max_position", "participation")
"""Counters of entries executed with a reduced quantity, by cause."""
