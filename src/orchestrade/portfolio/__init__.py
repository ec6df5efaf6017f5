"""Portfolio: the trading ledger (cash, positions, marks) and, later, allocation across bots."""

from orchestrade.portfolio.errors import LedgerError
from orchestrade.portfolio.ledger import AccountBook, Ledger, LedgerAccount

__all__ = ["AccountBook", "Ledger", "LedgerAccount", "LedgerError"]
