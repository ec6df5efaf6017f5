"""The web dashboard: static pages the API serves at `/`, fed by the REST API and the live
event stream (see `mount_dashboard`)."""

from orchestrade.dashboard.mount import DashboardFilesMissingError, mount_dashboard

__all__ = ["DashboardFilesMissingError", "mount_dashboard"]
