"""Schema internal (issue 11): the helpers are rebuilt with schema api on every migrate, schema voxbook keeps
only the tables and the functions they use, and a database made by an earlier version upgrades to exactly what
a fresh one is (db/migrations/0017_internal_schema.sql drops the helper copies earlier versions left in voxbook).
"""

from __future__ import annotations

import io
import subprocess
import tarfile
from datetime import date, timedelta
from pathlib import Path

import psycopg
import pytest
from psycopg.rows import dict_row

from voxbook.migrate import MigrationError, migrate
from voxbook.pgcluster import PgCluster
from voxbook.schema_snapshot import dump_schema

REPO_ROOT = Path(__file__).resolve().parent.parent
# The last version whose helpers were in schema voxbook (created there with CREATE OR REPLACE, never dropped).
HELPERS_IN_VOXBOOK = "1f3f47e86aca3f9eb51aee4803c255f7f525328a"
KEEP = {"voxbook.distribute_if_citus(regclass)", "voxbook.protect_referenced_by_holds()"}   # 0018 dropped notify_sms_outbox, 0019 is_time_zone
DEMO_ORG = "a0000000-0000-0000-0000-000000000001"


def _old_db_dir(dest: Path) -> Path:
    """db/ of that version, from git (no change to the checkout's git state)."""
    tar = subprocess.run(["git", "-C", str(REPO_ROOT), "archive", "--format=tar", HELPERS_IN_VOXBOOK, "db"],
                         capture_output=True, check=True).stdout
    with tarfile.open(fileobj=io.BytesIO(tar)) as archive:
        archive.extractall(dest, filter="data")
    return dest / "db"


def _functions(url: str, schema: str) -> set[str]:
    with psycopg.connect(url) as conn:
        return {r[0] for r in conn.execute(
            "SELECT p.oid::regprocedure::text FROM pg_proc AS p JOIN pg_namespace AS n ON n.oid = p.pronamespace"
            " WHERE n.nspname = %s", [schema])}


def _next_weekday(days_ahead: int) -> date:
    d = date.today() + timedelta(days=days_ahead)
    while d.isoweekday() > 5:      # the demo clinic works Monday to Friday
        d += timedelta(days=1)
    return d


def _as_api_role(url: str) -> psycopg.Connection:
    conn = psycopg.connect(url, autocommit=True, row_factory=dict_row)
    conn.execute("SET ROLE voxbook_api")
    return conn


def test_a_database_of_the_previous_version_upgrades_to_exactly_a_fresh_one(pg_cluster: PgCluster, tmp_path: Path) -> None:
    url = pg_cluster.create_database("voxbook_upgrade_internal")
    old_db = _old_db_dir(tmp_path)
    migrate(url, db_dir=old_db, code_pepper=None)
    stale = _functions(url, "voxbook") - KEEP
    assert len(stale) > 50, "the previous version should have left its helpers in schema voxbook"
    with psycopg.connect(url) as conn:   # that version's demo clinic (its seed was SQL then)
        conn.execute((old_db / "seed" / "demo.sql").read_text())
    day = _next_weekday(7)
    with _as_api_role(url) as conn:      # a hold made by the previous version
        slot = conn.execute("SELECT api.check_availability(%s, %s, 'cal-smith', max_slots => 1) AS r",
                            [DEMO_ORG, day]).fetchone()["r"]["slots"][0]["time"]
        held = conn.execute("SELECT api.claim_slot_atomic(%s, 'cal-smith', %s, 'call-upgrade', 'Pat Doe',"
                            " '+15555550123') AS r", [DEMO_ORG, slot]).fetchone()["r"]
    assert held["success"], held

    migrate(url, code_pepper=None)

    assert _functions(url, "voxbook") == KEEP, "only the functions the tables use stay in schema voxbook"
    assert len(_functions(url, "internal")) > 50
    fresh = pg_cluster.create_database("voxbook_upgrade_internal_fresh")
    migrate(fresh, code_pepper=None)
    assert dump_schema(url, pg_cluster.bindir) == dump_schema(fresh, pg_cluster.bindir), \
        "the upgraded schema differs from a freshly migrated one"
    with _as_api_role(url) as conn:      # the new functions work on the old data, as the API role
        confirmed = conn.execute("SELECT api.confirm_held_slot(%s, %s, staff_user => 'front desk') AS r",
                                 [held["hold_id"], DEMO_ORG]).fetchone()["r"]
        assert confirmed["success"], confirmed
        after = conn.execute("SELECT api.check_availability(%s, %s, 'cal-smith') AS r", [DEMO_ORG, day]).fetchone()["r"]
        assert after["success"] and slot not in [s["time"] for s in after["slots"]]


def test_migrate_refuses_to_drop_a_helper_that_a_table_uses(pg_cluster: PgCluster) -> None:
    """DROP SCHEMA internal CASCADE would silently drop the constraint: the migrate fails and keeps it."""
    url = pg_cluster.create_database("voxbook_internal_guard")
    migrate(url, code_pepper=None)
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute("ALTER TABLE voxbook.sms_outbox ADD CONSTRAINT body_redactable"
                     " CHECK (internal.redact_sms(body) IS NOT NULL)")
    with pytest.raises(MigrationError, match=r"00_api_schema\.sql: .*body_redactable"):
        migrate(url, code_pepper=None)
    with psycopg.connect(url) as conn:
        assert conn.execute("SELECT count(*) FROM pg_constraint WHERE conname = 'body_redactable'").fetchone()[0] == 1
        assert conn.execute("SELECT count(*) FROM pg_proc WHERE pronamespace = 'api'::regnamespace").fetchone()[0] > 40, \
            "the failed migrate rolled back: the api functions are still there"
