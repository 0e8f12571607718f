"""`voxbook clinic apply|export`: a clinic's whole definition as a YAML file, applied through the api functions.

Every command runs as a user runs it (a subprocess of the real CLI) as the API's login role, which may only
execute api functions: so everything here goes through them. Clinics are fresh (a unique phone number each).
"""

from __future__ import annotations

import re
import textwrap
from datetime import date, timedelta
from pathlib import Path

import psycopg
import pytest
from clinic_helpers import unique_phone
from conftest import run_cli
from psycopg.rows import dict_row

from voxbook.clinic_file import ClinicFileError, parse
from voxbook.db import ApiError, call_sync


def next_weekday(iso: int, days_ahead: int = 8) -> date:
    """The first ISO weekday ``iso`` at least ``days_ahead`` days from today (in the future of any zone)."""
    d = date.today() + timedelta(days=days_ahead)
    return d + timedelta(days=(iso - d.isoweekday()) % 7)


def clinic_yaml(phone: str, *, name: str = "Riverside Dental", smith_tue: str = "[09:00-12:00, 13:00-17:00]",
                with_jones: bool = True, extra_services: str = "", time_off: str = "") -> str:
    jones = textwrap.dedent("""\
      - id: cal-jones
        name: Dr. Jones
        slot_minutes: 30
        hours:
          mon: [09:00-17:00]
          tue: [09:00-17:00]
    """) if with_jones else ""
    holiday = next_weekday(3, 20)
    return textwrap.dedent(f"""\
        clinic:
          name: {name}
          phone: "{phone}"
          time_zone: America/Chicago
          country: US
          languages: [en, es]
          hot_lead_phone: "(555) 123-0000"
          settings:
            hold_minutes: 8
            cancellation_notice_minutes: 120
        providers:
          - id: cal-smith
            name: Dr. Smith
            slot_minutes: 30
            default_duration_minutes: 30
            hours:
              mon: [09:00-12:00, 13:00-17:00]
              tue: {smith_tue}
            exceptions:
              - date: {holiday}
                hours: [10:00-14:00]
                reason: short day
        """) + textwrap.indent(jones, "  ") + textwrap.dedent("""\
        services:
          - id: cleaning
            name: Cleaning
            duration_minutes: 60
            buffer_after_minutes: 10
            price_cents: 14900
            providers: [cal-smith]
          - id: consultation
            name: Consultation
            duration_minutes: 30
        """) + extra_services + time_off


@pytest.fixture
def app_conn(app_database_url):
    with psycopg.connect(app_database_url, autocommit=True, row_factory=dict_row) as conn:
        yield conn


def apply(path: Path, url: str, *args: str):
    return run_cli("clinic", "apply", str(path), *args, database_url=url)


def write(tmp_path: Path, text: str, name: str = "clinic.yaml") -> Path:
    p = tmp_path / name
    p.write_text(text)
    return p


def org_of(conn, phone: str) -> str:
    return call_sync(conn, "find_organization", phone=phone)["org_id"]


def audit_rows(conn, org: str) -> int:
    return len(call_sync(conn, "list_audit", org_id=org, max_rows=1000)["entries"])


def book(conn, org: str, calendar_id: str, day: date, hhmm: str, service: str = "consultation") -> str:
    """A confirmed appointment (held, then confirmed by staff) at a local time of the Chicago clinic."""
    slot = conn.execute("SELECT (%s::date + %s::time) AT TIME ZONE 'America/Chicago' AS t", [day, hhmm]).fetchone()["t"]
    held = call_sync(conn, "claim_slot_atomic", org_id=org, calendar_id=calendar_id, slot_time=slot,
                     call_sid=f"call-{calendar_id}-{day}-{hhmm}", patient_name="Pat Doe",
                     patient_phone=unique_phone(), service=service)
    assert held["success"], held
    confirmed = call_sync(conn, "confirm_held_slot", hold_id=held["hold_id"], org_id=org, staff_user="front desk")
    assert confirmed["success"], confirmed
    return confirmed["appointment_id"]


