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
from api.rpc import ApiError
from api.rpc_routes import rpc
from api.twilio_routes import twilio_router
from api.vapi_routes import vapi_router
from voxbook.settings import Settings

log = logging.getLogger("voxbook.api")


def _api_error(_: Request, exc: ApiError) -> Response:
    # A documented error of an api function is the caller's mistake (bad id, bad time): 4xx, never 500.
    return Response({"error": exc.message, **exc.as_json()}, status_code=exc.http_status)


def _database_unavailable(_: Request, exc: psycopg.OperationalError) -> Response:
    # PoolTimeout is an OperationalError too: every connection busy, or the server gone.
    log.warning("database unavailable: %s", type(exc).__name__)
    headers = {"Retry-After": "1"} if isinstance(exc, PoolTimeout) else {}
    return Response({"error": "the database is unavailable; try again shortly"}, status_code=503, headers=headers)


@get("/health")
async def health(state: State) -> Response:
    """Reports whether the database answers: 200, or 503 so that a load balancer takes us out."""
    try:
        async with state.pool.connection(timeout=2) as conn:
            await conn.execute("SELECT 1")
        return Response({"status": "ok", "database": "ok"}, status_code=200)
    except Exception:  # noqa: BLE001 - health reports, never raises
        return Response({"status": "degraded", "database": "unreachable"}, status_code=503)


def create_app(settings: Settings | None = None) -> Litestar:
    settings = settings or Settings.from_env()
    if not settings.database_url:
        raise RuntimeError("DATABASE_URL is not set")

    @asynccontextmanager
    async def lifespan(app: Litestar) -> AsyncIterator[None]:
        pool = AsyncConnectionPool(
            settings.database_url, min_size=2, max_size=20, open=False, kwargs={"autocommit": True}
        )
        await pool.open(wait=True, timeout=30)
        app.state.pool = pool
        try:
            yield
        finally:
            await pool.close()

    return Litestar(
        route_handlers=[health, twilio_router, vapi_router, rpc, *dashboard_routes],
        exception_handlers={ApiError: _api_error, psycopg.OperationalError: _database_unavailable},
        lifespan=[lifespan, dashboard_lifespan],   # dashboard_lifespan uses the pool: keep it after
        state=State({"settings": settings}),
        request_max_body_size=settings.max_body_bytes,
        openapi_config=OpenAPIConfig(title="voxbook", version="0.1.0", path="/schema"),
    )
