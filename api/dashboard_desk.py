"""The front desk's pages and actions (issue 16): the schedule (a day, or a provider's week), booking, moving,
cancelling, attendance, blocked time and closures, the clinic's hours and services, and the queues (callback
requests, SMS replies, texts that did not arrive, the waitlist; callers' numbers masked), and the providers' calendars
(the CalDAV sync's health and conflicts; owners connect and disconnect them as `voxbook calendar connect` does).

Mounted under /dashboard by api/dashboard.py, which gives every handler here its rules (api/dashboard_auth.py):
the ``staff`` dependency (the clinic is always ``staff.org_id``: an id of another clinic is VB404 -> 404), the
guards, CSRF and Origin on every POST. Each action is one ``api.*`` function with ``changed_by`` (or
``staff_user`` / ``done_by``) = ``staff.audit_name``; no rule is written here. Forms post and redirect (303) back
to the page they came from, so everything works without the script; api/dashboard_assets/desk.js adds the live
refresh (server-sent events, else polling), the hold countdowns and the slot picker's reload.
"""

from __future__ import annotations

import asyncio
import logging
from datetime import date, datetime, timedelta
from typing import Any
from urllib.parse import urlencode
from uuid import UUID

from litestar import Request, Response, get, post
from litestar.datastructures import State
from litestar.params import FromPath, FromQuery
from litestar.response import Redirect
from psycopg.types.json import Jsonb

from voxbook.api.dashboard_auth import CurrentStaff, owner_only, page, signed_in
from voxbook.api.errors import http_status
from voxbook.calendar_connect import CalendarCheckFailed, seal_connection
from voxbook.db import ApiError, call
from voxbook.secrets_box import SecretsBox, SecretsKeyError

log = logging.getLogger("voxbook.api.dashboard_desk")

NO_STORE = {"Cache-Control": "no-store"}
DAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")


def _field(form: Any, name: str) -> str:
    value = form.get(name)
    return value.strip() if isinstance(value, str) else ""


def _day(value: str | None, default: date) -> date:
    try:
        return date.fromisoformat(value) if value else default
    except ValueError:
        return default


def _instant(value: str) -> datetime | None:
    try:
        return datetime.fromisoformat(value.replace("Z", "+00:00")) if value else None
    except ValueError:
        return None


def _schedule_url(form: Any) -> str:
    """Where a form on the schedule goes back to: the view it was posted from (our own path only)."""
    back = _field(form, "back")
    return back if back.startswith("/dashboard/schedule") and "//" not in back else "/dashboard/schedule"


async def _problem(request: Request, heading: str, message: str, hint: str | None, status: int,
                   back: str) -> Response:
    return await page(request, "dashboard/desk/problem.html",
                      {"heading": heading, "message": message, "hint": hint, "back": back},
                      status_code=status)


async def _act(request: Request, back: str, function: str, done: str, **args: Any) -> Response:
    """Runs one action; on success back to the page (done=<what>), on a refusal or a documented error a page
    saying why with the status it means (another clinic's id: 404 like any unknown one)."""
    try:
        async with request.app.state.pool.connection() as conn:
            result = await call(conn, function, **args)
    except ApiError as exc:
        return await _problem(request, "That did not work", exc.message, exc.hint, http_status(exc), back)
    if isinstance(result, dict) and result.get("success") is False:
        return await _problem(request, "That did not work", result.get("error") or result.get("code") or "refused",
                              None, 409, back)
    sep = "&" if "?" in back else "?"
    return Redirect(f"{back}{sep}{urlencode({'done': done})}", status_code=303, headers=NO_STORE)


# -- the schedule ----------------------------------------------------------------------------------


