"""Audited names are capped in one place, the database (internal.audit_name, 63_audit.sql): the dashboard sends
"Name <email>" whole, and every column that records who did something -- booked_by, cancelled_by, the audit
log's changed_by -- keeps the email (the one part unique in the clinic) whole when the name is cut to 200
characters. (Found by review: staff_user was cut from the right by its own left(..., 200).)"""

from __future__ import annotations

from datetime import timedelta

import psycopg
from test_calendar_lock import clinic_and_slot

from voxbook.db import call_sync

LONG = "N" * 100 + " <" + "e" * 150 + "@clinic.example>"   # a 100-character name, a 165-character email


def test_staff_user_is_capped_as_every_audited_name(app_database_url, db):
    org, slot, _ = clinic_and_slot(db, "Review audit names")
    want = db.execute("SELECT internal.audit_name(%s) AS n", [LONG]).fetchone()["n"]
    assert want.endswith("@clinic.example>") and len(want) == 200
    with psycopg.connect(app_database_url, autocommit=True) as conn:
        booked = call_sync(conn, "book_for_patient", org_id=org, calendar_id="cal-a", slot_time=slot,
                           patient_name="Review Patient", patient_phone="+15558300011", staff_user=LONG)
        appt = booked["appointment_id"]
        call_sync(conn, "reschedule_appointment", appointment_id=appt, org_id=org,
                  slot_time=slot + timedelta(hours=1), staff_user=LONG)
        call_sync(conn, "cancel_appointment", appointment_id=appt, org_id=org, reason="review", staff_user=LONG)
    row = db.execute("SELECT booked_by, cancelled_by FROM voxbook.appointments WHERE org_id = %s AND id = %s",
                     [org, appt]).fetchone()
    audited = {r["action"]: r["changed_by"] for r in db.execute(
        "SELECT action, changed_by FROM voxbook.audit_log WHERE org_id = %s AND entity = 'appointment'", [org]).fetchall()}
    got = {"booked_by": row["booked_by"], "cancelled_by": row["cancelled_by"], **audited}
    assert {k: v for k, v in got.items() if v != want} == {}, want
