"""The API's routes, one module per area, each router carrying its full path prefix.

Full prefixes (rather than a prefix given at `include_router`) keep each route's `path` the
path a client calls, which is what metrics label requests with and what the route-role test
walks.
"""

API_PREFIX = "/api/v1"
