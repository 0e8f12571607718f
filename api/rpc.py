"""Calling the database API: one function in schema ``api`` with named arguments, jsonb back.

Both the HTTP handlers and the SMS worker go through here, so the mapping of our documented
SQLSTATEs (db/README.md) to outcomes lives in one place.
"""

from __future__ import annotations

import asyncio
import random
import time
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

import psycopg
from psycopg import sql
from psycopg.pq import TransactionStatus
from psycopg.rows import scalar_row

# SQLSTATEs raised by the api functions (voxbook.fail) and what an HTTP caller should see.
HTTP_STATUS_BY_SQLSTATE = {"VB400": 400, "VB404": 404, "VB409": 409}

# A deadlock (40P01) or serialization failure (40001) undid the whole statement: nothing happened, and
# running it again usually succeeds (two reschedules swapping times, one of them chosen as the victim).
# Retried here, transparently, a few times after a short random pause so the two do not collide again.
RETRY_SQLSTATES = frozenset({"40P01", "40001"})
RETRY_ATTEMPTS = 4            # runs in all
RETRY_BASE_SECONDS = 0.02     # pause after run n: uniform(0, base * 2**(n-1)), i.e. at most 20, 40, 80 ms


def _retry_pause(exc: psycopg.Error, attempt: int, on_its_own: bool) -> float | None:
    """Seconds to wait before running the statement again, or None to give up. Only a statement run on
    its own (autocommit, no transaction open) is retried: inside a transaction the whole transaction is
    lost, and only its owner can run it again."""
    if exc.sqlstate not in RETRY_SQLSTATES or attempt >= RETRY_ATTEMPTS:
        return None
    if not on_its_own:
        return None
    return random.uniform(0, RETRY_BASE_SECONDS * 2 ** (attempt - 1))


def _on_its_own(conn: psycopg.Connection | psycopg.AsyncConnection) -> bool:
    # Autocommit and no transaction open: the statement about to run is a transaction by itself.
    return conn.autocommit and conn.info.transaction_status == TransactionStatus.IDLE


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
    """Run ``api.<function>(**kwargs)`` on an autocommit connection; raises ApiError for documented errors.

    A deadlock or serialization failure is retried (see RETRY_SQLSTATES); any other psycopg error, and
    those once the retries are spent, propagate (OperationalError: the database's trouble, not the caller's)."""
    query, params = call_query(function, kwargs)
    attempt = 1
    while True:
        on_its_own = _on_its_own(conn)
        try:
            # scalar_row: the caller's connection may have any row factory (dict_row in tests)
            cur = conn.cursor(row_factory=scalar_row)
            await cur.execute(query, params)
            return await cur.fetchone()
        except psycopg.Error as exc:
            pause = _retry_pause(exc, attempt, on_its_own)
            if pause is None:
                raise _translate(exc) from exc
        await asyncio.sleep(pause)
        attempt += 1


def call_sync(conn: psycopg.Connection, function: str, /, **kwargs: Any) -> Any:
    """The same for synchronous connections (CLI, tests, tools)."""
    query, params = call_query(function, kwargs)
    attempt = 1
    while True:
        on_its_own = _on_its_own(conn)
        try:
            return conn.cursor(row_factory=scalar_row).execute(query, params).fetchone()
        except psycopg.Error as exc:
            pause = _retry_pause(exc, attempt, on_its_own)
            if pause is None:
                raise _translate(exc) from exc
        time.sleep(pause)
        attempt += 1


T = TypeVar("T")


async def in_transaction(conn: psycopg.AsyncConnection, work: Callable[[], Awaitable[T]]) -> T:
    """Run ``work`` (several ``call``s) in one transaction on an autocommit connection, running the whole
    transaction again after a deadlock or serialization failure, as ``call`` does for one statement."""
    attempt = 1
    while True:
        on_its_own = _on_its_own(conn)
        try:
            async with conn.transaction():
                return await work()
        except psycopg.Error as exc:
            pause = _retry_pause(exc, attempt, on_its_own)
            if pause is None:
                raise
        await asyncio.sleep(pause)
        attempt += 1
