"""Vapi's server URL (``POST /vapi/webhook``) and the seed's per-tool endpoints.

Every request is authenticated on its raw bytes before anything is parsed, and bodies are never
logged: they carry callers' numbers and, at times, Vapi's echo of our own configuration.
"""

from __future__ import annotations

import json
import logging
from datetime import UTC, datetime
from typing import Any

import psycopg
from litestar import Request, Response, Router, post
from litestar.datastructures import State
from litestar.exceptions import ClientException, HTTPException, NotAuthorizedException
from psycopg.types.json import Jsonb
from pydantic import ValidationError

from voxbook.api.assistant import assistant_config
from voxbook.api.auth import vapi_authorized
from voxbook.api.errors import HttpError
from voxbook.db import ApiError, call
from voxbook.api.vapi_payloads import (
    CallContext,
    Envelope,
    Message,
    PayloadError,
    SeedEnvelope,
    context_of,
    normalize,
    parse_json_object,
    parse_model,
    tool_calls_of,
    validation_summary,
)
from voxbook.api.vapi_tools import TOOLS, ClinicCache, Ctx, Tool, answer, camelize, context_value, resolve_clinic

# Vapi's informational messages: nothing to do, answer 200 {} quickly.
INFORMATIONAL = {
    "status-update", "conversation-update", "hang", "speech-update", "transcript", "user-interrupted",
    "model-output", "voice-input", "phone-call-control",
    "transfer-update", "assistant.started", "chat.created", "chat.deleted", "session.created",
    "session.updated", "session.deleted", "call.endpointing.request", "tool-calls-result",
}
MAX_TOOL_CALLS = 20   # per message; a model asking for more at once is confused, not busy
# The transcriber switched language (Deepgram "multi" detected another one): recorded for the call, so its
# spoken lines and the texts of the booking it makes follow (api.set_call_language). Vapi's field: "language".
LANGUAGE_MESSAGES = {"language-changed", "language-change-detected"}

# The only lines the assistant says that are worded here, not in the message catalogue
# (db/functions/16_messages.sql), because there is no database answer to word them from:
# UNAVAILABLE when the database cannot answer a tool call (down, every pooled connection busy for 2 s, a
# statement or lock timeout, a deadlock retried in vain) -- Vapi ignores any answer but a 200 ("Always
# return HTTP 200, even for errors"), so a 503 left the assistant with nothing to say; NOT_SET_UP when the
# dialled number is no clinic's (no clinic, no language); SEED_ERROR for the seed's endpoints when a call
# ends in an error, not a result (the error's developer text goes in toolResult). The tool definitions'
# request-start/-failed lines, said before any answer exists, are in api/vapi_tools.py TOOLS.
# (It promises no person: with the database away no callback request could be recorded.)
UNAVAILABLE = ("I'm having trouble reaching the schedule right now. "
               "Please call back in a few minutes, or ask me to transfer you to the front desk.")
# transfer_to_front_desk when the database cannot say where to: Vapi speaks this and stays on the call.
TRANSFER_UNAVAILABLE = "I can't transfer you right now. Please call the clinic back in a few minutes."
NOT_SET_UP = "Sorry, this number is not set up for bookings yet. Please call back later."
SEED_ERROR = "Sorry, something went wrong with that."

log = logging.getLogger("voxbook.vapi")


def _unavailable(name: str | None, exc: psycopg.OperationalError) -> dict[str, Any]:
    # The SQLSTATE (or the exception's class) only: a message may quote the statement's values.
    log.warning("tool %s: database unavailable (%s)", (name or "?")[:64],
                getattr(exc, "sqlstate", None) or type(exc).__name__)
    return {"error": UNAVAILABLE}


async def authorized_json(request: Request) -> dict[str, Any]:
    """The body as a JSON object, once the caller has proven to be Vapi. 401 / 415 / 400 otherwise."""
    body = await request.body()   # over request_max_body_size: 413 from Litestar
    if not vapi_authorized(request.app.state.settings, request.headers, body):
        raise NotAuthorizedException("missing or wrong Vapi credentials")
    media_type = request.content_type[0].lower()
    if media_type != "application/json" and not media_type.endswith("+json"):
        raise HTTPException(status_code=415, detail="send the body as application/json")
    try:
        return parse_json_object(body)
    except PayloadError as exc:
        raise ClientException(str(exc)) from exc


# Messages whose answer Vapi waits for (or informational ones it ignores): a field of the wrong type (an array
# where Vapi's schema has an object, a number for a string) is dropped, not the message. A 400 left the assistant
# with nothing to say. Tool calls and end-of-call reports keep their 400: a broken one is not acted on.
LENIENT = {"assistant-request", "transfer-destination-request", "status-update"} | LANGUAGE_MESSAGES


