"""The Litestar application: webhooks in, database API calls out.

Handlers only translate (payload -> ``api.*`` function -> response); booking rules live in the
database. Shared state for handlers: ``app.state.pool`` (psycopg AsyncConnectionPool, autocommit
connections) and ``app.state.settings`` (voxbook.settings.Settings).
"""

from __future__ import annotations

import logging
import select
import time
import weakref
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager

import psycopg
from litestar import Litestar, Request, Response, get
from litestar.exceptions import HTTPException
from litestar.datastructures import State
from litestar.plugins.jinja import JinjaTemplateEngine
from litestar.openapi import OpenAPIConfig
from litestar.template import TemplateConfig
from psycopg_pool import AsyncConnectionPool, PoolTimeout

from voxbook.api.dashboard import dashboard_lifespan, route_handlers as dashboard_routes
from voxbook.api.dashboard_auth import jinja_environment
from voxbook.api.errors import CODE_BY_STATUS, api_error_body, error_body, http_error_body, http_status
from voxbook.api.rpc_routes import rpc
from voxbook.api.twilio_routes import twilio_router
from voxbook.api.vapi_routes import vapi_router
from voxbook.db import ApiError
from voxbook.doctor import check_async, log_problems
from voxbook.settings import Settings

log = logging.getLogger("voxbook.api")

# How long a request waits for a pooled connection before it is told the database is unavailable:
# Vapi must hear something within its tool timeout, and a tool call waits this long at most.
POOL_TIMEOUT_SECONDS = 2.0
# How long the pool keeps retrying one failed connection attempt (backoff 1, 2, 4 s... by default for
# 5 minutes). Short, so that after an outage the next request starts a fresh attempt at once instead
# of waiting for a backoff that grew during the outage (a 40 s outage used to cost 15 s more).
RECONNECT_TIMEOUT_SECONDS = 3.0
# A pooled connection unused for longer than this is checked with a round trip before it is handed out: one
# dropped without a word (a NAT or firewall forgetting an idle flow) is only found by asking.
CHECK_IDLE_SECONDS = 30.0


def connection_check() -> Callable[[psycopg.AsyncConnection], Awaitable[None]]:
    """The pool's check of a connection as it leaves the pool, without a round trip when nothing is wrong.

    A connection the server ended (a restart, a failover, pg_terminate_backend) has something to read: the
    server's FATAL message, then the end of the stream. An idle pooled connection otherwise has nothing (no
    LISTEN on it, autocommit, every reply read). So it is asked (an empty query, which fails on a dead one
    and makes the pool take another) only when its socket is readable or it sat unused for
    CHECK_IDLE_SECONDS; every other checkout costs one poll() instead of a round trip (21 % of the process's
    time on a tool call, bench/README.md "Issue 18, second pass")."""
    last_checkout: weakref.WeakKeyDictionary[psycopg.AsyncConnection, float] = weakref.WeakKeyDictionary()

    async def check(conn: psycopg.AsyncConnection) -> None:
        now = time.monotonic()
        previous = last_checkout.get(conn)
        last_checkout[conn] = now
        if previous is not None and now - previous < CHECK_IDLE_SECONDS and not conn.closed:
            readable = select.poll()
            readable.register(conn.pgconn.socket, select.POLLIN)
            if not readable.poll(0):   # POLLIN, or POLLHUP/POLLERR (always reported): in doubt
                return
        await AsyncConnectionPool.check_connection(conn)

    return check


def _api_error(_: Request, exc: ApiError) -> Response:
    # A documented error of an api function is the caller's mistake (bad id, bad time): 4xx, never 500.
    return Response(api_error_body(exc), status_code=http_status(exc))


def _http_error(_: Request, exc: HTTPException) -> Response:
    # Every refusal of the HTTP layer, Litestar's own included (no route, wrong method, body too large): the
    # same body as a database error, as PostgREST does, so its clients parse both.
    return Response(http_error_body(exc), status_code=exc.status_code, headers=exc.headers)


