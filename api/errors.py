"""What an error means for an HTTP caller, in PostgREST's words: the one mapping of SQLSTATEs to status codes
and the one error body, ``{"code", "message", "details", "hint"}`` (what PostgREST answers, so that its client
libraries parse ours).

The database client (voxbook.db) knows the errors; only the HTTP layer knows HTTP.
"""

from __future__ import annotations

from typing import Any

from litestar.exceptions import HTTPException

from voxbook.db import ApiError

# The SQLSTATE of an ApiError and the status an HTTP caller sees. Ours (internal.fail, db/README.md) first;
# then PostgreSQL's own that can reach a caller, as PostgREST maps them. Any other (22P02 a value of the
# wrong type, 22008 a date out of range, ...) is a 400, as in PostgREST. Only the caller's mistakes become an
# ApiError (voxbook.db._translate): the database's trouble is a 503 (api/app.py), never one of these.
HTTP_STATUS_BY_SQLSTATE = {
    "VB400": 400, "VB404": 404, "VB409": 409,
    "23503": 409, "23505": 409, "42883": 404, "42P01": 404, "42501": 403, "P0001": 400,
}

# The code of a refusal by the HTTP layer itself (Litestar's or ours), PostgREST's where it has one:
# PGRST102 a body that is not a JSON object, PGRST301/302 a wrong/missing credential, PGRST125 no such path,
# PGRST117 a method this path does not take, PGRST107 a Content-Type we do not read. PostgREST has no code
# for a forbidden request or a body too large: PostgreSQL's insufficient_privilege and program_limit_exceeded.
CODE_BY_STATUS = {
    400: "PGRST102", 401: "PGRST301", 403: "42501", 404: "PGRST125", 405: "PGRST117", 413: "54000",
    415: "PGRST107", 500: "XX000", 503: "PGRST000",
}


def http_status(exc: ApiError) -> int:
    """A documented error is the caller's mistake (bad id, bad time): 4xx, never 500."""
    return HTTP_STATUS_BY_SQLSTATE.get(exc.sqlstate, 400)


def error_body(code: str, message: str, details: str | None = None, hint: str | None = None) -> dict[str, Any]:
    """PostgREST's error body: PostgreSQL's ERRCODE, MESSAGE, DETAIL and HINT."""
    return {"code": code, "message": message, "details": details, "hint": hint}


def api_error_body(exc: ApiError) -> dict[str, Any]:
    return error_body(exc.sqlstate, exc.message, exc.detail, exc.hint)


class HttpError(HTTPException):
    """A refusal by the HTTP layer with PostgREST's code and a hint (default code: CODE_BY_STATUS)."""

    def __init__(self, status_code: int, message: str, *, code: str | None = None, hint: str | None = None,
                 details: str | None = None, headers: dict[str, str] | None = None):
        super().__init__(detail=message, status_code=status_code, headers=headers)
        self.code = code
        self.hint = hint
        self.details = details


def http_error_body(exc: HTTPException) -> dict[str, Any]:
    """The body of any HTTPException, Litestar's own (404 no route, 405, 413, a parameter that fails
    validation...) and ours alike."""
    status = exc.status_code
    code = getattr(exc, "code", None) or CODE_BY_STATUS.get(status, "XX000" if status >= 500 else "PGRST100")
    details = getattr(exc, "details", None)
    if details is None and isinstance(exc.extra, list):
        # Litestar's validation errors: [{"message", "key", "source"}] (names, never the values given)
        details = "; ".join(f"{e.get('key') or e.get('source') or ''}: {e.get('message', '')}".lstrip(": ")
                            for e in exc.extra if isinstance(e, dict)) or None
    return error_body(code, exc.detail, details, getattr(exc, "hint", None))
