"""``/rpc/{function}``: any function of schema ``api`` over HTTP, as PostgREST serves it.

For dashboards and scripts (not for Vapi): its own token (ADMIN_TOKEN, Bearer). ``POST`` takes a JSON object of
named arguments; ``GET`` takes them in the query string, for STABLE and IMMUTABLE functions only (a VOLATILE one
may change data, and GET must not: 405). The function's result comes out; errors are PostgREST's body
(api/errors.py). Only functions role voxbook_rpc may execute are reachable, so the set is exactly what
db/functions/99_grants.sql grants that audience: never an internal helper, never one of the functions for the
server's own processes (password hashes, sessions, stored credentials' ciphertext). The argument names are checked against the
function's parameters first, so a misspelt or missing one is PostgREST's 404 PGRST202 naming the right ones.
"""

from __future__ import annotations

import difflib
import json
import re
from dataclasses import dataclass
from typing import Any

from litestar import Request, Response, Router, get, post
from litestar.datastructures import State
from litestar.params import FromPath
from psycopg.types.json import Jsonb

from voxbook.api.auth import admin_authorized, bearer_token
from voxbook.api.errors import HttpError
from voxbook.api.vapi_payloads import PayloadError, parse_json_object
from voxbook.db import call

# The audience /rpc serves (migration 0038): db/functions/99_grants.sql grants it EXECUTE on the api functions
# less those for the server's own processes, so the rule lives once, in the database. /rpc checks each call
# against it rather than SET ROLE to it: on Citus a delegated function runs over a connection to a worker opened
# as the current role, which a NOLOGIN role cannot open; the check is on the very function then called (no two
# api functions share a name, and its signature comes from the same query).
RPC_ROLE = "voxbook_rpc"
_NAME = re.compile(r"[a-z_][a-z0-9_]{0,62}")
_ARG = re.compile(r"[A-Za-z_][A-Za-z0-9_]{0,62}")

# Every overload of api.<name> the /rpc role may execute: its input parameters (name, or '' for an unnamed one,
# in order) and their types, how many of the last have defaults, and its volatility ('v', 's' or 'i').
_SIGNATURES_SQL = """
SELECT CASE WHEN p.proargnames IS NULL THEN array_fill(''::text, ARRAY[p.pronargs])
            ELSE ARRAY(SELECT coalesce(a.name, '') FROM unnest(p.proargnames, p.proargmodes::text[]) AS a(name, mode)
                        WHERE coalesce(a.mode, 'i') IN ('i', 'b', 'v')) END AS inputs,
       ARRAY(SELECT t::regtype::text FROM unnest(p.proargtypes::oid[]) AS t) AS types,
       p.pronargs, p.pronargdefaults, p.provolatile::text AS volatility
  FROM pg_catalog.pg_proc AS p
  JOIN pg_catalog.pg_namespace AS n ON n.oid = p.pronamespace
 WHERE n.nspname = 'api' AND p.proname = %s AND p.prokind = 'f'
   AND pg_catalog.has_function_privilege(%s, p.oid, 'EXECUTE')
"""
_NAMES_SQL = """
SELECT DISTINCT p.proname::text
  FROM pg_catalog.pg_proc AS p
  JOIN pg_catalog.pg_namespace AS n ON n.oid = p.pronamespace
 WHERE n.nspname = 'api' AND p.prokind = 'f' AND pg_catalog.has_function_privilege(%s, p.oid, 'EXECUTE')
"""


@dataclass(frozen=True)
class _Signature:
    inputs: list[str]
    required: frozenset[str]
    volatile: bool
    json_inputs: frozenset[str]   # the json/jsonb parameters: an object or array goes to them as jsonb
    array_inputs: frozenset[str]  # the array parameters (uuid[], text[]...): a JSON array goes as an array literal

    def accepts(self, names: set[str]) -> bool:
        return names <= set(self.inputs) and self.required <= names


def _value(value: Any, json_param: bool, array_param: bool = False) -> Any:
    # Values go as untyped text so PostgreSQL casts them to each parameter's type (uuid, date, int...) and
    # reports a bad one with its SQLSTATE (22P02...), as PostgREST does; objects and arrays are jsonb for a
    # json/jsonb parameter, a JSON array is an array literal for an array parameter (PostgREST takes both), and
    # anything else goes as its JSON text (an array for a uuid: 22P02, not "no such function").
    if value is None:
        return None
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, list) and array_param:
        return _array_literal(value)
    if isinstance(value, (dict, list)):
        return Jsonb(value) if json_param else json.dumps(value)
    return str(value)


