"""The Litestar application: webhooks in, database API calls out.

Handlers only translate (payload -> ``api.*`` function -> response); booking rules live in the
database. Shared state for handlers: ``app.state.pool`` (psycopg AsyncConnectionPool, autocommit
connections) and ``app.state.settings`` (voxbook.settings.Settings).
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import psycopg
from litestar import Litestar, Request, Response, get
from litestar.datastructures import State
from litestar.openapi import OpenAPIConfig
from psycopg_pool import AsyncConnectionPool, PoolTimeout

from api.dashboard import dashboard_lifespan, route_handlers as dashboard_routes
from api.rpc import ApiError, call
from api.rpc_routes import rpc
from api.twilio_routes import twilio_router
from api.vapi_routes import vapi_router
from voxbook.settings import Settings

log = logging.getLogger("voxbook.api")

# How long a request waits for a pooled connection before it is told the database is unavailable:
# Vapi must hear something within its tool timeout, and a tool call waits this long at most.
POOL_TIMEOUT_SECONDS = 2.0
# How long the pool keeps retrying one failed connection attempt (backoff 1, 2, 4 s... by default for
# 5 minutes). Short, so that after an outage the next request starts a fresh attempt at once instead
# of waiting for a backoff that grew during the outage (a 40 s outage used to cost 15 s more).
RECONNECT_TIMEOUT_SECONDS = 3.0


def _api_error(_: Request, exc: ApiError) -> Response:
    # A documented error of an api function is the caller's mistake (bad id, bad time): 4xx, never 500.
    return Response({"error": exc.message, **exc.as_json()}, status_code=exc.http_status)


def _database_unavailable(_: Request, exc: psycopg.OperationalError) -> Response:
    # PoolTimeout is an OperationalError too: every connection busy, or the server gone.
    log.warning("database unavailable: %s", getattr(exc, "sqlstate", None) or type(exc).__name__)
    headers = {"Retry-After": "1"} if isinstance(exc, PoolTimeout) else {}
    return Response({"error": "the database is unavailable; try again shortly"}, status_code=503, headers=headers)


@get("/health")
async def health(state: State) -> Response:
    """Reports whether the database answers: 200, or 503 so that a load balancer takes us out.

    Also whether one-time codes work (a code pepper configured for our database role): without it the
    code tools refuse politely, and another instance would not do better, so that is still a 200.
    """
    try:
        async with state.pool.connection(timeout=2) as conn:
            codes = await call(conn, "code_status")
    except Exception:  # noqa: BLE001 - health reports, never raises
        return Response({"status": "degraded", "database": "unreachable"}, status_code=503)
    if codes.get("available"):
        return Response({"status": "ok", "database": "ok", "codes": "ok"}, status_code=200)
    return Response({"status": "degraded", "database": "ok", "codes": codes.get("reason")}, status_code=200)


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
            # Each connection is checked (an empty query) as it leaves the pool: those cut by a database
            # restart are replaced at once instead of failing one request each.
            check=AsyncConnectionPool.check_connection,
        )
        await pool.open(wait=True, timeout=30)
        app.state.pool = pool
        try:
            yield
        finally:
            await pool.close()

    return Litestar(
        route_handlers=[health, twilio_router, vapi_router(settings.max_body_bytes), rpc, *dashboard_routes],
        exception_handlers={ApiError: _api_error, psycopg.OperationalError: _database_unavailable},
        lifespan=[lifespan, dashboard_lifespan],   # dashboard_lifespan uses the pool: keep it after
        state=State({"settings": settings}),
        request_max_body_size=settings.max_other_body_bytes,   # Vapi's endpoints: their own limit
        openapi_config=OpenAPIConfig(title="voxbook", version="0.1.0", path="/schema"),
    )
