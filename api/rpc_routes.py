"""``POST /rpc/{function}``: any function of schema ``api`` over HTTP, PostgREST style.

For dashboards and scripts (not for Vapi): its own token (ADMIN_TOKEN, Bearer), JSON object of named
arguments in, the function's result out. Only functions the API role may execute are reachable, so
the set is exactly what db/functions/99_grants.sql grants, never an internal helper.
"""

from __future__ import annotations

import re
from typing import Any

from litestar import Request, Response, post
from litestar.datastructures import State
from litestar.exceptions import ClientException, HTTPException, NotAuthorizedException, NotFoundException
from litestar.params import FromPath
from psycopg.types.json import Jsonb

from voxbook.api.auth import admin_authorized
from voxbook.api.vapi_payloads import PayloadError, parse_json_object
from voxbook.db import call

API_ROLE = "voxbook_api"
_NAME = re.compile(r"[a-z_][a-z0-9_]{0,62}")
_ARG = re.compile(r"[A-Za-z_][A-Za-z0-9_]{0,62}")

_EXPOSED_SQL = """
SELECT EXISTS (
    SELECT 1 FROM pg_catalog.pg_proc AS p
      JOIN pg_catalog.pg_namespace AS n ON n.oid = p.pronamespace
     WHERE n.nspname = 'api' AND p.proname = %s AND p.prokind = 'f'
       AND pg_catalog.has_function_privilege(%s, p.oid, 'EXECUTE'))
"""


def _value(name: str, value: Any) -> Any:
    # Scalars go as untyped text so PostgreSQL casts them to each parameter's type (uuid, date,
    # int...) and reports a bad one; objects and arrays are jsonb arguments.
    if value is None:
        return None
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (dict, list)):
        return Jsonb(value)
    text = str(value)
    if "\x00" in text:
        raise ClientException(f"{name} contains a NUL character")
    return text


@post("/rpc/{function:str}", status_code=200, summary="Call api.<function> with named arguments (admin token)")
async def rpc(request: Request, state: State, function: FromPath[str]) -> Response:
    settings = state.settings
    if not settings.admin_token:
        raise HTTPException(status_code=403, detail="RPC is disabled: set ADMIN_TOKEN to enable it")
    if not admin_authorized(settings, request.headers):
        raise NotAuthorizedException("missing or wrong admin token (Authorization: Bearer ...)")
    body = await request.body()
    if body.strip():
        media_type = request.content_type[0].lower()
        if media_type != "application/json" and not media_type.endswith("+json"):
            raise HTTPException(status_code=415, detail="send the arguments as application/json")
        try:
            args = parse_json_object(body)
        except PayloadError as exc:
            raise ClientException(str(exc)) from exc
    else:
        args = {}
    for name in args:
        if not _ARG.fullmatch(name):
            raise ClientException("argument names are the function's parameter names, e.g. org_id")
    if not _NAME.fullmatch(function):
        raise NotFoundException(f"no api function {function[:64]!r}")
    async with state.pool.connection() as conn:
        cur = await conn.execute(_EXPOSED_SQL, [function, API_ROLE])
        row = await cur.fetchone()
        if not (row and row[0]):
            raise NotFoundException(f"no api function {function!r}")
        result = await call(conn, function, **{k: _value(k, v) for k, v in args.items()})
    return Response(result, status_code=200)
