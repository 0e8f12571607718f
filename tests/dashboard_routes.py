"""Every dashboard route that changes something, or that names an object of the clinic, as data: the CSRF,
role and tenancy tests (tests/test_dashboard_security.py) walk this whole table.

A new route joins by appending a Route to ROUTES (the front desk's: at the end, in a block of their own):
* method, path: the path may hold {names} filled from what ``setup`` returns (and a query string).
* setup(ctx): makes, in clinic ``ctx.org``, what the route acts on; returns the ids for the path and the form.
* form(ids): the form fields of a request that would succeed (the tests add or withhold ``_csrf`` themselves).
* owner_only: a front_desk account must get 403.
* takes_id: the path or form names an object of the clinic: staff of another clinic must get 404.
* state(ctx, ids): what the route would change (read from the database): a refused request leaves it equal.
* tags: "public" for a route that answers without a session too (sign-out).
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from dashboard_helpers import book, create_staff, end_of_call_report, post_report, tomorrow


@dataclass
class Ctx:
    db: Any
    org: str
    phone: str          # the clinic's number (Vapi reports name it)
    base_url: str


@dataclass(frozen=True)
class Route:
    method: str
    path: str
    setup: Callable[[Ctx], dict[str, str]] = lambda ctx: {}
    form: Callable[[dict[str, str]], dict[str, str]] = lambda ids: {}
    owner_only: bool = False
    takes_id: bool = False
    state: Callable[[Ctx, dict[str, str]], Any] | None = None
    tags: tuple[str, ...] = field(default=())

    def url(self, ids: dict[str, str]) -> str:
        return self.path.format(**ids)

    @property
    def unsafe(self) -> bool:
        return self.method in ("POST", "PUT", "PATCH", "DELETE")

    def __str__(self) -> str:
        return f"{self.method} {self.path}"


# -- setups and states shared by the routes below ----------------------------------------------------------


def a_front_desk(ctx: Ctx) -> dict[str, str]:
    return {"staff_id": create_staff(ctx.db, ctx.org, "front_desk").staff_id}


def staff_row(ctx: Ctx, ids: dict[str, str]) -> Any:
    return ctx.db.execute("SELECT s.role, s.status, s.name, s.password_hash IS NULL AS no_password"
                          " FROM voxbook.staff_accounts AS s WHERE s.org_id = %s AND s.id = %s",
                          [ctx.org, ids["staff_id"]]).fetchone()


def clinic_staff(ctx: Ctx, ids: dict[str, str]) -> Any:
    return ctx.db.execute("SELECT s.email, s.role, s.status FROM voxbook.staff_accounts AS s WHERE s.org_id = %s"
                          " ORDER BY s.email", [ctx.org]).fetchall()


def sessions_of_clinic(ctx: Ctx, ids: dict[str, str]) -> Any:
    return ctx.db.execute("SELECT count(*) AS n FROM voxbook.dashboard_sessions AS s WHERE s.org_id = %s",
                          [ctx.org]).fetchone()["n"]


def a_hot_call(ctx: Ctx) -> dict[str, str]:
    call_id = f"route-call-{uuid.uuid4()}"
    post_report(ctx.base_url, end_of_call_report(ctx.phone, call_id, caller="+15557669001", name="Rita Route",
                                                 transcript="User: how much?", summary="Price"))
    return {"call_id": call_id}


def an_appointment(ctx: Ctx) -> dict[str, str]:
    day = tomorrow(ctx.db, ctx.org)
    appt = book(ctx.db, ctx.org, "cal-a", f"{day} 11:00", "Rob Route", f"+1555766{uuid.uuid4().int % 10000:04d}")
    return {"appointment_id": appt["appointment_id"]}


def a_hold(ctx: Ctx) -> dict[str, str]:
    day = tomorrow(ctx.db, ctx.org)
    hold = book(ctx.db, ctx.org, "cal-b", f"{day} 14:00", "Hal Route", f"+1555767{uuid.uuid4().int % 10000:04d}",
                confirm=False)
    return {"hold_id": hold["hold_id"]}


ROUTES: list[Route] = [
    # -- sign-in, staff accounts (api/dashboard.py) --
    Route("POST", "/dashboard/logout", state=sessions_of_clinic, tags=("public",)),
    Route("POST", "/dashboard/staff/invite", owner_only=True, state=clinic_staff,
          form=lambda ids: {"email": f"new-{uuid.uuid4().hex[:8]}@clinic.example", "name": "New Person",
                            "role": "front_desk"}),
    Route("POST", "/dashboard/staff/{staff_id}/role", setup=a_front_desk, owner_only=True, takes_id=True,
          form=lambda ids: {"role": "owner"}, state=staff_row),
    Route("POST", "/dashboard/staff/{staff_id}/deactivate", setup=a_front_desk, owner_only=True, takes_id=True,
          state=staff_row),
    Route("GET", "/dashboard/staff", owner_only=True),
    # -- the hot leads page (api/dashboard.py) --
    Route("GET", "/dashboard/lead?call_id={call_id}", setup=a_hot_call, takes_id=True),
    Route("GET", "/dashboard/phone?call_id={call_id}", setup=a_hot_call, takes_id=True),
    Route("GET", "/dashboard/phone?appointment_id={appointment_id}", setup=an_appointment, takes_id=True),
    Route("GET", "/dashboard/phone?hold_id={hold_id}", setup=a_hold, takes_id=True),
]


# -- the front desk (api/dashboard_desk.py) ------------------------------------------------------------------------


def _free_slot(ctx: Ctx, calendar: str, day_offset: int = 1, last: bool = False) -> str:
    """A free time of the clinic's calendar (api.check_availability), as the slot picker posts it."""
    slots = ctx.db.execute("SELECT api.check_availability(%s, (now() AT TIME ZONE o.time_zone)::date + %s, %s) -> 'slots' AS s"
                           " FROM voxbook.organizations AS o WHERE o.id = %s",
                           [ctx.org, day_offset, calendar, ctx.org]).fetchone()["s"]
    slot = slots[-1] if last else slots[0]
    return f"{slot['time']}|{calendar}"


