"""The booking tools the voice assistant calls: which api function each one is, and what to say.

One table (:data:`TOOLS`) names every tool, its arguments (the seed's names) and the api function
parameter each feeds. The webhook reads arguments through it and ``voxbook vapi-config`` builds the
assistant's tool definitions from it, so the two cannot drift apart.

Nothing here decides a booking question: free or taken, right or wrong code, hot or not are the
database's answers, and so is what the assistant says: api.run_tool_call (or api.run_tool) returns the
function's result with its spoken line from the message catalogue (db/functions/16_messages.sql). This
module only turns the result into the seed's camelCase keys and passes the line on.
"""

from __future__ import annotations

import json
import logging
import re
import time
from collections.abc import Callable
from dataclasses import dataclass, replace
from functools import lru_cache
from typing import Any

import psycopg
from phonenumbers import SUPPORTED_REGIONS
from psycopg.types.json import Jsonb

from voxbook.api.errors import http_status
from voxbook.api.vapi_payloads import CallContext, NormalizedCall, cached_to_e164
from voxbook.db import ApiError, call
from voxbook.phones import e164_or_none

log = logging.getLogger("voxbook.vapi")

# A caller's number is read in every tool call of their call (and the patient's phone is usually the same):
# parsed once per process per spelling and country (api/vapi_payloads.py, cached_to_e164, whose cache the
# webhook's reading of the caller's number filled already). A refused number raises every time (lru_cache keeps
# answers, not exceptions).
_e164_or_none = lru_cache(maxsize=4096)(e164_or_none)


def _to_e164(raw: str, country: str | None) -> str | None:
    """voxbook.phones.to_e164, cached. A number written in its international form ('+' first) reads the same in
    every country (libphonenumber ignores the default region then), so it is looked up under no country: the
    key under which the webhook read the caller's number, so the patient's phone -- most often that number --
    is not parsed a second time (~15 % of the process's time on a first tool call; bench/README.md, issue 18).
    An unknown country is still refused as to_e164 refuses it."""
    if raw.lstrip().startswith("+") and (country is None or country.upper() in SUPPORTED_REGIONS):
        return cached_to_e164(raw, None)
    return cached_to_e164(raw, country)


@dataclass(frozen=True)
class Arg:
    name: str                      # what the model sends (the seed's camelCase name)
    param: str | None              # the api function's parameter; None = accepted and ignored
    type: str = "string"           # JSON Schema type, for the assistant's tool definition
    description: str = ""
    required: bool = False
    aliases: tuple[str, ...] = ()
    caller_fallback: bool = False  # use Vapi's call.customer.number when the model gives none
    advertised: bool = True        # part of the tool definition the model sees
    default: str | None = None     # passed when the model gives no value
    default_unless: str | None = None  # ... and no value for this other parameter either


@dataclass(frozen=True)
class Tool:
    name: str
    function: str
    description: str
    args: tuple[Arg, ...]
    request_start: str
    request_failed: str
    seed_path: str | None = None
    pass_call_sid: bool = False
    # The caller's own appointments (db/functions/42_my_appointments.sql): the function gets the trusted caller
    # number (Vapi's call.customer.number, never an argument of the model) as caller_phone and call.id as call_id.
    pass_caller: bool = False

    def accepted_names(self) -> set[str]:
        names = {a.name for a in self.args} | {n for a in self.args for n in a.aliases}
        return names | CONTEXT_ARGS


# Static parameters Vapi merges into every call's arguments (see api/assistant.py), and the seed's
# explicit clinic id. Read as context, never as a booking parameter.
CONTEXT_ARGS = {"tenantId", "callId", "callerNumber"}

_SLOT = "The slot's time exactly as check_availability returned it (its \"time\", UTC ISO 8601)."
_PHONE = "The patient's mobile number for the text message; leave it out to use the number they call from."


_ON_FILE = ("Only when the caller's appointments are under another number than the one they call from (or "
            "theirs is withheld): that number, as they say it.")
# Which of the caller's appointments: one of these (find_my_appointments lists them with appointmentId and position).
_WHICH_ONE = (
    Arg("appointmentId", "appointment_id", description="The appointmentId find_my_appointments gave."),
    Arg("which", "which", "integer", "Its position in find_my_appointments' list: 1 for the first (soonest)."),
    Arg("when", "at", description="When it is, as the caller said it, in the clinic's local time: a date "
        "YYYY-MM-DD, a date and time YYYY-MM-DD HH:MM, a time HH:MM, or a weekday (Tuesday)."),
    Arg("phoneOnFile", "phone", description=_ON_FILE),
)