async def _schedule_context(conn: Any, staff: CurrentStaff, day: str | None, view: str | None,
                            calendar: str | None) -> dict[str, Any]:
    clinic = await call(conn, "get_clinic", org_id=staff.org_id)
    providers = [p for p in clinic["providers"] if p.get("active")]
    today = date.fromisoformat((await call(conn, "dashboard_schedule", org_id=staff.org_id, days=1))["today"])
    shown = _day(day, today)
    week = view == "week"
    if week:
        calendar = calendar or (providers[0]["calendar_id"] if providers else None)
        first = shown - timedelta(days=shown.weekday())
        schedule = await call(conn, "dashboard_schedule", org_id=staff.org_id, from_date=first, days=7,
                              calendar_id=calendar)
        step = 7
    else:
        first = shown
        schedule = await call(conn, "dashboard_schedule", org_id=staff.org_id, from_date=first, days=1,
                              calendar_id=calendar or None)
        step = 1
    holds = await call(conn, "dashboard_live_holds", org_id=staff.org_id)
    query = {"view": "week" if week else "day", "calendar": calendar or ""}
    return {"schedule": schedule, "holds": holds, "clinic": clinic, "providers": providers,
            "view": query["view"], "calendar": calendar or "", "shown": shown, "today": today,
            "prev": (first - timedelta(days=step)).isoformat(), "next": (first + timedelta(days=step)).isoformat(),
            "query": query, "here_url": "/dashboard/schedule?" + urlencode({**query, "date": shown.isoformat()})}


@get("/schedule", include_in_schema=False, guards=[signed_in])
async def schedule_page(request: Request, state: State, staff: CurrentStaff, view: FromQuery[str | None] = None,
                        calendar: FromQuery[str | None] = None, done: FromQuery[str | None] = None) -> Response:
    async with state.pool.connection() as conn:
        context = await _schedule_context(conn, staff, request.query_params.get("date"), view, calendar)
    return await page(request, "dashboard/desk/schedule.html", {**context, "done": done, "active": "schedule"})


@get("/schedule/fragment", include_in_schema=False, guards=[signed_in])
async def schedule_fragment(request: Request, state: State, staff: CurrentStaff, view: FromQuery[str | None] = None,
                            calendar: FromQuery[str | None] = None) -> Response:
    async with state.pool.connection() as conn:
        context = await _schedule_context(conn, staff, request.query_params.get("date"), view, calendar)
    return await page(request, "dashboard/desk/_board.html", context)


# -- booking and moving: free times as the assistant finds them (api.check_availability) -------------


async def _slots(conn: Any, staff: CurrentStaff, day: date, calendar: str | None, service: str | None) -> dict[str, Any]:
    return await call(conn, "check_availability", org_id=staff.org_id, date=day, calendar_id=calendar or None,
                      service=service or None)


@get("/book", include_in_schema=False, guards=[signed_in])
async def book_page(request: Request, state: State, staff: CurrentStaff, calendar: FromQuery[str | None] = None,
                    service: FromQuery[str | None] = None) -> Response:
    async with state.pool.connection() as conn:
        clinic = await call(conn, "get_clinic", org_id=staff.org_id)
        today = date.fromisoformat((await call(conn, "dashboard_schedule", org_id=staff.org_id, days=1))["today"])
        day = _day(request.query_params.get("date"), today)
        try:
            slots = await _slots(conn, staff, day, calendar, service)
        except ApiError as exc:
            return await _problem(request, "No times to show", exc.message, exc.hint, http_status(exc),
                                  "/dashboard/book")
    return await page(request, "dashboard/desk/book.html",
                      {"clinic": clinic, "slots": slots, "day": day, "calendar": calendar or "",
                       "service": service or "", "active": "schedule"})


@post("/appointments", include_in_schema=False, guards=[signed_in], status_code=303)
async def book(request: Request, staff: CurrentStaff) -> Response:
    form = await request.form()
    slot, calendar = _field(form, "slot").partition("|")[::2]
    return await _act(request, _schedule_url(form), "book_for_patient", "booked", org_id=staff.org_id,
                      calendar_id=calendar or None, slot_time=_instant(slot), service=_field(form, "service") or None,
                      patient_name=_field(form, "patient_name"), patient_phone=_field(form, "patient_phone"),
                      staff_user=staff.audit_name)


