"""db/README.md "Setting up a clinic", followed literally: its SQL block is cut out of the README and run with psql
as the application role (voxbook_app, a member of voxbook_api), which can only call api functions. The clinic it
creates is then checked through the api: staffed, opened, a Saturday clinic, closed for a holiday, a provider's
vacation blocked -- and check_availability offers exactly what that leaves.
"""

from __future__ import annotations

import re
import subprocess
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import psycopg
import pytest
from conftest import REPO_ROOT

from voxbook.pgcluster import find_bindir

README = REPO_ROOT / "db" / "README.md"
CLINIC_PHONE = "+15550102000"
ZONE = ZoneInfo("America/Chicago")


def readme_block() -> str:
    text = README.read_text()
    section = text.split("\n## Setting up a clinic", 1)[1].split("\n## ", 1)[0]
    match = re.search(r"```sql\n(.*?)```", section, re.S)
    assert match, "db/README.md 'Setting up a clinic' has no ```sql block"
    return match.group(1)


def _local(utc_iso: str) -> str:
    """An instant the api answers ('2030-01-21T15:00:00Z') as the clinic's wall clock: 'Mon 09:00'."""
    return datetime.fromisoformat(utc_iso.replace("Z", "+00:00")).astimezone(ZONE).strftime("%a %H:%M")


@pytest.fixture
def readme_clinic(app_database_url: str, database_url: str):
    res = subprocess.run([str(find_bindir() / "psql"), "-X", "-q", "-v", "ON_ERROR_STOP=1", "-d", app_database_url],
                         input=readme_block(), capture_output=True, text=True, timeout=120)
    try:
        assert res.returncode == 0, f"the README's block failed as the app role:\n{res.stderr[-3000:]}"
        with psycopg.connect(app_database_url, autocommit=True) as conn:
            yield conn
    finally:
        with psycopg.connect(database_url, autocommit=True) as admin:   # the session's database is shared
            admin.execute("DELETE FROM voxbook.organizations WHERE phone = %s", (CLINIC_PHONE,))


def call(conn: psycopg.Connection, sql: str, *args):
    return conn.execute(sql, args).fetchone()[0]


def test_readme_sets_up_a_clinic_with_api_functions_only(readme_clinic: psycopg.Connection):
    conn = readme_clinic
    assert call(conn, "SELECT current_user") == "voxbook_app"
    org = call(conn, "SELECT api.find_organization(%s)->>'org_id'", CLINIC_PHONE)
    today = call(conn, "SELECT current_date")
    monday = today + timedelta(days=8 - today.isoweekday())
    saturday, holiday, vacation = monday + timedelta(days=5), monday + timedelta(days=7), monday + timedelta(days=8)

    def slots(day: date, calendar_id: str | None = None) -> dict:
        return call(conn, "SELECT api.check_availability(%s, %s, %s, max_slots => 100)", org, day, calendar_id)

    # staffed and opened: both providers work on a Monday, each on their own hours
    first_monday = slots(monday)["slots"]
    assert {s["calendar_id"] for s in first_monday} == {"cal-lee", "cal-park"}
    lee = [_local(s["time"]) for s in slots(monday, "cal-lee")["slots"]]
    assert lee[0] == "Mon 09:00" and "Mon 12:00" not in lee and "Mon 13:00" in lee and lee[-1] == "Mon 16:30"
    park = [_local(s["time"]) for s in slots(monday, "cal-park")["slots"]]
    assert park[0] == "Mon 08:00" and park[-1] == "Mon 15:30"
    # the Saturday clinic: Dr. Lee only, 09:00-13:00 (the weekly hours have no Saturday)
    sat = slots(saturday)["slots"]
    assert {s["calendar_id"] for s in sat} == {"cal-lee"}
    assert [_local(s["time"]) for s in sat] == [f"Sat {h:02d}:{m:02d}" for h in range(9, 13) for m in (0, 30)]
    # closed for the holiday: nobody
    assert slots(holiday)["slots"] == []
    # Dr. Park's vacation: Dr. Lee still works that day
    assert slots(vacation, "cal-park")["slots"] == []
    assert {s["calendar_id"] for s in slots(vacation)["slots"]} == {"cal-lee"}
    # a service offered by one provider only
    whitening = call(conn, "SELECT api.check_availability(%s, %s, service => 'whitening', max_slots => 100)", org, monday)
    assert {s["calendar_id"] for s in whitening["slots"]} == {"cal-lee"}

    clinic = call(conn, "SELECT api.get_clinic(%s)", org)
    assert clinic["locale"] == "en-US" and clinic["languages"] == ["en", "es"]
    assert clinic["settings"]["cancellation_notice_minutes"] == 1440
    assert [p["calendar_id"] for p in clinic["providers"]] == ["cal-lee", "cal-park"]
    assert clinic["providers"][0]["exceptions"] == [
        {"on_date": saturday.isoformat(), "hours": [["09:00", "13:00"]], "reason": "Saturday clinic"}]
    assert [(b["calendar_id"], b["reason"]) for b in clinic["blocks"]] == [
        (None, "public holiday"), ("cal-park", "vacation")]
    assert {s["service_id"]: s["providers"] for s in clinic["services"]} == {"cleaning": [], "whitening": ["cal-lee"]}

    audit = call(conn, "SELECT api.list_audit(%s)", org)["entries"]
    assert {(e["action"], e["changed_by"]) for e in audit if e["entity"] in ("clinic", "blocked_period")} == {
        ("create_clinic", "onboarding"), ("block_time", "ana")}
    # nothing else was at hand: the app role cannot touch a table
    with pytest.raises(psycopg.errors.InsufficientPrivilege):
        conn.execute("SELECT count(*) FROM voxbook.blocked_periods")
