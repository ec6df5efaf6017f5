"""Markets we trade and the exchange calendars and currencies that go with them."""

from __future__ import annotations

from enum import StrEnum


class Market(StrEnum):
    """The family of venues an instrument trades on; it decides calendar, currency and rules.

    US stocks are one market whether listed on NYSE or NASDAQ: their sessions, tick rules and
    currency are the same; the listing exchange is kept on the instrument.
    """

    KRX = "krx"
    US = "us"
    CRYPTO = "crypto"

    @property
    def default_exchange(self) -> str:
        """The exchange code (ISO MIC where one exists) used when a file does not say."""
        return _DEFAULT_EXCHANGE[self]

    @property
    def default_currency(self) -> str:
        """The quote currency of most instruments on this market."""
        return _DEFAULT_CURRENCY[self]

    @property
    def calendar_name(self) -> str | None:
        """The exchange_calendars name of the session calendar, None for 24/7 markets."""
        return _CALENDAR[self]


_DEFAULT_EXCHANGE = {Market.KRX: "XKRX", Market.US: "XNYS", Market.CRYPTO: "BINANCE"}
_DEFAULT_CURRENCY = {Market.KRX: "KRW", Market.US: "USD", Market.CRYPTO: "USDT"}
_CALENDAR: dict[Market, str | None] = {Market.KRX: "XKRX", Market.US: "XNYS", Market.CRYPTO: None}