@get("/appointments/{appointment_id:uuid}/move", include_in_schema=False, guards=[signed_in])
async def move_page(request: Request, state: State, staff: CurrentStaff, appointment_id: FromPath[UUID],
                    calendar: FromQuery[str | None] = None) -> Response:
    async with state.pool.connection() as conn:
        appt = await call(conn, "get_appointment", appointment_id=appointment_id, org_id=staff.org_id)
        clinic = await call(conn, "get_clinic", org_id=staff.org_id)
        default = date.fromisoformat(appt["starts_at"][:10])
        day = _day(request.query_params.get("date"), default)
        calendar = calendar or appt.get("calendar_id")
        slots = await _slots(conn, staff, day, calendar, appt.get("service"))
    return await page(request, "dashboard/desk/move.html",
                      {"appt": appt, "clinic": clinic, "slots": slots, "day": day, "calendar": calendar,
                       "active": "schedule"})


@post("/appointments/{appointment_id:uuid}/move", include_in_schema=False, guards=[signed_in], status_code=303)
async def move(request: Request, staff: CurrentStaff, appointment_id: FromPath[UUID]) -> Response:
    form = await request.form()
    slot, calendar = _field(form, "slot").partition("|")[::2]
    return await _act(request, _schedule_url(form), "reschedule_appointment", "moved", appointment_id=appointment_id,
                      org_id=staff.org_id, slot_time=_instant(slot), calendar_id=calendar or None,
                      staff_user=staff.audit_name)


@post("/appointments/{appointment_id:uuid}/cancel", include_in_schema=False, guards=[signed_in], status_code=303)
async def cancel(request: Request, staff: CurrentStaff, appointment_id: FromPath[UUID]) -> Response:
    form = await request.form()
    return await _act(request, _schedule_url(form), "cancel_appointment", "cancelled", appointment_id=appointment_id,
                      org_id=staff.org_id, reason=_field(form, "reason") or None, notify=True,
                      staff_user=staff.audit_name)


@post("/appointments/{appointment_id:uuid}/attendance", include_in_schema=False, guards=[signed_in], status_code=303)
async def attendance(request: Request, staff: CurrentStaff, appointment_id: FromPath[UUID]) -> Response:
    form = await request.form()
    return await _act(request, _schedule_url(form), "mark_attendance", "marked", org_id=staff.org_id,
                      appointment_id=appointment_id, attendance=_field(form, "attendance") or None,
                      changed_by=staff.audit_name)


# -- blocked time and closures ---------------------------------------------------------------------


@post("/blocks", include_in_schema=False, guards=[signed_in], status_code=303)
async def block(request: Request, staff: CurrentStaff) -> Response:
    form = await request.form()
    back = _schedule_url(form) if _field(form, "back").startswith("/dashboard/schedule") else "/dashboard/clinic"
    try:
        on_date = date.fromisoformat(_field(form, "date"))
    except ValueError:
        return await _problem(request, "That did not work", "pick a date", None, 400, back)
    times = [_field(form, "from_time") or None, _field(form, "to_time") or None]
    return await _act(request, back, "block_local_time", "blocked", org_id=staff.org_id,
                      calendar_id=_field(form, "calendar_id") or None, on_date=on_date,
                      from_time=times[0], to_time=times[1], reason=_field(form, "reason") or None,
                      proceed=_field(form, "proceed") == "yes", changed_by=staff.audit_name)


@post("/blocks/{block_id:int}/delete", include_in_schema=False, guards=[signed_in], status_code=303)
async def unblock(request: Request, staff: CurrentStaff, block_id: FromPath[int]) -> Response:
    form = await request.form()
    back = _schedule_url(form) if _field(form, "back").startswith("/dashboard/schedule") else "/dashboard/clinic"
    return await _act(request, back, "unblock_time", "unblocked", org_id=staff.org_id, block_id=block_id,
                      changed_by=staff.audit_name)


