"""The app the HTTP benchmark serves: voxbook's own app plus one bench-only route.

``create_bench_app`` takes the Litestar app that ``api.app.create_app`` returns -- same middleware,
exception handlers, connection pool and settings -- and registers ``POST /bench/select1`` on it, so
the baseline and the tool call run in the same process, on the same pool, behind the same uvicorn
options. Nothing is added to the product's app: this module exists only in bench/.
"""

from __future__ import annotations

from litestar import Litestar, Request, post
from litestar.datastructures import State

from voxbook.api.app import create_app


@post("/bench/select1", status_code=200, include_in_schema=False)
async def select1(request: Request, state: State) -> dict[str, bool]:
    # Reads the same body the tool call sends, so transport and body handling cost the same on both sides.
    await request.body()
    async with state.pool.connection() as conn:
        await conn.execute("SELECT 1")
    return {"ok": True}


def create_bench_app() -> Litestar:
    app = create_app()
    app.register(select1)
    return app