def _phone() -> str:
    return f"+1555768{uuid.uuid4().int % 10000:04d}"


def desk_appointment(ctx: Ctx) -> dict[str, str]:
    """An appointment at the clinic's first free time tomorrow (each call its own time: setups may share a clinic)."""
    when, calendar = _free_slot(ctx, "cal-a").split("|")
    appt = ctx.db.execute("SELECT api.book_for_patient(%s, %s, %s, NULL, 'Rob Route', %s, staff_user => 'tests') AS r",
                          [ctx.org, calendar, when, _phone()]).fetchone()["r"]
    assert appt["success"], appt
    return {"appointment_id": str(appt["appointment_id"])}


def desk_free_time(ctx: Ctx) -> dict[str, str]:
    return {"slot": _free_slot(ctx, "cal-a", 2)}


def desk_appointment_and_time(ctx: Ctx) -> dict[str, str]:
    return {**desk_appointment(ctx), "slot": _free_slot(ctx, "cal-a", 1, last=True)}


def desk_appointment_today(ctx: Ctx) -> dict[str, str]:
    """An appointment later today: the clinic's zone set where it is now mid-morning (attendance is on the day)."""
    from datetime import UTC, datetime
    offset = ((10 - datetime.now(UTC).hour + 12) % 24) - 12
    zone = "Etc/UTC" if offset == 0 else f"Etc/GMT{-offset:+d}"
    ctx.db.execute("UPDATE voxbook.organizations SET time_zone = %s WHERE id = %s", [zone, ctx.org])
    day = ctx.db.execute("SELECT (now() AT TIME ZONE %s)::date::text AS d", [zone]).fetchone()["d"]
    when = ctx.db.execute("SELECT (%s::date + time '11:30') AT TIME ZONE %s AS t", [day, zone]).fetchone()["t"]
    appt = ctx.db.execute("SELECT api.book_for_patient(%s, 'cal-a', %s, NULL, 'Tia Today', %s, staff_user => 'tests') AS r",
                          [ctx.org, when, _phone()]).fetchone()["r"]
    if not appt["success"]:   # another setup of this clinic took 11:30 today: the first free time today
        when = _free_slot(ctx, "cal-a", 0).split("|")[0]
        appt = ctx.db.execute("SELECT api.book_for_patient(%s, 'cal-a', %s, NULL, 'Tia Today', %s,"
                              " staff_user => 'tests') AS r", [ctx.org, when, _phone()]).fetchone()["r"]
    return {"appointment_id": str(appt["appointment_id"])}