def test_apply_creates_a_clinic_and_again_changes_nothing(tmp_path, app_database_url, app_conn):
    phone = unique_phone()
    path = write(tmp_path, clinic_yaml(phone, time_off=textwrap.dedent(f"""\
        time_off:
          - provider: cal-jones
            starts: {next_weekday(1, 30)}
            ends: {next_weekday(1, 30) + timedelta(days=4)}
            reason: vacation
          - starts: {next_weekday(4, 40)} 12:00
            ends: {next_weekday(4, 40)} 17:00
            reason: staff party
        """)))
    res = apply(path, app_database_url)
    assert res.returncode == 0, res.stderr
    assert "+ clinic Riverside Dental" in res.stdout and "+ provider cal-jones (Dr. Jones)" in res.stdout
    assert "+ service cleaning (Cleaning, 60 min)" in res.stdout and "+ time off" in res.stdout

    org = org_of(app_conn, phone)
    c = call_sync(app_conn, "get_clinic", org_id=org)
    assert (c["name"], c["time_zone"], c["languages"], c["hot_lead_phone"]) == \
        ("Riverside Dental", "America/Chicago", ["en", "es"], "+15551230000")
    assert c["settings"]["hold_minutes"] == 8 and c["settings"]["cancellation_notice_minutes"] == 120
    smith = {p["calendar_id"]: p for p in c["providers"]}["cal-smith"]
    assert smith["hours"] == {"mon": [["09:00", "12:00"], ["13:00", "17:00"]], "tue": [["09:00", "12:00"], ["13:00", "17:00"]]}
    assert smith["exceptions"] == [{"on_date": str(next_weekday(3, 20)), "hours": [["10:00", "14:00"]], "reason": "short day"}]
    cleaning = {s["service_id"]: s for s in c["services"]}["cleaning"]
    assert (cleaning["buffer_after_minutes"], cleaning["price_cents"], cleaning["providers"]) == (10, 14900, ["cal-smith"])
    assert sorted((b["calendar_id"] or "", b["reason"]) for b in c["blocks"]) == [("", "staff party"), ("cal-jones", "vacation")]
    vacation = next(b for b in c["blocks"] if b["calendar_id"] == "cal-jones")
    assert vacation["local_starts"].startswith(next_weekday(1, 30).strftime("%a, %b %-d"))   # local midnight, Chicago
    # the whole week's slots follow the file: Dr. Smith works 9-12 and 1-5 on a Monday
    slots = call_sync(app_conn, "check_availability", org_id=org, date=next_weekday(1), calendar_id="cal-smith")["slots"]
    assert len(slots) == 14 and slots[0]["spoken_time"] == "9 AM"
    changes = audit_rows(app_conn, org)

    again = apply(path, app_database_url, "--changed-by", "ana")
    assert again.returncode == 0, again.stderr
    assert again.stdout.startswith("No changes."), again.stdout
    assert audit_rows(app_conn, org) == changes, "applying the same file again wrote nothing"


