"""The database client: the one way Python calls the database API, and the one LISTEN loop.

The floor of the package (see README "Where things are"): the HTTP layer (voxbook.api), the SMS worker
(voxbook.workers) and the CLI all call ``api.<function>`` through here, so the meaning of our documented
SQLSTATEs (db/README.md) and the retry of deadlocks live in one place. What an error means for an HTTP
caller (its status code) is the HTTP layer's business, not this module's.
"""

from __future__ import annotations

import asyncio
import logging
import random
import time
from collections.abc import Awaitable, Callable
from functools import lru_cache
from typing import Any, TypeVar

import psycopg
from psycopg import sql
from psycopg.pq import TransactionStatus
from psycopg.rows import scalar_row

log = logging.getLogger("voxbook.db")

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
    """An invalid request: a documented error of an api function (VB400 bad parameter, VB404 unknown id, VB409
    state conflict), or a value PostgreSQL itself refused (22P02 not a uuid, 22008 a date out of range, 42883
    no such function or argument...) with its own SQLSTATE. The caller's mistake, never the database's trouble."""

    def __init__(self, sqlstate: str, message: str, hint: str | None = None, detail: str | None = None):
        super().__init__(message)
        self.sqlstate = sqlstate
        self.message = message
        self.hint = hint
        self.detail = detail


def call_query(function: str, kwargs: dict[str, Any]) -> tuple[sql.SQL, list[Any]]:
    """``SELECT api.function(a => %s, b => %s)``; names are quoted identifiers, never string-pasted.

    ``org_id=None`` is refused here, before anything is sent (ApiError VB400, the database's own words for a
    missing org_id): on Citus the api functions are delegated to the clinic's node by org_id, and Citus 13.2.2
    crashes the coordinator backend -- every session on it reset -- on a delegated call with a NULL
    distribution argument. A function that works across clinics (org_id DEFAULT NULL) is called without it."""
    if "org_id" in kwargs and kwargs["org_id"] is None:
        raise ApiError("VB400", "org_id is required",
                       "Pass org_id (named parameter); to act across clinics, leave org_id out.")
    return _call_text(function, tuple(kwargs)), list(kwargs.values())


@lru_cache(maxsize=1024)
def _call_text(function: str, names: tuple[str, ...]) -> sql.SQL:
    """The statement of one function and set of parameter names, composed once per process.

    A tool call spent ~10 % of the API process's time quoting the same identifiers again (sql.Identifier
    needs libpq for each, on every execute; bench/README.md, issue 18). The quoted text is the same on every
    connection (identifiers are quoted by the same rules whatever the connection), so it is kept as one
    pre-rendered sql.SQL: psycopg then only encodes it and substitutes the parameters (and caches that too)."""
    args = sql.SQL(", ").join(sql.SQL("{} => %s").format(sql.Identifier(name)) for name in names)
    query = sql.SQL("SELECT {}.{}({})").format(sql.Identifier("api"), sql.Identifier(function), args)
    return sql.SQL(query.as_string(None))


def _translate(exc: psycopg.Error) -> Exception:
    state = exc.sqlstate or ""
    diag = exc.diag
    # Ours (VB...), and wrong types or values that PostgreSQL itself rejects (a non-uuid id, a bad timestamp,
    # an argument the function does not have): the caller's mistake, with PostgreSQL's SQLSTATE kept (as
    # PostgREST does) so that a client can tell them apart.
    if state.startswith("VB") or state[:2] == "22" or state in ("42883", "42P02"):
        return ApiError(state, diag.message_primary or str(exc), diag.message_hint, diag.message_detail)
    # Refused by psycopg before sending (a NUL character in a text value): the caller's input too, reported
    # with PostgreSQL's code for a character the encoding cannot hold.
    if not state and isinstance(exc, psycopg.DataError):
        return ApiError("22021", str(exc).splitlines()[0] if str(exc) else "invalid parameter")
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