def desk_block(ctx: Ctx) -> dict[str, str]:
    block = ctx.db.execute("SELECT api.block_local_time(%s, 'cal-a', current_date + 20, '13:00', '14:00') AS r",
                           [ctx.org]).fetchone()["r"]
    return {"block_id": str(block["block"]["block_id"])}


def desk_callback(ctx: Ctx) -> dict[str, str]:
    r = ctx.db.execute("SELECT api.record_transfer_failure(%s, %s, %s, 'call.in-progress.error-transfer-failed') AS r",
                       [ctx.org, f"route-{uuid.uuid4()}", _phone()]).fetchone()["r"]
    return {"callback_id": str(r["callback_request"]["id"])}


def desk_inbox(ctx: Ctx) -> dict[str, str]:
    ctx.db.execute("SELECT api.record_inbound_sms(%s, %s, 'is parking free?', %s)",
                   [ctx.phone, _phone(), "SM" + uuid.uuid4().hex])
    return {"inbox_id": str(ctx.db.execute("SELECT id FROM voxbook.sms_inbox WHERE org_id = %s ORDER BY received_at DESC"
                                           " LIMIT 1", [ctx.org]).fetchone()["id"])}


def desk_failed_text(ctx: Ctx) -> dict[str, str]:
    appt = desk_appointment(ctx)
    row = ctx.db.execute("UPDATE voxbook.sms_outbox SET status = 'failed', error_code = '30003' WHERE org_id = %s"
                         " AND appointment_id = %s AND kind = 'confirmation' RETURNING id",
                         [ctx.org, appt["appointment_id"]]).fetchone()
    return {"message_id": str(row["id"])}


def desk_waiting(ctx: Ctx) -> dict[str, str]:
    r = ctx.db.execute("SELECT api.join_waitlist(%s, %s, current_date + 3, current_date + 4, '09:00', '12:00',"
                       " patient_name => 'Wu Wait') AS r", [ctx.org, _phone()]).fetchone()["r"]
    return {"waitlist_id": str(r["waitlist_id"])}


def _one(ctx: Ctx, query: str, *args: Any) -> Any:
    return ctx.db.execute(query, [ctx.org, *args]).fetchone()


ROUTES += [
    Route("POST", "/dashboard/appointments", setup=desk_free_time,
          form=lambda ids: {"slot": ids["slot"], "patient_name": "Nia New", "patient_phone": "+15557689999"},
          state=lambda ctx, ids: _one(ctx, "SELECT count(*) AS n FROM voxbook.appointments WHERE org_id = %s")),
    Route("GET", "/dashboard/appointments/{appointment_id}/move", setup=desk_appointment, takes_id=True),
    Route("POST", "/dashboard/appointments/{appointment_id}/move", setup=desk_appointment_and_time, takes_id=True,
          form=lambda ids: {"slot": ids["slot"]},
          state=lambda ctx, ids: _one(ctx, "SELECT h.starts_at FROM voxbook.appointments AS a JOIN voxbook.holds AS h"
                                           " ON h.org_id = a.org_id AND h.id = a.hold_id WHERE a.org_id = %s AND a.id = %s",
                                      ids["appointment_id"])),
    Route("POST", "/dashboard/appointments/{appointment_id}/cancel", setup=desk_appointment, takes_id=True,
          form=lambda ids: {"reason": "route test"},
          state=lambda ctx, ids: _one(ctx, "SELECT status FROM voxbook.appointments WHERE org_id = %s AND id = %s",
                                      ids["appointment_id"])),
    Route("POST", "/dashboard/appointments/{appointment_id}/attendance", setup=desk_appointment_today, takes_id=True,
          form=lambda ids: {"attendance": "arrived"},
          state=lambda ctx, ids: _one(ctx, "SELECT attendance FROM voxbook.appointments WHERE org_id = %s AND id = %s",
                                      ids["appointment_id"])),
    Route("POST", "/dashboard/blocks",
          form=lambda ids: {"calendar_id": "cal-a", "date": "2031-02-03", "from_time": "13:00", "to_time": "14:00"},
          state=lambda ctx, ids: _one(ctx, "SELECT count(*) AS n FROM voxbook.blocked_periods WHERE org_id = %s")),
    Route("POST", "/dashboard/blocks/{block_id}/delete", setup=desk_block, takes_id=True,
          state=lambda ctx, ids: _one(ctx, "SELECT count(*) AS n FROM voxbook.blocked_periods WHERE org_id = %s")),
    Route("POST", "/dashboard/clinic/hours", owner_only=True,
          form=lambda ids: {"calendar_id": "cal-a", "mon": "08:00-12:00"},
          state=lambda ctx, ids: ctx.db.execute("SELECT iso_dow, starts FROM voxbook.working_hours WHERE org_id = %s"
                                                " AND calendar_id = 'cal-a' ORDER BY 1, 2", [ctx.org]).fetchall()),
    Route("POST", "/dashboard/clinic/services", owner_only=True,
          form=lambda ids: {"service_id": "cleaning", "duration_minutes": "45"},
          state=lambda ctx, ids: _one(ctx, "SELECT duration_minutes FROM voxbook.services WHERE org_id = %s"
                                           " AND id = 'cleaning'")),
    Route("POST", "/dashboard/callbacks/{callback_id}/resolve", setup=desk_callback, takes_id=True,
          form=lambda ids: {"note": "called back"},
          state=lambda ctx, ids: _one(ctx, "SELECT status FROM voxbook.callback_requests WHERE org_id = %s AND id = %s",
                                      ids["callback_id"])),
    Route("POST", "/dashboard/inbox/{inbox_id}/resolve", setup=desk_inbox, takes_id=True,
          state=lambda ctx, ids: _one(ctx, "SELECT status FROM voxbook.sms_inbox WHERE org_id = %s AND id = %s",
                                      ids["inbox_id"])),
    Route("POST", "/dashboard/sms/{message_id}/resend", setup=desk_failed_text, takes_id=True,
          state=lambda ctx, ids: _one(ctx, "SELECT count(*) AS n FROM voxbook.sms_outbox WHERE org_id = %s"
                                           " AND resent_from = %s", ids["message_id"])),
    Route("POST", "/dashboard/waitlist/{waitlist_id}/remove", setup=desk_waiting, takes_id=True,
          state=lambda ctx, ids: _one(ctx, "SELECT status FROM voxbook.waitlist WHERE org_id = %s AND id = %s",
                                      ids["waitlist_id"])),
]


