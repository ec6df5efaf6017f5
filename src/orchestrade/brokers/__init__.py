"""Broker adapters, one folder per venue; each implements `orchestrade.execution.ports.Broker`."""