# -- LISTEN ---------------------------------------------------------------------------------------


def _log_disconnect(exc: BaseException, retry_in: float) -> None:
    log.warning("listen.disconnected", extra={"fields": {"error": type(exc).__name__, "retry_in": round(retry_in, 2)}})


async def listen(
    conninfo: str,
    channel: str,
    *,
    application_name: str,
    on_connect: Callable[[int], Awaitable[None]],
    on_notify: Callable[[str], Awaitable[None]],
    on_idle: Callable[[], Awaitable[None]] | None = None,
    idle_seconds: float = 15.0,
    initial_backoff: float = 0.5,
    max_backoff: float = 30.0,
    stop: asyncio.Event | None = None,
    on_disconnect: Callable[[BaseException, float], None] = _log_disconnect,
) -> None:
    """Keep one connection LISTENing on ``channel`` until ``stop`` is set (or the task is cancelled).

    NOTIFY is a wake-up, not a log: what is notified while we are disconnected is lost. So every
    (re)connection calls ``on_connect(n)`` (n = 1, 2, ...) *after* LISTEN, for the caller to catch up on
    what it may have missed; then each notification calls ``on_notify(payload)``. After ``idle_seconds``
    without one, a round trip on the connection checks that the server is still there (one that vanished
    without closing the socket is noticed here instead of never) and ``on_idle()`` runs (e.g. a poll).

    Any failure -- the connection lost, or raised by a callback -- is reported to ``on_disconnect`` and
    followed by a fresh connection after a jittered exponential backoff (``initial_backoff`` doubling up
    to ``max_backoff``, reset by every successful connection). ``stop`` is checked between callbacks and
    ends a wait at once; a callback that is running is left to finish.
    """
    stop = stop or asyncio.Event()
    delay = initial_backoff
    connections = 0
    while not stop.is_set():
        try:
            async with await psycopg.AsyncConnection.connect(
                conninfo, autocommit=True, application_name=application_name, connect_timeout=10
            ) as conn:
                await conn.execute(sql.SQL("LISTEN {}").format(sql.Identifier(channel)))
                connections += 1
                delay = initial_backoff
                await on_connect(connections)
                while not stop.is_set():
                    payloads = await _wait_for_notifies(conn, idle_seconds, stop)
                    if stop.is_set():
                        return
                    for payload in payloads:
                        await on_notify(payload)
                    if not payloads:
                        await conn.execute("SELECT 1")    # the liveness probe
                        if on_idle is not None:
                            await on_idle()
        except asyncio.CancelledError:
            raise
        except Exception as exc:  # noqa: BLE001 - a listener outlives a database restart or a deploy
            wait = delay * (0.5 + random.random())
            on_disconnect(exc, wait)
            try:
                await asyncio.wait_for(stop.wait(), timeout=wait)
            except TimeoutError:
                pass
            delay = min(delay * 2, max_backoff)


async def _wait_for_notifies(conn: psycopg.AsyncConnection, timeout: float, stop: asyncio.Event) -> list[str]:
    """The payloads of the notifications that arrive within ``timeout`` (returns at the first one, with any
    already queued behind it), or [] when none came or ``stop`` was set meanwhile."""
    async def first() -> list[str]:
        # Never break out of notifies(): stop_after/timeout end it without losing the rest.
        return [n.payload async for n in conn.notifies(timeout=timeout, stop_after=1)]

    waiter = asyncio.ensure_future(first())
    stopper = asyncio.ensure_future(stop.wait())
    try:
        done, _ = await asyncio.wait({waiter, stopper}, return_when=asyncio.FIRST_COMPLETED)
    finally:   # also when we are cancelled: neither task may outlive this call
        for t in (waiter, stopper):
            if not t.done():
                t.cancel()
        await asyncio.gather(waiter, stopper, return_exceptions=True)
    return waiter.result() if waiter in done else []   # result() re-raises a dropped connection's error
