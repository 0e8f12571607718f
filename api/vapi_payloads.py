"""Vapi's server messages as they arrive, and the few things the adapter needs out of them.

Vapi's own documents disagree on several shapes (its server-message and tool-call references), so the models
accept every documented variant and :func:`tool_calls_of` folds them into one list. Unknown fields
are ignored: Vapi adds fields all the time and echoes whole configurations back to us.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any

import msgspec
from pydantic import BaseModel, ConfigDict, ValidationError

from voxbook.db import ApiError
from voxbook.phones import to_e164

# Every message names the clinic's number, and every tool call of a call its caller's: each spelling is read
# (phonenumbers, tens of microseconds) once per process, not once per request (bench/README.md, the profile).
# A pure function of its arguments; the answers are strings, shared safely. One cache for the whole adapter:
# api/vapi_tools.py reads the patient's phone -- most often the caller's own number -- through it too.
# (A refused number raises every time: lru_cache keeps answers, not exceptions.)
cached_to_e164 = lru_cache(maxsize=4096)(to_e164)


@lru_cache(maxsize=4096)
def _e164_or_raw(raw: str | None) -> str | None:
    # voxbook.phones.e164_or_raw over the shared cache: an international number in its E.164 spelling, anything
    # else (a short code, an alphanumeric sender) as it came, for the database to judge.
    try:
        return cached_to_e164(raw, None) or raw
    except ApiError:
        return raw

# A caller's message would otherwise be echoed (with phone numbers) in 400 bodies.
_CONFIG = ConfigDict(extra="ignore", hide_input_in_errors=True, populate_by_name=True)

# Ids are strings in Vapi's payloads; a number is tolerated rather than refused.
Id = str | int | None


class _Model(BaseModel):
    model_config = _CONFIG


class Customer(_Model):
    number: str | None = None


class PhoneNumber(_Model):
    id: str | None = None
    number: str | None = None


class AssistantRef(_Model):
    id: str | None = None
    metadata: dict[str, Any] | None = None


class AssistantOverrides(_Model):
    metadata: dict[str, Any] | None = None
    variableValues: dict[str, Any] | None = None


class Call(_Model):
    id: Id = None
    type: str | None = None
    phoneCallProviderId: str | None = None
    customer: Customer | None = None
    assistantOverrides: AssistantOverrides | None = None
    metadata: dict[str, Any] | None = None


class FunctionCall(_Model):
    name: str | None = None
    arguments: dict[str, Any] | str | None = None
    parameters: dict[str, Any] | str | None = None


class ToolCall(_Model):
    id: Id = None
    type: str | None = None
    function: FunctionCall | None = None
    # The flat form of the docs: {"id", "name", "parameters" | "arguments"}
    name: str | None = None
    arguments: dict[str, Any] | str | None = None
    parameters: dict[str, Any] | str | None = None


class ToolWithToolCall(_Model):
    type: str | None = None
    name: str | None = None
    function: FunctionCall | None = None
    toolCall: ToolCall | None = None


class Artifact(_Model):
    transcript: str | None = None
    messages: list[Any] | None = None


class Analysis(_Model):
    summary: str | None = None
    structuredData: Any = None
    successEvaluation: str | bool | int | float | None = None


class Message(_Model):
    type: str
    timestamp: str | int | float | None = None
    toolCallList: list[ToolCall] | None = None
    toolCalls: list[ToolCall] | None = None
    toolWithToolCallList: list[ToolWithToolCall] | None = None
    call: Call | None = None
    phoneNumber: PhoneNumber | None = None
    customer: Customer | None = None
    assistant: AssistantRef | None = None
    # end-of-call-report
    startedAt: str | int | float | None = None
    endedAt: str | int | float | None = None
    endedReason: str | None = None
    durationSeconds: int | float | None = None
    artifact: Artifact | None = None
    analysis: Analysis | None = None
    transcript: str | None = None
    summary: str | None = None
    status: str | None = None
    # language-changed / language-change-detected: the language the transcriber switched to (e.g. "es")
    language: str | None = None


class Envelope(_Model):
    message: Message


class SeedToolCall(_Model):
    """The seed's per-tool request: ``{"toolCall": {"arguments": {...}}}`` (id and name optional)."""

    id: Id = None
    name: str | None = None
    function: FunctionCall | None = None
    arguments: dict[str, Any] | str | None = None
    parameters: dict[str, Any] | str | None = None


class SeedEnvelope(_Model):
    toolCall: SeedToolCall
    # The seed's backend also resolved the clinic from the called number: accept the same context.
    call: Call | None = None
    phoneNumber: PhoneNumber | None = None
    customer: Customer | None = None


class PayloadError(ValueError):
    """The body is not a message we understand; ``str()`` is safe to return to the caller."""


def validation_summary(exc: ValidationError) -> str:
    """'message.toolCallList.0.id: Input should be ...' for the first few errors, no input values."""
    parts = []
    for err in exc.errors(include_input=False, include_url=False)[:3]:
        loc = ".".join(str(p) for p in err.get("loc", ())) or "body"
        parts.append(f"{loc}: {err.get('msg', 'invalid')}")
    return "; ".join(parts)


