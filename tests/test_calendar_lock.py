"""The calendar lock (db/functions/12_lookups.sql, "The calendar lock"): claims take it shared, whatever makes a
calendar's time unbookable takes it exclusively, so of a claim and such a change on the same calendar whichever
comes second waits for the first to commit and then sees it.

Deterministic, one scenario per writer: the first side runs in an open transaction, the second is started on
another connection and must still be waiting on the lock (on a single node: an ungranted advisory lock) until
the first commits; then the second's answer shows it saw the first. Both sides connect as ``voxbook_app``.
On a single node the lock is an advisory lock that writes nothing, so a refused claim in its own transaction
assigns no transaction id and writes no WAL (no fsync to wait for at commit: issue 18's hot slot). The same
scenarios run on Citus (row locks there) from tests/citus/test_citus_calendar_lock.py.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from datetime import datetime, timedelta
from typing import Any

import psycopg
import pytest
from psycopg.types.json import Jsonb

from voxbook.db import ApiError, call_sync

Side = Callable[[psycopg.Connection], Any]


def _outcome(work: Side, conn: psycopg.Connection) -> Any:
    try:
        return work(conn)
    except ApiError as exc:
        return exc


def serialised(url: str, first: Side, second: Side, lock_wait: Callable[[int], str | None] | None = None,
               *, pause: float = 0.5) -> tuple[Any, Any, str | None]:
    """first(conn) in an open transaction; second(conn) on another connection meanwhile, which must not finish
    before the first commits. Returns both answers and what the second waited on (lock_wait(pid): the locktype
    of its ungranted lock, None when it does not know)."""
    with psycopg.connect(url) as a, psycopg.connect(url, autocommit=True) as b, ThreadPoolExecutor(1) as pool:
        pid = b.info.backend_pid
        got_first = _outcome(first, a)
        assert not isinstance(got_first, ApiError), got_first
        later: Future = pool.submit(_outcome, second, b)
        waited_on = None
        deadline = time.monotonic() + 10
        while lock_wait is not None and waited_on is None and time.monotonic() < deadline and not later.done():
            waited_on = lock_wait(pid)
            time.sleep(0.02)
        time.sleep(pause)
        assert not later.done(), f"the second side did not wait for the first: {later.result()!r}"
        a.commit()
        return got_first, later.result(timeout=30), waited_on


def parallel(url: str, first: Side, second: Side) -> tuple[Any, Any]:
    """first(conn) in an open transaction, second(conn) meanwhile: the second must finish without waiting."""
    with psycopg.connect(url) as a, psycopg.connect(url, autocommit=True) as b:
        got_first = _outcome(first, a)
        b.execute("SET lock_timeout = '2s'")
        got_second = _outcome(second, b)
        a.commit()
        return got_first, got_second


def ungranted_lock(admin_url: str) -> Callable[[int], str | None]:
    def look(pid: int) -> str | None:
        with psycopg.connect(admin_url, autocommit=True) as conn:
            row = conn.execute("SELECT locktype FROM pg_locks WHERE pid = %s AND NOT granted", [pid]).fetchone()
            return row[0] if row else None
    return look


def claim(org: str, slot: datetime, call: str, calendar: str = "cal-a") -> Side:
    return lambda conn: call_sync(conn, "claim_slot_atomic", org_id=org, calendar_id=calendar, slot_time=slot,
                                  call_sid=call, patient_name="Lock Racer", patient_phone="+15558300001")


def refused(answer: Any, sqlstate: str, message: str | None = None) -> bool:
    return (isinstance(answer, ApiError) and answer.sqlstate == sqlstate
            and (message is None or answer.message == message))


def clinic_and_slot(admin: psycopg.Connection, name: str) -> tuple[str, datetime, str]:
    """A fresh clinic (tests.create_clinic: cal-a and cal-b, 09-12 and 13-17 every day, America/New_York), a free
    09:30 twenty days ahead and that local date."""
    row = admin.execute("SELECT tests.create_clinic(%s) AS org", [name]).fetchone()
    org = str(row[0] if isinstance(row, tuple) else row["org"])
    row = admin.execute("SELECT tests.at(%s, (current_date + 20) + time '09:30') AS t, (current_date + 20)::text AS d",
                        [org]).fetchone()
    slot, day = (row[0], row[1]) if isinstance(row, tuple) else (row["t"], row["d"])
    return org, slot, day


# Writers first: each makes 09:30 on cal-a unbookable (or the claim's calendar row different); the claim waits,
# then is refused for exactly that reason.
WRITERS_FIRST = {
    "block_time": (lambda org, slot, day: lambda conn: call_sync(
        conn, "block_time", org_id=org, calendar_id="cal-a", starts=slot, ends=slot + timedelta(minutes=30),
        reason="lock test", changed_by="lock test"), "VB400", "Dr. Able is not available then"),
    "clinic closure": (lambda org, slot, day: lambda conn: call_sync(
        conn, "block_time", org_id=org, calendar_id=None, starts=slot - timedelta(hours=1),
        ends=slot + timedelta(hours=1), reason="lock test", changed_by="lock test"), "VB400", "the clinic is closed then"),
    "set_working_hours": (lambda org, slot, day: lambda conn: call_sync(
        conn, "set_working_hours", org_id=org, calendar_id="cal-a", hours=Jsonb({"mon": [["13:00", "17:00"]]}),
        changed_by="lock test"), "VB400", None),
    "set_hours_exception": (lambda org, slot, day: lambda conn: call_sync(
        conn, "set_hours_exception", org_id=org, calendar_id="cal-a", on_date=day, hours=Jsonb([]),
        reason="lock test", changed_by="lock test"), "VB400", None),
    "deactivate_provider": (lambda org, slot, day: lambda conn: call_sync(
        conn, "deactivate_provider", org_id=org, calendar_id="cal-a", changed_by="lock test"), "VB404", "unknown calendar"),
    "upsert_provider (slot length)": (lambda org, slot, day: lambda conn: call_sync(
        conn, "upsert_provider", org_id=org, calendar_id="cal-a", slot_minutes=45, changed_by="lock test"), "VB400", None),
    "upsert_provider (inactive)": (lambda org, slot, day: lambda conn: call_sync(
        conn, "upsert_provider", org_id=org, calendar_id="cal-a", active=False, changed_by="lock test"), "VB404", "unknown calendar"),
}


@pytest.mark.parametrize("writer", list(WRITERS_FIRST))
def test_a_claim_waits_for_a_change_of_its_calendar_then_sees_it(app_database_url, database_url, db, writer):
    org, slot, day = clinic_and_slot(db, f"Lock {writer}")
    change, sqlstate, message = WRITERS_FIRST[writer]
    changed, claimed, waited_on = serialised(app_database_url, change(org, slot, day), claim(org, slot, f"lock-{writer}"),
                                             ungranted_lock(database_url))
    assert changed["success"] is True, changed
    assert waited_on == "advisory", waited_on   # the calendar lock, not a row
    assert refused(claimed, sqlstate, message), claimed
    assert db.execute("SELECT count(*) AS n FROM voxbook.holds WHERE org_id = %s", [org]).fetchone()["n"] == 0


def test_a_change_waits_for_a_claim_then_sees_its_hold(app_database_url, database_url, db):
    org, slot, _ = clinic_and_slot(db, "Lock claim first")
    block = lambda conn: call_sync(conn, "block_time", org_id=org, calendar_id="cal-a", starts=slot,  # noqa: E731
                                   ends=slot + timedelta(minutes=30), reason="lock test", changed_by="lock test")
    claimed, blocked, waited_on = serialised(app_database_url, claim(org, slot, "lock-first-1"), block,
                                             ungranted_lock(database_url))
    assert claimed["success"] is True and waited_on == "advisory"
    assert refused(blocked, "VB409", "the time has bookings"), blocked

    # a clinic-wide closure waits for a claim of any provider (here cal-b) and sees it too
    closure = lambda conn: call_sync(conn, "block_time", org_id=org, calendar_id=None,  # noqa: E731
                                     starts=slot + timedelta(days=1), ends=slot + timedelta(days=1, minutes=30),
                                     reason="lock test", changed_by="lock test")
    claimed, closed, waited_on = serialised(app_database_url, claim(org, slot + timedelta(days=1), "lock-first-2", "cal-b"),
                                            closure, ungranted_lock(database_url))
    assert claimed["success"] is True and waited_on == "advisory"
    assert refused(closed, "VB409", "the time has bookings"), closed

    # deactivating releases the live hold it waited for (it was not there when it started)
    deactivate = lambda conn: call_sync(conn, "deactivate_provider", org_id=org, calendar_id="cal-a",  # noqa: E731
                                        changed_by="lock test")
    claimed, deactivated, _ = serialised(app_database_url, claim(org, slot + timedelta(days=2), "lock-first-3"), deactivate,
                                         ungranted_lock(database_url))
    assert deactivated["success"] is True
    assert claimed["hold_id"] in [h["hold_id"] for h in deactivated["released_holds"]]


def test_a_reschedule_onto_a_calendar_waits_for_a_block_then_sees_it(app_database_url, database_url, db):
    org, slot, _ = clinic_and_slot(db, "Lock reschedule")
    with psycopg.connect(app_database_url, autocommit=True) as conn:
        hold = call_sync(conn, "claim_slot_atomic", org_id=org, calendar_id="cal-b", slot_time=slot, call_sid="lock-r",
                         patient_name="Lock Mover", patient_phone="+15558300002")
        appt = call_sync(conn, "confirm_held_slot", hold_id=hold["hold_id"], org_id=org, staff_user="lock test")
    block = lambda conn: call_sync(conn, "block_time", org_id=org, calendar_id="cal-a", starts=slot,  # noqa: E731
                                   ends=slot + timedelta(minutes=30), reason="lock test", changed_by="lock test")
    move = lambda conn: call_sync(conn, "reschedule_appointment", appointment_id=appt["appointment_id"], org_id=org,  # noqa: E731
                                  slot_time=slot, calendar_id="cal-a", staff_user="lock test")
    blocked, moved, waited_on = serialised(app_database_url, block, move, ungranted_lock(database_url))
    assert blocked["success"] is True and waited_on == "advisory"
    assert refused(moved, "VB400", "Dr. Able is not available then"), moved


def test_claims_share_the_lock(app_database_url, db):
    org, slot, _ = clinic_and_slot(db, "Lock shared")
    first, second = parallel(app_database_url, claim(org, slot, "lock-s1"), claim(org, slot + timedelta(minutes=30), "lock-s2"))
    assert first["success"] is True and second["success"] is True, (first, second)


def test_a_refused_claim_assigns_no_transaction_id_and_writes_no_wal(app_database_url, db):
    """Issue 18: a hot-slot loser commits a transaction that wrote nothing, so its commit waits for no WAL flush."""
    org, slot, _ = clinic_and_slot(db, "Lock quiet loser")
    with psycopg.connect(app_database_url, autocommit=True) as conn:
        assert call_sync(conn, "claim_slot_atomic", org_id=org, calendar_id="cal-a", slot_time=slot, call_sid="quiet-w",
                         patient_name="Quiet Winner", patient_phone="+15558300003")["success"] is True
    wal_moved = []
    with psycopg.connect(app_database_url) as conn:
        for attempt in range(5):   # other sessions of the cluster (autovacuum) may write meanwhile: retried
            lsn0 = db.execute("SELECT pg_current_wal_insert_lsn() AS l").fetchone()["l"]
            answer = call_sync(conn, "claim_slot_atomic", org_id=org, calendar_id="cal-a", slot_time=slot,
                               call_sid=f"quiet-l{attempt}", patient_name="Quiet Loser", patient_phone="+15558300004")
            xid = conn.execute("SELECT pg_current_xact_id_if_assigned()").fetchone()[0]
            conn.commit()
            lsn1 = db.execute("SELECT pg_current_wal_insert_lsn() AS l").fetchone()["l"]
            assert answer["success"] is False and answer["code"] == "slot_taken", answer
            assert xid is None, "a refused claim assigned a transaction id: it took a row lock or wrote a row"
            wal_moved.append(lsn1 != lsn0)
            if not wal_moved[-1]:
                break
    assert not all(wal_moved), "WAL moved across every refused claim"
