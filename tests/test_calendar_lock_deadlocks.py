"""The calendar lock (db/functions/12_lookups.sql) against the row locks a transaction may already hold.

A transaction that took a FOR KEY SHARE on a calendars row (a foreign key check: api.upsert_service(providers =>
...) inserting voxbook.service_providers) and then takes that calendar's exclusive lock (block_time,
set_working_hours...) must not deadlock with a block_time of the same calendar that came in between. `voxbook
clinic apply` does exactly this in one transaction (services, then time off). With the advisory lock first and
the row FOR UPDATE after it, the block held the advisory lock and waited for the row while the apply held the row
and waited for the advisory lock (found by review); the single-node body locks the row FOR NO KEY UPDATE, which a
key share does not stop. Calls go around voxbook.db's retry of a deadlock, which would hide one.
"""

from __future__ import annotations

import time
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta

import psycopg
from test_calendar_lock import clinic_and_slot

from voxbook.db import ApiError, call_query, call_sync


def raw(conn: psycopg.Connection, function: str, /, **kwargs):
    """api.<function> without call_sync's transparent retry of a deadlock (which would hide one)."""
    query, params = call_query(function, kwargs)
    return conn.execute(query, params).fetchone()[0]


def _waiting(admin_url: str, pid: int) -> bool:
    with psycopg.connect(admin_url, autocommit=True) as conn:
        return conn.execute("SELECT EXISTS (SELECT 1 FROM pg_locks WHERE pid = %s AND NOT granted)", [pid]).fetchone()[0]


def _outcome(fn, *args, **kwargs):
    try:
        return fn(*args, **kwargs)
    except (ApiError, psycopg.Error) as exc:
        return exc


def _deadlocked(x) -> bool:
    return isinstance(x, psycopg.errors.DeadlockDetected) or (isinstance(x, ApiError) and x.sqlstate == "40P01")


def test_clinic_apply_order_does_not_deadlock_with_a_staff_block(app_database_url, database_url, db):
    org, slot, _ = clinic_and_slot(db, "Review FK deadlock")
    block = lambda conn, at: raw(conn, "block_time", org_id=org, calendar_id="cal-a", starts=at,  # noqa: E731
                                       ends=at + timedelta(minutes=30), reason="review", changed_by="review")
    with psycopg.connect(app_database_url) as t1, psycopg.connect(app_database_url, autocommit=True) as t2, \
            ThreadPoolExecutor(1) as pool:
        # T1, as clinic apply: a service naming cal-a (service_providers' key to calendars: FOR KEY SHARE)
        first = _outcome(call_sync, t1, "upsert_service", org_id=org, service_id="review-svc", name="Review",
                         duration_minutes=30, providers=["cal-a"], changed_by="review")
        assert first["success"] is True, first
        # T2, staff at the desk: a block of cal-a (takes the advisory lock, then waits for the row)
        later = pool.submit(_outcome, block, t2, slot)
        # It waits (row, then advisory: the deadlock) or goes through: only then does T1 go on.
        deadline = time.monotonic() + 10
        while not later.done() and not _waiting(database_url, t2.info.backend_pid):
            assert time.monotonic() < deadline, "the block neither finished nor waited"
            time.sleep(0.02)
        # T1 goes on with its time off on cal-a
        mine = _outcome(block, t1, slot + timedelta(hours=2))
        if not isinstance(mine, Exception):
            t1.commit()
        else:
            t1.rollback()
        theirs = later.result(timeout=30)
    assert not _deadlocked(mine) and not _deadlocked(theirs), (mine, theirs)