# -- the clinic: hours, services, time off (edits: owners) -------------------------------------------


@get("/clinic", include_in_schema=False, guards=[signed_in])
async def clinic_page(request: Request, state: State, staff: CurrentStaff, done: FromQuery[str | None] = None) -> Response:
    async with state.pool.connection() as conn:
        clinic = await call(conn, "get_clinic", org_id=staff.org_id)
    return await page(request, "dashboard/desk/clinic.html",
                      {"clinic": clinic, "days": DAYS, "done": done, "active": "clinic"})


def _intervals(text: str) -> list[list[str]]:
    """'09:00-12:00, 13:00-17:00' as api.set_working_hours takes a day; the database checks the times."""
    return [[a.strip(), b.strip()] for a, _, b in (part.partition("-") for part in text.split(",")) if a.strip()]


@post("/clinic/hours", include_in_schema=False, guards=[owner_only], status_code=303)
async def set_hours(request: Request, staff: CurrentStaff) -> Response:
    form = await request.form()
    hours = {day: _intervals(_field(form, day)) for day in DAYS if _field(form, day)}
    return await _act(request, "/dashboard/clinic", "set_working_hours", "hours", org_id=staff.org_id,
                      calendar_id=_field(form, "calendar_id"), hours=Jsonb(hours), changed_by=staff.audit_name)


class _NotANumber(ValueError):
    pass


def _whole(value: str, what: str) -> int | None:
    """A whole number of a form field (empty: not given); the database checks its range."""
    if not value:
        return None
    try:
        number = int(value)
    except ValueError:
        raise _NotANumber(f"{what} must be a whole number") from None
    if not -2**31 <= number < 2**31:
        raise _NotANumber(f"{what} is out of range")
    return number


@post("/clinic/services", include_in_schema=False, guards=[owner_only], status_code=303)
async def upsert_service(request: Request, staff: CurrentStaff) -> Response:
    form = await request.form()
    price = _field(form, "price")
    try:
        minutes = _whole(_field(form, "duration_minutes"), "minutes")
        buffer = _whole(_field(form, "buffer_after_minutes"), "buffer after")
        cents = _whole(str(round(float(price) * 100)), "price") if price else None
    except (ValueError, OverflowError) as exc:
        message = str(exc) if isinstance(exc, _NotANumber) else "price must be a number"
        return await _problem(request, "That did not work", message, None, 400, "/dashboard/clinic")
    active = _field(form, "active")
    return await _act(request, "/dashboard/clinic", "upsert_service", "service", org_id=staff.org_id,
                      service_id=_field(form, "service_id"), name=_field(form, "name") or None,
                      duration_minutes=minutes, buffer_after_minutes=buffer, price_cents=cents,
                      active=(active == "yes") if active else None, changed_by=staff.audit_name)


# -- the queues ------------------------------------------------------------------------------------


@get("/queues", include_in_schema=False, guards=[signed_in])
async def queues_page(request: Request, state: State, staff: CurrentStaff, done: FromQuery[str | None] = None) -> Response:
    org = staff.org_id
    async with state.pool.connection() as conn:
        context = {
            # Callers' numbers masked (api.dashboard_queues); "show" asks /dashboard/queues/phone.
            "queues": await call(conn, "dashboard_queues", org_id=org),
            "failed": await call(conn, "list_failed_sms", org_id=org),
            "changes": await call(conn, "dashboard_changes", org_id=org),
        }
    return await page(request, "dashboard/desk/queues.html", {**context, "done": done, "active": "queues"})


