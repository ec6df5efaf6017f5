"""A synthetic market for tests, demos and benchmarks: realistic enough to break naive code.

Daily bars on the market's real trading calendar, from a one-factor model with sectors:

    r[t, i] = drift + beta[i] * f[t] + g[t, sector(i)] + e[t, i]      (log return)

with market factor f, sector factors g and idiosyncratic noise e all drawn from a Student-t
(fat tails, scaled to unit variance) and multiplied by the volatility of the day's regime, a
two-state Markov chain (calm / turbulent). A share of each day's return happens overnight
(open vs previous close); occasionally an overnight jump (news gap) is added. High and low
extend beyond open and close by half-normal amounts; volume rises with the absolute return.

KRX prices sit on the KRX tick grid and every price stays within ±30% of the previous close
(the daily limit); US prices are in cents; crypto prices are rounded to 8 decimals and trade
every UTC day. Everything is deterministic for a seed. Every instrument is labelled synthetic
(symbol ``SYN0001``, name ``Synthetic 1``, flag ``synthetic`` in the metadata).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

import numpy as np
import numpy.typing as npt
import pandas as pd

from orchestrade.data.calendars import exchange_calendar, sessions
from orchestrade.data.errors import DataError
from orchestrade.domain import Instrument, InstrumentKind, KrxTickRule, Market

FloatArray = npt.NDArray[np.float64]

KRX_DAILY_LIMIT = 0.30
_KRX_TICKS = tuple((float(upper), float(tick)) for upper, tick in KrxTickRule.table())
"""(exclusive upper bound, tick) in KRW, from the domain's one KRX tick table."""
_START_PRICE = {Market.KRX: (9.9, 1.0), Market.US: (4.0, 0.8), Market.CRYPTO: (3.0, 2.0)}
"""(mean, sd) of the log start price per market: ~20,000 KRW, ~55 USD, ~20 USDT."""


class SyntheticMarketError(DataError):
    """Parameters that cannot produce a synthetic market."""


@dataclass(frozen=True, slots=True)
class SyntheticParameters:
    """The model's knobs; daily volatilities are for the calm regime."""

    market_vol: float = 0.010
    sector_vol: float = 0.006
    idiosyncratic_vol: float = 0.012
    turbulent_multiplier: float = 2.5
    calm_to_turbulent: float = 0.02
    turbulent_to_calm: float = 0.10
    tail_degrees_of_freedom: float = 4.0
    overnight_share: float = 0.3
    jump_probability: float = 0.005
    jump_vol: float = 0.04
    drift: float = 0.0002
    sectors: int = 5
    beta_range: tuple[float, float] = (0.8, 1.2)
    range_vol: float = 0.006
    volume_sensitivity: float = 0.5

    def expected_correlation(self, *, same_sector: bool, beta: float = 1.0) -> float:
        """Model correlation of two symbols' log returns that both have beta `beta`.

        Regimes scale every component alike, so they cancel; jumps add independent variance.
        """
        common = beta * beta * self.market_vol**2
        shared = common + (self.sector_vol**2 if same_sector else 0.0)
        calm_mean_square = self._mean_regime_variance()
        total = (
            calm_mean_square
            * (beta * beta * self.market_vol**2 + self.sector_vol**2 + self.idiosyncratic_vol**2)
            + self.jump_probability * self.jump_vol**2
        )
        return calm_mean_square * shared / total

    def _mean_regime_variance(self) -> float:
        """E[scale^2] under the chain's stationary distribution."""
        turbulent_share = self.calm_to_turbulent / (self.calm_to_turbulent + self.turbulent_to_calm)
        return (1 - turbulent_share) + turbulent_share * self.turbulent_multiplier**2


