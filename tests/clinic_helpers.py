"""The one test clinic of the pytest suites, made with tests.create_clinic (tests/helpers.pgsql)."""

from __future__ import annotations

import secrets


def unique_phone() -> str:
    return "+1555" + "".join(secrets.choice("0123456789") for _ in range(7))


def new_clinic(db, name: str = "Test Clinic", *, sms_from: str | None = None) -> tuple[str, str]:
    """A fresh clinic (two calendars, three services, America/New_York): its id and the number callers dial.
    sms_from: the clinic's own SMS sender (else the worker uses the Messaging Service)."""
    phone = unique_phone()
    org = db.execute("SELECT tests.create_clinic(name => %s, phone => %s) AS org", [name, phone]).fetchone()["org"]
    if sms_from:
        db.execute("UPDATE voxbook.organizations SET sms_from = %s WHERE id = %s", (sms_from, org))
    return str(org), phone