@get("/queues/phone", include_in_schema=False, guards=[signed_in])
async def queue_phone(state: State, staff: CurrentStaff, callback_request_id: FromQuery[UUID | None] = None,
                      inbox_id: FromQuery[UUID | None] = None, waitlist_id: FromQuery[UUID | None] = None) -> Response:
    """The full number of a queue item (a masked one's "show"): the clinic's own items only (another's: 404)."""
    async with state.pool.connection() as conn:
        result = await call(conn, "dashboard_reveal_phone", org_id=staff.org_id,
                            callback_request_id=callback_request_id, inbox_id=inbox_id, waitlist_id=waitlist_id)
    return Response({"phone": result["phone"], "display": result["display"]}, headers=NO_STORE)


@post("/callbacks/{request_id:uuid}/resolve", include_in_schema=False, guards=[signed_in], status_code=303)
async def resolve_callback(request: Request, staff: CurrentStaff, request_id: FromPath[UUID]) -> Response:
    form = await request.form()
    return await _act(request, "/dashboard/queues", "resolve_callback_request", "callback", org_id=staff.org_id,
                      callback_request_id=request_id, done_by=staff.audit_name, note=_field(form, "note") or None)


@post("/inbox/{inbox_id:uuid}/resolve", include_in_schema=False, guards=[signed_in], status_code=303)
async def resolve_inbox(request: Request, staff: CurrentStaff, inbox_id: FromPath[UUID]) -> Response:
    return await _act(request, "/dashboard/queues", "resolve_sms_inbox_item", "reply", org_id=staff.org_id,
                      inbox_id=inbox_id, done_by=staff.audit_name)


@post("/sms/{message_id:uuid}/resend", include_in_schema=False, guards=[signed_in], status_code=303)
async def resend(request: Request, staff: CurrentStaff, message_id: FromPath[UUID]) -> Response:
    return await _act(request, "/dashboard/queues", "resend_sms", "resent", org_id=staff.org_id,
                      message_id=message_id, changed_by=staff.audit_name)


@post("/waitlist/{waitlist_id:uuid}/remove", include_in_schema=False, guards=[signed_in], status_code=303)
async def remove_waitlist(request: Request, staff: CurrentStaff, waitlist_id: FromPath[UUID]) -> Response:
    return await _act(request, "/dashboard/queues", "staff_remove_from_waitlist", "waitlist", org_id=staff.org_id,
                      waitlist_id=waitlist_id, changed_by=staff.audit_name)


@get("/changes", include_in_schema=False, guards=[signed_in])
async def changes(state: State, staff: CurrentStaff) -> Response:
    """The change markers and queue counts (api.dashboard_changes): what desk.js polls when the stream fails."""
    async with state.pool.connection() as conn:
        result = await call(conn, "dashboard_changes", org_id=staff.org_id)
    return Response({k: result[k] for k in ("schedule", "holds", "queues", "counts")}, headers=NO_STORE)


# -- calendars: the CalDAV sync's health (everyone), connecting and disconnecting (owners) ---------------

FORM_MAX = 2000   # a longer URL, username or password is no CalDAV login: refused before any network call


def _secrets_box(request: Request) -> tuple[SecretsBox | None, str | None]:
    """The API's VOXBOOK_SECRETS_KEY, or why calendars cannot be connected here (never the key)."""
    keys = request.app.state.settings.secrets_key
    if not keys:
        return None, ("This server has no VOXBOOK_SECRETS_KEY, so it cannot store a calendar password: set it for "
                      "the API (the same key as the calendar sync worker's), or connect with `voxbook calendar "
                      "connect` where it is set.")
    try:
        return SecretsBox(keys), None
    except SecretsKeyError as exc:
        return None, f"{exc}: calendars cannot be connected until it is fixed."