@dataclass(frozen=True, slots=True)
class SyntheticMarket:
    """A generated market: clean bars, labelled instruments and the hidden truth behind them.

    `regimes` is indexed by session label ("calm" / "turbulent"), `factor_returns` holds the
    market factor's log return per session, `sectors` maps each symbol to its sector.
    """

    market: Market
    bars: pd.DataFrame
    instruments: tuple[Instrument, ...]
    metadata: pd.DataFrame
    regimes: pd.Series[Any]
    factor_returns: pd.Series[Any]
    sectors: dict[str, int]
    betas: dict[str, float]
    parameters: SyntheticParameters = field(default_factory=SyntheticParameters)
    synthetic: bool = True


def synthesize_market(
    n_symbols: int,
    n_days: int,
    seed: int,
    *,
    market: Market = Market.KRX,
    start: dt.date = dt.date(2018, 1, 2),
    parameters: SyntheticParameters | None = None,
    prefix: str | None = None,
) -> SyntheticMarket:
    """Generate `n_days` sessions of daily bars for `n_symbols` synthetic instruments.

    Symbols are `prefix` plus a 4-digit number; the default prefix is ``SYN`` for KRX and
    ``SYN`` plus the market's initial otherwise (``SYNU0001``, ``SYNC0001``), so that
    synthetic markets can share one store without symbol clashes.

    Raises:
        SyntheticMarketError: for non-positive sizes, inconsistent parameters, or a range past
            the end of the exchange calendar.
    """
    model = parameters or SyntheticParameters()
    _validate(n_symbols, n_days, model)
    labels = _trading_dates(market, start, n_days)
    rng = np.random.default_rng(seed)
    stem = prefix if prefix is not None else _default_prefix(market)
    if not stem or not stem.isalnum():
        raise SyntheticMarketError(f"prefix must be letters and digits, got {stem!r}")
    symbols = [f"{stem}{number:04d}" for number in range(1, n_symbols + 1)]
    sector_of = rng.integers(0, model.sectors, size=n_symbols)
    betas = rng.uniform(*model.beta_range, size=n_symbols)

    regimes = _regimes(rng, n_days, model)
    scale = np.where(regimes, model.turbulent_multiplier, 1.0)
    factor = model.market_vol * scale * _student(rng, model, n_days)
    sector_moves = model.sector_vol * scale[:, None] * _student(rng, model, (n_days, model.sectors))
    noise = model.idiosyncratic_vol * scale[:, None] * _student(rng, model, (n_days, n_symbols))
    returns = model.drift + factor[:, None] * betas[None, :] + sector_moves[:, sector_of] + noise
    jumps = np.where(
        rng.random((n_days, n_symbols)) < model.jump_probability,
        rng.normal(0.0, model.jump_vol, (n_days, n_symbols)),
        0.0,
    )
    overnight = model.overnight_share * returns + jumps
    intraday = (1.0 - model.overnight_share) * returns
    extension = np.abs(rng.normal(0.0, model.range_vol, (2, n_days, n_symbols))) * scale[:, None]
    volume_noise = rng.normal(0.0, 0.3, (n_days, n_symbols))
    mean_log, sd_log = _START_PRICE[market]
    start_prices = np.exp(rng.normal(mean_log, sd_log, n_symbols))
    base_volume = np.exp(rng.normal(11.0, 1.0, n_symbols))

    ohlc = _price_paths(market, start_prices, overnight, intraday, extension)
    typical = np.sqrt(model.market_vol**2 + model.sector_vol**2 + model.idiosyncratic_vol**2)
    activity = model.volume_sensitivity * np.abs(returns + jumps) / typical + volume_noise
    volume = np.maximum(1.0, np.round(base_volume[None, :] * np.exp(activity)))
    bars = _bar_frame(symbols, labels, ohlc, volume)
    instruments = tuple(
        _instrument(market, symbol, number) for number, symbol in enumerate(symbols, 1)
    )
    metadata = pd.DataFrame(
        {
            "symbol": symbols,
            "name": [instrument.name for instrument in instruments],
            "market": market.value,
            "exchange": market.default_exchange,
            "currency": market.default_currency,
            "sector": [f"Synthetic sector {sector + 1}" for sector in sector_of],
            "synthetic": True,
        }
    )
    return SyntheticMarket(
        market=market,
        bars=bars,
        instruments=instruments,
        metadata=metadata,
        regimes=pd.Series(np.where(regimes, "turbulent", "calm"), index=labels, name="regime"),
        factor_returns=pd.Series(factor, index=labels, name="market_factor"),
        sectors=dict(zip(symbols, sector_of.tolist(), strict=True)),
        betas=dict(zip(symbols, betas.tolist(), strict=True)),
        parameters=model,
    )