# Free times a check_availability tool call asks the database for (spread over the day), unless the
# model asks for the earliest N with maxSlots: the assistant offers three.
SPOKEN_SLOTS_ASKED = 3


class ToolError(Exception):
    """A tool call the adapter refuses before the database sees it (unknown tool, bad argument)."""


# -- answers -------------------------------------------------------------------------------


def one_line(text: str) -> str:
    # Vapi's parser breaks on line breaks in result strings.
    return " ".join(str(text).split())


# -- the tools ------------------------------------------------------------------------------

_SERVICE = Arg("service", "service", description="The service, e.g. consultation, cleaning, teeth whitening.",
               aliases=("serviceType",))

# Every tool takes the caller's language: the database records it for the call (the hold, the code and the
# appointment's texts follow) and words its answer in it; one the clinic does not offer gets its default.
_LANGUAGE = Arg("language", "language",
                description="The language the caller speaks, if not the clinic's usual one: an ISO 639-1 code, e.g. es.")

TOOLS: dict[str, Tool] = {t.name: replace(t, args=(*t.args, _LANGUAGE)) for t in (
    Tool(
        "check_availability", "check_availability",
        "Free appointment times of the clinic for a date, in the clinic's time zone. Call it before offering times.",
        (
            Arg("date", "date", description="The local date to look at, YYYY-MM-DD.", required=True),
            Arg("calendarId", "calendar_id", description="Only this provider's calendar (its calendarId)."),
            _SERVICE,
            Arg("days", "days", "integer", "How many days from date to look at (default 1)."),
            # The model reads (and Vapi bills) every byte of a result, and the assistant speaks three
            # times: a whole day was ~4.3 KB. Three spread over the day are asked for, and the line says
            # when there are more; maxSlots asks for the earliest N instead.
            Arg("maxSlots", "max_slots", "integer", "At most this many times, the earliest.", advertised=False),
            Arg("spread", "spread", "integer", advertised=False, default=str(SPOKEN_SLOTS_ASKED),
                default_unless="max_slots"),
        ),
        "Let me check the schedule.", "I couldn't reach the schedule just now.",
        seed_path="/calendar/check",
    ),
    Tool(
        "reserve_atomic", "claim_slot_atomic",
        "Holds one slot for the caller for a few minutes so nobody else can take it. "
        "Call it once the caller has chosen a time, before sending the code.",
        (
            Arg("slotId", "slot_time", description=_SLOT, required=True),
            Arg("calendarId", "calendar_id", description="The slot's calendarId from check_availability.",
                required=True),
            Arg("patientName", "patient_name", description="The caller's full name.", required=True),
            Arg("patientPhone", "patient_phone", description=_PHONE, caller_fallback=True),
            _SERVICE,
        ),
        "One moment while I hold that time.", "I couldn't hold that time just now.",
        seed_path="/booking/reserve-atomic", pass_call_sid=True,
    ),
    Tool(
        "send_otp_code", "send_otp_code",
        "Texts the caller a one-time code to confirm the held slot. Call it right after reserve_atomic succeeds.",
        (
            Arg("holdId", "hold_id", description="The holdId returned by reserve_atomic.", required=True),
            Arg("patientPhone", "patient_phone", description=_PHONE),
        ),
        "I'm sending you a code now.", "I couldn't send the code just now.",
        seed_path="/booking/send-otp",
    ),
    Tool(
        "verify_otp", "verify_otp",
        "Checks the code the caller reads back; when right, the appointment is confirmed.",
        (
            Arg("holdId", "hold_id", description="The holdId returned by reserve_atomic.", required=True),
            Arg("providedOTP", "code", description="The digits the caller read out, e.g. 4821.", required=True,
                aliases=("code", "otp")),
            Arg("contactId", "contact_id", description="Only if known: the caller's contact id.", advertised=False),
            Arg("service", "service", description="The service, if not given when reserving.", advertised=False,
                aliases=("serviceType",)),
        ),
        "Let me check that code.", "I couldn't check the code just now.",
        seed_path="/booking/verify-otp",
    ),
    Tool(
        "send_confirmation_sms", "send_confirmation_sms",
        "Makes sure the booking confirmation text is on its way. Call it after verify_otp succeeds.",
        (
            Arg("appointmentId", "appointment_id", description="The appointmentId returned by verify_otp.",
                required=True),
            # The seed sends these too; the appointment already knows its patient.
            Arg("patientPhone", None, advertised=False),
            Arg("contactId", None, advertised=False),
        ),
        "Sending your confirmation.", "I couldn't send the confirmation just now.",
        seed_path="/booking/send-confirmation",
    ),
    Tool(
        "cancel_appointment", "cancel_appointment",
        "Cancels the caller's appointment.",
        (
            Arg("appointmentId", "appointment_id", description="The appointment's id.", required=True),
            Arg("reason", "reason", description="Why, in a few words, if the caller said."),
            Arg("patientPhone", "patient_phone", description="The number the appointment was booked with; "
                "leave it out to use the number they call from.", caller_fallback=True),
        ),
        "Let me cancel that.", "I couldn't cancel it just now.",
        seed_path="/booking/cancel",
    ),
    Tool(
        "reschedule_appointment", "reschedule_appointment",
        "Moves the caller's appointment to another free slot (from check_availability).",
        (
            Arg("appointmentId", "appointment_id", description="The appointment's id.", required=True),
            Arg("slotId", "slot_time", description=_SLOT, required=True),
            Arg("calendarId", "calendar_id", description="The new slot's calendarId, if another provider."),
            Arg("patientPhone", "patient_phone", description="The number the appointment was booked with; "
                "leave it out to use the number they call from.", caller_fallback=True),
        ),
        "Let me move that for you.", "I couldn't move it just now.",
        seed_path="/booking/reschedule",
    ),
    # Returning callers: the appointments of the number they call from, or of one they name and prove with a code.
    Tool(
        "find_my_appointments", "find_my_appointments",
        "The caller's upcoming appointments, found by the number they are calling from. If they call from another "
        "number (or it is withheld), pass the number their appointments are under as phoneOnFile: a code is texted "
        "to it; call again with the code they read back. Nothing is read out before that.",
        (
            Arg("phoneOnFile", "phone", description=_ON_FILE),
            Arg("code", "code", description="The digits of the code texted to phoneOnFile, as the caller reads them.",
                aliases=("providedOTP",)),
        ),
        "Let me look up your appointments.", "I couldn't look up your appointments just now.",
        pass_caller=True,
    ),
    Tool(
        "cancel_my_appointment", "cancel_my_appointment",
        "Cancels one of the caller's upcoming appointments (from find_my_appointments): give its appointmentId, "
        "its position in that list, or when it is. Confirm with the caller first.",
        (*_WHICH_ONE, Arg("reason", "reason", description="Why, in a few words, if the caller said.")),
        "Let me cancel that.", "I couldn't cancel it just now.",
        pass_caller=True,
    ),
    Tool(
        "reschedule_my_appointment", "reschedule_my_appointment",
        "Moves one of the caller's upcoming appointments (from find_my_appointments) to a free slot from "
        "check_availability: give the new slotId and which appointment (appointmentId, position or when).",
        (
            Arg("slotId", "slot_time", description=_SLOT, required=True),
            Arg("calendarId", "calendar_id", description="The new slot's calendarId, if another provider."),
            *_WHICH_ONE,
        ),
        "Let me move that for you.", "I couldn't move it just now.",
        pass_caller=True,
    ),
    # The waitlist (db/functions/48_waitlist.sql): offers are texted to the number the caller calls from (Vapi's
    # call.customer.number, never the model's), and a BOOK reply from it takes one.
    Tool(
        "join_waitlist", "join_waitlist",
        "Puts the caller on the waitlist when no offered time suits them: a freed time in their window is texted to "
        "the number they call from, and replying BOOK takes it. Confirm the days and times with the caller first.",
        (
            Arg("firstDay", "first_day", description="The first local date that suits them, YYYY-MM-DD.",
                required=True),
            Arg("lastDay", "last_day", description="The last local date that suits them, YYYY-MM-DD (default: "
                "firstDay only; at most about two months)."),
            Arg("fromTime", "from_time", description="The earliest local start time that suits them, HH:MM "
                "(default: any)."),
            Arg("toTime", "to_time", description="The latest local start time that suits them, HH:MM (default: any)."),
            _SERVICE,
            Arg("calendarId", "calendar_id", description="Only this provider (its calendarId), if the caller "
                "wants only them."),
            Arg("patientName", "patient_name", description="The caller's full name."),
        ),
        "Let me put you on the waitlist.", "I couldn't add you to the waitlist just now.",
        pass_caller=True,
    ),
)}


