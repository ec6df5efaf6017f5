"""The API's routes, one module per area, each router carrying its full path prefix.

Full prefixes (rather than a prefix given at `include_router`) keep each route's `path` the
path a client calls, which is what metrics label requests with and what the route-role test
walks.
"""

API_PREFIX = "/api/v1"
MAX_ROW_ID = 2**63 - 1
"""The largest id a route takes: a database's 64-bit integer (SQLite's INTEGER, PostgreSQL's
BIGINT). A larger one is a 422, not a driver overflow answered with 500."""
