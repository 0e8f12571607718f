"""`voxbook db seed-demo`: the seed document's clinic (db/seed/demo-clinic.yaml), loadable any number of times."""

from __future__ import annotations

import psycopg
import pytest
from conftest import run_cli

from voxbook.db import ApiError, call_sync

DEMO_ORG = "a0000000-0000-0000-0000-000000000001"


def test_seed_demo_is_idempotent_and_bookable(database_url, app_database_url, db):
    for _ in range(2):
        res = run_cli("db", "seed-demo", database_url=database_url)
        assert res.returncode == 0, res.stderr
    # it applies db/seed/demo-clinic.yaml through the api (`voxbook clinic apply`): the second time, nothing to do
    assert res.stdout.startswith("No changes."), res.stdout

    counts = db.execute(
        """SELECT (SELECT count(*) FROM voxbook.organizations WHERE id = %(o)s) AS orgs,
                  (SELECT count(*) FROM voxbook.calendars WHERE org_id = %(o)s) AS calendars,
                  (SELECT count(*) FROM voxbook.working_hours WHERE org_id = %(o)s) AS intervals""",
        {"o": DEMO_ORG},
    ).fetchone()
    assert counts == {"orgs": 1, "calendars": 2, "intervals": 20}  # 2 providers x 5 days x 2 intervals

    with psycopg.connect(app_database_url, autocommit=True) as conn:
        org = call_sync(conn, "find_organization", phone="(555) 123-4567")
        assert (org["org_id"], org["name"], org["time_zone"]) == (DEMO_ORG, "Smile Dental", "America/New_York")
        assert {c["calendar_id"]: c["provider"] for c in org["calendars"]}["cal-smith"] == "Dr. Smith"
        assert {s["service"]: s["value_tier"] for s in org["services"]}["teeth-whitening"] == "high"

        # the next Monday-to-Friday day a week ahead has Dr. Smith's 14 half-hour slots (lunch 12-1 excluded)
        day = conn.execute(
            "SELECT d::date FROM generate_series(current_date + 7, current_date + 13, interval '1 day') AS d "
            "WHERE extract(isodow FROM d) = 2"
        ).fetchone()[0]
        slots = call_sync(conn, "check_availability", org_id=DEMO_ORG, date=day, calendar_id="cal-smith")["slots"]
        assert [s["spoken_time"] for s in slots][:7] == ["9 AM", "9:30 AM", "10 AM", "10:30 AM", "11 AM", "11:30 AM", "1 PM"]
        assert len(slots) == 14


def test_wrong_types_are_a_clear_client_error(app_database_url):
    with psycopg.connect(app_database_url, autocommit=True) as conn:
        with pytest.raises(ApiError) as err:
            call_sync(conn, "get_hold", hold_id="not-a-uuid", org_id=DEMO_ORG)
    assert err.value.sqlstate == "22P02"     # PostgreSQL's own code, passed through
    assert "uuid" in err.value.message