# -- running a tool call --------------------------------------------------------------------


@dataclass
class Ctx:
    """The clinic (as api.get_organization returns it) and the trusted call context."""

    org: dict[str, Any]
    call: CallContext

    @property
    def org_id(self) -> str:
        return str(self.org["org_id"])

    @property
    def country(self) -> str | None:
        """The clinic's ISO country: the caller's national numbers are read by its rules."""
        return self.org.get("country")


def _scalar(name: str, value: Any) -> str | None:
    # Values go to PostgreSQL as untyped text, so it casts and validates them itself (VB400 on
    # a bad date, uuid or number); only the shape is checked here.
    if value is None:
        return None
    if isinstance(value, bool):
        text = "true" if value else "false"
    elif isinstance(value, (str, int, float)):
        text = str(value)
    else:
        raise ToolError(f"{name} must be a single value, not a list or object")
    if "\x00" in text:
        raise ToolError(f"{name} contains a NUL character")
    text = text.strip()
    return text or None


def context_value(args: dict[str, Any], name: str) -> str | None:
    try:
        return _scalar(name, args.get(name))
    except ToolError:
        return None


def function_params(tool: Tool, args: dict[str, Any], ctx: Ctx) -> dict[str, Any]:
    params: dict[str, Any] = {}
    for a in tool.args:
        # Every spelling given is checked; the first non-empty one wins.
        values = [_scalar(n, args[n]) for n in (a.name, *a.aliases) if n in args]
        value = next((v for v in values if v is not None), None)
        if value is None and a.caller_fallback:
            value = ctx.call.caller or context_value(args, "callerNumber")
        if value is None and not (a.default_unless and a.default_unless in params):
            value = a.default
        if value is None and a.required:
            raise ToolError(f"{a.name} is required")
        if a.param == "patient_phone" and value is not None:
            value = _to_e164(value, ctx.country)   # as said in the clinic's country; ApiError VB400 if impossible
        if a.param is not None and value is not None:
            params[a.param] = value
    params["org_id"] = ctx.org_id
    if tool.pass_caller:
        # Only what Vapi says about the call: a withheld or unreadable number is none (the caller then names
        # one and proves it with a code); the model's callerNumber or callId arguments are not trusted here.
        caller = _e164_or_none(ctx.call.caller, ctx.country)
        if caller:
            params["caller_phone"] = caller
        if ctx.call.call_id:
            params["call_id"] = ctx.call.call_id
    if tool.pass_call_sid:
        call_sid = ctx.call.call_id or context_value(args, "callId")
        if call_sid:
            params["call_sid"] = call_sid
    return params