def parse_json_object(body: bytes) -> dict[str, Any]:
    """The one JSON decoder of request bodies (Vapi's webhooks and /rpc).

    msgspec, not the json module: json accepts what we cannot store or answer -- a lone UTF-16
    surrogate ("\\ud800", or its raw UTF-8 bytes), which psycopg cannot encode; an integer over 4,300
    digits, which Python refuses to print; NaN, Infinity and 1e999, which are not JSON at all. Each made
    every retry of a request a 500. msgspec refuses all of them (and integers beyond 64 bits), so they
    are the caller's 400 here, before anything is done."""
    try:
        data = msgspec.json.decode(body)
    except (msgspec.DecodeError, RecursionError) as exc:
        raise PayloadError("body is not valid JSON (UTF-8 text, no lone surrogates, integers within 64 bits, "
                           "finite numbers)") from exc
    if not isinstance(data, dict):
        raise PayloadError("body must be a JSON object")
    return data


def parse_model(model: type[_Model], data: dict[str, Any]) -> Any:
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        raise PayloadError(validation_summary(exc)) from exc


@dataclass
class CallContext:
    """What Vapi (not the model) tells us about the call: the trusted context of every tool call."""

    called_number: str | None = None
    tenant_id: str | None = None
    call_id: str | None = None
    caller: str | None = None
    provider_call_sid: str | None = None


def _meta_tenant(*metas: dict[str, Any] | None) -> str | None:
    for meta in metas:
        if meta:
            for key in ("tenantId", "orgId", "org_id"):
                value = meta.get(key)
                if isinstance(value, str) and value.strip():
                    return value.strip()
    return None


def context_of(msg: Message | SeedEnvelope) -> CallContext:
    call = msg.call
    metas: list[dict[str, Any] | None] = []
    if isinstance(msg, Message) and msg.assistant:
        metas.append(msg.assistant.metadata)
    if call and call.assistantOverrides:
        metas.append(call.assistantOverrides.metadata)
    if call:
        metas.append(call.metadata)
    caller = (call.customer.number if call and call.customer else None) or (
        msg.customer.number if msg.customer else None
    )
    return CallContext(
        # E.164 from Vapi, in one spelling (the clinic cache's key); the caller is read by the clinic's
        # country once the clinic is known (api/vapi_tools.py), else kept as it came (e.g. 'anonymous').
        called_number=_e164_or_raw(msg.phoneNumber.number) if msg.phoneNumber else None,
        tenant_id=_meta_tenant(*metas),
        call_id=str(call.id) if call and call.id is not None and str(call.id).strip() else None,
        caller=_e164_or_raw(caller) or None,
        provider_call_sid=call.phoneCallProviderId if call else None,
    )


@dataclass
class NormalizedCall:
    """One tool call: its id and name as Vapi sent them, its arguments or why they are unusable."""

    id: str | None
    name: str | None
    arguments: dict[str, Any] = field(default_factory=dict)
    problem: str | None = None


def _arguments(raw: dict[str, Any] | str | None) -> tuple[dict[str, Any], str | None]:
    # The spec says a JSON string, real payloads carry an object: both are fine.
    if raw is None:
        return {}, None
    if isinstance(raw, dict):
        return raw, None
    if not raw.strip():
        return {}, None
    try:
        parsed = msgspec.json.decode(raw)   # as parse_json_object: no lone surrogates, no huge numbers
    except (msgspec.DecodeError, RecursionError):
        return {}, "arguments are not valid JSON"
    if not isinstance(parsed, dict):
        return {}, "arguments must be a JSON object"
    return parsed, None


def normalize(tc: ToolCall | SeedToolCall, fallback_name: str | None = None) -> NormalizedCall:
    fn = tc.function
    name = (fn.name if fn and fn.name else None) or tc.name or fallback_name
    raw: dict[str, Any] | str | None = None
    for candidate in (fn.arguments if fn else None, fn.parameters if fn else None, tc.arguments, tc.parameters):
        if candidate is not None:
            raw = candidate
            break
    args, problem = _arguments(raw)
    tc_id = str(tc.id) if tc.id is not None and str(tc.id).strip() else None
    return NormalizedCall(id=tc_id, name=name.strip() if name else None, arguments=args, problem=problem)


def tool_calls_of(msg: Message) -> list[NormalizedCall]:
    """toolCallList, else toolCalls, else toolWithToolCallList[].toolCall: Vapi sends the same calls in all."""
    if msg.toolCallList:
        return [normalize(tc) for tc in msg.toolCallList]
    if msg.toolCalls:
        return [normalize(tc) for tc in msg.toolCalls]
    out = []
    for item in msg.toolWithToolCallList or []:
        tool_name = (item.function.name if item.function else None) or item.name
        if item.toolCall is None:
            out.append(NormalizedCall(id=None, name=tool_name, problem="toolCall is missing"))
        else:
            out.append(normalize(item.toolCall, fallback_name=tool_name))
    return out
