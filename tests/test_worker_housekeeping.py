"""The SMS worker's periodic housekeeping (workers/sms.py): old tool call records are purged (api.purge_tool_calls),
the replay window is kept, and the waitlist sweep runs at most every waitlist_every_seconds, not on every drain."""

from __future__ import annotations

import asyncio
import secrets
from datetime import timedelta

import psycopg
import pytest

from clinic_helpers import new_clinic
from fake_twilio import FakeTwilio
from sms_helpers import run_once, settings_for
from voxbook.workers.sms import SmsWorker, WorkerConfig


@pytest.fixture(scope="module")
def fake():
    with FakeTwilio() as f:
        yield f


def _record(db, org: str, tool_call_id: str, age: str) -> None:
    db.execute("INSERT INTO voxbook.tool_calls (org_id, tool_call_id, tool_name, vapi_call_id, response, created_at) "
               "VALUES (%s, %s, 'reserve_atomic', 'call-hk', '{\"answer\": {}}', now() - %s::interval)",
               (org, tool_call_id, age))


def test_the_worker_purges_old_tool_call_records_and_keeps_the_replay_window(db, fake, app_database_url):
    org, _ = new_clinic(db, "Housekeeping Clinic")
    tag = secrets.token_hex(4)
    _record(db, org, f"old-{tag}", "3 days")
    _record(db, org, f"recent-{tag}", "20 hours")
    assert run_once(settings_for(fake, app_database_url)) == 0
    kept = [r["tool_call_id"] for r in db.execute(
        "SELECT tool_call_id FROM voxbook.tool_calls WHERE org_id = %s ORDER BY 1", (org,)).fetchall()]
    assert kept == [f"recent-{tag}"]

    # A longer window set for the worker keeps more (tool_calls_keep); the recent one is never cut.
    _record(db, org, f"old2-{tag}", "3 days")
    assert run_once(settings_for(fake, app_database_url), tool_calls_keep=timedelta(days=5)) == 0
    assert db.execute("SELECT count(*) AS n FROM voxbook.tool_calls WHERE org_id = %s", (org,)).fetchone()["n"] == 2


def test_the_waitlist_sweep_runs_at_most_every_interval(fake, app_database_url, database_url):
    settings = settings_for(fake, app_database_url)
    config = WorkerConfig.from_settings(settings, waitlist_every_seconds=3600.0, purge_every_seconds=3600.0)
    worker = SmsWorker(config, settings)

    # The transaction's own function counts (pg_stat_xact_user_functions; track_functions needs the owner's
    # connection, the calls are the worker's own api calls all the same).
    async def xact_count() -> int:
        async with await psycopg.AsyncConnection.connect(database_url, autocommit=False) as conn:
            await conn.execute("SET track_functions = 'pl'")
            for _ in range(5):
                await worker._drain(conn)
            row = await (await conn.execute(
                "SELECT coalesce(sum(calls), 0) FROM pg_stat_xact_user_functions "
                "WHERE schemaname = 'api' AND funcname = 'offer_waitlist_openings'")).fetchone()
            await conn.rollback()
            return row[0]

    assert asyncio.run(xact_count()) == 1   # five drains, one sweep
    worker._waitlist_due = 0.0               # once the interval has passed, the next drain sweeps again
    assert asyncio.run(xact_count()) == 1