_SNAKE = re.compile(r"_([a-z0-9])")


def camelize(value: Any) -> Any:
    """The database's snake_case keys as the seed's camelCase ones (hold_id -> holdId)."""
    if isinstance(value, dict):
        return {_SNAKE.sub(lambda m: m.group(1).upper(), str(k)): camelize(v) for k, v in value.items()}
    if isinstance(value, list):
        return [camelize(v) for v in value]
    return value


def result_response(result: dict[str, Any], message: str) -> dict[str, Any]:
    return {"result": json.dumps(camelize(result), separators=(",", ":"), ensure_ascii=False, default=str),
            "message": one_line(message)}


def error_response(text: str, status: int = 400) -> dict[str, Any]:
    # "status" is for the seed's endpoints, which answer errors with an HTTP status; never stored.
    return {"error": one_line(text), "status": status}


def api_error_text(exc: ApiError) -> str:
    text = exc.message.rstrip(".")
    return f"{text}. {exc.hint}" if exc.hint else f"{text}."


def _respond(response: dict[str, Any]) -> dict[str, Any]:
    """The answer to Vapi from the database's {"answer", "spoken"}, first time and replay alike."""
    raw = response["answer"]
    result = dict(raw) if isinstance(raw, dict) else {"success": True, "value": raw}
    return result_response(result, response.get("spoken") or "")


async def _run(conn: psycopg.AsyncConnection, tool: Tool, params: dict[str, Any], ctx: Ctx,
               tool_call_id: str) -> dict[str, Any]:
    """One tool call, one statement (api.run_tool_call: lock, replay or run and store, commit)."""
    args = {k: v for k, v in params.items() if k != "org_id"}
    ran = await call(conn, "run_tool_call", org_id=ctx.org_id, tool_call_id=tool_call_id, tool_name=tool.name,
                     function_name=tool.function, args=Jsonb(args), call_id=ctx.call.call_id)
    if ran.get("replay"):
        log.info("tool %s: redelivered call answered from the record", tool.name)
    return _respond(ran["response"])