def _database_unavailable(_: Request, exc: psycopg.OperationalError) -> Response:
    # PoolTimeout is an OperationalError too: every connection busy, or the server gone.
    state = getattr(exc, "sqlstate", None)
    log.warning("database unavailable: %s", state or type(exc).__name__)
    pool_timeout = isinstance(exc, PoolTimeout)
    headers = {"Retry-After": "1"} if pool_timeout else {}
    # PostgREST's codes: PGRST003 no pooled connection in time, PGRST000 no database; else the SQLSTATE (57014...)
    code = "PGRST003" if pool_timeout else state or CODE_BY_STATUS[503]
    return Response(error_body(code, "the database is unavailable; try again shortly"), status_code=503,
                    headers=headers)


def _internal_error(request: Request, exc: Exception) -> Response:
    # A bug: the class and SQLSTATE are logged, never the text (a database message may quote the values).
    state = getattr(exc, "sqlstate", None)
    log.error("internal error on %s: %s %s", request.url.path, type(exc).__name__, state or "")
    return Response(error_body(state or CODE_BY_STATUS[500], "internal error"), status_code=500)


@get("/health")
async def health(state: State) -> Response:
    """Reports whether the database answers: 200, or 503 so that a load balancer takes us out.

    Also the configuration that cannot work (voxbook.doctor: the same checks as `voxbook doctor`), e.g.
    one-time codes off for want of a code pepper, or a clinic Twilio cannot send from: "degraded" with the
    list, still a 200, since another instance would not do better.
    """
    try:
        async with state.pool.connection(timeout=2) as conn:
            problems = await check_async(state.settings, conn)
    except Exception:  # noqa: BLE001 - health reports, never raises
        return Response({"status": "degraded", "database": "unreachable"}, status_code=503)
    codes = next((p.message for p in problems if p.check == "code_pepper"), None)
    return Response({"status": "degraded" if problems else "ok", "database": "ok",
                     # "codes": kept from before the problem list, for monitors that read it
                     "codes": "no pepper configured" if codes else "ok",
                     "problems": [p.as_json() for p in problems]}, status_code=200)


def create_app(settings: Settings | None = None) -> Litestar:
    settings = settings or Settings.from_env()
    if not settings.database_url:
        raise RuntimeError("DATABASE_URL is not set")

    @asynccontextmanager
    async def lifespan(app: Litestar) -> AsyncIterator[None]:
        pool = AsyncConnectionPool(
            settings.database_url, min_size=2, max_size=20, open=False,
            kwargs={"autocommit": True, "connect_timeout": 2},
            timeout=POOL_TIMEOUT_SECONDS, reconnect_timeout=RECONNECT_TIMEOUT_SECONDS,
            # Each connection is checked as it leaves the pool: those cut by a database restart are
            # replaced at once instead of failing one request each (a round trip only when in doubt).
            check=connection_check(),
        )
        await pool.open(wait=True, timeout=30)
        app.state.pool = pool
        try:
            async with pool.connection() as conn:
                log_problems(await check_async(settings, conn), "api")   # the start-up checks (voxbook doctor)
        except Exception as exc:  # noqa: BLE001 - a report; the server starts either way
            log.warning("config.check_failed", extra={"fields": {"error": type(exc).__name__}})
        try:
            yield
        finally:
            await pool.close()

    return Litestar(
        route_handlers=[health, twilio_router, vapi_router(settings.max_body_bytes), rpc, *dashboard_routes],
        exception_handlers={ApiError: _api_error, HTTPException: _http_error,
                            psycopg.OperationalError: _database_unavailable, Exception: _internal_error},
        lifespan=[lifespan, dashboard_lifespan],   # dashboard_lifespan uses the pool: keep it after
        state=State({"settings": settings}),
        request_max_body_size=settings.max_other_body_bytes,   # Vapi's endpoints: their own limit
        openapi_config=OpenAPIConfig(title="voxbook", version="0.1.0", path="/schema"),
        # The dashboard's pages (api/templates/dashboard/): one Jinja environment, autoescape on for .html.
        template_config=TemplateConfig(instance=JinjaTemplateEngine.from_environment(jinja_environment())),
        # Litestar would install its own handler and format on the root logger: voxbook.logs has the one.
        logging_config=None,
    )
