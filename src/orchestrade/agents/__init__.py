"""Agents: thin bus wrappers around the services, all built on one small `Agent` base."""

from orchestrade.agents.base import Agent, AgentError, AgentStatus, Clock, Sleep, utc_now

__all__ = ["Agent", "AgentError", "AgentStatus", "Clock", "Sleep", "utc_now"]