# -- masked numbers of the queues, the providers' calendars (api/dashboard_desk.py) -----------------------------


def calendar_connection(ctx: Ctx) -> dict[str, str]:
    """A provider only this clinic has (another clinic's staff naming it: 404), connected in psql with a real
    ciphertext (the page's own connect needs a CalDAV server and VOXBOOK_SECRETS_KEY: tests/test_desk_calendars.py)."""
    from voxbook.secrets_box import SecretsBox, generate_key

    calendar = f"cal-route-{uuid.uuid4().hex[:8]}"
    ctx.db.execute("SELECT api.upsert_provider(%s, %s, 'Dr. Route')", [ctx.org, calendar])
    box = SecretsBox(generate_key())
    ctx.db.execute("SELECT api.connect_calendar(%s, %s, 'http://127.0.0.1:9/route/', 'route', %s, %s)",
                   [ctx.org, calendar, box.encrypt("route-password"), box.key_id])
    # As if synced, and not due for a day: a request refused here (the signed-out test) leaves it behind, and no
    # sync worker of another test nor `voxbook doctor` should find it.
    ctx.db.execute("UPDATE voxbook.calendar_connections SET last_success_at = now(), next_attempt_at = now() + interval"
                   " '1 day' WHERE org_id = %s AND calendar_id = %s", [ctx.org, calendar])
    return {"calendar_id": calendar}


ROUTES += [
    Route("GET", "/dashboard/queues/phone?callback_request_id={callback_id}", setup=desk_callback, takes_id=True),
    Route("GET", "/dashboard/queues/phone?inbox_id={inbox_id}", setup=desk_inbox, takes_id=True),
    Route("GET", "/dashboard/queues/phone?waitlist_id={waitlist_id}", setup=desk_waiting, takes_id=True),
    Route("GET", "/dashboard/calendars"),
    Route("POST", "/dashboard/calendars/{calendar_id}/disconnect", setup=calendar_connection, owner_only=True,
          takes_id=True,
          state=lambda ctx, ids: _one(ctx, "SELECT count(*) AS n FROM voxbook.calendar_connections WHERE org_id = %s"
                                           " AND calendar_id = %s", ids["calendar_id"])),
]
