"""How many bars make a year: the factor that annualises returns, volatility and ratios.

Conventions (the same as empyrical's for daily and weekly data):

* daily bars: 252 trading days a year on stock markets (KRX, US), 365 calendar days for
  crypto (it trades every day);
* weekly bars: 52 a year on every market;
* intraday bars on stock markets: 252 sessions a year times the bars of one regular session.
  Both KRX (09:00-15:30 KST) and US (09:30-16:00 ET) regular sessions last 390 minutes, and
  bars are aligned to the session open and cut at the close (see
  `orchestrade.data.resampling`), so a session has ceil(390 / minutes) bars: 390 one-minute
  bars, 78 five-minute bars, 7 hourly bars (the last one is 30 minutes long), 2 four-hour
  bars;
* intraday bars on crypto: 365 * 1440 / minutes (the clock never stops).
"""

from __future__ import annotations

import math

from orchestrade.backtest.errors import InputError
from orchestrade.domain import TIMEFRAME_SECONDS, Market

STOCK_SESSIONS_PER_YEAR = 252
"""Trading sessions a year assumed for stock markets (the usual convention)."""
CRYPTO_DAYS_PER_YEAR = 365
WEEKS_PER_YEAR = 52
REGULAR_SESSION_MINUTES: dict[Market, int] = {Market.KRX: 390, Market.US: 390}
"""Length of one regular session, in minutes, per stock market."""


def periods_per_year(timeframe: str, market: Market | str) -> int:
    """Bars of `timeframe` in one year on `market` (see the module docstring).

    Raises:
        InputError: an unknown timeframe or market.
    """
    seconds = TIMEFRAME_SECONDS.get(timeframe)
    if seconds is None:
        known = ", ".join(TIMEFRAME_SECONDS)
        raise InputError(f"timeframe {timeframe!r} is not one of {known}")
    try:
        venue = Market(market)
    except ValueError:
        known = ", ".join(member.value for member in Market)
        raise InputError(f"market {market!r} is not one of {known}") from None
    if timeframe == "1w":
        return WEEKS_PER_YEAR
    if timeframe == "1d":
        return CRYPTO_DAYS_PER_YEAR if venue is Market.CRYPTO else STOCK_SESSIONS_PER_YEAR
    minutes = seconds // 60
    if venue is Market.CRYPTO:
        return CRYPTO_DAYS_PER_YEAR * (24 * 60 // minutes)
    return STOCK_SESSIONS_PER_YEAR * math.ceil(REGULAR_SESSION_MINUTES[venue] / minutes)