def test_a_changed_file_changes_what_changed(tmp_path, app_database_url, app_conn):
    phone = unique_phone()
    assert apply(write(tmp_path, clinic_yaml(phone)), app_database_url).returncode == 0
    org = org_of(app_conn, phone)
    changed = clinic_yaml(phone, name="Riverside Family Dental", smith_tue="[08:00-12:00]", with_jones=False,
                          extra_services=textwrap.indent(textwrap.dedent("""\
                              - id: whitening
                                name: Teeth Whitening
                                duration_minutes: 90
                                value_tier: high
                          """), "  "))
    res = apply(write(tmp_path, changed, "changed.yaml"), app_database_url, "--changed-by", "ana")
    assert res.returncode == 0, res.stderr
    assert "~ clinic Riverside Family Dental: name: Riverside Dental -> Riverside Family Dental" in res.stdout
    assert "tue: 09:00-12:00, 13:00-17:00 -> 08:00-12:00" in res.stdout
    assert "+ service whitening (Teeth Whitening, 90 min)" in res.stdout
    assert "- provider cal-jones (Dr. Jones): deactivated, not in the file" in res.stdout

    c = call_sync(app_conn, "get_clinic", org_id=org)
    providers = {p["calendar_id"]: p for p in c["providers"]}
    assert providers["cal-smith"]["hours"]["tue"] == [["08:00", "12:00"]]
    assert providers["cal-jones"]["active"] is False, "a provider left out is deactivated, never deleted"
    assert {s["service_id"]: s["value_tier"] for s in c["services"]}["whitening"] == "high"
    audit = call_sync(app_conn, "list_audit", org_id=org, max_rows=1000)["entries"]
    assert {e["changed_by"] for e in audit if e["action"] in ("update_clinic", "deactivate_provider")} == {"ana"}

    # Dr. Jones back in the file: active again
    res = apply(write(tmp_path, clinic_yaml(phone, name="Riverside Family Dental", smith_tue="[08:00-12:00]")),
                app_database_url)
    assert res.returncode == 0, res.stderr
    assert "~ provider cal-jones: active: False -> True" in res.stdout
    assert "- service whitening (Teeth Whitening): deactivated, not in the file" in res.stdout


def test_removing_a_provider_with_appointments_needs_allow_stranding_and_keeps_them(tmp_path, app_database_url, app_conn):
    phone = unique_phone()
    assert apply(write(tmp_path, clinic_yaml(phone)), app_database_url).returncode == 0
    org = org_of(app_conn, phone)
    appointment = book(app_conn, org, "cal-jones", next_weekday(2), "10:00")
    before = call_sync(app_conn, "get_clinic", org_id=org)

    path = write(tmp_path, clinic_yaml(phone, name="Renamed", with_jones=False), "no-jones.yaml")
    res = apply(path, app_database_url)
    assert res.returncode == 3, (res.stdout, res.stderr)
    assert "would leave 1 booked appointment" in res.stderr and f"cal-jones consultation (appointment {appointment})" in res.stderr
    assert "Pat Doe" not in res.stderr + res.stdout, "no patient names in the output"
    assert call_sync(app_conn, "get_clinic", org_id=org) == before, "nothing changed, not even the name"

    # --allow-stranding deactivates the provider and leaves the appointment booked (api on_future => 'keep'):
    # a file never cancels a patient's appointment; staff move it.
    res = apply(path, app_database_url, "--allow-stranding")
    assert res.returncode == 0, (res.stdout, res.stderr)
    after = call_sync(app_conn, "get_clinic", org_id=org)
    assert {p["calendar_id"]: p["active"] for p in after["providers"]} == {"cal-smith": True, "cal-jones": False}
    assert call_sync(app_conn, "get_appointment", appointment_id=appointment, org_id=org)["status"] == "confirmed"
    audit = call_sync(app_conn, "list_audit", org_id=org, entity="provider")
    assert any(a["action"] == "deactivate_provider" for a in audit["entries"]), audit