async def answer(conn: psycopg.AsyncConnection, nc: NormalizedCall, ctx_or_error: Ctx | dict[str, Any],
                 *, seed_tool: str | None = None, id_required: bool = True) -> dict[str, Any]:
    """The answer to one tool call ({"result", "message"} or {"error"}); replayed when redelivered.

    Without a tool call id there is nothing to recognise a redelivery by: Vapi's shape always has
    one, so a call without it is refused (id_required); the seed's shape has none and runs as is."""
    if nc.problem:
        return error_response(nc.problem)
    if not nc.name:
        return error_response("tool name is missing")
    if seed_tool and nc.name != seed_tool:
        return error_response(f"this endpoint serves {seed_tool}, not {nc.name[:64]}")
    tool = TOOLS.get(nc.name)
    if tool is None:
        return error_response(f"unknown tool {nc.name[:64]!r}; this server has: {', '.join(TOOLS)}", 404)
    if not isinstance(ctx_or_error, Ctx):
        return ctx_or_error
    ctx = ctx_or_error
    try:
        # Arguments the adapter refuses (missing, not a single value) never reach the database: nothing is
        # done and nothing stored, so a corrected call under the same toolCallId runs normally.
        params = function_params(tool, nc.arguments, ctx)
        if nc.id is None:
            if id_required:
                return error_response("toolCallId is missing; nothing was done")
            # The seed's shape: no id to recognise a redelivery by, so nothing to store.
            args = {k: v for k, v in params.items() if k != "org_id"}
            ran = await call(conn, "run_tool", org_id=ctx.org_id, function_name=tool.function, args=Jsonb(args))
            return _respond(ran["response"])
        response = await _run(conn, tool, params, ctx, nc.id)
        log.info("tool %s: answered", tool.name)
        return response
    except ToolError as exc:
        return error_response(str(exc))
    except ApiError as exc:
        log.info("tool %s: refused with %s", tool.name, exc.sqlstate)
        return error_response(api_error_text(exc), http_status(exc))


class ClinicCache:
    """Clinics looked up by dialled number (or tenant id), kept in the process for ``ttl`` seconds.

    Without it every tool call starts with api.find_organization, a round trip returning the whole
    settings JSON. A short TTL is safe: clinic settings change rarely, and the Ctx is only used to
    find the org_id -- every booking function re-reads the clinic (hours, hold length, code rules)
    itself in its own transaction, and answers are worded from its results alone. So a change is seen
    at once by every booking rule and in every answer, and within ``ttl`` seconds in which clinic a
    number moved to another clinic leads to. Only found clinics are kept (a number being set up is seen at
    once); at most ``max_size`` entries, the oldest dropped first. Entries are shared between requests:
    read them, never change them."""

    def __init__(self, ttl: float = 30.0, max_size: int = 1024, clock: Callable[[], float] = time.monotonic):
        self.ttl = ttl
        self.max_size = max_size
        self._clock = clock
        self._entries: dict[str, tuple[float, dict[str, Any]]] = {}

    def get(self, key: str) -> dict[str, Any] | None:
        entry = self._entries.get(key)
        if entry is None:
            return None
        if entry[0] <= self._clock():
            self._entries.pop(key, None)
            return None
        return entry[1]

    def put(self, key: str, org: dict[str, Any]) -> None:
        self._entries.pop(key, None)
        while len(self._entries) >= self.max_size:
            self._entries.pop(next(iter(self._entries)))   # insertion order: the oldest first
        self._entries[key] = (self._clock() + self.ttl, org)

    def clear(self) -> None:
        self._entries.clear()


async def resolve_clinic(conn: psycopg.AsyncConnection, call_ctx: CallContext,
                         args: dict[str, Any] | None, cache: ClinicCache | None = None) -> Ctx | dict[str, Any]:
    """The clinic of a call, or why there is none: the dialled number first, then a configured
    tenant, then the seed's explicit tenantId argument."""
    if call_ctx.called_number:
        key, function = "phone:" + call_ctx.called_number, "find_organization"
        kwargs: dict[str, Any] = {"phone": call_ctx.called_number}
    elif call_ctx.tenant_id or (args and context_value(args, "tenantId")):
        org_id = call_ctx.tenant_id or context_value(args or {}, "tenantId")
        key, function, kwargs = "org:" + str(org_id), "get_organization", {"org_id": org_id}
    else:
        return error_response("no clinic for this call: Vapi's phoneNumber.number or a tenantId is needed")
    org = cache.get(key) if cache is not None else None
    if org is None:
        try:
            org = await call(conn, function, **kwargs)
        except ApiError as exc:
            return error_response(f"no clinic for this call: {exc.message}", http_status(exc))
        if cache is not None:
            cache.put(key, org)
    return Ctx(org=org, call=call_ctx)