def _envelope(data: dict[str, Any]) -> Envelope:
    message = data.get("message")
    kind = message.get("type") if isinstance(message, dict) else None
    if not isinstance(kind, str) or kind not in LENIENT:
        return _model(Envelope, data)
    for _ in range(20):
        try:
            return Envelope.model_validate(data)
        except ValidationError as exc:
            dropped = False
            for err in exc.errors(include_input=False, include_url=False):
                # The innermost key of the path that is in the body (a union adds its member types to the path).
                parent, key, node = None, None, data
                for part in err.get("loc", ()):
                    if not (isinstance(node, dict) and part in node):
                        break
                    parent, key, node = node, part, node[part]
                if parent is not None and parent is not data and key != "type" and key in parent:
                    del parent[key]
                    dropped = True
            if not dropped:
                raise ClientException(validation_summary(exc)) from exc
    return _model(Envelope, data)


def _model(model: type, data: dict[str, Any]) -> Any:
    try:
        return parse_model(model, data)
    except PayloadError as exc:
        raise ClientException(str(exc)) from exc


def _vapi_result(nc_id: str | None, name: str | None, response: dict[str, Any]) -> dict[str, Any]:
    item: dict[str, Any] = {"toolCallId": nc_id, "name": name or ""}
    if "error" in response:
        item["error"] = response["error"]
    else:
        item["result"] = response["result"]
        if response.get("message"):
            item["message"] = {"type": "request-complete", "content": response["message"]}
    return item


def clinic_cache(state: State) -> ClinicCache:
    """The app's clinics by dialled number (see ClinicCache): tool calls, the hot path, use it."""
    cache = state.get("vapi_clinic_cache")
    if cache is None:
        cache = state["vapi_clinic_cache"] = ClinicCache()
    return cache


async def _clinic_for(conn, state: State, cache: dict[str, Any], call_ctx: CallContext, args: dict[str, Any] | None):
    # Only the seed's tenantId argument can differ between calls of one message.
    key = "" if (call_ctx.called_number or call_ctx.tenant_id) else (context_value(args or {}, "tenantId") or "")
    if key not in cache:
        cache[key] = await resolve_clinic(conn, call_ctx, args, clinic_cache(state))
    return cache[key]


async def _tool_calls(state: State, msg: Message, seed_tool: str | None = None) -> dict[str, Any]:
    calls = tool_calls_of(msg)
    if not calls:
        raise ClientException("no tool calls in the message (toolCallList is empty)")
    call_ctx = context_of(msg)
    results: list[dict[str, Any]] = []
    cache: dict[str, Any] = {}
    down: psycopg.OperationalError | None = None
    try:
        async with state.pool.connection() as conn:   # waits at most the pool's timeout (api/app.py)
            for i, nc in enumerate(calls):
                if i >= MAX_TOOL_CALLS:
                    response = {"error": f"more than {MAX_TOOL_CALLS} tool calls in one message; nothing was done"}
                elif down is not None:
                    # Vapi waits for the whole message: one timeout is enough, the rest are not tried.
                    response = _unavailable(nc.name, down)
                else:
                    try:
                        ctx = await _clinic_for(conn, state, cache, call_ctx, nc.arguments)
                        response = await answer(conn, nc, ctx, seed_tool=seed_tool)
                    except psycopg.OperationalError as exc:
                        # It stored nothing, so Vapi's redelivery or the assistant's next call may succeed.
                        down = exc
                        response = _unavailable(nc.name, exc)
                results.append(_vapi_result(nc.id, nc.name, response))
    except psycopg.OperationalError as exc:
        # No connection at all (PoolTimeout), or the server went away as the connection was returned:
        # every call not answered yet gets the spoken error.
        for nc in calls[len(results):]:
            results.append(_vapi_result(nc.id, nc.name, _unavailable(nc.name, exc)))
    return {"results": results}


def _when(value: str | int | float | None) -> str | None:
    # An end-of-call report is stored whatever its times say: one that is not a time is unknown (None),
    # and the database treats one out of its range the same way.
    try:
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            seconds = value / 1000 if value > 1e11 else value
            return datetime.fromtimestamp(seconds, UTC).isoformat()
        if isinstance(value, str):
            return datetime.fromisoformat(value.strip()).isoformat()
    except (OverflowError, OSError, ValueError):
        pass
    return None