def test_hours_removed_under_an_appointment_need_allow_stranding(tmp_path, app_database_url, app_conn):
    phone = unique_phone()
    assert apply(write(tmp_path, clinic_yaml(phone)), app_database_url).returncode == 0
    org = org_of(app_conn, phone)
    tuesday = next_weekday(2)
    appointment = book(app_conn, org, "cal-smith", tuesday, "10:00")
    book(app_conn, org, "cal-smith", tuesday, "14:00")            # still inside the new hours: not stranded
    path = write(tmp_path, clinic_yaml(phone, smith_tue="[13:00-17:00]"), "afternoons.yaml")

    res = apply(path, app_database_url)
    assert res.returncode == 3
    assert f"{tuesday} 10:00 cal-smith consultation (appointment {appointment})" in res.stderr
    assert "14:00" not in res.stderr
    assert {p["calendar_id"]: p["hours"] for p in call_sync(app_conn, "get_clinic", org_id=org)["providers"]}[
        "cal-smith"]["tue"] == [["09:00", "12:00"], ["13:00", "17:00"]]

    res = apply(path, app_database_url, "--allow-stranding")
    assert res.returncode == 0, res.stderr
    assert "1 booked appointment(s) left outside the clinic's hours" in res.stdout
    assert call_sync(app_conn, "get_appointment", appointment_id=appointment, org_id=org)["status"] == "confirmed"

    # time off over a booked appointment: the same rule (api.block_time refuses it without proceed)
    booked = book(app_conn, org, "cal-jones", next_weekday(1), "11:00")
    closure = f"time_off:\n  - starts: {next_weekday(1)}\n    ends: {next_weekday(1)}\n    reason: flood\n"
    res = apply(write(tmp_path, clinic_yaml(phone, smith_tue="[13:00-17:00]", time_off=closure)), app_database_url)
    assert res.returncode == 3 and booked in res.stderr
    res = apply(write(tmp_path, clinic_yaml(phone, smith_tue="[13:00-17:00]", time_off=closure)), app_database_url,
                "--allow-stranding")
    assert res.returncode == 0, res.stderr
    assert [b["reason"] for b in call_sync(app_conn, "get_clinic", org_id=org)["blocks"]] == ["flood"]
    assert call_sync(app_conn, "get_appointment", appointment_id=booked, org_id=org)["status"] == "confirmed"


def test_dry_run_shows_the_plan_and_changes_nothing(tmp_path, app_database_url, app_conn):
    phone = unique_phone()
    new = write(tmp_path, clinic_yaml(phone))
    res = apply(new, app_database_url, "--dry-run")
    assert res.returncode == 0, res.stderr
    assert "+ clinic Riverside Dental" in res.stdout and "dry run, nothing changed" in res.stdout
    with pytest.raises(ApiError) as err:
        org_of(app_conn, phone)
    assert err.value.sqlstate == "VB404", "a dry run creates no clinic"

    assert apply(new, app_database_url).returncode == 0
    org = org_of(app_conn, phone)
    before, changes = call_sync(app_conn, "get_clinic", org_id=org), audit_rows(app_conn, org)
    res = apply(write(tmp_path, clinic_yaml(phone, name="Other", smith_tue="[]", with_jones=False), "b.yaml"),
                app_database_url, "--dry-run")
    assert res.returncode == 0, res.stderr
    assert "~ clinic Other: name: Riverside Dental -> Other" in res.stdout and "tue: 09:00-12:00, 13:00-17:00 -> closed" in res.stdout
    assert call_sync(app_conn, "get_clinic", org_id=org) == before
    assert audit_rows(app_conn, org) == changes


def test_export_then_apply_is_a_round_trip(tmp_path, app_database_url, app_conn):
    phone = unique_phone()
    closure = f"time_off:\n  - starts: {next_weekday(5, 15)}\n    ends: {next_weekday(5, 15)}\n    reason: holiday\n" \
              f"  - provider: cal-smith\n    starts: {next_weekday(1, 15)} 09:00\n    ends: {next_weekday(1, 15)} 11:30\n"
    assert apply(write(tmp_path, clinic_yaml(phone, time_off=closure)), app_database_url).returncode == 0
    org = org_of(app_conn, phone)
    before = call_sync(app_conn, "get_clinic", org_id=org)

    for who in (org, phone):
        out = run_cli("clinic", "export", who, database_url=app_database_url)
        assert out.returncode == 0, out.stderr
        exported = write(tmp_path, out.stdout, "exported.yaml")
        assert f"id: {org}" in out.stdout and "tue: [09:00-12:00, 13:00-17:00]" in out.stdout
        parse(out.stdout)   # a valid clinic file
        res = apply(exported, app_database_url)
        assert res.returncode == 0, res.stderr
        assert res.stdout.startswith("No changes."), res.stdout
    assert call_sync(app_conn, "get_clinic", org_id=org) == before

    # the exported file is the clinic: edit it and apply it as usual
    edited = write(tmp_path, out.stdout.replace("name: Dr. Smith", "name: Dr. Anna Smith"), "edited.yaml")
    res = apply(edited, app_database_url)
    assert res.returncode == 0 and "~ provider cal-smith: name: Dr. Smith -> Dr. Anna Smith" in res.stdout


