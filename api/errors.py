"""What a database API error means for an HTTP caller: the one mapping of our SQLSTATEs to status codes.

The database client (voxbook.db) knows the errors; only the HTTP layer knows HTTP.
"""

from __future__ import annotations

from voxbook.db import ApiError

# SQLSTATEs raised by the api functions (voxbook.fail, db/README.md) and the status an HTTP caller sees.
HTTP_STATUS_BY_SQLSTATE = {"VB400": 400, "VB404": 404, "VB409": 409}


def http_status(exc: ApiError) -> int:
    """A documented error is the caller's mistake (bad id, bad time): 4xx, never 500."""
    return HTTP_STATUS_BY_SQLSTATE.get(exc.sqlstate, 400)
