"""Migration 0013: tool-call records stored by the removed api.finish_tool_call (the adapter's finished answer,
camelCase JSON text and a spoken line) become the one format, {"answer": <the function's result>}, so that a
call Vapi redelivers across the upgrade is still answered from its record."""

from __future__ import annotations

import json
import uuid

import psycopg
import pytest
from psycopg.rows import dict_row
from yoyo import get_backend, read_migrations

from voxbook.migrate import migrate, sql_dir, to_yoyo_url

BEFORE = "0012_sms_guarantees"   # the last migration before the one format


def _migrate_up_to(url: str, last: str) -> None:
    migrations = read_migrations(str(sql_dir() / "migrations"))
    backend = get_backend(to_yoyo_url(url))
    try:
        with backend.lock(timeout=60):
            for m in backend.to_apply(migrations.filter(lambda m: m.id <= last)):
                backend.apply_one(m)
    finally:
        backend.connection.close()


def test_old_records_become_the_one_format(pg_cluster):
    url = pg_cluster.create_database("tool_call_format_" + uuid.uuid4().hex[:8])
    _migrate_up_to(url, BEFORE)
    lost = {"success": False, "code": "slot_taken", "error": "Slot already held", "slotTime": "2030-01-15T15:00:00Z",
            "calendarId": "cal-a", "alternatives": [{"time": "2030-01-15T14:30:00Z", "calendarId": "cal-a",
                                                     "provider": "Dr. Able", "spokenTime": "9:30 AM"}]}
    with psycopg.connect(url, autocommit=True, row_factory=dict_row) as db:
        org = db.execute("INSERT INTO voxbook.organizations (name, phone, time_zone) "
                         "VALUES ('Old', '+15550001234', 'America/New_York') RETURNING id").fetchone()["id"]
        rows = [
            ("old-lost", {"result": json.dumps(lost, separators=(",", ":")), "message": "That time was just taken; ..."}),
            ("old-broken", {"result": "{not json", "message": "x"}),
            ("new", {"answer": {"success": True, "hold_id": "h"}}),
        ]
        for tool_call_id, response in rows:
            db.execute("INSERT INTO voxbook.tool_calls (org_id, tool_call_id, tool_name, response) "
                       "VALUES (%s, %s, 'reserve_atomic', %s)", [org, tool_call_id, json.dumps(response)])

    migrate(url)

    with psycopg.connect(url, autocommit=True, row_factory=dict_row) as db:
        stored = {r["tool_call_id"]: r["response"] for r in db.execute(
            "SELECT tool_call_id, response FROM voxbook.tool_calls WHERE org_id = %s", [org])}
        assert stored == {
            "old-lost": {"answer": {"success": False, "code": "slot_taken", "error": "Slot already held",
                                    "slot_time": "2030-01-15T15:00:00Z", "calendar_id": "cal-a",
                                    "alternatives": [{"time": "2030-01-15T14:30:00Z", "calendar_id": "cal-a",
                                                      "provider": "Dr. Able", "spoken_time": "9:30 AM"}]}},
            "new": {"answer": {"success": True, "hold_id": "h"}},
        }
        # Replayed by the one statement, as stored; a record from before the spoken line was stored with
        # it (migration 0015) gets its line worded from the stored result.
        replay = db.execute("SELECT api.run_tool_call(%s, 'old-lost', 'reserve_atomic', 'claim_slot_atomic') AS j",
                            [org]).fetchone()["j"]
        assert replay["replay"] is True and replay["response"] == {
            **stored["old-lost"], "spoken": "That time was just taken; I can offer 9:30 AM."}
        # And nothing of another shape can be stored any more.
        with pytest.raises(psycopg.errors.CheckViolation):
            db.execute("INSERT INTO voxbook.tool_calls (org_id, tool_call_id, tool_name, response) "
                       "VALUES (%s, 'x', 'reserve_atomic', '{\"result\": \"{}\"}')", [org])