def test_apply_on_a_fresh_database(pg_cluster, tmp_path):
    """A database just migrated, no clinic at all: the demo file creates the demo clinic, fixed id and all."""
    url = pg_cluster.create_database("voxbook_clinic_apply_fresh")
    assert run_cli("db", "migrate", database_url=url).returncode == 0
    from voxbook.clinic_cli import demo_file

    res = apply(demo_file(), url, "--changed-by", "onboarding")
    assert res.returncode == 0, res.stderr
    assert "clinic a0000000-0000-0000-0000-000000000001 created" in res.stdout
    with psycopg.connect(url, autocommit=True, row_factory=dict_row) as conn:
        c = call_sync(conn, "get_clinic", org_id="a0000000-0000-0000-0000-000000000001")
        assert [p["calendar_id"] for p in c["providers"]] == ["cal-jones", "cal-smith"]
        assert c["settings"]["help_text"].startswith("Smile Dental: call (555) 123-4567")
        assert {e["changed_by"] for e in call_sync(conn, "list_audit", org_id=c["org_id"])["entries"]} == {"onboarding"}
    assert apply(demo_file(), url).stdout.startswith("No changes.")


def test_the_demo_clinic_exports_and_applies_unchanged(tmp_path, database_url, app_database_url):
    assert run_cli("db", "seed-demo", database_url=database_url).returncode == 0
    out = run_cli("clinic", "export", "+15551234567", database_url=app_database_url)
    assert out.returncode == 0, out.stderr
    res = apply(write(tmp_path, out.stdout), app_database_url)
    assert res.returncode == 0 and res.stdout.startswith("No changes."), res.stdout


BAD_FILES = {
    # name: (text, line, what the message says)
    "unknown time zone": ("clinic:\n  name: A\n  phone: '+15557650001'\n  time_zone: America/New_Yrok\n",
                          4, "unknown time zone 'America/New_Yrok'"),
    "overlapping hours": ("clinic:\n  name: A\n  phone: '+15557650001'\n  time_zone: UTC\nproviders:\n"
                          "  - id: cal-a\n    name: A\n    hours:\n      mon: [09:00-12:00, 11:30-13:00]\n",
                          9, "providers[0].hours.mon: 09:00-12:00 and 11:30-13:00 overlap"),
    "inverted hours": ("clinic:\n  name: A\n  phone: '+15557650001'\n  time_zone: UTC\nproviders:\n"
                       "  - id: cal-a\n    name: A\n    hours:\n      fri: [17:00-09:00]\n",
                       9, "the end must be after the start"),
    "service naming no provider": ("clinic:\n  name: A\n  phone: '+15557650001'\n  time_zone: UTC\nproviders:\n"
                                   "  - id: cal-a\n    name: A\nservices:\n  - id: x\n    name: X\n"
                                   "    duration_minutes: 30\n    providers: [cal-a, cal-b]\n",
                                   12, "service 'x' names provider 'cal-b', which this file does not define"),
    "bad phone": ("clinic:\n  name: A\n  phone: '+1555765'\n  time_zone: UTC\n", 3, "malformed phone number"),
    "bad phone for the country": ("clinic:\n  name: A\n  phone: '07700 9004'\n  country: GB\n  time_zone: Europe/London\n",
                                  3, "Give the number with +44"),
    "unknown key": ("clinic:\n  name: A\n  phone: '+15557650001'\n  time_zone: UTC\n  colour: blue\n",
                    5, "unknown key 'colour'"),
    "missing key": ("clinic:\n  name: A\n  phone: '+15557650001'\n  time_zone: UTC\nservices:\n  - id: x\n    name: X\n",
                    6, "missing required key 'duration_minutes'"),
    "out of range": ("clinic:\n  name: A\n  phone: '+15557650001'\n  time_zone: UTC\n  settings:\n    code_length: 12\n",
                     6, "less than or equal to 8"),
    "duplicate key": ("clinic:\n  name: A\n  name: B\n  phone: '+15557650001'\n  time_zone: UTC\n", 3, "given twice"),
    "not YAML": ("clinic:\n  name: [A\n  phone: x\n", 3, "not valid YAML"),
    "unknown provider in time off": ("clinic:\n  name: A\n  phone: '+15557650001'\n  time_zone: UTC\n"
                                     "time_off:\n  - provider: cal-z\n    starts: 2030-01-01\n    ends: 2030-01-02\n",
                                     6, "no provider 'cal-z' in this file"),
}