def _array_literal(values: list[Any]) -> str:
    # Every element quoted (a backslash and a double quote escaped), so no element can open another or close
    # the array; null is NULL; PostgreSQL then casts each to the element type and names a bad one (22P02).
    def element(v: Any) -> str:
        if v is None:
            return "NULL"
        text = _value(v, False)
        return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'
    return "{" + ",".join(element(v) for v in values) + "}"


def _authorize(request: Request, state: State) -> None:
    settings = state.settings
    if not settings.admin_token:
        raise HttpError(403, "RPC is disabled: set ADMIN_TOKEN to enable it")
    if not admin_authorized(settings, request.headers):
        missing = bearer_token(request.headers) is None
        raise HttpError(401, "no admin token" if missing else "wrong admin token",
                        code="PGRST302" if missing else "PGRST301",
                        hint="Send Authorization: Bearer <ADMIN_TOKEN>.", headers={"WWW-Authenticate": "Bearer"})


async def _signatures(conn, function: str) -> list[_Signature]:
    rows = await (await conn.execute(_SIGNATURES_SQL, [function, RPC_ROLE])).fetchall()
    # An unnamed parameter is '': no argument name matches it, so a required one makes the overload unreachable.
    return [_Signature(inputs=list(inputs), required=frozenset(inputs[:nargs - ndefaults]), volatile=volatility == "v",
                       json_inputs=frozenset(n for n, t in zip(inputs, types) if t in ("json", "jsonb")),
                       array_inputs=frozenset(n for n, t in zip(inputs, types) if t.endswith("[]")))
            for inputs, types, nargs, ndefaults, volatility in rows]


async def _not_found(conn, function: str, names: set[str], signatures: list[_Signature]) -> HttpError:
    """PostgREST's PGRST202, with a hint at what exists: the function's own parameters, or close names."""
    message = f"Could not find the function api.{function[:64]}({', '.join(sorted(names))})"
    if signatures:
        hint = "; ".join(f"Perhaps you meant to call the function api.{function}({', '.join(s.inputs)})"
                         for s in signatures)
        return HttpError(404, message, code="PGRST202", hint=hint,
                         details=f"api.{function} takes no such combination of arguments")
    rows = await (await conn.execute(_NAMES_SQL, [RPC_ROLE])).fetchall()
    close = difflib.get_close_matches(function[:64], [r[0] for r in rows], n=3)
    hint = ("Perhaps you meant to call the function " + " or ".join(f"api.{c}" for c in close)) if close else None
    return HttpError(404, message, code="PGRST202", hint=hint)


async def _run(request: Request, state: State, function: str, args: dict[str, Any], *, read_only: bool) -> Response:
    for name in args:
        if not _ARG.fullmatch(name):
            raise HttpError(404, f"Could not find the function api.{function[:64]} with an argument named that",
                            code="PGRST202", hint="Argument names are the function's parameter names, e.g. org_id.")
    names = set(args)
    async with state.pool.connection() as conn:
        signatures = await _signatures(conn, function) if _NAME.fullmatch(function) else []
        matching = [s for s in signatures if s.accepts(names)]
        if not matching:
            raise await _not_found(conn, function, names, signatures)
        if read_only and any(s.volatile for s in matching):
            raise HttpError(405, f"api.{function} is VOLATILE: it may change data, so GET cannot call it",
                            code="PGRST101", hint="Call it with POST.", headers={"Allow": "POST"})
        json_inputs, array_inputs = matching[0].json_inputs, matching[0].array_inputs
        result = await call(conn, function, **{k: _value(v, k in json_inputs, k in array_inputs) for k, v in args.items()})
    return Response(result, status_code=200)


@post("/{function:str}", status_code=200, summary="Call api.<function> with named arguments (admin token)")
async def rpc_post(request: Request, state: State, function: FromPath[str]) -> Response:
    _authorize(request, state)
    body = await request.body()
    if body.strip():
        media_type = request.content_type[0].lower()
        if media_type != "application/json" and not media_type.endswith("+json"):
            raise HttpError(415, "send the arguments as application/json")
        try:
            args = parse_json_object(body)
        except PayloadError as exc:
            raise HttpError(400, str(exc)) from exc
    else:
        args = {}
    return await _run(request, state, function, args, read_only=False)


@get("/{function:str}", summary="Call a STABLE or IMMUTABLE api.<function>, arguments in the query (admin token)")
async def rpc_get(request: Request, state: State, function: FromPath[str]) -> Response:
    _authorize(request, state)
    args: dict[str, Any] = {}
    for name, value in request.query_params.multi_items():
        if name in args:
            raise HttpError(400, f"{name[:64]} is given more than once", code="PGRST100")
        args[name] = value
    return await _run(request, state, function, args, read_only=True)


rpc = Router(path="/rpc", route_handlers=[rpc_post, rpc_get])
