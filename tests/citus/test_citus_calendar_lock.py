"""The calendar lock on Citus (db/functions/12_lookups.sql): there it is the calendars row (FOR SHARE for claims,
FOR UPDATE for changes), since an advisory lock holds only on the node where it is taken. The scenarios of
tests/test_calendar_lock.py, on the coordinator as ``voxbook_app``: the second side must still be running while
the first's transaction is open (where it waits is the worker's business), and then sees the first.
"""

from __future__ import annotations

from datetime import timedelta

import pytest
from test_calendar_lock import WRITERS_FIRST, claim, clinic_and_slot, parallel, refused, serialised

from voxbook.db import call_sync


def test_the_row_lock_bodies_were_chosen(cdb):
    src = cdb.execute("SELECT prosrc FROM pg_proc WHERE oid = 'internal.lock_calendar(uuid,text)'::regprocedure").fetchone()
    assert "FOR SHARE" in src["prosrc"] and "pg_advisory" not in src["prosrc"]


@pytest.mark.parametrize("writer", ["block_time", "clinic closure", "deactivate_provider", "upsert_provider (slot length)"])
def test_a_claim_waits_for_a_change_of_its_calendar_then_sees_it(citus_app_url, cdb, writer):
    org, slot, day = clinic_and_slot(cdb, f"Citus lock {writer}")
    change, sqlstate, message = WRITERS_FIRST[writer]
    changed, claimed, _ = serialised(citus_app_url, change(org, slot, day), claim(org, slot, f"citus-lock-{writer}"), pause=1.0)
    assert changed["success"] is True, changed
    assert refused(claimed, sqlstate, message), claimed


def test_a_block_waits_for_a_claim_then_sees_its_hold(citus_app_url, cdb):
    org, slot, _ = clinic_and_slot(cdb, "Citus lock claim first")
    block = lambda conn: call_sync(conn, "block_time", org_id=org, calendar_id="cal-a", starts=slot,  # noqa: E731
                                   ends=slot + timedelta(minutes=30), reason="lock test", changed_by="lock test")
    claimed, blocked, _ = serialised(citus_app_url, claim(org, slot, "citus-lock-first"), block, pause=1.0)
    assert claimed["success"] is True, claimed
    assert refused(blocked, "VB409", "the time has bookings"), blocked


def test_claims_share_the_lock(citus_app_url, cdb):
    org, slot, _ = clinic_and_slot(cdb, "Citus lock shared")
    first, second = parallel(citus_app_url, claim(org, slot, "citus-s1"), claim(org, slot + timedelta(minutes=30), "citus-s2"))
    assert first["success"] is True and second["success"] is True, (first, second)