@pytest.mark.parametrize("case", BAD_FILES)
def test_every_problem_is_named_with_its_line(case, tmp_path):
    text, line, message = BAD_FILES[case]
    with pytest.raises(ClinicFileError) as err:
        parse(text, "bad.yaml")
    rendered = str(err.value)
    assert re.search(rf"bad\.yaml:{line}:\d+: ", rendered), rendered
    assert message in rendered, rendered


def test_the_cli_reports_every_problem_and_creates_nothing(tmp_path, app_database_url, app_conn):
    phone = unique_phone()
    text = (f"clinic:\n  name: A\n  phone: '{phone}'\n  time_zone: Mars/Olympus\nproviders:\n"
            "  - id: cal-a\n    name: A\n    hours:\n      mon: [09:00-12:00, 10:00-11:00]\n      tue: [9am-5pm]\n")
    res = apply(write(tmp_path, text, "two.yaml"), app_database_url)
    assert res.returncode == 2
    assert "two.yaml:4:14: clinic.time_zone: unknown time zone" in res.stderr
    assert "two.yaml:9:12: providers[0].hours.mon: 09:00-12:00 and 10:00-11:00 overlap" in res.stderr
    assert "two.yaml:10:12: providers[0].hours.tue: '9am-5pm' is not an interval" in res.stderr
    with pytest.raises(ApiError):
        org_of(app_conn, phone)


def test_a_refusal_of_the_database_is_named_at_its_line(tmp_path, app_database_url, app_conn):
    """What only the database knows (here: locales it can write) is reported at the line that asked for it."""
    phone = unique_phone()
    text = f"clinic:\n  name: A\n  phone: '{phone}'\n  time_zone: UTC\n  locale: xx-YY\n  languages: [xx]\n"
    res = apply(write(tmp_path, text), app_database_url)
    assert res.returncode == 2
    assert re.search(r"clinic\.yaml:2:3: clinic: create_clinic refused: unknown locale", res.stderr), res.stderr
    with pytest.raises(ApiError):
        org_of(app_conn, phone)


def test_yaml_surprises_are_not_made():
    """Plain NO is Norway (not false), 09:30 a time (not 570 minutes): the file is read YAML 1.2-style."""
    f, _ = parse("clinic:\n  name: Oslo Tannlege\n  phone: '+4722123456'\n  country: NO\n  time_zone: Europe/Oslo\n"
                 "providers:\n  - id: cal-a\n    name: A\n    hours:\n      mon: [09:30-16:00]\n")
    assert f.clinic.country == "NO"
    assert f.providers[0].hours.mon[0][0].strftime("%H:%M") == "09:30"


def test_the_demo_file_is_a_valid_documented_example():
    from voxbook.clinic_cli import demo_file

    text = demo_file().read_text()
    f, _ = parse(text)
    assert str(f.clinic.id) == "a0000000-0000-0000-0000-000000000001" and f.clinic.phone == "+15551234567"
    readme = (Path(__file__).resolve().parent.parent / "README.md").read_text()
    for key in ("time_zone", "hot_lead_phone", "buffer_after_minutes", "exceptions", "time_off", "--allow-stranding"):
        assert key in readme, f"README 'Onboarding a clinic' documents {key}"
