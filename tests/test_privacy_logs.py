"""Nothing a caller said reaches PostgreSQL's log: refused tool calls (with a phone number, a name and a
code in their arguments) and a constraint failure, run as the application's role.

Each test first proves its point can fail: the same requests from a login role without the settings of
`voxbook db migrate --app-role` do put those values in the log.
"""

from __future__ import annotations

import secrets
import time
import uuid
from collections.abc import Iterator

import psycopg
import pytest
from litestar.testing import TestClient

from voxbook.api.app import create_app
from clinic_helpers import new_clinic, unique_phone
from vapi_helpers import AUTH, day, results, settings_for, tc, tool_calls

PLAIN_ROLE = "voxbook_plain_login"   # a member of voxbook_api, without the app role's settings


class LogTail:
    """What the server writes to its log file from now on."""

    def __init__(self, path):
        self.path = path
        self.start = path.stat().st_size

    def text(self) -> str:
        with open(self.path, "rb") as f:
            f.seek(self.start)
            return f.read().decode("utf-8", "replace")


def personal() -> dict[str, str]:
    return {"name": "Zelda " + "".join(secrets.choice("bcdfghjklmnpqrstvwxz") for _ in range(10)),
            "phone": unique_phone(), "code": str(secrets.randbelow(900000) + 100000)}


def refused_tool_calls(url: str, phone_called: str, p: dict[str, str]) -> None:
    """A reserve with the caller's words where the slot goes (PostgreSQL quotes a bad value in its
    message), and the right-looking code sent with a bad contactId: both refused, both with personal data."""
    with TestClient(create_app(settings_for(url))) as c:
        items = results(c.post("/vapi/webhook", headers=AUTH, json=tool_calls(phone_called, [
            tc("p1", "reserve_atomic", {"slotId": f"{p['name']} {p['phone']}", "calendarId": "cal-a",
                                        "patientName": p["name"], "patientPhone": p["phone"]}),
            tc("p2", "verify_otp", {"holdId": str(uuid.uuid4()), "providedOTP": p["code"],
                                    "contactId": f"{p['name']} {p['phone']}"}),
            tc("p3", "check_availability", {"date": f"{p['name']} {p['code']}"}),
        ], caller=p["phone"])))
    assert all("error" in i for i in items), items


def constraint_failure(url: str, p: dict[str, str]) -> None:
    with psycopg.connect(url) as conn:
        conn.execute("CREATE TEMP TABLE people (name text, phone text CHECK (length(phone) < 5))")
        with pytest.raises(psycopg.errors.CheckViolation):
            conn.execute("INSERT INTO people VALUES (%s, %s)", [p["name"], p["phone"]])


def leaked(log: str, p: dict[str, str]) -> set[str]:
    return {k for k, v in p.items() if v in log}


@pytest.fixture
def plain_login_url(db, app_database_url) -> Iterator[str]:
    db.execute(f"DROP ROLE IF EXISTS {PLAIN_ROLE}")
    db.execute(f"CREATE ROLE {PLAIN_ROLE} LOGIN IN ROLE voxbook_api")
    try:
        yield app_database_url.replace("postgresql://voxbook_app@", f"postgresql://{PLAIN_ROLE}@", 1)
    finally:
        db.execute("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE usename = %s", [PLAIN_ROLE])
        db.execute(f"DROP ROLE IF EXISTS {PLAIN_ROLE}")


def barrier(db, tail: LogTail) -> None:
    """Returns once the server has logged everything before it: a superuser's error (logged, as the
    server's defaults say) written after the requests under test."""
    marker = f"privacy-barrier-{secrets.token_hex(6)}"
    with pytest.raises(psycopg.errors.RaiseException):
        db.execute("DO $$ BEGIN RAISE EXCEPTION '%', " + f"'{marker}'" + "; END $$")
    deadline = time.monotonic() + 5
    while marker not in tail.text():
        assert time.monotonic() < deadline, "the server log did not show the barrier"
        time.sleep(0.05)


def wait_for(tail: LogTail, p: dict[str, str], keys: set[str]) -> set[str]:
    deadline = time.monotonic() + 5
    while leaked(tail.text(), p) != keys and time.monotonic() < deadline:
        time.sleep(0.1)
    return leaked(tail.text(), p)


def test_refused_tool_calls_leave_no_phone_name_or_code_in_the_server_log(pg_cluster, db, app_database_url,
                                                                          plain_login_url):
    org, phone_called = new_clinic(db)

    control = personal()
    tail = LogTail(pg_cluster.log_file)
    refused_tool_calls(plain_login_url, phone_called, control)
    assert wait_for(tail, control, {"name", "phone", "code"}) == {"name", "phone", "code"}   # the test can fail

    p = personal()
    tail = LogTail(pg_cluster.log_file)
    refused_tool_calls(app_database_url, phone_called, p)
    barrier(db, tail)
    assert leaked(tail.text(), p) == set()


def test_a_constraint_failure_does_not_log_the_row(pg_cluster, db, app_database_url, plain_login_url):
    control = personal()
    tail = LogTail(pg_cluster.log_file)
    constraint_failure(plain_login_url, control)
    assert wait_for(tail, control, {"name", "phone"}) == {"name", "phone"}   # "Failing row contains (...)"

    p = personal()
    tail = LogTail(pg_cluster.log_file)
    constraint_failure(app_database_url, p)
    barrier(db, tail)
    assert leaked(tail.text(), p) == set()