def krx_tick_size(prices: npt.ArrayLike) -> FloatArray:
    """KRX tick size in KRW for each price (the table in force since 2023)."""
    values = np.asarray(prices, dtype=np.float64)
    bounds = np.array([bound for bound, _ in _KRX_TICKS])
    ticks = np.array([tick for _, tick in _KRX_TICKS])
    return np.asarray(ticks[np.searchsorted(bounds, values, side="right")], dtype=np.float64)


def round_to_krx_tick(prices: npt.ArrayLike, *, mode: str = "nearest") -> FloatArray:
    """Round prices onto the KRX tick grid: "nearest", "down" or "up".

    Each band's lower bound is a multiple of the next band's tick, so rounding with the tick of
    the unrounded price always lands on a valid price.
    """
    values = np.asarray(prices, dtype=np.float64)
    tick = krx_tick_size(values)
    steps = values / tick
    if mode == "nearest":
        rounded = np.round(steps)
    elif mode == "down":
        rounded = np.floor(steps + 1e-9)
    elif mode == "up":
        rounded = np.ceil(steps - 1e-9)
    else:
        raise SyntheticMarketError(f"rounding mode must be nearest, down or up, got {mode!r}")
    return np.asarray(rounded * tick, dtype=np.float64)


def _default_prefix(market: Market) -> str:
    return "SYN" if market is Market.KRX else f"SYN{market.value[0].upper()}"


def _validate(n_symbols: int, n_days: int, model: SyntheticParameters) -> None:
    if n_symbols < 1 or n_symbols > 9999:
        raise SyntheticMarketError(f"n_symbols must be 1..9999, got {n_symbols}")
    if n_days < 2:
        raise SyntheticMarketError(f"n_days must be at least 2, got {n_days}")
    if model.tail_degrees_of_freedom <= 2:
        raise SyntheticMarketError("tail_degrees_of_freedom must exceed 2 (finite variance)")
    for name in ("calm_to_turbulent", "turbulent_to_calm", "jump_probability", "overnight_share"):
        value = getattr(model, name)
        if not 0 <= value <= 1:
            raise SyntheticMarketError(f"{name} must be within 0..1, got {value}")
    if model.sectors < 1:
        raise SyntheticMarketError(f"sectors must be at least 1, got {model.sectors}")


def _trading_dates(market: Market, start: dt.date, n_days: int) -> pd.DatetimeIndex:
    if market.calendar_name is None:
        return pd.date_range(
            pd.Timestamp(start, tz="UTC"), periods=n_days, freq="D", name="session"
        )
    last = pd.Timestamp(exchange_calendar(market).last_session).date()
    end = min(last, start + dt.timedelta(days=min(int(n_days * 1.6) + 30, 100_000)))
    try:
        labels = sessions(market, start, end)
    except DataError as error:
        raise SyntheticMarketError(f"{n_days} sessions from {start}: {error}") from error
    if len(labels) < n_days:
        raise SyntheticMarketError(
            f"the {market.value} calendar has only {len(labels)} sessions from {start}"
        )
    return labels[:n_days]


def _regimes(
    rng: np.random.Generator, n_days: int, model: SyntheticParameters
) -> npt.NDArray[np.bool_]:
    """True on turbulent days; the chain starts calm."""
    draws = rng.random(n_days)
    turbulent = np.zeros(n_days, dtype=np.bool_)
    state = False
    for day in range(1, n_days):
        switch = model.turbulent_to_calm if state else model.calm_to_turbulent
        state = (not state) if draws[day] < switch else state
        turbulent[day] = state
    return turbulent


