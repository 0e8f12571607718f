"""Calling the database API: one function in schema ``api`` with named arguments, jsonb back.

Both the HTTP handlers and the SMS worker go through here, so the mapping of our documented
SQLSTATEs (db/README.md) to outcomes lives in one place.
"""

from __future__ import annotations

from typing import Any

import psycopg
from psycopg import sql
from psycopg.rows import scalar_row

# SQLSTATEs raised by the api functions (voxbook.fail) and what an HTTP caller should see.
HTTP_STATUS_BY_SQLSTATE = {"VB400": 400, "VB404": 404, "VB409": 409}


class ApiError(Exception):
    """A documented error of an api function: bad parameter, unknown id, state conflict."""

    def __init__(self, sqlstate: str, message: str, hint: str | None = None, detail: str | None = None):
        super().__init__(message)
        self.sqlstate = sqlstate
        self.message = message
        self.hint = hint
        self.detail = detail

    @property
    def http_status(self) -> int:
        return HTTP_STATUS_BY_SQLSTATE.get(self.sqlstate, 400)

    def as_json(self) -> dict[str, Any]:
        return {"code": self.sqlstate, "message": self.message, "hint": self.hint, "detail": self.detail}


def call_query(function: str, kwargs: dict[str, Any]) -> tuple[sql.Composed, list[Any]]:
    """``SELECT api.function(a => %s, b => %s)``; names are quoted identifiers, never string-pasted."""
    args = sql.SQL(", ").join(
        sql.SQL("{} => %s").format(sql.Identifier(name)) for name in kwargs
    )
    query = sql.SQL("SELECT {}.{}({})").format(sql.Identifier("api"), sql.Identifier(function), args)
    return query, list(kwargs.values())


def _translate(exc: psycopg.Error) -> Exception:
    state = exc.sqlstate or ""
    diag = exc.diag
    if state.startswith("VB"):
        return ApiError(state, diag.message_primary or str(exc), diag.message_hint, diag.message_detail)
    # Wrong types or values that PostgreSQL itself rejects (a non-uuid id, a bad timestamp):
    # the caller's mistake, reported like our own VB400.
    if state[:2] in ("22",) or state in ("42883", "42P02"):
        return ApiError("VB400", diag.message_primary or "invalid parameter", diag.message_hint)
    # Refused by psycopg before sending (a NUL character in a text value): the caller's input too.
    if not state and isinstance(exc, psycopg.DataError):
        return ApiError("VB400", str(exc).splitlines()[0] if str(exc) else "invalid parameter")
    return exc


async def call(conn: psycopg.AsyncConnection, function: str, /, **kwargs: Any) -> Any:
    """Run ``api.<function>(**kwargs)`` on an autocommit connection; raises ApiError for documented errors."""
    query, params = call_query(function, kwargs)
    try:
        # scalar_row: the caller's connection may have any row factory (dict_row in tests)
        cur = conn.cursor(row_factory=scalar_row)
        await cur.execute(query, params)
        return await cur.fetchone()
    except psycopg.Error as exc:
        raise _translate(exc) from exc


def call_sync(conn: psycopg.Connection, function: str, /, **kwargs: Any) -> Any:
    """The same for synchronous connections (CLI, tests, tools)."""
    query, params = call_query(function, kwargs)
    try:
        return conn.cursor(row_factory=scalar_row).execute(query, params).fetchone()
    except psycopg.Error as exc:
        raise _translate(exc) from exc
