"""Backtests: the numba array kernel, cost and sizing models, metrics, results and reports."""