def _student(
    rng: np.random.Generator, model: SyntheticParameters, size: int | tuple[int, int]
) -> FloatArray:
    """Student-t draws scaled to unit variance."""
    freedom = model.tail_degrees_of_freedom
    draws = rng.standard_t(freedom, size=size) * np.sqrt((freedom - 2.0) / freedom)
    return np.asarray(draws, dtype=np.float64)


def _price_paths(
    market: Market,
    start_prices: FloatArray,
    overnight: FloatArray,
    intraday: FloatArray,
    extension: FloatArray,
) -> FloatArray:
    """Open, high, low, close per day and symbol (shape 4 x days x symbols), day by day.

    The path must be built sequentially: rounding and the KRX limit change each close, and the
    next day starts from the rounded close.
    """
    n_days, n_symbols = overnight.shape
    ohlc = np.empty((4, n_days, n_symbols))
    previous = _round(market, start_prices, "nearest")
    for day in range(n_days):
        open_ = previous * np.exp(overnight[day])
        close = open_ * np.exp(intraday[day])
        high = np.maximum(open_, close) * np.exp(extension[0, day])
        low = np.minimum(open_, close) * np.exp(-extension[1, day])
        if market is Market.KRX:
            upper = round_to_krx_tick(previous * (1 + KRX_DAILY_LIMIT), mode="down")
            lower = round_to_krx_tick(previous * (1 - KRX_DAILY_LIMIT), mode="up")
            open_, close, high, low = (
                np.clip(price, lower, upper) for price in (open_, close, high, low)
            )
        open_ = _round(market, open_, "nearest")
        close = _round(market, close, "nearest")
        high = np.maximum(_round(market, high, "up"), np.maximum(open_, close))
        low = np.minimum(_round(market, low, "down"), np.minimum(open_, close))
        if market is Market.KRX:
            high = np.minimum(high, upper)
            low = np.maximum(low, lower)
        ohlc[:, day] = open_, high, low, close
        previous = close
    return ohlc


def _round(market: Market, prices: FloatArray, mode: str) -> FloatArray:
    if market is Market.KRX:
        return np.maximum(round_to_krx_tick(prices, mode=mode), 1.0)
    factor = 100.0 if market is Market.US else 1e8
    scaled = prices * factor
    if mode == "up":
        rounded = np.ceil(scaled - 1e-9)
    elif mode == "down":
        rounded = np.floor(scaled + 1e-9)
    else:
        rounded = np.round(scaled)
    return np.maximum(np.asarray(rounded / factor, dtype=np.float64), 1.0 / factor)


def _bar_frame(
    symbols: list[str], labels: pd.DatetimeIndex, ohlc: FloatArray, volume: FloatArray
) -> pd.DataFrame:
    n_days, n_symbols = volume.shape
    frame = pd.DataFrame(
        {
            "symbol": np.repeat(np.array(symbols, dtype=object), n_days),
            "timestamp": np.tile(labels.as_unit("ns"), n_symbols),
            "open": ohlc[0].T.ravel(),
            "high": ohlc[1].T.ravel(),
            "low": ohlc[2].T.ravel(),
            "close": ohlc[3].T.ravel(),
            "volume": volume.T.ravel(),
        }
    )
    frame["timestamp"] = pd.DatetimeIndex(frame["timestamp"]).tz_convert("UTC").as_unit("ns")
    return frame


def _instrument(market: Market, symbol: str, number: int) -> Instrument:
    name = f"Synthetic {number}"
    if market is Market.KRX:
        return Instrument.krx(symbol, name=name)
    if market is Market.US:
        return Instrument.us(symbol, name=name)
    return Instrument.crypto(
        symbol,
        tick_size=Decimal("0.00000001"),
        lot_size=Decimal("0.00001"),
        kind=InstrumentKind.CRYPTO_SPOT,
        name=name,
    )