def _text(value: Any) -> Any:
    # PostgreSQL's text and jsonb cannot hold NUL; JSON can ("\u0000"). Dropping it keeps the report.
    if isinstance(value, str):
        return value.replace("\x00", "")
    if isinstance(value, dict):
        return {_text(k): _text(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_text(v) for v in value]
    return value


def _seconds(value: int | float | None) -> int | None:
    # Only what fits the parameter (int4): a report is not refused over a nonsensical duration.
    if value is None or not -2**31 < value < 2**31:
        return None
    return int(value)


async def _end_of_call(state: State, msg: Message) -> Response:
    call_ctx = context_of(msg)
    art, analysis = msg.artifact, msg.analysis
    sd = analysis.structuredData if analysis else None
    evaluation = analysis.successEvaluation if analysis else None
    if isinstance(evaluation, bool):
        evaluation = "true" if evaluation else "false"
    started, ended = _when(msg.startedAt), _when(msg.endedAt)
    async with state.pool.connection() as conn:
        ctx = await resolve_clinic(conn, call_ctx, None)
        if not isinstance(ctx, Ctx):
            # 400 or 404, from VB400/VB404 (api/errors.py): reported as the database's code
            raise HttpError(ctx["status"], ctx["error"], code=f"VB{ctx['status']}")
        result = await call(
            conn, "record_call_end",
            org_id=ctx.org_id,
            call_id=call_ctx.call_id,
            started_at=started,
            ended_at=ended,
            customer_phone=call_ctx.caller,
            transcript=_text((art.transcript if art else None) or msg.transcript),
            summary=_text((analysis.summary if analysis else None) or msg.summary),
            structured_data=Jsonb(_text(sd)) if sd is not None else None,
            ended_reason=_text(msg.endedReason),
            success_evaluation=None if evaluation is None else _text(str(evaluation)),
            provider_call_sid=call_ctx.provider_call_sid,
            # Vapi's durationSeconds is unreliable: the database computes it from the times when it has them.
            duration_seconds=None if started and ended else _seconds(msg.durationSeconds),
        )
    return Response(camelize(result), status_code=200)


async def _language_changed(state: State, msg: Message) -> dict[str, Any]:
    """Records the caller's language for the call. Never an error to Vapi: an informational message whose
    failure (no clinic, no call id, the database away) only leaves the call in the language it had."""
    call_ctx = context_of(msg)
    language = (msg.language or "").strip()
    if not language or not call_ctx.call_id:
        return {}
    try:
        async with state.pool.connection() as conn:
            ctx = await resolve_clinic(conn, call_ctx, None, clinic_cache(state))
            if not isinstance(ctx, Ctx):
                return {}
            result = await call(conn, "set_call_language", org_id=ctx.org_id, call_id=call_ctx.call_id,
                                language=language[:35])
    except (psycopg.OperationalError, ApiError) as exc:
        log.warning("language change not recorded (%s)", getattr(exc, "sqlstate", None) or type(exc).__name__)
        return {}
    log.info("call language: %s", result.get("locale"))
    return {}


async def _transfer_destination(state: State, msg: Message) -> dict[str, Any]:
    """Vapi's transfer-destination-request (the transferCall tool has no destinations): the clinic's front desk
    while it is open, else {"error": <the line saying the front desk will call back>}, the callback request
    recorded (api.front_desk_transfer). Never an error status to Vapi."""
    call_ctx = context_of(msg)
    try:
        async with state.pool.connection() as conn:
            ctx = await resolve_clinic(conn, call_ctx, None, clinic_cache(state))
            if not isinstance(ctx, Ctx):
                return {"error": NOT_SET_UP}
            r = await call(conn, "front_desk_transfer", org_id=ctx.org_id, call_id=call_ctx.call_id,
                           caller_phone=call_ctx.caller)
    except (psycopg.OperationalError, ApiError) as exc:
        log.warning("transfer destination not answered (%s)", getattr(exc, "sqlstate", None) or type(exc).__name__)
        return {"error": TRANSFER_UNAVAILABLE}
    log.info("transfer destination: %s", "front desk" if r.get("transfer") else r.get("code"))
    if not r.get("transfer"):
        return {"error": r["message"]}
    return {"destination": {"type": "number", "number": r["destination"], "message": r["message"]}}


async def _transfer_failed(state: State, msg: Message) -> None:
    """A status-update or end-of-call-report whose endedReason says a transfer failed: a callback request
    (api.record_transfer_failure, once per call). Never in the way of the message's own handling."""
    reason = msg.endedReason
    call_ctx = context_of(msg)
    if not reason or "transfer" not in reason and "forwarding" not in reason or not call_ctx.call_id:
        return
    try:
        async with state.pool.connection() as conn:
            ctx = await resolve_clinic(conn, call_ctx, None, clinic_cache(state))
            if isinstance(ctx, Ctx):
                await call(conn, "record_transfer_failure", org_id=ctx.org_id, call_id=call_ctx.call_id,
                           caller_phone=call_ctx.caller, ended_reason=_text(reason)[:200])
    except (psycopg.OperationalError, ApiError) as exc:
        log.warning("failed transfer not recorded (%s)", getattr(exc, "sqlstate", None) or type(exc).__name__)


async def _assistant_request(state: State, msg: Message) -> dict[str, Any]:
    call_ctx = context_of(msg)
    caller = None
    async with state.pool.connection() as conn:
        ctx = await resolve_clinic(conn, call_ctx, None)
        if isinstance(ctx, Ctx) and call_ctx.caller:
            # Who is calling back (first name, next appointment), by the number Vapi saw: the greeting only.
            try:
                caller = await call(conn, "caller_greeting", org_id=ctx.org_id, caller_phone=call_ctx.caller)
            except ApiError as exc:
                log.warning("caller greeting skipped (%s)", exc.sqlstate)
    if not isinstance(ctx, Ctx):
        # Vapi speaks this to the caller and ends the call.
        return {"error": NOT_SET_UP}
    org = ctx.org
    # No server URL: tools and reports go where this request came from, with the same credential.
    return {"assistant": assistant_config(clinic=org["name"], time_zone=org["time_zone"], org_id=ctx.org_id,
                                          locale=org.get("locale") or "en-US", languages=org.get("languages"),
                                          caller=caller)}


async def vapi_webhook(request: Request, state: State) -> Response:
    data = await authorized_json(request)
    msg: Message = _envelope(data).message
    kind = msg.type
    if kind == "tool-calls":
        return Response(await _tool_calls(state, msg), status_code=200)
    if kind == "end-of-call-report":
        await _transfer_failed(state, msg)
        return await _end_of_call(state, msg)
    if kind == "transfer-destination-request":
        return Response(await _transfer_destination(state, msg), status_code=200)
    if kind == "status-update":
        await _transfer_failed(state, msg)
        return Response({}, status_code=200)
    if kind == "assistant-request":
        return Response(await _assistant_request(state, msg), status_code=200)
    if kind in LANGUAGE_MESSAGES:
        return Response(await _language_changed(state, msg), status_code=200)
    if kind in INFORMATIONAL or kind.startswith("transcript"):
        return Response({}, status_code=200)
    raise ClientException(f"unsupported message type {kind[:64]!r}")


def _seed_handler(tool: Tool, max_body_bytes: int):
    async def handler(request: Request, state: State) -> Response:
        data = await authorized_json(request)
        if "message" in data:   # Vapi pointed straight at this tool's URL
            msg: Message = _model(Envelope, data).message
            if msg.type != "tool-calls":
                raise ClientException("this endpoint takes tool-calls messages; use /vapi/webhook for the rest")
            return Response(await _tool_calls(state, msg, seed_tool=tool.name), status_code=200)
        env: SeedEnvelope = _model(SeedEnvelope, data)
        nc = normalize(env.toolCall, fallback_name=tool.name)
        async with state.pool.connection() as conn:
            ctx = await resolve_clinic(conn, context_of(env), nc.arguments, clinic_cache(state))
            response = await answer(conn, nc, ctx, seed_tool=tool.name, id_required=False)
        if "error" in response:
            content = json.dumps({"success": False, "error": response["error"]}, separators=(",", ":"))
            return Response({"toolResult": {"content": content}, "speech": SEED_ERROR},
                            status_code=response.get("status", 400))
        return Response({"toolResult": {"content": response["result"]}, "speech": response.get("message", "")},
                        status_code=200)

    return post(
        "/api/vapi/tools" + tool.seed_path, status_code=200, name=f"seed-{tool.name}",
        operation_id=f"seed_{tool.name}", summary=f"{tool.name} in the seed's request shape",
        request_max_body_size=max_body_bytes,
    )(handler)


def vapi_router(max_body_bytes: int) -> Router:
    """Vapi's endpoints, with their own body limit (Settings.max_body_bytes, MAX_BODY_BYTES): Vapi
    resends the whole conversation in every tool-calls message, several MB in a long call. Built
    per app because Litestar fixes a handler's limit on the handler object."""
    webhook = post("/vapi/webhook", status_code=200, request_max_body_size=max_body_bytes,
                   summary="Vapi server URL: tool calls, end-of-call reports, ...")(vapi_webhook)
    return Router(
        path="/",
        route_handlers=[webhook, *(_seed_handler(t, max_body_bytes) for t in TOOLS.values() if t.seed_path)],
        tags=["vapi"],
    )