async def _calendars_page(request: Request, staff: CurrentStaff, *, done: str | None = None, error: str | None = None,
                          hint: str | None = None, form: dict[str, str] | None = None,
                          status_code: int = 200) -> Response:
    async with request.app.state.pool.connection() as conn:
        calendars = await call(conn, "dashboard_calendars", org_id=staff.org_id)
    _, secrets_problem = _secrets_box(request)
    return await page(request, "dashboard/desk/calendars.html",
                      {"calendars": calendars, "done": done, "error": error, "hint": hint, "form": form or {},
                       "secrets_problem": secrets_problem, "active": "clinic"}, status_code=status_code)


@get("/calendars", include_in_schema=False, guards=[signed_in])
async def calendars_page(request: Request, staff: CurrentStaff, done: FromQuery[str | None] = None) -> Response:
    return await _calendars_page(request, staff, done=done)


@post("/calendars/connect", include_in_schema=False, guards=[owner_only], status_code=303)
async def connect_calendar(request: Request, staff: CurrentStaff) -> Response:
    """Tests the calendar, encrypts the password, stores the connection: voxbook calendar connect's path
    (voxbook/calendar_connect.py). A failed test stores nothing; the password is never shown back or logged."""
    form = await request.form()
    password = form.get("password")
    password = password.strip("\r\n") if isinstance(password, str) else ""
    kept = {name: _field(form, name) for name in ("calendar_id", "url", "username", "event_title", "patient_name")}

    async def refused(message: str, status: int, hint: str | None = None) -> Response:
        return await _calendars_page(request, staff, error=message, hint=hint, form=kept, status_code=status)

    box, secrets_problem = _secrets_box(request)
    if box is None:
        return await refused(secrets_problem or "", 503)
    if not (kept["calendar_id"] and kept["url"] and kept["username"] and password):
        return await refused("Pick the provider and enter the calendar's URL, the username and the password.", 400)
    if max(len(password), *(len(v) for v in kept.values())) > FORM_MAX:
        return await refused(f"A field is longer than {FORM_MAX} characters.", 400)
    try:
        # The caldav library blocks: in a thread, never on the event loop (tool calls share it).
        sealed = await asyncio.to_thread(seal_connection, box, kept["url"], kept["username"], password)
    except CalendarCheckFailed as exc:
        log.info("calendar connection test failed for clinic %s: %s", staff.org_id, exc.kind)
        return await refused(f"The calendar was not connected: {exc.message}.", 400)
    try:
        async with request.app.state.pool.connection() as conn:
            await call(conn, "connect_calendar", org_id=staff.org_id, calendar_id=kept["calendar_id"],
                       url=kept["url"], username=kept["username"], secret_ciphertext=sealed.secret_ciphertext,
                       key_id=sealed.key_id, event_title=kept["event_title"] or None,
                       patient_name=kept["patient_name"] or None, changed_by=staff.audit_name)
    except ApiError as exc:
        if http_status(exc) == 404:   # another clinic's provider: as any unknown one
            return await _problem(request, "That did not work", exc.message, exc.hint, 404, "/dashboard/calendars")
        return await refused(f"The calendar was not connected: {exc.message}.", http_status(exc), exc.hint)
    log.info("calendar connected for clinic %s", staff.org_id)
    return Redirect("/dashboard/calendars?done=connected", status_code=303, headers=NO_STORE)


@post("/calendars/{calendar_id:str}/disconnect", include_in_schema=False, guards=[owner_only], status_code=303)
async def disconnect_calendar(request: Request, staff: CurrentStaff, calendar_id: FromPath[str]) -> Response:
    return await _act(request, "/dashboard/calendars", "disconnect_calendar", "disconnected", org_id=staff.org_id,
                      calendar_id=calendar_id, changed_by=staff.audit_name)


desk_handlers: list = [schedule_page, schedule_fragment, book_page, book, move_page, move, cancel, attendance,
                       block, unblock, clinic_page, set_hours, upsert_service, queues_page, queue_phone,
                       resolve_callback, resolve_inbox, resend, remove_waitlist, changes, calendars_page,
                       connect_calendar, disconnect_calendar]
